//! The Korean analyzer: lindera's Viterbi segmentation with mecab-ko-dic,
//! then a part-of-speech filter that keeps what a searcher types (nouns,
//! proper nouns, verb and adjective stems, roots, foreign words, numbers,
//! unknown words) and drops particles, endings, affixes and punctuation.
//! Dictionary compounds (`Compound`) are indexed whole and as their parts;
//! inflected forms (`Inflect`, `Preanalysis`) as their content morphemes.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use lindera::dictionary::load_fs_dictionary;
use lindera::mode::Mode as SegmentMode;
use lindera::segmenter::Segmenter;

use super::dict::{self, DictError};
use super::{Analyzer, MAX_TERM_BYTES, Mode, Term};

/// MeCab's default cap on unknown-word grouping; unlimited lets one unknown
/// Hangul word swallow a whole line.
const MAX_GROUPING_LEN: usize = 24;
/// Text is segmented in pieces of about this many bytes, cut at white space,
/// so that the lattice (and the time) stays bounded whatever the input.
const CHUNK_BYTES: usize = 8 * 1024;

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}')
}

/// Whether a morpheme with this part-of-speech tag (mecab-ko-dic tag set) is
/// a search term.
pub fn keeps(tag: &str) -> bool {
    matches!(
        tag,
        // common and proper nouns, numerals
        "NNG" | "NNP" | "NR"
        // verb and adjective stems, roots
        | "VV" | "VA" | "XR"
        // foreign words, hanja, numbers
        | "SL" | "SH" | "SN"
        // words the dictionary does not know (names, new loanwords), and
        // interjections, which in written text are mostly fragments of them
        | "UNKNOWN" | "UNK" | "IC"
    )
}

/// The Korean analyzer. Cheap to share: one [`Segmenter`] per dictionary.
pub struct KoreanAnalyzer {
    segmenter: Arc<Segmenter>,
}

/// Segmenters already loaded, by dictionary path (creating one costs ~85 ms).
type SegmenterCache = Mutex<Vec<(std::path::PathBuf, Arc<Segmenter>)>>;

fn cache() -> &'static SegmenterCache {
    static CACHE: OnceLock<SegmenterCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

impl KoreanAnalyzer {
    /// Open the dictionary installed under `dict_root` (see [`dict::install`]).
    pub fn load(dict_root: &Path) -> Result<Self, DictError> {
        let path = dict::installed_path(dict_root);
        let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, s)) = cache.iter().find(|(p, _)| *p == path) {
            return Ok(Self {
                segmenter: s.clone(),
            });
        }
        if dict::installed_manifest(dict_root).is_none() {
            return Err(DictError::Load {
                path: path.clone(),
                reason: "the Korean dictionary is not installed (run `egovkb dict install`)".into(),
            });
        }
        let dictionary = load_fs_dictionary(&path).map_err(|e| DictError::Load {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let segmenter = Arc::new(
            Segmenter::new(SegmentMode::Normal, dictionary, None)
                .max_grouping_len(Some(MAX_GROUPING_LEN)),
        );
        cache.push((path, segmenter.clone()));
        Ok(Self { segmenter })
    }

    /// lindera's raw segmentation: `(surface, part-of-speech)` per morpheme.
    /// For comparing with MeCab and for `egovkb analyze --morphemes`.
    pub fn morphemes(&self, text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (_, chunk) in chunks(text) {
            let Ok(tokens) = self.segmenter.segment(Cow::Borrowed(chunk)) else {
                continue;
            };
            for mut t in tokens {
                let pos = t
                    .details()
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                out.push((t.surface.to_string(), pos));
            }
        }
        out
    }
}

/// Cut text into pieces of at most about [`CHUNK_BYTES`], at white space when
/// there is some, always at a character boundary. Yields (offset, piece).
fn chunks(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let rest = &text[start..];
        let piece_len = if rest.len() <= CHUNK_BYTES {
            rest.len()
        } else {
            let mut cut = CHUNK_BYTES;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            match rest[..cut].rfind(char::is_whitespace) {
                Some(ws) if ws > CHUNK_BYTES / 2 => ws + 1,
                _ => cut,
            }
        };
        let piece = (start, &rest[..piece_len]);
        start += piece_len;
        Some(piece)
    })
}

/// Normalise one Korean term: foreign words in lower case.
fn normalise(word: &str) -> Option<String> {
    let w = word.trim();
    if w.is_empty() || w.len() > MAX_TERM_BYTES {
        return None;
    }
    Some(w.to_lowercase())
}

impl Analyzer for KoreanAnalyzer {
    fn analyze(&self, text: &str, mode: Mode) -> Vec<Term> {
        let mut out = TermSink::default();
        for (offset, chunk) in chunks(text) {
            let tokens = match self.segmenter.segment(Cow::Borrowed(chunk)) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "Korean segmentation failed; piece skipped");
                    continue;
                }
            };
            for mut token in tokens {
                let (start, end) = (offset + token.byte_start, offset + token.byte_end);
                let surface = token.surface.to_string();
                let details: Vec<String> = token.details().iter().map(|s| s.to_string()).collect();
                let tag = details.first().map(String::as_str).unwrap_or("UNK");
                let kind = details.get(4).map(String::as_str).unwrap_or("*");
                let parts = parse_expression(details.get(7).map(String::as_str).unwrap_or("*"));
                let first_tag = tag.split('+').next().unwrap_or(tag);
                out.morpheme(&surface, first_tag, kind, &parts, start, end, mode);
            }
        }
        out.finish(mode)
    }
}

/// Whether a morpheme can be part of a glued noun run: nouns, numbers,
/// foreign words, unknown words (and one-syllable interjections, which in
/// written text are fragments of an unknown loanword: 에어팟 → 에 + 어 + 팟).
fn joinable(tag: &str, surface: &str) -> bool {
    match tag {
        "NNG" | "NNP" | "NR" | "SN" | "SL" | "SH" | "UNKNOWN" | "UNK" => true,
        "IC" => surface.chars().count() == 1,
        _ => false,
    }
}

/// Longest glued run that is also indexed joined, in morphemes.
const MAX_RUN: usize = 8;

/// Collects terms, keeping positions consecutive (dropped particles leave
/// no gap, so a phrase matches across them). For indexing, a run of nouns
/// written together (주민등록을 → 주민 + 등록) also gets the whole run as one
/// term (주민등록), so a compound is found whole and split; a query gets
/// only the parts, which match both spellings (주민등록, 주민 등록).
#[derive(Default)]
struct TermSink {
    terms: Vec<Term>,
    position: usize,
    /// The current glued run: (text, start, end, position).
    run: Vec<(String, usize, usize, usize)>,
}

impl TermSink {
    fn push(&mut self, text: String, start: usize, end: usize, position: usize) {
        self.terms.push(Term {
            text,
            start,
            end,
            position,
        });
    }

    fn flush_run(&mut self, mode: Mode) {
        if mode == Mode::Index && (2..=MAX_RUN).contains(&self.run.len()) {
            let joined: String = self.run.iter().map(|f| f.0.as_str()).collect();
            let (start, position) = (self.run[0].1, self.run[0].3);
            let end = self.run[self.run.len() - 1].2;
            if joined.len() <= MAX_TERM_BYTES {
                self.push(joined, start, end, position);
            }
        }
        self.run.clear();
    }

    #[allow(clippy::too_many_arguments)]
    fn morpheme(
        &mut self,
        surface: &str,
        tag: &str,
        kind: &str,
        parts: &[(String, String)],
        start: usize,
        end: usize,
        mode: Mode,
    ) {
        let glued = self.run.last().is_some_and(|f| f.2 == start);
        let join = joinable(tag, surface) && kind != "Inflect" && kind != "Preanalysis";
        if !(join && glued) {
            self.flush_run(mode);
        }
        if join && let Some(w) = normalise(surface) {
            self.run.push((w, start, end, self.position));
        }
        match kind {
            "Compound" if keeps(tag) && parts.len() > 1 => {
                if mode == Mode::Index
                    && let Some(w) = normalise(surface)
                {
                    self.push(w, start, end, self.position);
                }
                let mut search_from = 0usize;
                let mut p = self.position;
                for (word, part_tag) in parts {
                    if !keeps(part_tag) {
                        continue;
                    }
                    let Some(w) = normalise(word) else { continue };
                    // Offsets of the part inside the surface, when it is there.
                    let found = surface
                        .get(search_from..)
                        .and_then(|r| r.find(word.as_str()));
                    let (s, e) = match found {
                        Some(i) => {
                            let s = search_from + i;
                            search_from = s + word.len();
                            (start + s, start + s + word.len())
                        }
                        None => (start, end),
                    };
                    self.push(w, s, e, p);
                    p += 1;
                }
                self.position = p.max(self.position + 1);
            }
            "Inflect" | "Preanalysis" | "Compound" if !parts.is_empty() => {
                for (word, part_tag) in parts {
                    if keeps(part_tag)
                        && let Some(w) = normalise(word)
                    {
                        self.push(w, start, end, self.position);
                        self.position += 1;
                    }
                }
            }
            _ => {
                if keeps(tag)
                    && let Some(w) = normalise(surface)
                {
                    self.push(w, start, end, self.position);
                    self.position += 1;
                }
            }
        }
    }

    fn finish(mut self, mode: Mode) -> Vec<Term> {
        self.flush_run(mode);
        // Joined runs were added after their parts: restore position order.
        self.terms.sort_by_key(|t| t.position);
        self.terms
    }
}

/// Parse ko-dic's expression column: `전자/NNG/*+정부/NNG/*` (a morpheme may
/// itself be `+` or `/`, so split from the right of each piece).
fn parse_expression(expression: &str) -> Vec<(String, String)> {
    if expression == "*" || expression.is_empty() {
        return Vec::new();
    }
    expression
        .split('+')
        .filter_map(|piece| {
            let mut it = piece.rsplitn(3, '/');
            let _semantic = it.next()?;
            let tag = it.next()?;
            let word = it.next()?;
            (!word.is_empty()).then(|| (word.to_string(), tag.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expressions() {
        assert_eq!(
            parse_expression("전자/NNG/*+정부/NNG/*"),
            vec![("전자".into(), "NNG".into()), ("정부".into(), "NNG".into())]
        );
        assert_eq!(
            parse_expression("하/VV/*+았/EP/*"),
            vec![("하".into(), "VV".into()), ("았".into(), "EP".into())]
        );
        assert!(parse_expression("*").is_empty());
        assert!(parse_expression("broken").is_empty());
    }

    #[test]
    fn chunks_cover_the_text_at_char_boundaries() {
        let text = "가".repeat(10_000) + " abc " + &"나 ".repeat(5_000);
        let pieces: Vec<_> = chunks(&text).collect();
        assert!(pieces.len() > 2);
        let joined: String = pieces.iter().map(|(_, p)| *p).collect();
        assert_eq!(joined, text);
        for (off, p) in &pieces {
            assert!(p.len() <= CHUNK_BYTES);
            assert_eq!(&text[*off..*off + p.len()], *p);
        }
    }

    #[test]
    fn keeps_content_tags_only() {
        for t in ["NNG", "NNP", "SL", "SN", "UNKNOWN", "VV", "XR"] {
            assert!(keeps(t), "{t}");
        }
        for t in [
            "JKS", "JKO", "JX", "EF", "EC", "ETM", "XSN", "SF", "SC", "SY", "VCP", "NNB",
        ] {
            assert!(!keeps(t), "{t}");
        }
    }
}
