//! Language detection for documents whose source does not declare one, and
//! for queries. Korean is told by its script (Hangul); otherwise whichlang
//! decides, overruled by a clear vote of Spanish or English function words
//! (short texts full of names say little to a statistical model). The choice
//! of detector was measured: BENCHMARKS.md.

use whichlang::Lang as WLang;

use crate::analysis::korean::is_hangul;
use crate::document::Lang;

/// Function words that give a short Spanish or English text away.
const ES_WORDS: [&str; 22] = [
    "de", "la", "el", "los", "las", "del", "y", "en", "para", "por", "con", "que", "una", "un",
    "se", "al", "su", "sus", "sobre", "entre", "gobierno", "digital",
];
const EN_WORDS: [&str; 18] = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "with",
    "on",
    "is",
    "at",
    "by",
    "from",
    "an",
    "a",
    "its",
    "government",
    "national",
    "ministry",
];

/// A vote of function words and Spanish letters: positive for Spanish,
/// negative for English.
fn function_word_vote(text: &str) -> i32 {
    let mut vote = 0;
    for w in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
    {
        let lw = w.to_lowercase();
        if lw.contains(['ñ', 'á', 'é', 'í', 'ó', 'ú']) {
            vote += 1;
        }
        if ES_WORDS.contains(&lw.as_str()) {
            vote += 1;
        }
        if EN_WORDS.contains(&lw.as_str()) {
            vote -= 1;
        }
    }
    vote
}

fn to_lang(l: WLang) -> Option<Lang> {
    let code = match l {
        WLang::Spa => "es",
        WLang::Eng => "en",
        WLang::Kor => "ko",
        WLang::Por => "pt",
        WLang::Fra => "fr",
        WLang::Ita => "it",
        WLang::Deu => "de",
        WLang::Nld => "nl",
        WLang::Jpn => "ja",
        WLang::Cmn => "zh",
        WLang::Rus => "ru",
        WLang::Ara => "ar",
        WLang::Vie => "vi",
        WLang::Tur => "tr",
        WLang::Swe => "sv",
        WLang::Hin => "hi",
    };
    Lang::parse(code)
}

/// The language of a text, or `None` when there is too little to tell.
pub fn detect(text: &str) -> Option<Lang> {
    let (mut hangul, mut letters) = (0usize, 0usize);
    for c in text.chars().take(20_000) {
        if c.is_alphabetic() {
            letters += 1;
            if is_hangul(c) {
                hangul += 1;
            }
        }
    }
    if letters == 0 {
        return None;
    }
    // Korean documents quote English names and acronyms; a fifth of the
    // letters in Hangul (each syllable a whole block) means Korean text.
    if hangul * 5 >= letters {
        return Some(Lang::ko());
    }
    let sample: String = text.chars().take(5_000).collect();
    let vote = function_word_vote(&sample);
    if vote >= 2 {
        return Some(Lang::es());
    }
    if vote <= -2 {
        return Some(Lang::en());
    }
    match whichlang::detect_language(&sample) {
        // Hangul was ruled out above; a stray syllable is not Korean text.
        WLang::Kor if vote > 0 => Some(Lang::es()),
        WLang::Kor => Some(Lang::en()),
        l => to_lang(l),
    }
}

/// The language of a query, when it is one of the three the index has a
/// field of its own for. A few words say too little to tell Spanish or
/// English from a fourth language ("e-procurement Paraguay" reads as
/// Portuguese), so any other answer counts as not knowing, and the query is
/// ranked in every language alike.
pub fn detect_query(text: &str) -> Option<Lang> {
    detect(text).filter(|l| matches!(l.as_str(), "ko" | "es" | "en"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_three_languages_apart() {
        assert_eq!(
            detect("행정안전부, 파라과이에 전자정부 전수"),
            Some(Lang::ko())
        );
        assert_eq!(detect("2019 KOICA 초청연수 개최"), Some(Lang::ko()));
        assert_eq!(
            detect("Paraguay presenta su plan de gobierno digital"),
            Some(Lang::es())
        );
        assert_eq!(
            detect("Advanced e-Government Training Course for Latin America"),
            Some(Lang::en())
        );
        assert_eq!(detect("12345 !!"), None);
    }

    #[test]
    fn a_query_is_in_one_of_the_three_languages_or_unknown() {
        assert_eq!(detect_query("registro civil en Paraguay"), Some(Lang::es()));
        assert_eq!(detect_query("주민등록"), Some(Lang::ko()));
        for q in ["e-procurement Paraguay", "Wo ist der Bahnhof heute"] {
            assert!(
                detect_query(q).is_none_or(|l| ["es", "en"].contains(&l.as_str())),
                "{q}"
            );
        }
    }
}
