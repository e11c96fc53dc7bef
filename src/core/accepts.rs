//! What a parameter's value may be, said once: the check the server and
//! the command line make, and the constraint the OpenAPI description states
//! (`src/server/openapi.rs` builds each parameter's schema from it), so that
//! the two cannot differ.

use std::cell::RefCell;
use std::collections::HashMap;

/// A value's constraint.
#[derive(Debug, Clone, Copy)]
pub enum Accepts {
    /// Any text of at most this many characters (the empty text too).
    Text { max_chars: usize },
    /// A whole number from `min` to `max`, in decimal digits.
    Number { min: u64, max: u64 },
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
    /// Text that `pattern` matches whole: a regular expression written in
    /// the syntax that Rust's `regex` and ECMA-262 (JSON Schema's) read
    /// alike (classes, `{m,n}`, `|`, groups), anchored with `^…$`.
    Pattern(&'static str),
}

/// Years of publication a filter may name (`dates::plausible`).
pub const YEAR: &str = "(19[0-9]{2}|20[0-9]{2}|2100)";

impl Accepts {
    /// Whether `value` is accepted.
    pub fn check(&self, value: &str) -> bool {
        match *self {
            Accepts::Text { max_chars } => value.chars().count() <= max_chars,
            Accepts::Number { min, max } => {
                !value.is_empty()
                    && value.len() <= 20
                    && value.bytes().all(|b| b.is_ascii_digit())
                    && value.parse::<u64>().is_ok_and(|n| (min..=max).contains(&n))
            }
            Accepts::OneOf(words) => words.contains(&value),
            Accepts::Pattern(pattern) => matches(pattern, value),
        }
    }

    /// What it accepts, for an error message.
    pub fn describe(&self) -> String {
        match *self {
            Accepts::Text { max_chars } => format!("text of at most {max_chars} characters"),
            Accepts::Number { min, max } => format!("a whole number from {min} to {max}"),
            Accepts::OneOf(words) => format!("one of {}", words.join(", ")),
            Accepts::Pattern(pattern) => format!("a value matching {pattern}"),
        }
    }
}

/// Whether `pattern` matches `value`; each pattern compiled once a thread
/// (no lock between the server's threads).
fn matches(pattern: &'static str, value: &str) -> bool {
    thread_local! {
        static COMPILED: RefCell<HashMap<&'static str, Option<regex::Regex>>> =
            RefCell::new(HashMap::new());
    }
    COMPILED.with_borrow_mut(|compiled| {
        compiled
            .entry(pattern)
            // A pattern of this program that does not compile accepts
            // nothing (a test compiles every one).
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_checks_what_it_says() {
        let n = Accepts::Number { min: 1, max: 100 };
        assert!(n.check("1") && n.check("100"));
        for bad in ["0", "101", "", "+5", " 5", "5.0", "99999999999999999999999"] {
            assert!(!n.check(bad), "{bad}");
        }
        let t = Accepts::Text { max_chars: 3 };
        assert!(t.check("") && t.check("한국어") && !t.check("abcd"));
        let w = Accepts::OneOf(&["date", "relevance"]);
        assert!(w.check("date") && !w.check("") && !w.check("Date"));
        let p = Accepts::Pattern("^[A-Za-z]{2}$");
        assert!(p.check("py") && !p.check(" PY") && !p.check("PRY"));
    }

    #[test]
    fn the_year_pattern_is_what_dates_call_plausible() {
        let p = Accepts::Pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$");
        assert_eq!(format!("^{YEAR}$"), "^(19[0-9]{2}|20[0-9]{2}|2100)$");
        for y in 1800..2200 {
            assert_eq!(p.check(&y.to_string()), crate::dates::plausible(y), "{y}");
        }
    }
}
