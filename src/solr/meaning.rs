//! SolrCloud, by meaning: the passages' k nearest read per document, the
//! similarity bars, the fusion's inputs, the counts of the hybrid set.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::Value;

use super::hybrid::{self, Best};
use crate::analysis::AnalyzerName;
use crate::core::relevance;
use crate::document::Lang;
use crate::index::bits::Counts;
use crate::index::search::{
    Interpreted, SearchError, SearchMode, SearchRequest, SearchResponse, facets_from,
};

use super::search::*;

impl SolrSearcher {
    /// A search by meaning (`interpreted.mode` semantic) or by words and
    /// meaning fused (hybrid), as `hybrid` says; the total and facet
    /// counts describe the words' hits and the documents found by meaning.
    pub(super) fn by_meaning(
        &self,
        req: &SearchRequest,
        words: &Words<'_>,
        vector: &[f32],
        (lang, interpreted): (Option<&Lang>, Interpreted),
        started: Instant,
    ) -> Result<SearchResponse, SearchError> {
        let with_words = interpreted.mode == SearchMode::Hybrid;
        let lexical = if with_words {
            self.lexical_window(words, lang, &interpreted)?
        } else {
            Vec::new()
        };
        let mut passage_filters = vec!["kind:passage".to_string()];
        passage_filters.extend(words.filters.iter().skip(1).cloned());
        let found = self.nearest(vector, hybrid::PASSAGES, &passage_filters)?;
        let mut semantic = self.kept(hybrid::best_passages(&found, hybrid::DOCUMENTS), &req.q)?;
        // Only documents as near as the model's bar for their languages
        // count (`core::relevance`).
        semantic.retain(|(_, b)| self.reaches_bar(lang, b));
        let known: HashSet<&str> = semantic.iter().map(|(id, _)| id.as_str()).collect();
        let rest: Vec<&str> = lexical
            .iter()
            .map(|l| l.id.as_str())
            .filter(|id| !known.contains(id))
            .collect();
        let others = self.best_of(vector, &rest)?;
        let similarity: HashMap<String, f32> = others
            .iter()
            .map(|(id, b)| (id.clone(), b.similarity))
            .collect();
        let mut fused = hybrid::fuse(
            &self.engine.ranking,
            &lexical,
            &semantic,
            &similarity,
            with_words,
        );
        if with_words {
            let passages: HashMap<&str, &str> = semantic
                .iter()
                .map(|(id, b)| (id.as_str(), b.text.as_str()))
                .chain(others.iter().map(|(id, b)| (id.as_str(), b.text.as_str())))
                .collect();
            self.cognates(&mut fused, &meaning(&req.q), lang, &passages)?;
        }
        let ids: Vec<&str> = semantic.iter().map(|(id, _)| id.as_str()).collect();
        let (total, counts) = self.hybrid_counts(words, &hybrid::terms(&ids), with_words)?;
        let page = self.page_of(req, words, fused, with_words)?;
        let lexical_ids: HashSet<&str> = lexical.iter().map(|l| l.id.as_str()).collect();
        let best: HashMap<&str, &Best> = semantic.iter().map(|(id, b)| (id.as_str(), b)).collect();
        let mut hits = self.page_hits(words, &page, |id| {
            (!lexical_ids.contains(id))
                .then(|| best.get(id).copied())
                .flatten()
        })?;
        // Why each is there: by words when the words found it, by meaning
        // when its best passage reaches the bar.
        for h in &mut hits {
            let near = best
                .get(h.id.as_str())
                .map(|b| (b.similarity, b.lang.clone()))
                .or_else(|| similarity.get(&h.id).map(|s| (*s, h.lang.clone())));
            let by_words = with_words && lexical_ids.contains(h.id.as_str());
            h.matched = self.why(words.rule, h.matched.take(), by_words, near, lang);
        }
        Ok(SearchResponse {
            query: req.q.clone(),
            interpreted,
            total,
            took_ms: started.elapsed().as_millis() as u64,
            hits,
            facets: facets_from(&counts, req, &self.engine.enricher),
        })
    }

    /// Why a hit of a search by meaning is there: `words` (what its
    /// words have, if the rule was asked), whether the words found it,
    /// and its best passage's similarity and language.
    pub(super) fn why(
        &self,
        rule: Option<&relevance::Words>,
        words: Option<relevance::Matched>,
        by_words: bool,
        near: Option<(f32, Option<String>)>,
        lang: Option<&Lang>,
    ) -> Option<relevance::Matched> {
        let semantic = self.engine.semantic.as_ref()?;
        let meaning = near.and_then(|(similarity, doc_lang)| {
            let b = Best {
                similarity,
                text: String::new(),
                page: None,
                lang: doc_lang,
            };
            let bar = semantic
                .calibration
                .bar(lang.map(Lang::as_str), b.lang.as_deref());
            self.reaches_bar(lang, &b).then_some((similarity, bar))
        });
        let none = relevance::Words::default();
        let rule = rule.unwrap_or(&none);
        let found: Vec<&str> = words
            .iter()
            .flat_map(|m| m.words.iter().chain(&m.concepts))
            .map(String::as_str)
            .collect();
        let has = |i: usize| {
            rule.clauses
                .get(i)
                .is_some_and(|c| found.contains(&c.label.as_str()))
        };
        Some(relevance::why(
            rule,
            &relevance::Evidence {
                words_share: by_words.then(|| rule.share(has)),
                has: &has,
                meaning,
            },
        ))
    }

    /// The best passage of each of the documents `ids` (the lexical hits
    /// not found by meaning), by their id.
    pub(super) fn best_of(
        &self,
        vector: &[f32],
        ids: &[&str],
    ) -> Result<HashMap<String, Best>, SearchError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let of = format!("{{!terms f=doc_id}}{}", hybrid::terms(ids));
        let filters = ["kind:passage".to_string(), of];
        let r = self.nearest(vector, hybrid::LEXICAL_PASSAGES, &filters)?;
        Ok(hybrid::best_passages(&r, usize::MAX).into_iter().collect())
    }

    /// Whether a document's best passage `b` reaches the model's bar for
    /// the query's language and the document's (any does when the bars
    /// are off).
    pub(super) fn reaches_bar(&self, lang: Option<&Lang>, b: &Best) -> bool {
        let scale = self.engine.ranking.meaning_bar;
        match &self.engine.semantic {
            Some(s) if scale > 0.0 => {
                let bar = s.calibration.bar(lang.map(Lang::as_str), b.lang.as_deref());
                b.similarity >= bar.counts * scale
            }
            _ => true,
        }
    }

    /// The embedded engine's shared roots: the best fused hits in another
    /// language than the query's gain `cognates` × the share of its word
    /// roots that begin a word of their title and best passage.
    pub(super) fn cognates(
        &self,
        fused: &mut [(f32, String)],
        query: &str,
        lang: Option<&Lang>,
        passages: &HashMap<&str, &str>,
    ) -> Result<(), SearchError> {
        let weight = self.engine.ranking.cognates;
        let analyzer = match lang.map(|l| l.as_str()) {
            Some("es") => self.engine.analyzers.get(AnalyzerName::Spanish).ok(),
            Some("en") => self.engine.analyzers.get(AnalyzerName::English).ok(),
            _ => None,
        };
        let (Some(analyzer), Some(lang)) = (analyzer, lang) else {
            return Ok(());
        };
        let keys = crate::ranking::cognate_keys(analyzer.as_ref(), query);
        let window = fused.len().min(crate::ranking::COGNATE_WINDOW);
        if keys.is_empty() || weight == 0.0 || window == 0 {
            return Ok(());
        }
        let ids: Vec<&str> = fused[..window].iter().map(|(_, id)| id.as_str()).collect();
        let (q, rows) = hybrid::by_ids(&ids);
        let r = self.select(&[
            ("q", &q),
            ("defType", "lucene"),
            ("fl", "id,title,lang"),
            ("rows", &rows),
        ])?;
        let docs: HashMap<String, (Option<String>, String)> = r["response"]["docs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((text(d, "id")?, (text(d, "lang"), text(d, "title")?))))
            .collect();
        for (score, id) in fused[..window].iter_mut() {
            let Some((doc_lang, title)) = docs.get(id.as_str()) else {
                continue;
            };
            // In the query's language the words themselves were compared.
            if doc_lang.as_deref() == Some(lang.as_str()) {
                continue;
            }
            let passage = passages.get(id.as_str()).copied().unwrap_or_default();
            let share = crate::ranking::cognate_share(&keys, &format!("{title} {passage}"));
            *score += weight * share;
        }
        fused[..window].sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(())
    }

    /// Solr's `top` passages nearest `vector` among those `filters` keep.
    pub(super) fn nearest(
        &self,
        vector: &[f32],
        top: usize,
        filters: &[String],
    ) -> Result<Value, SearchError> {
        let (q, rows) = (hybrid::knn(vector, top), top.to_string());
        let mut params: Vec<(&str, &str)> = vec![
            ("q", &q),
            ("defType", "lucene"),
            ("fl", "doc_id,score,passage,page,lang"),
            ("rows", &rows),
        ];
        params.extend(filters.iter().map(|f| ("fq", f.as_str())));
        self.select(&params)
    }

    /// The documents found by meaning that have the query's required
    /// phrases and none of its exclusions, in order.
    pub(super) fn kept(
        &self,
        found: Vec<(String, Best)>,
        query: &str,
    ) -> Result<Vec<(String, Best)>, SearchError> {
        let Some(must) = must(query) else {
            return Ok(found);
        };
        if found.is_empty() {
            return Ok(found);
        }
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let (q, rows) = hybrid::by_ids(&ids);
        let r = self.select(&[
            ("q", &q),
            ("defType", "lucene"),
            ("fq", "{!edismax qf=text_all v=$must}"),
            ("must", &must),
            ("fl", "id"),
            ("rows", &rows),
        ])?;
        let keep: HashSet<String> = r["response"]["docs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| text(d, "id"))
            .collect();
        Ok(found
            .into_iter()
            .filter(|(id, _)| keep.contains(id))
            .collect())
    }

    /// The total and facet counts of the words' hits and the documents
    /// found by meaning (`ids`, a `{!terms}` value), filtered as asked.
    pub(super) fn hybrid_counts(
        &self,
        words: &Words<'_>,
        ids: &str,
        with_words: bool,
    ) -> Result<(usize, Counts), SearchError> {
        let meaning = format!("{{!terms f=id}}{ids}");
        let q = match (with_words, ids.is_empty()) {
            (true, true) => words.q,
            (true, false) => "{!bool should=$lexical should=$meaning}",
            (false, true) => "-*:*",
            (false, false) => "{!query v=$meaning}",
        };
        let facets = Self::facet_request();
        let mut params: Vec<(&str, &str)> = vec![
            ("q", q),
            ("lexical", words.q),
            ("meaning", &meaning),
            ("rows", "0"),
            ("json.facet", &facets),
        ];
        params.extend(words.params.iter().map(|(k, v)| (*k, v.as_str())));
        params.extend(words.filters.iter().map(|f| ("fq", f.as_str())));
        let r = self.select(&params)?;
        Ok((
            r["response"]["numFound"].as_u64().unwrap_or(0) as usize,
            Self::counts(&r["facets"]),
        ))
    }
}
