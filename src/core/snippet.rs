//! Snippets: the stretch of a document's text (or of one page or slide) that
//! holds the most of the query's terms, as data: the text and the ranges
//! of its matches ([`Highlighted`]). The shells draw it: the page and the
//! API as HTML (`<mark>` around the matches, everything escaped), the
//! command line with terminal emphasis.

use std::collections::HashSet;

use crate::analysis::{Analyzer, Mode};

/// About how long a snippet is, in characters.
pub const SNIPPET_CHARS: usize = 220;

/// Characters of a passage shown as the snippet of a hit found by meaning.
pub const PASSAGE_CHARS: usize = 240;

/// A passage as the snippet of a hit found by meaning: its whitespace
/// collapsed, cut after [`PASSAGE_CHARS`] characters with " …".
pub fn passage(text: &str) -> Highlighted {
    let mut shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if shown.chars().count() > PASSAGE_CHARS {
        shown = shown.chars().take(PASSAGE_CHARS).collect::<String>() + " …";
    }
    Highlighted::plain(&shown)
}

/// Escape text for HTML (and for attributes).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text with the byte ranges of its highlighted parts (sorted, apart).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Highlighted {
    pub text: String,
    pub marks: Vec<(usize, usize)>,
}

impl Highlighted {
    /// Text with nothing highlighted.
    pub fn plain(text: &str) -> Self {
        Self {
            text: text.to_string(),
            marks: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text with `on` and `off` around each highlighted part, each part
    /// of it passed through `piece` (an escape, or nothing).
    pub fn render(&self, (on, off): (&str, &str), piece: &dyn Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.text.len() + self.marks.len() * 16);
        let mut at = 0;
        for &(s, e) in &self.marks {
            out.push_str(&piece(&self.text[at..s]));
            out.push_str(on);
            out.push_str(&piece(&self.text[s..e]));
            out.push_str(off);
            at = e;
        }
        out.push_str(&piece(&self.text[at..]));
        out
    }

    /// As HTML: escaped, `<mark>` around each highlighted part.
    pub fn html(&self) -> String {
        self.render(("<mark>", "</mark>"), &escape_html)
    }

    /// From HTML with `<mark>` around highlighted parts (a highlighter's
    /// answer): other tags dropped, character references read back.
    pub fn from_html(html: &str) -> Self {
        let mut out = Self::default();
        let mut open: Option<usize> = None;
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            out.text.push_str(&unescape_html(&rest[..lt]));
            let Some(gt) = rest[lt..].find('>') else {
                out.text.push_str(&unescape_html(&rest[lt..]));
                rest = "";
                break;
            };
            match &rest[lt..lt + gt + 1] {
                "<mark>" => open = Some(out.text.len()),
                "</mark>" => {
                    if let Some(s) = open.take()
                        && s < out.text.len()
                    {
                        out.marks.push((s, out.text.len()));
                    }
                }
                _ => {}
            }
            rest = &rest[lt + gt + 1..];
        }
        out.text.push_str(&unescape_html(rest));
        out
    }

    /// Runs of whitespace as one space, none at either end; the ranges
    /// follow (they begin and end on words, never inside a run).
    fn collapsed(self) -> Self {
        let mut text = String::with_capacity(self.text.len());
        // The new offset of every old one.
        let mut at = vec![0usize; self.text.len() + 1];
        let mut pending = false;
        for (i, c) in self.text.char_indices() {
            if c.is_whitespace() {
                pending = !text.is_empty();
            } else {
                if pending {
                    text.push(' ');
                    pending = false;
                }
                for slot in &mut at[i..i + c.len_utf8()] {
                    *slot = text.len();
                }
                text.push(c);
                continue;
            }
            for slot in &mut at[i..i + c.len_utf8()] {
                *slot = text.len();
            }
        }
        let end = text.len();
        at[self.text.len()] = end;
        let marks = self
            .marks
            .iter()
            .map(|&(s, e)| (at[s].min(end), at[e].min(end)))
            .filter(|(s, e)| s < e)
            .collect();
        Self { text, marks }
    }
}

/// Read back the character references [`escape_html`] and highlighters
/// write.
fn unescape_html(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// As its HTML (what the API gives).
impl serde::Serialize for Highlighted {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.html())
    }
}

/// A snippet and how good it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub text: Highlighted,
    /// Distinct query terms in the snippet.
    pub distinct: usize,
    /// Matched term occurrences in the snippet.
    pub matches: usize,
}

/// Byte index of the char boundary at or before `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A query term found in a text: byte offsets and the term.
type Found<'a> = (usize, usize, &'a str);

/// Where `analyzer` finds `terms` in `text`.
pub fn analysed<'a>(
    text: &str,
    analyzer: &dyn Analyzer,
    terms: &'a HashSet<String>,
) -> Vec<Found<'a>> {
    if terms.is_empty() {
        return Vec::new();
    }
    analyzer
        .analyze(text, Mode::Index)
        .into_iter()
        .filter_map(|t| {
            terms
                .get(&t.text)
                .map(|term| (t.start, t.end, term.as_str()))
        })
        .collect()
}

/// A query's terms as a document in `lang` is searched for them (each
/// analysed by `analyzer`, the document's language's).
pub fn query_terms(analyzer: &dyn Analyzer, query: &str) -> HashSet<String> {
    analyzer
        .analyze(query, Mode::Query)
        .into_iter()
        .map(|t| t.text)
        .collect()
}

/// `text` with the places of `terms` marked, found as the search's
/// snippets find them: Korean morphemes as written (`korean`), other
/// languages' stems as word beginnings.
pub fn mark_all(text: &str, terms: &HashSet<String>, korean: bool) -> Highlighted {
    let found = if korean {
        Literal::new(terms).find(text)
    } else {
        Stems::new(terms).find(text)
    };
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for (s, e, _) in found {
        match marks.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => marks.push((s, e)),
        }
    }
    Highlighted {
        text: text.to_string(),
        marks,
    }
}

/// Where words of a text begin with one of a query's stems (`registr` finds
/// Registros), case and accents ignored; much cheaper than analysing the
/// text again, and as good for highlighting. Terms under three letters must
/// match a whole word. Built once per search, used on every hit.
pub struct Stems<'a> {
    /// Each term with whether it is short (matched whole, not as a prefix).
    terms: Vec<(&'a str, bool)>,
    /// Which first bytes (either case) some term starts with, as a bitset:
    /// most words are rejected by one lookup.
    starts: [u64; 4],
}

impl<'a> Stems<'a> {
    pub fn new(terms: &'a HashSet<String>) -> Self {
        let mut starts = [0u64; 4];
        for t in terms {
            if let Some(&b) = t.as_bytes().first() {
                for b in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
                    starts[usize::from(b / 64)] |= 1 << (b % 64);
                }
            }
        }
        Self {
            terms: terms
                .iter()
                .map(|t| (t.as_str(), t.chars().count() < 3))
                .collect(),
            starts,
        }
    }

    /// The term `word` is a form of, if any.
    fn term_of(&self, word: &str) -> Option<&'a str> {
        let first = *word.as_bytes().first()?;
        // Folding keeps an ASCII first letter (but a word may begin with
        // an accented one: those go the long way).
        if first.is_ascii() && self.starts[usize::from(first / 64)] & (1 << (first % 64)) == 0 {
            return None;
        }
        // Most words are ASCII: compared in place, without a lowered copy.
        let folded;
        let word = if word.is_ascii() {
            word.as_bytes()
        } else {
            folded = crate::analysis::latin::fold(&word.to_lowercase());
            folded.as_bytes()
        };
        self.terms
            .iter()
            .find(|&&(t, short)| {
                let t = t.as_bytes();
                if short {
                    word.eq_ignore_ascii_case(t)
                } else {
                    // A long stem may carry a long suffix (interoper-abilidad).
                    word.len() >= t.len()
                        && word[..t.len()].eq_ignore_ascii_case(t)
                        && (t.len() >= 6 || word.len() <= t.len() + 5)
                }
            })
            .map(|&(t, _)| t)
    }

    pub fn find(&self, text: &str) -> Vec<Found<'a>> {
        let mut found = Vec::new();
        if self.terms.is_empty() {
            return found;
        }
        let mut check = |s: usize, e: usize| {
            if let Some(t) = self.term_of(&text[s..e]) {
                found.push((s, e, t));
            }
        };
        // Words are runs of alphanumeric characters. ASCII bytes, most of
        // the text, are classified without decoding a character.
        let bytes = text.as_bytes();
        let mut start = None;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (word_char, len) = if b.is_ascii() {
                (b.is_ascii_alphanumeric(), 1)
            } else {
                match text[i..].chars().next() {
                    Some(c) => (c.is_alphanumeric(), c.len_utf8()),
                    None => break,
                }
            };
            if word_char {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                check(s, i);
            }
            i += len;
        }
        if let Some(s) = start {
            check(s, text.len());
        }
        found
    }
}

/// Where a query's terms occur literally in a text (ASCII case ignored).
/// For Korean, whose terms are morphemes written as they are, this finds
/// what analysis would at a fraction of its cost. One-character terms are
/// left out. At each place the longest term wins; matches do not overlap.
/// Built once per search (one automaton for every term) when a hit first
/// needs it, used on every hit.
pub struct Literal<'a> {
    terms: Vec<&'a str>,
    automaton: std::cell::OnceCell<Option<aho_corasick::AhoCorasick>>,
}

impl<'a> Literal<'a> {
    pub fn new(terms: &'a HashSet<String>) -> Self {
        let terms: Vec<&'a str> = terms
            .iter()
            .filter(|t| t.chars().count() > 1)
            .map(String::as_str)
            .collect();
        Self {
            terms,
            automaton: std::cell::OnceCell::new(),
        }
    }

    fn automaton(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.automaton
            .get_or_init(|| {
                // A contiguous NFA: the DFA that the builder picks for a
                // few terms searches a little faster but takes longer to
                // build than a page of hits takes to search.
                aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .ascii_case_insensitive(true)
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&self.terms)
                    .ok()
            })
            .as_ref()
    }

    pub fn find(&self, text: &str) -> Vec<Found<'a>> {
        let Some(automaton) = self.automaton() else {
            return Vec::new();
        };
        automaton
            .find_iter(text)
            .map(|m| (m.start(), m.end(), self.terms[m.pattern().as_usize()]))
            .collect()
    }
}

/// Build the best snippet of `text` around `hits` (sorted by offset).
pub fn best(text: &str, hits: &[Found<'_>]) -> Snippet {
    // In bytes: characters times the text's average bytes per character
    // (about SNIPPET_CHARS * 3 for Hangul).
    let width = SNIPPET_CHARS * text.len().div_ceil(text.chars().count().max(1));
    let (first, distinct, matches) = best_window(hits, width);
    let (start, end) = match hits.get(first) {
        Some(hit) => bounds(text, hit.0, width),
        None => (0, floor_boundary(text, width)),
    };
    Snippet {
        text: marked(text, hits, (start, end)),
        distinct,
        matches,
    }
}

/// The window of `width` bytes that holds the most distinct terms, then
/// the most occurrences: the index of its first hit, its distinct terms
/// and its hits.
fn best_window(hits: &[Found<'_>], width: usize) -> (usize, usize, usize) {
    let mut best = (0usize, 0usize, 0usize);
    // A sliding window over the hits, with each term's count in it (a
    // query has few terms: a list beats a map).
    let mut in_window: Vec<(&str, usize)> = Vec::new();
    let mut distinct = 0;
    let mut j = 0;
    for i in 0..hits.len() {
        j = j.max(i);
        while j < hits.len() && hits[j].1 <= hits[i].0 + width {
            match in_window.iter_mut().find(|(t, _)| *t == hits[j].2) {
                Some((_, n)) => {
                    distinct += usize::from(*n == 0);
                    *n += 1;
                }
                None => {
                    distinct += 1;
                    in_window.push((hits[j].2, 1));
                }
            }
            j += 1;
        }
        if (distinct, j - i) > (best.1, best.2) {
            best = (i, distinct, j - i);
        }
        // hits[i] leaves the window (it was in it unless the window is empty).
        if j > i
            && let Some((_, n)) = in_window.iter_mut().find(|(t, _)| *t == hits[i].2)
        {
            *n -= 1;
            distinct -= usize::from(*n == 0);
        }
    }
    best
}

/// The snippet's byte range: from a little before the first match, at a
/// word boundary, `width` bytes, cut at the last whitespace.
fn bounds(text: &str, first: usize, width: usize) -> (usize, usize) {
    let mut s = floor_boundary(text, first.saturating_sub(width / 5));
    // Just after the first whitespace (which may be wider than a byte: a
    // no-break space is two).
    if s > 0
        && let Some((ws, c)) = text[s..first]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
    {
        s += ws + c.len_utf8();
    }
    let mut e = floor_boundary(text, s + width);
    if e < text.len()
        && let Some(ws) = text[..e].rfind(char::is_whitespace)
        && ws > first
    {
        e = ws;
    }
    (s, e)
}

/// `text[start..end]` with the hits in it highlighted (hits separated
/// only by spaces as one: a phrase), an ellipsis where it is cut, and its
/// whitespace collapsed.
fn marked(text: &str, hits: &[Found<'_>], (start, end): (usize, usize)) -> Highlighted {
    let mut out = Highlighted::default();
    if start > 0 {
        out.text.push('…');
    }
    let mut at = start;
    let mut marks = hits
        .iter()
        .filter(|h| h.0 >= start && h.1 <= end)
        .peekable();
    while let Some(&(s, e, _)) = marks.next() {
        let s = s.max(at);
        if s > at {
            out.text.push_str(&text[at..s]);
        }
        let mut e = e;
        while let Some(&&(ns, ne, _)) = marks.peek() {
            if ns >= e && text[e..ns].chars().all(|c| c == ' ') {
                e = ne;
                marks.next();
            } else if ns < e {
                e = e.max(ne);
                marks.next();
            } else {
                break;
            }
        }
        let from = out.text.len();
        out.text.push_str(&text[s..e]);
        out.marks.push((from, out.text.len()));
        at = e;
    }
    if end > at {
        out.text.push_str(&text[at..end]);
    }
    if end < text.len() {
        out.text.push('…');
    }
    out.collapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passage_snippet_is_collapsed_and_cut() {
        let short = passage("  one\n\ntwo\tthree ");
        assert_eq!(short.html(), "one two three");
        let long = passage(&"word ".repeat(100));
        let text = long.html();
        assert!(text.ends_with(" …"), "{text}");
        assert_eq!(text.chars().count(), PASSAGE_CHARS + 2);
    }

    #[test]
    fn highlighted_text_is_data_drawn_as_html_or_for_a_terminal() {
        let h = Highlighted::from_html(
            "a &lt;b&gt; <mark>R&amp;D</mark> &#x27;x&#x2F;y&#39; <b>bold</b>",
        );
        assert_eq!(h.text, "a <b> R&D 'x/y' bold");
        assert_eq!(&h.text[h.marks[0].0..h.marks[0].1], "R&D");
        assert_eq!(
            h.html(),
            "a &lt;b&gt; <mark>R&amp;D</mark> &#39;x/y&#39; bold"
        );
        assert_eq!(
            h.render(("[", "]"), &|s| s.to_string()),
            "a <b> [R&D] 'x/y' bold"
        );
        assert_eq!(Highlighted::from_html(&h.html()), h);
        // Whitespace collapsed, the marks moved with their words.
        let h = Highlighted {
            text: "  one\t two  three \n".into(),
            marks: vec![(2, 5), (7, 10), (12, 17)],
        }
        .collapsed();
        assert_eq!(h.text, "one two three");
        assert_eq!(h.marks, vec![(0, 3), (4, 7), (8, 13)]);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            "\"<mark>one</mark> <mark>two</mark> <mark>three</mark>\""
        );
    }
    use crate::analysis::latin::LatinAnalyzer;

    fn set(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_whole_text_is_marked_at_every_match() {
        let terms = set(&["registr", "paraguay"]);
        let h = mark_all("Registro civil en Paraguay; registros.", &terms, false);
        let marked: Vec<&str> = h.marks.iter().map(|&(s, e)| &h.text[s..e]).collect();
        assert_eq!(marked, ["Registro", "Paraguay", "registros"]);
        let ko = mark_all("주민등록 제도와 주민등록증", &set(&["주민", "등록"]), true);
        assert_eq!(ko.marks.len(), 2, "{:?}", ko.marks);
    }

    #[test]
    fn marks_matches_and_escapes_the_rest() {
        let en = LatinAnalyzer::english();
        let text = "<script>alert(1)</script> The resident registration of Paraguay";
        let terms = set(&["resid", "registr"]);
        let s = best(text, &analysed(text, &en, &terms));
        assert!(
            s.text.html().contains("&lt;script&gt;"),
            "{}",
            s.text.html()
        );
        assert!(
            s.text.html().contains("<mark>resident registration</mark>"),
            "{}",
            s.text.html()
        );
        assert!(!s.text.html().contains("<script>"));
        assert_eq!(s.distinct, 2);
    }

    #[test]
    fn picks_the_window_with_most_terms() {
        let en = LatinAnalyzer::english();
        let filler = "lorem ipsum dolor sit amet ".repeat(40);
        let text = format!(
            "Paraguay once. {filler} Paraguay and resident registration together. {filler}"
        );
        let terms = set(&["paraguay", "resid", "registr"]);
        let s = best(&text, &analysed(&text, &en, &terms));
        assert!(
            s.text
                .html()
                .contains("<mark>Paraguay</mark> and <mark>resident registration</mark>"),
            "{}",
            s.text.html()
        );
        assert!(s.text.html().starts_with('…'));
    }

    #[test]
    fn stem_matching_for_latin_text() {
        let text = "Los Registros civiles de Paraguay y el registro único";
        let terms = set(&["registr", "civil", "paraguay", "y"]);
        let s = best(text, &Stems::new(&terms).find(text));
        assert!(
            s.text
                .html()
                .contains("<mark>Registros civiles de Paraguay y</mark>")
                || s.text.html().contains("<mark>Registros civiles</mark>"),
            "{}",
            s.text.html()
        );
        assert!(
            s.text.html().contains("<mark>registro</mark>"),
            "{}",
            s.text.html()
        );
        assert!(!s.text.html().contains("<mark>Los</mark>"));
    }

    #[test]
    fn literal_matching_for_korean() {
        let text = "행정안전부는 KONEPS와 주민등록 제도를 소개했다";
        let terms = set(&["주민", "등록", "koneps", "부"]);
        let s = best(text, &Literal::new(&terms).find(text));
        assert!(
            s.text.html().contains("<mark>KONEPS</mark>"),
            "{}",
            s.text.html()
        );
        assert!(
            s.text.html().contains("<mark>주민등록</mark>"),
            "{}",
            s.text.html()
        );
        assert!(
            !s.text.html().contains("<mark>부</mark>"),
            "{}",
            s.text.html()
        );
    }

    proptest::proptest! {
        /// The sliding window finds what counting every window afresh does.
        #[test]
        fn the_window_counts_as_brute_force_does(
            words in proptest::collection::vec(0usize..5, 0..120),
        ) {
            let vocab = ["alpha", "beta", "gamma", "delta", "filler"];
            let text = words.iter().map(|&w| vocab[w]).collect::<Vec<_>>().join(" ");
            let terms = set(&["alpha", "beta", "gamma", "delta"]);
            let hits = Stems::new(&terms).find(&text);
            let s = best(&text, &hits);
            let width = SNIPPET_CHARS;
            let brute = (0..hits.len())
                .map(|i| {
                    let window: Vec<_> = hits[i..]
                        .iter()
                        .take_while(|h| h.1 <= hits[i].0 + width)
                        .collect();
                    let distinct: HashSet<&str> = window.iter().map(|h| h.2).collect();
                    (distinct.len(), window.len())
                })
                .max()
                .unwrap_or((0, 0));
            proptest::prop_assert_eq!((s.distinct, s.matches), brute);
        }
    }

    proptest::proptest! {
        /// Any text (wide whitespace, accents, Hangul, control characters)
        /// and any of its words as terms: a snippet is made, without
        /// cutting a character, and its marks hold only those words.
        #[test]
        fn any_text_gives_a_snippet(
            text in "([a-zé한글]{1,6}[ \u{a0}\u{2003}\u{3000}\n\t.,<&]{1,3}){0,150}",
            pick in proptest::collection::vec(0usize..150, 0..4),
        ) {
            let words: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let terms: HashSet<String> = pick
                .iter()
                .filter_map(|&i| words.get(i % words.len().max(1)))
                .map(|w| w.to_lowercase())
                .collect();
            for hits in [Stems::new(&terms).find(&text), Literal::new(&terms).find(&text)] {
                let s = best(&text, &hits);
                proptest::prop_assert!(s.distinct <= terms.len());
                proptest::prop_assert!(!s.text.html().contains('<') || s.text.html().contains("<mark>"));
            }
        }
    }

    #[test]
    fn a_no_break_space_before_the_window_is_not_cut() {
        // The window starts just after the first whitespace between a
        // little before the first match and the match; here that is a
        // two-byte no-break space after a long word.
        let filler = "palabra ".repeat(60);
        let long = "a".repeat(SNIPPET_CHARS);
        let text = format!("{filler}{long}\u{a0}boxeo y rugby. {filler} boxeo");
        let terms = set(&["boxeo"]);
        let s = best(&text, &Stems::new(&terms).find(&text));
        assert!(
            s.text.html().contains("<mark>boxeo</mark>"),
            "{}",
            s.text.html()
        );
    }

    #[test]
    fn a_term_longer_than_the_window_does_not_break_it() {
        let long = "a".repeat(SNIPPET_CHARS * 2);
        let text = format!("{long} b {long} b");
        let terms = set(&[long.as_str(), "b"]);
        let s = best(&text, &Stems::new(&terms).find(&text));
        assert_eq!((s.distinct, s.matches), (1, 1), "{}", s.text.html());
    }

    #[test]
    fn the_longest_korean_term_wins_where_terms_overlap() {
        let terms = set(&["전자", "전자정부", "정부"]);
        let text = "전자정부 소개, 전자 문서와 정부";
        let found: Vec<&str> = Literal::new(&terms)
            .find(text)
            .into_iter()
            .map(|(s, e, _)| &text[s..e])
            .collect();
        assert_eq!(found, ["전자정부", "전자", "정부"]);
    }

    #[test]
    fn without_matches_it_is_the_start() {
        let en = LatinAnalyzer::english();
        let terms = set(&["zzz"]);
        let s = best(
            "Short text & more",
            &analysed("Short text & more", &en, &terms),
        );
        assert_eq!(s.text.html(), "Short text &amp; more");
        assert_eq!(s.distinct, 0);
    }
}
