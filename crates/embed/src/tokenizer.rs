//! XLM-R's SentencePiece unigram tokenizer: characters normalised by the
//! model's map, runs of spaces collapsed, spaces written as `▁` (with one
//! before the text), then the most probable split into vocabulary pieces
//! (Viterbi over the pieces' log-probabilities); a character no piece covers
//! becomes `<unk>`.

use crate::Error;
use crate::file::Vocab;

/// SentencePiece's word-start marker, U+2581.
const META: char = '\u{2581}';

/// The tokenizer.
pub struct Tokenizer {
    vocab: Vocab,
    /// Open addressing table of piece index + 1 (0: empty).
    table: Vec<u32>,
    mask: usize,
    unk_score: f32,
    max_piece_bytes: usize,
}

fn fnv1a(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Tokenizer {
    /// Index the vocabulary.
    pub fn new(mut vocab: Vocab) -> Result<Tokenizer, Error> {
        vocab.normalise.sort_by_key(|(cp, _)| *cp);
        let pieces = vocab.scores.len();
        let size = (pieces * 2).next_power_of_two().max(2);
        let mask = size - 1;
        let mut table = vec![0u32; size];
        let mut max_piece_bytes = 1;
        for i in 0..pieces {
            let piece = piece_of(&vocab, i);
            if piece.is_empty() {
                continue;
            }
            max_piece_bytes = max_piece_bytes.max(piece.len());
            let mut slot = fnv1a(piece) as usize & mask;
            while table[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            table[slot] = i as u32 + 1;
        }
        let min_score = vocab.scores.iter().copied().fold(f32::INFINITY, f32::min);
        if !min_score.is_finite() {
            return Err(Error::Format("the vocabulary is empty".into()));
        }
        Ok(Tokenizer {
            vocab,
            table,
            mask,
            unk_score: min_score - 10.0,
            max_piece_bytes,
        })
    }

    /// `<s>` and `</s>`.
    pub fn bos_eos(&self) -> (u32, u32) {
        (self.vocab.bos, self.vocab.eos)
    }

    fn lookup(&self, s: &[u8]) -> Option<usize> {
        let mut slot = fnv1a(s) as usize & self.mask;
        loop {
            let v = self.table[slot];
            if v == 0 {
                return None;
            }
            let i = (v - 1) as usize;
            if piece_of(&self.vocab, i) == s {
                return Some(i);
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// The normalised text the pieces are taken from: characters replaced
    /// by the model's map, runs of spaces as one, and `▁` for every space
    /// and before the text.
    fn normalised(&self, text: &str) -> String {
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        let map = &self.vocab.normalise;
        for c in text.chars() {
            match map.binary_search_by_key(&(c as u32), |(cp, _)| *cp) {
                Ok(i) => chars.extend(map[i].1.iter().filter_map(|&r| char::from_u32(r))),
                Err(_) => chars.push(c),
            }
        }
        let mut out = String::with_capacity(text.len() + 8);
        if chars.first() != Some(&' ') {
            out.push(META);
        }
        let mut after_space = false;
        for c in chars {
            if c == ' ' {
                if !after_space {
                    out.push(META);
                }
                after_space = true;
            } else {
                out.push(c);
                after_space = false;
            }
        }
        out
    }

    /// The piece ids of `text`, without `<s>` and `</s>`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let norm = self.normalised(text);
        let bytes = norm.as_bytes();
        let starts: Vec<usize> = norm
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(bytes.len()))
            .collect();
        let n = starts.len() - 1;
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        // (piece id or u32::MAX for unknown, start char index)
        let mut back = vec![(u32::MAX, 0usize); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] == f32::NEG_INFINITY {
                continue;
            }
            let from = starts[i];
            for e in i + 1..=n {
                let len = starts[e] - from;
                if len > self.max_piece_bytes {
                    break;
                }
                if let Some(id) = self.lookup(&bytes[from..starts[e]])
                    && id as u32 != self.vocab.unk
                {
                    let score = best[i] + self.vocab.scores[id];
                    if score > best[e] {
                        best[e] = score;
                        back[e] = (id as u32, i);
                    }
                }
            }
            let score = best[i] + self.unk_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                back[i + 1] = (u32::MAX, i);
            }
        }
        let mut ids = Vec::new();
        let mut i = n;
        while i > 0 {
            let (id, from) = back[i];
            ids.push(if id == u32::MAX { self.vocab.unk } else { id });
            i = from;
        }
        ids.reverse();
        ids
    }
}

fn piece_of(vocab: &Vocab, i: usize) -> &[u8] {
    let (a, b) = (vocab.offsets[i] as usize, vocab.offsets[i + 1] as usize);
    vocab.bytes.get(a..b).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Tokenizer {
        let pieces = [
            "<s>", "<pad>", "</s>", "<unk>", "▁", "▁a", "b", "▁ab", "c", "▁c",
        ];
        let scores = [0.0, 0.0, 0.0, 0.0, -3.0, -2.0, -2.5, -3.0, -4.0, -6.0];
        let mut bytes = Vec::new();
        let mut offsets = vec![0u32];
        for p in pieces {
            bytes.extend_from_slice(p.as_bytes());
            offsets.push(bytes.len() as u32);
        }
        Tokenizer::new(Vocab {
            offsets,
            scores: scores.to_vec(),
            bytes,
            bos: 0,
            eos: 2,
            unk: 3,
            normalise: vec![(u32::from('\n'), vec![32]), (u32::from('\u{1}'), vec![])],
        })
        .unwrap()
    }

    #[test]
    fn viterbi_takes_the_most_probable_split() {
        let t = toy();
        // "▁ab" (-3.0) beats "▁a" + "b" (-4.5).
        assert_eq!(t.encode("ab"), vec![7]);
        // Spaces collapse; a newline is a space; control characters vanish.
        assert_eq!(t.encode("ab \n  c\u{1}"), vec![7, 9]);
        assert_eq!(t.encode("ab \n  c"), t.encode("ab c"));
        // An unknown character becomes <unk>.
        assert_eq!(t.encode("a한"), vec![5, 3]);
        // Leading space is kept as the one marker.
        assert_eq!(t.encode(" ab"), vec![7]);
        assert_eq!(t.encode(""), vec![4]);
    }
}
