//! Dates written in Korean, Spanish and English: `2018.06.26`,
//! `2026.10.07.`, `2019-03-20`, `2019년 3월 20일`, `5 de noviembre de 2018`,
//! `23 de setiembre del 2019`, `June 26, 2018`, `26 June 2018`. A date
//! that is ambiguous (`06/07/2018`) or has no year (`23 de setiembre`) is
//! left unknown rather than guessed.

use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;

const MONTHS: [(&str, u32); 34] = [
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("setiembre", 9),
];
const MORE_MONTHS: [(&str, u32); 3] = [("octubre", 10), ("noviembre", 11), ("diciembre", 12)];

fn month(name: &str) -> Option<u32> {
    let n = name.trim_end_matches('.').to_lowercase();
    MONTHS
        .iter()
        .chain(MORE_MONTHS.iter())
        .find(|(m, _)| *m == n)
        .map(|(_, v)| *v)
}

/// A year a document of this knowledge base can be from. Outside it a
/// date is a placeholder (a CMS's `0001-01-01`) or a misreading; the
/// search API's year filters take the same range.
pub fn plausible(year: i32) -> bool {
    (1900..=2100).contains(&year)
}

fn ymd(y: &str, m: u32, d: &str) -> Option<NaiveDate> {
    let y: i32 = y.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    if !plausible(y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

struct Patterns {
    numeric: Regex,
    korean: Regex,
    spanish: Regex,
    english_mdy: Regex,
    english_dmy: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // The patterns are constants: a failure here is a bug caught by tests.
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("date pattern {s}: {e}"));
        Patterns {
            // 2018.06.26, 2018-06-26, 2018/06/26, 2026.10.07. (year first: unambiguous)
            numeric: re(r"\b(\d{4})\s?[.\-/]\s?(\d{1,2})\s?[.\-/]\s?(\d{1,2})\b"),
            korean: re(r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"),
            spanish: re(r"(?i)\b(\d{1,2})\s+de\s+([a-záéíóú]+)\s+(?:de|del)\s+(\d{4})\b"),
            english_mdy: re(r"(?i)\b([a-z]{3,9}\.?)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b"),
            english_dmy: re(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9}\.?),?\s+(\d{4})\b"),
        }
    })
}

/// The first unambiguous date in `text`, in the order it appears.
pub fn find_date(text: &str) -> Option<NaiveDate> {
    let p = patterns();
    let mut best: Option<(usize, NaiveDate)> = None;
    let mut consider = |at: usize, d: Option<NaiveDate>| {
        if let Some(d) = d
            && best.is_none_or(|(b, _)| at < b)
        {
            best = Some((at, d));
        }
    };
    for c in p.numeric.captures_iter(text) {
        let m = c[2].parse().ok();
        consider(
            c.get(0).map_or(0, |m| m.start()),
            m.and_then(|m| ymd(&c[1], m, &c[3])),
        );
    }
    for c in p.korean.captures_iter(text) {
        let m = c[2].parse().ok();
        consider(
            c.get(0).map_or(0, |m| m.start()),
            m.and_then(|m| ymd(&c[1], m, &c[3])),
        );
    }
    for c in p.spanish.captures_iter(text) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            month(&c[2]).and_then(|m| ymd(&c[3], m, &c[1])),
        );
    }
    for c in p.english_mdy.captures_iter(text) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            month(&c[1]).and_then(|m| ymd(&c[3], m, &c[2])),
        );
    }
    for c in p.english_dmy.captures_iter(text) {
        consider(
            c.get(0).map_or(0, |m| m.start()),
            month(&c[2]).and_then(|m| ymd(&c[3], m, &c[1])),
        );
    }
    best.map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn reads_the_forms_of_the_three_languages() {
        assert_eq!(find_date("2018.06.26"), d(2018, 6, 26));
        assert_eq!(find_date("등록일 2026.10.07."), d(2026, 10, 7));
        assert_eq!(find_date("2019-03-20"), d(2019, 3, 20));
        assert_eq!(find_date("2019년 3월 20일 보도자료"), d(2019, 3, 20));
        assert_eq!(
            find_date("Asunción, 5 de noviembre de 2018"),
            d(2018, 11, 5)
        );
        assert_eq!(find_date("23 de setiembre de 2019"), d(2019, 9, 23));
        assert_eq!(find_date("el 23 de Setiembre del 2018"), d(2018, 9, 23));
        assert_eq!(find_date("Seoul, June 26, 2018 -"), d(2018, 6, 26));
        assert_eq!(find_date("26 June 2018"), d(2018, 6, 26));
        assert_eq!(find_date("Sept. 3rd, 2019"), d(2019, 9, 3));
    }

    #[test]
    fn leaves_ambiguous_and_yearless_dates_unknown() {
        assert_eq!(find_date("06/07/2018"), None);
        assert_eq!(find_date("23 de setiembre"), None);
        assert_eq!(find_date("June 26"), None);
        assert_eq!(find_date("del 2018"), None);
        assert_eq!(find_date("2018.13.40"), None);
        assert_eq!(find_date("version 1.2.3"), None);
        assert_eq!(find_date("may 2018 be good"), None);
    }

    #[test]
    fn takes_the_first_date() {
        assert_eq!(
            find_date("Posted 2019-03-20. The course ran from 5 de noviembre de 2018."),
            d(2019, 3, 20)
        );
        assert_eq!(
            find_date("Del 5 de noviembre de 2018 al 2019-01-01"),
            d(2018, 11, 5)
        );
    }
}
