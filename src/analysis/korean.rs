//! The Korean analyzer: lindera's Viterbi segmentation with mecab-ko-dic,
//! then a part-of-speech filter that keeps what a searcher types (nouns,
//! proper nouns, verb and adjective stems, roots, foreign words, numbers,
//! unknown words) and drops particles, endings, affixes and punctuation.
//! Dictionary compounds (`Compound`) are indexed whole and as their parts;
//! inflected forms (`Inflect`, `Preanalysis`) as their content morphemes.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use lindera::dictionary::{UserDictionary, load_fs_dictionary};
use lindera::mode::Mode as SegmentMode;
use lindera::segmenter::Segmenter;
use lindera_dictionary::builder::DictionaryBuilder;

use super::dict::{self, DictError};
use super::{Analyzer, MAX_TERM_BYTES, Mode, Term};

/// MeCab's default cap on unknown-word grouping; unlimited lets one unknown
/// Hangul word swallow a whole line.
const MAX_GROUPING_LEN: usize = 24;
/// Text is segmented in pieces of about this many bytes, cut at white space,
/// so that the lattice (and the time) stays bounded whatever the input.
const CHUNK_BYTES: usize = 8 * 1024;

/// Korean e-government terms added to the dictionary (see the file).
pub(crate) const KO_TERMS_TOML: &str = include_str!("data/ko-terms.toml");

/// ko-dic context ids and cost of a proper-noun compound (as 가격정책 has),
/// by whether the last syllable has a final consonant (particles differ).
const TERM_LEFT_ID: u16 = 1786;
const TERM_RIGHT_ID_NO_FINAL: u16 = 3545;
const TERM_RIGHT_ID_FINAL: u16 = 3546;
/// Low enough to win over the dictionary's own split of the term.
const TERM_COST: i16 = -1000;

/// Whether a Hangul syllable ends in a consonant (받침).
fn has_final_consonant(c: char) -> Option<bool> {
    let code = u32::from(c);
    (0xAC00..=0xD7A3)
        .contains(&code)
        .then(|| (code - 0xAC00) % 28 != 0)
}

/// The terms file as ko-dic user dictionary rows (12 fields, as the
/// dictionary's own compounds have).
pub fn user_dictionary_rows(toml_text: &str) -> Result<String, String> {
    let table: toml::Table = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    let terms = table
        .get("terms")
        .and_then(|t| t.as_table())
        .ok_or("no [terms] table")?;
    let mut rows = String::new();
    for (surface, parts) in terms {
        let parts: Vec<&str> = parts
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
            .unwrap_or_default();
        if parts.is_empty() || parts.concat() != *surface || surface.contains([',', '"']) {
            return Err(format!("term `{surface}`: its parts must spell it"));
        }
        let last = surface.chars().last().unwrap_or(' ');
        let (final_flag, right_id) = match has_final_consonant(last) {
            Some(true) => ("T", TERM_RIGHT_ID_FINAL),
            Some(false) => ("F", TERM_RIGHT_ID_NO_FINAL),
            None => ("*", TERM_RIGHT_ID_NO_FINAL),
        };
        let (kind, expression) = if parts.len() > 1 {
            let e: Vec<String> = parts.iter().map(|p| format!("{p}/NNG/*")).collect();
            ("Compound", e.join("+"))
        } else {
            ("*", "*".to_string())
        };
        rows.push_str(&format!(
            "{surface},{TERM_LEFT_ID},{right_id},{TERM_COST},NNP,*,{final_flag},{surface},{kind},*,*,{expression}\n"
        ));
    }
    Ok(rows)
}

fn load_terms(dictionary: &lindera::dictionary::Dictionary) -> Result<UserDictionary, String> {
    let rows = user_dictionary_rows(KO_TERMS_TOML)?;
    DictionaryBuilder::new((*dictionary.metadata).clone())
        .build_user_dict_from_reader(rows.as_bytes())
        .map_err(|e| e.to_string())
}

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

/// How lindera is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KoreanOptions {
    /// mecab-ko's left-space penalty (ko-dic ships the rules): a particle or
    /// ending is not chosen right after a space.
    pub space_penalty: bool,
    /// Add the e-government terms of `data/ko-terms.toml` to the dictionary.
    pub user_terms: bool,
}

impl Default for KoreanOptions {
    fn default() -> Self {
        Self {
            space_penalty: true,
            user_terms: true,
        }
    }
}

/// The Korean analyzer. Cheap to share: one [`Segmenter`] per dictionary.
pub struct KoreanAnalyzer {
    segmenter: Arc<Segmenter>,
}

/// Segmenters already loaded, by dictionary path (creating one costs ~85 ms).
type SegmenterCache = Mutex<Vec<((std::path::PathBuf, KoreanOptions), Arc<Segmenter>)>>;

fn cache() -> &'static SegmenterCache {
    static CACHE: OnceLock<SegmenterCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

impl KoreanAnalyzer {
    /// Open the dictionary installed under `dict_root` (see [`dict::install`]).
    pub fn load(dict_root: &Path) -> Result<Self, DictError> {
        Self::load_with(dict_root, KoreanOptions::default())
    }

    /// Open the dictionary with other options than the default.
    pub fn load_with(dict_root: &Path, options: KoreanOptions) -> Result<Self, DictError> {
        let path = dict::installed_path(dict_root);
        let key = (path.clone(), options);
        let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, s)) = cache.iter().find(|(k, _)| *k == key) {
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
        let terms = if options.user_terms {
            Some(load_terms(&dictionary).map_err(|reason| DictError::Load {
                path: path.clone(),
                reason: format!("the Korean terms file: {reason}"),
            })?)
        } else {
            None
        };
        let mut segmenter = Segmenter::new(SegmentMode::Normal, dictionary, terms)
            .max_grouping_len(Some(MAX_GROUPING_LEN));
        if !options.space_penalty {
            segmenter = segmenter.space_penalty(None).map_err(|e| DictError::Load {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        }
        let segmenter = Arc::new(segmenter);
        cache.push((key, segmenter.clone()));
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
                let surface = token.surface.clone();
                let details = token.details();
                let tag = details.first().copied().unwrap_or("UNK");
                let kind = details.get(4).copied().unwrap_or("*");
                let parts = parse_expression(details.get(7).copied().unwrap_or("*"));
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
            index_only: false,
        });
    }

    /// A whole beside its parts, in index mode.
    fn push_whole(&mut self, text: String, start: usize, end: usize, position: usize) {
        self.push(text, start, end, position);
        if let Some(t) = self.terms.last_mut() {
            t.index_only = true;
        }
    }

    fn flush_run(&mut self, mode: Mode) {
        if mode == Mode::Index && (2..=MAX_RUN).contains(&self.run.len()) {
            let joined: String = self.run.iter().map(|f| f.0.as_str()).collect();
            let (start, position) = (self.run[0].1, self.run[0].3);
            let end = self.run[self.run.len() - 1].2;
            if joined.len() <= MAX_TERM_BYTES {
                self.push_whole(joined, start, end, position);
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
                    self.push_whole(w, start, end, self.position);
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
    fn terms_file_gives_well_formed_rows() {
        let rows = user_dictionary_rows(KO_TERMS_TOML).unwrap();
        assert!(rows.lines().count() >= 20);
        for row in rows.lines() {
            assert_eq!(row.split(',').count(), 12, "{row}");
        }
        assert!(rows.contains("행정안전부,1786,3545,-1000,NNP,*,F,행정안전부,Compound,*,*,행정/NNG/*+안전/NNG/*+부/NNG/*"));
        assert!(rows.contains("나라장터,1786,3545,"));
        assert!(rows.contains("전자정부,1786,3545,"));
        assert!(rows.contains("국가기록원,1786,3546,-1000,NNP,*,T,"));
        assert!(user_dictionary_rows("[terms]\n\"가나\" = [\"가\"]").is_err());
    }

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
