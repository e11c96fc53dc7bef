//! Translations of one notice, told apart where they can be: a notice in
//! Korean, its Spanish and its English version are three stories (they
//! share no terms, and each is what a reader of its language wants), but
//! each links to the others as "other languages".
//!
//! With the passage vectors of the embedding model, after each index
//! update: a document's vector is the mean of its passages'. Two documents
//! of two languages, dated within [`DAYS`] of each other and about the same
//! countries (the gazetteer's codes, the same in every language: two
//! country reports of one event are not translations of each other; half
//! of the codes either names, shared, is the same), are translations when
//! each is the other's nearest among the documents of the other's language
//! that qualify, and their vectors' cosine is at least `same_text`
//! (`ranking::SAME_TEXT`, chosen on FLORES-200 articles: BENCHMARKS.md,
//! "One story once"). Undated documents, and groups that would hold two
//! documents of one language, are left unlinked.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use tantivy::Searcher;

use super::IndexError;
use crate::semantic::vectors;

/// Translations are published within this many days of each other.
pub const DAYS: i64 = 7;
/// At most this many documents of a language, the nearest in date, are
/// compared with one document (a window dense with documents is cut).
const CANDIDATES: usize = 1_000;

/// One document: its id, language, day number, countries and unit vector.
struct Dated {
    id: String,
    lang: String,
    day: i64,
    countries: Vec<String>,
    vector: Vec<f32>,
}

/// What the index says of a document.
struct Facts {
    lang: String,
    day: i64,
    countries: Vec<String>,
}

/// The groups of translations among the generation's documents (each of
/// two or more languages, in the order of its ids), from its vectors; none
/// without vectors. `versions` are left out: the stories' other versions
/// than their best.
pub fn translations(
    path: &Path,
    searcher: &Searcher,
    same_text: f32,
    versions: &HashSet<&str>,
) -> Result<Vec<Vec<String>>, IndexError> {
    let file = path.join(vectors::FILE_NAME);
    if !file.exists() {
        return Ok(Vec::new());
    }
    let facts = facts(searcher).map_err(super::tv(path))?;
    let mut by_lang: HashMap<String, Vec<Dated>> = HashMap::new();
    // A document at a time: only each one's mean vector is kept.
    vectors::read_each(&file, |d| {
        // A story is linked through its best version (its other versions
        // are near it in every language, and would make a group of two
        // documents of one language).
        let Some(f) = facts
            .get(&d.id)
            .filter(|_| !versions.contains(d.id.as_str()))
        else {
            return;
        };
        let Some(vector) = mean(&d.passages) else {
            return;
        };
        by_lang.entry(f.lang.clone()).or_default().push(Dated {
            id: d.id,
            lang: f.lang.clone(),
            day: f.day,
            countries: f.countries.clone(),
            vector,
        });
    })?;
    for docs in by_lang.values_mut() {
        docs.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.id.cmp(&b.id)));
    }
    let mut langs: Vec<&String> = by_lang.keys().collect();
    langs.sort();
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (i, a) in langs.iter().enumerate() {
        for b in &langs[i + 1..] {
            pairs.extend(mutual(&by_lang[*a], &by_lang[*b], same_text));
        }
    }
    Ok(groups(&pairs, &by_lang))
}

/// Each live document's language, day number and countries (dated ones
/// only).
fn facts(searcher: &Searcher) -> tantivy::Result<HashMap<String, Facts>> {
    let mut out = HashMap::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(ids), Some(langs)) = (fast.str("id")?, fast.str("lang")?) else {
            continue;
        };
        let countries = fast.str("countries")?;
        let Ok(days) = fast.u64("day") else {
            continue;
        };
        let alive = segment.alive_bitset();
        let (mut id, mut lang, mut country) = (String::new(), String::new(), String::new());
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let (Some(i), Some(l), Some(day)) = (
                ids.term_ords(doc).next(),
                langs.term_ords(doc).next(),
                days.first(doc),
            ) else {
                continue;
            };
            let Some(day) = day_number(day) else {
                continue;
            };
            if !(ids.ord_to_str(i, &mut id)? && langs.ord_to_str(l, &mut lang)?) {
                continue;
            }
            let mut codes = Vec::new();
            if let Some(c) = &countries {
                for o in c.term_ords(doc) {
                    if c.ord_to_str(o, &mut country)? {
                        codes.push(country.clone());
                    }
                }
            }
            codes.sort_unstable();
            out.insert(
                id.clone(),
                Facts {
                    lang: lang.clone(),
                    day,
                    countries: codes,
                },
            );
        }
    }
    Ok(out)
}

/// YYYYMMDD as a count of days.
fn day_number(day: u64) -> Option<i64> {
    use chrono::Datelike;
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(day / 10_000).ok()?,
        u32::try_from(day / 100 % 100).ok()?,
        u32::try_from(day % 100).ok()?,
    )?;
    Some(i64::from(date.num_days_from_ce()))
}

/// The mean of a document's passage vectors, of unit length.
fn mean(passages: &[(crate::semantic::passages::Span, vectors::Quantised)]) -> Option<Vec<f32>> {
    let dim = passages.first()?.1.values.len();
    let mut sum = vec![0f32; dim];
    for (_, q) in passages {
        for (s, &v) in sum.iter_mut().zip(&q.values) {
            *s += f32::from(v) * q.scale;
        }
    }
    let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
    (norm > 0.0).then(|| sum.iter().map(|v| v / norm).collect())
}

/// Whether two documents are about the same countries: at least half of
/// the countries either names are named by both (a translation may miss a
/// name the gazetteer finds in the original), or neither names any.
fn same_countries(a: &[String], b: &[String]) -> bool {
    let both = a.iter().filter(|c| b.contains(c)).count();
    let either = a.len() + b.len() - both;
    either == 0 || 2 * both >= either
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// For each of `from`, its nearest of `to` dated within [`DAYS`] and
/// about the same countries (the [`CANDIDATES`] nearest in date): (index
/// in `to`, cosine).
fn nearest(from: &[Dated], to: &[Dated]) -> Vec<Option<(usize, f32)>> {
    from.par_iter()
        .map(|d| {
            let lo = to.partition_point(|t| t.day < d.day - DAYS);
            let hi = to.partition_point(|t| t.day <= d.day + DAYS);
            let mut window: Vec<usize> = (lo..hi)
                .filter(|&i| same_countries(&to[i].countries, &d.countries))
                .collect();
            if window.len() > CANDIDATES {
                window.sort_by_key(|&i| ((to[i].day - d.day).abs(), i));
                window.truncate(CANDIDATES);
            }
            window
                .into_iter()
                .map(|i| (i, dot(&d.vector, &to[i].vector)))
                .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        })
        .collect()
}

/// The pairs of `a` and `b` that are each other's nearest, near enough.
fn mutual<'d>(a: &'d [Dated], b: &'d [Dated], same_text: f32) -> Vec<(&'d str, &'d str)> {
    let ab = nearest(a, b);
    let ba = nearest(b, a);
    ab.iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (j, cosine) = (*n)?;
            let back = ba.get(j).copied().flatten()?.0;
            (back == i && cosine >= same_text).then(|| (a[i].id.as_str(), b[j].id.as_str()))
        })
        .collect()
}

/// Pairs joined into groups; a group with two documents of one language
/// cannot be told and is left out.
fn groups(pairs: &[(&str, &str)], by_lang: &HashMap<String, Vec<Dated>>) -> Vec<Vec<String>> {
    let lang_of: HashMap<&str, &str> = by_lang
        .values()
        .flatten()
        .map(|d| (d.id.as_str(), d.lang.as_str()))
        .collect();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut members: Vec<Vec<&str>> = Vec::new();
    for &(a, b) in pairs {
        match (group_of.get(a).copied(), group_of.get(b).copied()) {
            (None, None) => {
                group_of.insert(a, members.len());
                group_of.insert(b, members.len());
                members.push(vec![a, b]);
            }
            (Some(g), None) => {
                group_of.insert(b, g);
                members[g].push(b);
            }
            (None, Some(g)) => {
                group_of.insert(a, g);
                members[g].push(a);
            }
            (Some(g), Some(h)) if g != h => {
                let moved = std::mem::take(&mut members[h]);
                for m in &moved {
                    group_of.insert(m, g);
                }
                members[g].extend(moved);
            }
            _ => {}
        }
    }
    let mut out: Vec<Vec<String>> = members
        .into_iter()
        .filter(|m| m.len() > 1)
        .filter(|m| {
            let mut langs: Vec<&str> = m.iter().filter_map(|id| lang_of.get(id).copied()).collect();
            langs.sort_unstable();
            langs.windows(2).all(|w| w[0] != w[1])
        })
        .map(|mut m| {
            m.sort_unstable();
            m.into_iter().map(str::to_string).collect()
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(id: &str, lang: &str, day: i64, v: [f32; 2]) -> Dated {
        let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
        Dated {
            id: id.into(),
            lang: lang.into(),
            day,
            countries: vec!["PY".into()],
            vector: vec![v[0] / n, v[1] / n],
        }
    }

    #[test]
    fn mutual_nearest_within_the_window_are_translations() {
        let en = vec![
            dated("en-a", "en", 100, [1.0, 0.05]),
            dated("en-b", "en", 100, [0.1, 1.0]),
            dated("en-late", "en", 300, [1.0, 0.0]),
        ];
        let es = vec![
            dated("es-a", "es", 101, [1.0, 0.0]),
            dated("es-b", "es", 102, [0.0, 1.0]),
        ];
        let pairs = mutual(&en, &es, crate::ranking::SAME_TEXT);
        assert_eq!(pairs, vec![("en-a", "es-a"), ("en-b", "es-b")]);
        // Far in time, or about another country: not compared.
        let late = mutual(&en[2..], &es, crate::ranking::SAME_TEXT);
        assert!(late.is_empty());
        let mut bolivia = dated("es-bo", "es", 100, [1.0, 0.05]);
        bolivia.countries = vec!["BO".into()];
        assert!(mutual(&en[..1], &[bolivia], crate::ranking::SAME_TEXT).is_empty());
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(same_countries(&codes(&["KR", "PY"]), &codes(&["PY"])));
        assert!(!same_countries(
            &codes(&["BO", "KR"]),
            &codes(&["BR", "KR"])
        ));
        assert!(same_countries(&[], &[]));
    }

    #[test]
    fn a_group_with_two_documents_of_one_language_is_left_out() {
        let mut by_lang = HashMap::new();
        by_lang.insert(
            "en".to_string(),
            vec![
                dated("e1", "en", 1, [1.0, 0.0]),
                dated("e2", "en", 1, [1.0, 0.0]),
            ],
        );
        by_lang.insert("es".to_string(), vec![dated("s", "es", 1, [1.0, 0.0])]);
        by_lang.insert("ko".to_string(), vec![dated("k", "ko", 1, [1.0, 0.0])]);
        let ok = groups(&[("e1", "s"), ("s", "k")], &by_lang);
        assert_eq!(ok, vec![vec!["e1".to_string(), "k".into(), "s".into()]]);
        let two = groups(&[("e1", "s"), ("e2", "k"), ("s", "k")], &by_lang);
        assert!(two.is_empty());
    }
}
