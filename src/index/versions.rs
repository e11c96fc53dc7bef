//! Versions of one story: near-duplicate documents (the same notice on two
//! boards, a press release and its twin, two saves of one page, a deck and
//! its PDF) found at indexing time, so that a search shows each story once.
//!
//! Each document gets a MinHash signature of the shingles of its analysed
//! terms (three consecutive terms of its own language's view: Korean
//! morphemes, Spanish and English stems, stop words left out), so that the
//! method reads Korean as it reads Spanish and English. Translations share
//! no shingles and stay apart. After each commit, the signatures of the
//! whole generation are banded (locality-sensitive hashing) to find
//! candidate pairs; a pair whose signatures agree on at least `same_story`
//! of their values (`ranking::SAME_STORY`: the estimated Jaccard
//! similarity of their shingles) is one story, and stories are joined
//! transitively. The
//! generation's [`FILE_NAME`] lists the stories of two or more documents,
//! best version first: the one with the most terms (the most complete),
//! then the smallest id.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::schema::Field;
use tantivy::{DocAddress, Searcher, Term as TantivyTerm};

use super::{IndexError, io, write_atomic};
use crate::analysis::Term;

/// The generation's stories of several versions.
pub const FILE_NAME: &str = "versions.json";
/// Values of a signature.
pub const HASHES: usize = 64;
/// Bands of the locality-sensitive hashing, [`HASHES`] / `BANDS` values
/// each: pairs with a Jaccard similarity of 0.3 share a band with
/// probability 0.95, of 0.4 with 0.996.
const BANDS: usize = 32;
const ROWS: usize = HASHES / BANDS;
/// Documents with fewer shingles get no signature: too short to tell a
/// version from a different notice with the same formula.
pub const MIN_SHINGLES: usize = 12;
/// Terms per shingle.
const SHINGLE: usize = 3;

/// A document's signature as the index stores it: its number of terms
/// (little-endian u32), then [`HASHES`] values (u16 each, little-endian).
pub fn signature(title: &[Term], body: &[Term]) -> Option<Vec<u8>> {
    let mut words: Vec<&str> = Vec::new();
    for part in [title, body] {
        let mut previous = None;
        for t in part.iter().filter(|t| !t.index_only) {
            // One term a position (alternatives are the same word).
            if previous == Some(t.position) {
                continue;
            }
            previous = Some(t.position);
            words.push(&t.text);
        }
    }
    let shingles = words.len().saturating_sub(SHINGLE - 1);
    if shingles < MIN_SHINGLES {
        return None;
    }
    // One permutation: each shingle's hash picks one of HASHES bins by its
    // top bits and competes for the bin's least value with the rest (one
    // hash a shingle, not one a value; Li, Owen and Zhang 2012). A bin no
    // shingle fell into takes the next filled bin's value, moved by the
    // distance (rotation; Shrivastava and Li 2014), so that two documents
    // agree on it about as often as on a filled one.
    let mut bins = [u64::MAX; HASHES];
    for w in words.windows(SHINGLE) {
        let h = mix(shingle_hash(w));
        let (bin, value) = ((h >> 58) as usize, h & ((1 << 58) - 1));
        if value < bins[bin] {
            bins[bin] = value;
        }
    }
    let mut out = Vec::with_capacity(4 + 2 * HASHES);
    out.extend_from_slice(&(words.len().min(u32::MAX as usize) as u32).to_le_bytes());
    for i in 0..HASHES {
        let (d, least) = (0..HASHES as u64)
            .map(|d| (d, bins[(i + d as usize) % HASHES]))
            .find(|(_, b)| *b != u64::MAX)
            .unwrap_or((0, 0));
        // Stored as 16 bits of a hash of the least value: a least value's
        // own top bits are small (it is the least of many), and would agree
        // by chance between unrelated long documents.
        out.extend_from_slice(&(mix(least ^ SEEDS[d as usize]) as u16).to_le_bytes());
    }
    Some(out)
}

/// FNV-1a over the shingle's words, a separator between them: fixed, so
/// that signatures written by one build compare with another's.
fn shingle_hash(words: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a bin borrowed from `d` bins on adds to the value.
const SEEDS: [u64; HASHES] = {
    let mut s = [0u64; HASHES];
    let mut i = 0;
    while i < HASHES {
        s[i] = (i as u64 + 1).wrapping_mul(0xd6e8_feb8_6659_fd93);
        i += 1;
    }
    s
};

/// A signature read back: the document's number of terms and its values.
#[derive(Debug, Clone)]
struct Signature {
    terms: u32,
    values: [u16; HASHES],
}

impl Signature {
    fn read(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 4 + 2 * HASHES {
            return None;
        }
        let terms = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let mut values = [0u16; HASHES];
        for (v, b) in values.iter_mut().zip(bytes[4..].chunks_exact(2)) {
            *v = u16::from_le_bytes([b[0], b[1]]);
        }
        Some(Self { terms, values })
    }

    /// The estimated Jaccard similarity of two documents' shingles.
    fn similarity(&self, other: &Self) -> f64 {
        let same = self
            .values
            .iter()
            .zip(&other.values)
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / HASHES as f64
    }
}

/// The stories of two or more versions among the live documents of
/// `searcher`, each best version first (most terms, then smallest id), the
/// stories in the order of their best versions' ids.
pub fn stories(searcher: &Searcher, same: f64) -> tantivy::Result<Vec<Vec<String>>> {
    let mut docs: Vec<(String, Signature)> = Vec::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(ids), Some(sigs)) = (fast.str("id")?, fast.bytes("versions")?) else {
            continue;
        };
        let alive = segment.alive_bitset();
        let (mut id, mut bytes) = (String::new(), Vec::new());
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let (Some(i), Some(s)) = (ids.term_ords(doc).next(), sigs.term_ords(doc).next()) else {
                continue;
            };
            bytes.clear();
            if ids.ord_to_str(i, &mut id)?
                && sigs.ord_to_bytes(s, &mut bytes)?
                && let Some(sig) = Signature::read(&bytes)
            {
                docs.push((id.clone(), sig));
            }
        }
    }
    Ok(group(&docs, same))
}

/// Band the signatures, check the candidates, join them into stories.
fn group(docs: &[(String, Signature)], same: f64) -> Vec<Vec<String>> {
    let mut parent: Vec<usize> = (0..docs.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for band in 0..BANDS {
        let mut buckets: HashMap<&[u16], Vec<usize>> = HashMap::new();
        for (i, (_, sig)) in docs.iter().enumerate() {
            let key = &sig.values[band * ROWS..(band + 1) * ROWS];
            buckets.entry(key).or_default().push(i);
        }
        // Each member is compared with the bucket's first and with the one
        // before it: linear in a bucket of many copies of one text.
        for members in buckets.values().filter(|m| m.len() > 1) {
            for (n, &b) in members.iter().enumerate().skip(1) {
                for a in [members[0], members[n - 1]] {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                    if ra != rb && docs[a].1.similarity(&docs[b].1) >= same {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..docs.len() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<String>> = by_root
        .into_values()
        .filter(|m| m.len() > 1)
        .map(|mut m| {
            m.sort_by(|&a, &b| {
                docs[b]
                    .1
                    .terms
                    .cmp(&docs[a].1.terms)
                    .then_with(|| docs[a].0.cmp(&docs[b].0))
            });
            m.into_iter().map(|i| docs[i].0.clone()).collect()
        })
        .collect();
    out.sort();
    out
}

#[derive(Serialize, Deserialize)]
struct VersionsFile {
    stories: Vec<Vec<String>>,
    /// Translations of one notice (`languages.rs`).
    #[serde(default)]
    languages: Vec<Vec<String>>,
}

/// What `write` found: stories of several versions, the documents in
/// them, and groups of translations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Found {
    pub stories: usize,
    pub documents: usize,
    pub translations: usize,
}

/// Find the stories of the generation at `path` (versions agreeing on
/// `same` of their values; none when 0) and its translations, and write
/// them there.
pub fn write(
    searcher: &Searcher,
    path: &Path,
    ranking: &crate::ranking::Ranking,
) -> Result<Found, IndexError> {
    let same = ranking.same_story;
    let stories = match same > 0.0 {
        true => stories(searcher, f64::from(same)).map_err(super::tv(path))?,
        false => Vec::new(),
    };
    let others: std::collections::HashSet<&str> = stories
        .iter()
        .flat_map(|s| s.iter().skip(1).map(String::as_str))
        .collect();
    let languages = match ranking.same_text <= 1.0 {
        true => super::languages::translations(path, searcher, ranking.same_text, &others)?,
        false => Vec::new(),
    };
    let found = Found {
        stories: stories.len(),
        documents: stories.iter().map(Vec::len).sum(),
        translations: languages.len(),
    };
    let file = VersionsFile { stories, languages };
    let json = serde_json::to_vec(&file).unwrap_or_default();
    write_atomic(&path.join(FILE_NAME), &json)?;
    Ok(found)
}

/// The stories of a generation, as documents of its searcher: for each
/// document with other versions, its story's number. A generation without
/// the file (or with one that does not read) has none.
#[derive(Debug, Default)]
pub struct Versions {
    story_of: HashMap<DocAddress, u32>,
    /// Each story's documents, best version first.
    members: Vec<Vec<DocAddress>>,
    /// The translations of each document that has some.
    languages: HashMap<DocAddress, Vec<DocAddress>>,
}

impl Versions {
    pub fn open(path: &Path, searcher: &Searcher, id_field: Field) -> Result<Self, IndexError> {
        let file = path.join(FILE_NAME);
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(io(&file)(e)),
        };
        let Ok(parsed) = serde_json::from_slice::<VersionsFile>(&bytes) else {
            return Ok(Self::default());
        };
        let mut out = Self::default();
        for ids in parsed.stories {
            let addrs: Vec<DocAddress> = ids
                .iter()
                .filter_map(|id| address(searcher, id_field, id))
                .collect();
            if addrs.len() < 2 {
                continue;
            }
            let n = out.members.len() as u32;
            for a in &addrs {
                out.story_of.insert(*a, n);
            }
            out.members.push(addrs);
        }
        for ids in parsed.languages {
            let addrs: Vec<DocAddress> = ids
                .iter()
                .filter_map(|id| address(searcher, id_field, id))
                .collect();
            for a in &addrs {
                let others = addrs.iter().copied().filter(|b| b != a).collect();
                out.languages.insert(*a, others);
            }
        }
        // A story's other versions have its best version's translations.
        for members in &out.members {
            if let Some(first) = out.languages.get(&members[0]).cloned() {
                for m in &members[1..] {
                    out.languages.insert(*m, first.clone());
                }
            }
        }
        Ok(out)
    }

    /// The document's translations.
    pub fn languages(&self, addr: DocAddress) -> &[DocAddress] {
        self.languages.get(&addr).map_or(&[][..], Vec::as_slice)
    }

    /// Whether no story has several versions.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The story of a document that has other versions.
    pub fn story(&self, addr: DocAddress) -> Option<u32> {
        self.story_of.get(&addr).copied()
    }

    /// A story's documents, best version first.
    pub fn members(&self, story: u32) -> &[DocAddress] {
        self.members
            .get(story as usize)
            .map_or(&[][..], Vec::as_slice)
    }

    /// All stories.
    pub fn all(&self) -> &[Vec<DocAddress>] {
        &self.members
    }

    /// How many documents are versions beside their story's first one.
    pub fn hidden(&self) -> usize {
        self.members.iter().map(|m| m.len() - 1).sum()
    }
}

/// The live document with this id.
pub(crate) fn address(searcher: &Searcher, id_field: Field, id: &str) -> Option<DocAddress> {
    let term = TantivyTerm::from_field_text(id_field, id);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(id_field).ok()?;
        let Ok(Some(mut postings)) =
            inverted.read_postings(&term, tantivy::schema::IndexRecordOption::Basic)
        else {
            continue;
        };
        use tantivy::DocSet;
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if segment.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                return Some(DocAddress::new(ord as u32, doc));
            }
            doc = postings.advance();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<Term> {
        text.split_whitespace()
            .enumerate()
            .map(|(i, w)| Term {
                text: w.to_string(),
                start: 0,
                end: 0,
                position: i,
                index_only: false,
            })
            .collect()
    }

    fn sig(text: &str) -> Signature {
        Signature::read(&signature(&[], &terms(text)).unwrap()).unwrap()
    }

    const NOTICE: &str = "the ministry of the interior and safety opened a two week course on \
        resident registration and the gov24 portal for officials of paraguay bolivia and peru \
        at the training centre in seoul with visits to a district office";

    #[test]
    fn a_copy_with_other_furniture_is_the_same_story_and_another_notice_is_not() {
        let copy = format!("home news notices {NOTICE} share print back to list");
        let other = "the ministry of the interior and safety signed a memorandum with costa rica \
            on cyber security and the protection of personal data in public agencies during a \
            visit of its vice minister to the national archives";
        let a = sig(NOTICE);
        assert!(a.similarity(&sig(&copy)) >= f64::from(crate::ranking::SAME_STORY));
        assert!(a.similarity(&sig(other)) < 0.2);
        assert!((a.similarity(&sig(NOTICE)) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn short_texts_get_no_signature_and_signatures_have_one_size() {
        assert!(signature(&[], &terms("resident registration in paraguay")).is_none());
        let s = signature(&terms("a title"), &terms(NOTICE)).unwrap();
        assert_eq!(s.len(), 4 + 2 * HASHES);
        assert!(Signature::read(&s[1..]).is_none());
    }

    #[test]
    fn stories_join_transitively_with_the_most_complete_version_first() {
        let long = format!("{NOTICE} more words about the next course in the autumn");
        let docs = vec![
            ("b".to_string(), sig(NOTICE)),
            (
                "c".to_string(),
                sig(
                    "an unrelated text about smart cities and the sensors of their streets that count cars and measure the air in many places",
                ),
            ),
            ("a".to_string(), sig(&long)),
        ];
        assert_eq!(
            group(&docs, 0.4),
            vec![vec!["a".to_string(), "b".to_string()]]
        );
    }
}
