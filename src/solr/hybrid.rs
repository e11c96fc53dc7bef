//! Search by meaning over a SolrCloud collection: the passages' vectors
//! the sync sends, searched with Solr's k nearest (`{!knn}`) under the
//! filters of the words' search, each document scored by its best
//! passage, then fused with the words' ranking by the embedded engine's
//! weights (`src/ranking.rs`): a document's best passage's cosine, plus,
//! when the words found it, its lexical score over the best one's,
//! weighed by `lexical_concepts` when it is tagged with every country and
//! topic the query names (when it names both), else `lexical_same` in the
//! query's language and `lexical_cross` in another. The embedded engine's
//! other evidence (the share of rarer words, names and numbers, shared
//! roots) is not computed over the cluster.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ranking::Ranking;

/// Passages asked of Solr's k nearest for the documents found by meaning.
pub(super) const PASSAGES: usize = 300;
/// Documents found by meaning, at most.
pub(super) const DOCUMENTS: usize = 100;
/// Lexical hits fused (the embedded engine's window).
pub(super) const FUSION_WINDOW: usize = 100;
/// Passages asked for the similarity of the lexical hits: every passage
/// of theirs, up to this many.
pub(super) const LEXICAL_PASSAGES: usize = 2_000;

/// A document's best passage found: its cosine to the query, text and
/// page.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Best {
    pub similarity: f32,
    pub text: String,
    pub page: Option<usize>,
    /// The document's language.
    pub lang: Option<String>,
}

/// A lexical hit of the fusion window, as the fusion weighs it.
#[derive(Debug, Clone)]
pub(super) struct Lexical {
    pub id: String,
    pub score: f32,
    /// In the query's language (or either is not told).
    pub same: bool,
    /// Tagged with every country and topic the query names, both named.
    pub tagged: bool,
}

/// The query vector as Solr's k-nearest query reads it.
pub(super) fn knn(vector: &[f32], top: usize) -> String {
    let values: Vec<String> = vector.iter().map(|x| x.to_string()).collect();
    format!("{{!knn f=vector topK={top}}}[{}]", values.join(","))
}

/// Solr's cosine score, (1 + cos) / 2, as the cosine.
fn cosine(score: f64) -> f32 {
    (2.0 * score - 1.0) as f32
}

/// The best passage of each document of a k-nearest answer (passages
/// nearest first), documents in that order, at most `limit`.
pub(super) fn best_passages(r: &Value, limit: usize) -> Vec<(String, Best)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for d in r["response"]["docs"].as_array().into_iter().flatten() {
        let Some(id) = d["doc_id"].as_str() else {
            continue;
        };
        if out.len() >= limit {
            break;
        }
        if seen.insert(id.to_string()) {
            out.push((
                id.to_string(),
                Best {
                    similarity: cosine(d["score"].as_f64().unwrap_or(0.0)),
                    text: d["passage"].as_str().unwrap_or_default().to_string(),
                    page: d["page"].as_u64().map(|p| p as usize),
                    lang: d["lang"].as_str().map(str::to_string),
                },
            ));
        }
    }
    out
}

/// The fused ranking, best first: the documents found by meaning
/// (`semantic`) and the lexical window (`lexical`, best first), each
/// scored as the module says (`similarity` gives a lexical hit's best
/// passage's cosine); with `words` false (semantic mode), by meaning
/// alone.
pub(super) fn fuse(
    r: &Ranking,
    lexical: &[Lexical],
    semantic: &[(String, Best)],
    similarity: &HashMap<String, f32>,
    words: bool,
) -> Vec<(f32, String)> {
    let mut scores: HashMap<&str, f32> = semantic
        .iter()
        .map(|(id, b)| (id.as_str(), r.semantic * b.similarity))
        .collect();
    if words {
        let top = lexical
            .first()
            .map_or(1.0, |l| l.score.max(f32::MIN_POSITIVE));
        for l in lexical.iter().take(FUSION_WINDOW) {
            let weight = match (l.tagged, l.same) {
                (true, _) => r.lexical_concepts,
                (false, true) => r.lexical_same,
                (false, false) => r.lexical_cross,
            };
            let base = r.semantic * similarity.get(&l.id).copied().unwrap_or(0.0);
            *scores.entry(l.id.as_str()).or_insert(base) += weight * l.score / top;
        }
    }
    let mut fused: Vec<(f32, String)> = scores
        .into_iter()
        .map(|(id, s)| (s, id.to_string()))
        .collect();
    fused.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    fused
}

/// A query for the documents `ids` (`q`) and as many rows (`rows`).
pub(super) fn by_ids(ids: &[&str]) -> (String, String) {
    (
        format!("{{!terms f=id}}{}", terms(ids)),
        ids.len().to_string(),
    )
}

/// Ids as the value of a `{!terms}` query (comma-separated; a comma in
/// an id would split it, and ids are hashes).
pub(super) fn terms(ids: &[&str]) -> String {
    ids.iter()
        .filter(|id| !id.contains(','))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_counts_by_its_best_passage() {
        let r = json!({"response": {"docs": [
            {"doc_id": "a", "score": 0.95, "passage": "first", "page": 2},
            {"doc_id": "b", "score": 0.90, "passage": "other"},
            {"doc_id": "a", "score": 0.85, "passage": "second"},
            {"doc_id": "c", "score": 0.80, "passage": "third"},
        ]}});
        let best = best_passages(&r, 2);
        assert_eq!(best.len(), 2);
        assert_eq!(best[0].0, "a");
        assert!((best[0].1.similarity - 0.9).abs() < 1e-6);
        assert_eq!(best[0].1.page, Some(2));
        assert_eq!(best[1].0, "b");
        assert!(knn(&[0.5, -0.25], 7).starts_with("{!knn f=vector topK=7}[0.5,-0.25]"));
    }

    #[test]
    fn words_weigh_by_language_and_concepts() {
        let r = Ranking::default();
        let semantic = vec![(
            "meaning".to_string(),
            Best {
                similarity: 0.9,
                text: String::new(),
                page: None,
                lang: None,
            },
        )];
        let lexical = |id: &str, score, same, tagged| Lexical {
            id: id.into(),
            score,
            same,
            tagged,
        };
        let words = [
            lexical("same", 10.0, true, false),
            lexical("cross", 10.0, false, false),
            lexical("meaning", 5.0, true, false),
        ];
        let similarity: HashMap<String, f32> =
            [("same".to_string(), 0.8), ("cross".to_string(), 0.8)].into();
        let fused = fuse(&r, &words, &semantic, &similarity, true);
        let score = |id: &str| fused.iter().find(|f| f.1 == id).map(|f| f.0).unwrap();
        assert!((score("same") - (r.semantic * 0.8 + r.lexical_same)).abs() < 1e-5);
        assert!((score("cross") - (r.semantic * 0.8 + r.lexical_cross)).abs() < 1e-5);
        let both = r.semantic * 0.9 + r.lexical_same * 0.5;
        assert!((score("meaning") - both).abs() < 1e-5);
        // By meaning alone, only what meaning found.
        let alone = fuse(&r, &words, &semantic, &similarity, false);
        assert_eq!(alone.len(), 1);
        assert_eq!(terms(&["a", "b,c", "d"]), "a,d");
    }
}
