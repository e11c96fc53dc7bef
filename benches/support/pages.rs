//! The saved board pages of `tests/data/pages/` and how an extraction of
//! them is scored: the title exactly (whitespace collapsed), the date
//! exactly, the body by token F1 (lower case, words of letters and
//! digits, as many times as they occur).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One page and what a reader would copy from it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Expected {
    /// The set's directory (filled by `load`).
    #[serde(default)]
    pub set: String,
    pub file: String,
    pub lang: String,
    pub title: String,
    pub date: Option<String>,
    pub body: String,
}

/// What an extractor read from a page.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Got {
    pub title: String,
    pub date: Option<String>,
    pub body: String,
}

/// The development set (`pages`), whose failures the rules were written
/// from, or the held-out set (`pages-heldout`), made apart from the rules
/// and the first set.
pub fn dir(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(set)
}

pub fn load(set: &str) -> Vec<Expected> {
    let path = dir(set).join("expected.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut e: Expected = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            e.set = set.to_string();
            e
        })
        .collect()
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tokens(s: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for t in s
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        *out.entry(t.to_string()).or_default() += 1;
    }
    out
}

/// Token F1 of `got` against `want`.
pub fn f1(got: &str, want: &str) -> f64 {
    let (g, w) = (tokens(got), tokens(want));
    let common: usize = g
        .iter()
        .map(|(t, n)| (*n).min(w.get(t).copied().unwrap_or(0)))
        .sum();
    let (gn, wn) = (g.values().sum::<usize>(), w.values().sum::<usize>());
    if gn == 0 || wn == 0 || common == 0 {
        return if gn == wn { 1.0 } else { 0.0 };
    }
    let (p, r) = (common as f64 / gn as f64, common as f64 / wn as f64);
    2.0 * p * r / (p + r)
}

/// Scores over a set of pages, and what went wrong where.
#[derive(Debug, Default)]
pub struct Score {
    pub pages: usize,
    pub titles: usize,
    pub dates: usize,
    pub f1: f64,
    pub misses: Vec<String>,
}

impl Score {
    pub fn add(&mut self, want: &Expected, got: &Got) {
        self.pages += 1;
        if normalise(&got.title) == normalise(&want.title) {
            self.titles += 1;
        } else {
            self.misses.push(format!(
                "{}: title {:?}, expected {:?}",
                want.file, got.title, want.title
            ));
        }
        if got.date == want.date {
            self.dates += 1;
        } else {
            self.misses.push(format!(
                "{}: date {:?}, expected {:?}",
                want.file, got.date, want.date
            ));
        }
        let f = f1(&got.body, &want.body);
        if f < 0.95 {
            self.misses.push(format!("{}: body F1 {f:.3}", want.file));
        }
        self.f1 += f;
    }

    pub fn title_share(&self) -> f64 {
        self.titles as f64 / self.pages.max(1) as f64
    }

    pub fn date_share(&self) -> f64 {
        self.dates as f64 / self.pages.max(1) as f64
    }

    pub fn mean_f1(&self) -> f64 {
        self.f1 / self.pages.max(1) as f64
    }
}

/// egovkb's extraction of a page, without a profile.
pub fn egovkb(want: &Expected) -> Got {
    let bytes = std::fs::read(dir(&want.set).join(&want.file)).unwrap_or_default();
    match egovkb::extract::extract(&bytes, egovkb::extract::Format::Html, None) {
        Ok(x) => Got {
            title: x.title,
            date: x.published.map(|d| d.to_string()),
            body: x.body,
        },
        Err(_) => Got::default(),
    }
}
