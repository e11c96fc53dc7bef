//! SolrCloud, by words: the lexical query, its page and its window for
//! the fusion, the hits of a page, and the words rule's clauses.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::Value;

use super::hybrid::{self, Best, Lexical};
use crate::core::relevance;
use crate::core::snippet;
use crate::document::Lang;
use crate::index::search::{
    Hit, Interpreted, SearchError, SearchMode, SearchRequest, SearchResponse, facets_from,
};

use super::search::*;

impl SolrSearcher {
    /// A search by words: Solr ranks (or sorts by date, `by_date`), pages,
    /// counts and highlights.
    pub(super) fn by_words(
        &self,
        req: &SearchRequest,
        words: &Words<'_>,
        interpreted: Interpreted,
        by_date: bool,
        started: Instant,
    ) -> Result<SearchResponse, SearchError> {
        let sort = if by_date {
            "published desc,id asc"
        } else {
            "score desc,published desc,id asc"
        };
        let (start, rows) = (req.offset.to_string(), req.limit.to_string());
        let facets = Self::facet_request();
        let fragsize = snippet::SNIPPET_CHARS.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("q", words.q),
            ("fl", words.fields),
            ("sort", sort),
            ("start", &start),
            ("rows", &rows),
            ("json.facet", &facets),
            ("hl", "true"),
            ("hl.method", "unified"),
            ("hl.fl", "body_ko,body_es,body_en,body_other"),
            ("hl.snippets", "1"),
            ("hl.fragsize", &fragsize),
            ("hl.tag.pre", "<mark>"),
            ("hl.tag.post", "</mark>"),
            ("hl.encoder", "html"),
            ("hl.defaultSummary", "true"),
            ("hl.requireFieldMatch", "false"),
            // Answered by the replicas on the node asked where it has
            // them: fewer hops between nodes.
            ("shards.preference", "replica.location:local"),
        ];
        params.extend(words.params.iter().map(|(k, v)| (*k, v.as_str())));
        params.extend(words.filters.iter().map(|f| ("fq", f.as_str())));
        let allowed = req.time_limit.map(|t| t.as_millis().to_string());
        if let Some(ms) = &allowed {
            params.push(("timeAllowed", ms));
        }
        let r = self.select(&params)?;
        let hits = hits_of(&r, words.rule);
        let counts = Self::counts(&r["facets"]);
        Ok(SearchResponse {
            query: req.q.clone(),
            interpreted,
            total: r["response"]["numFound"].as_u64().unwrap_or(0) as usize,
            took_ms: started.elapsed().as_millis() as u64,
            hits,
            facets: facets_from(&counts, req, &self.engine.enricher),
        })
    }

    /// The page `req` asks of the `fused` ranking, continued past it (in
    /// hybrid search) by the words' hits past their fused best, in their
    /// order, those fused already left out.
    pub(super) fn page_of(
        &self,
        req: &SearchRequest,
        words: &Words<'_>,
        fused: Vec<(f32, String)>,
        with_words: bool,
    ) -> Result<Vec<(f32, String)>, SearchError> {
        let last = fused.last().map_or(0.0, |f| f.0) * 0.5;
        let known: HashSet<String> = fused.iter().map(|(_, id)| id.clone()).collect();
        let fused_len = fused.len();
        let mut page: Vec<(f32, String)> =
            fused.into_iter().skip(req.offset).take(req.limit).collect();
        if !with_words || page.len() >= req.limit {
            return Ok(page);
        }
        let wanted = req.limit - page.len();
        let start = (hybrid::FUSION_WINDOW + req.offset.saturating_sub(fused_len)).to_string();
        let rows = (wanted + known.len()).to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("q", words.q),
            ("fl", "id"),
            ("sort", "score desc,published desc,id asc"),
            ("start", &start),
            ("rows", &rows),
        ];
        params.extend(words.params.iter().map(|(k, v)| (*k, v.as_str())));
        params.extend(words.filters.iter().map(|f| ("fq", f.as_str())));
        let r = self.select(&params)?;
        let more = r["response"]["docs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| text(d, "id"))
            .filter(|id| !known.contains(id))
            .take(wanted);
        page.extend(more.map(|id| (last, id)));
        Ok(page)
    }

    /// The words' best hits, as the fusion weighs them.
    pub(super) fn lexical_window(
        &self,
        words: &Words<'_>,
        lang: Option<&Lang>,
        interpreted: &Interpreted,
    ) -> Result<Vec<Lexical>, SearchError> {
        let rows = hybrid::FUSION_WINDOW.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("q", words.q),
            ("fl", "id,score,lang,country,topic"),
            ("sort", "score desc,published desc,id asc"),
            ("rows", &rows),
            ("shards.preference", "replica.location:local"),
        ];
        params.extend(words.params.iter().map(|(k, v)| (*k, v.as_str())));
        params.extend(words.filters.iter().map(|f| ("fq", f.as_str())));
        let r = self.select(&params)?;
        let named = !interpreted.countries.is_empty() && !interpreted.topics.is_empty();
        Ok(r["response"]["docs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let has = |field: &str, wanted: &[String]| {
                    let values = texts(d, field);
                    wanted.iter().all(|w| values.contains(w))
                };
                Lexical {
                    id: text(d, "id").unwrap_or_default(),
                    score: d["score"].as_f64().unwrap_or(0.0) as f32,
                    same: match (lang, text(d, "lang")) {
                        (Some(q), Some(l)) => q.as_str() == l,
                        _ => true,
                    },
                    tagged: named
                        && has("country", &interpreted.countries)
                        && has("topic", &interpreted.topics),
                }
            })
            .collect())
    }

    /// The hits of `page` (fused score, id), in its order, with the words'
    /// highlights; a hit found by meaning only (`passage` gives its best
    /// passage) shows that passage and its page.
    pub(super) fn page_hits<'b>(
        &self,
        words: &Words<'_>,
        page: &[(f32, String)],
        passage: impl Fn(&str) -> Option<&'b Best>,
    ) -> Result<Vec<Hit>, SearchError> {
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = page.iter().map(|(_, id)| id.as_str()).collect();
        let (q, rows) = hybrid::by_ids(&ids);
        let fragsize = snippet::SNIPPET_CHARS.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("q", &q),
            ("fl", words.fields),
            ("rows", &rows),
            ("hl", "true"),
            ("hl.q", words.highlight),
            ("hl.method", "unified"),
            ("hl.fl", "body_ko,body_es,body_en,body_other"),
            ("hl.snippets", "1"),
            ("hl.fragsize", &fragsize),
            ("hl.tag.pre", "<mark>"),
            ("hl.tag.post", "</mark>"),
            ("hl.encoder", "html"),
            ("hl.defaultSummary", "true"),
            ("hl.requireFieldMatch", "false"),
        ];
        params.extend(words.params.iter().map(|(k, v)| (*k, v.as_str())));
        let r = self.select(&params)?;
        let mut by_id: HashMap<String, Hit> = hits_of(&r, words.rule)
            .into_iter()
            .map(|h| (h.id.clone(), h))
            .collect();
        Ok(page
            .iter()
            .filter_map(|(score, id)| {
                let mut hit = by_id.remove(id)?;
                hit.score = *score;
                if let Some(best) = passage(id) {
                    hit.snippet = snippet::passage(&best.text);
                    hit.page = best.page;
                }
                Some(hit)
            })
            .collect())
    }

    /// What the query was understood as: the countries and topics it
    /// names (searched by words only).
    pub(super) fn interpret(&self, text: &str) -> Interpreted {
        let (countries, topics) = if text.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            self.engine.enricher.concepts_in_query(text)
        };
        Interpreted {
            mode: SearchMode::Lexical,
            countries,
            topics,
            ..Interpreted::default()
        }
    }

    /// The words rule of `text` over the collection: its clauses' queries
    /// (named `c0`, `c1`…), weighed by idf when the rule is on (one
    /// request counts their documents; clauses too common to be evidence
    /// left out), and the filter (`cover`) that keeps the documents with
    /// `min_coverage` of their weight; `None` without clauses.
    pub(super) fn coverage(
        &self,
        text: &str,
        lang: Option<&Lang>,
    ) -> Result<Option<Cover>, SearchError> {
        let min = self.engine.ranking.min_coverage;
        let mut clauses = relevance::query_clauses(
            &self.engine.analyzers,
            &self.engine.enricher,
            text,
            lang.map(Lang::as_str),
        );
        clauses.truncate(CLAUSES.len());
        if clauses.is_empty() {
            return Ok(None);
        }
        let queries: Vec<String> = clauses.iter().map(clause_query).collect();
        // Off, no clause is weighed (nor left out): they only say which
        // words a hit has.
        let weights: Vec<Option<f32>> = match min > 0.0 {
            true => self.clause_weights(&queries)?,
            false => vec![Some(1.0); queries.len()],
        };
        let mut rule = relevance::Words {
            clauses: Vec::new(),
            min_share: min,
        };
        let mut named = Vec::new();
        for ((c, q), w) in clauses.into_iter().zip(queries).zip(weights) {
            let Some(weight) = w else { continue };
            named.push((CLAUSES[named.len()], q));
            rule.clauses.push(relevance::Clause {
                label: c.label,
                concept: c.concept.is_some(),
                weight,
            });
        }
        if rule.clauses.is_empty() {
            return Ok(None);
        }
        let filter = (min > 0.0).then(|| {
            let total: f32 = rule.clauses.iter().map(|c| c.weight).sum();
            let terms: Vec<String> = rule
                .clauses
                .iter()
                .zip(&named)
                .map(|(c, (n, _))| format!("if(exists(query(${n})),{},0)", c.weight))
                .collect();
            format!(
                "{{!frange l={}}}sum({},0)",
                min * total - 1e-4,
                terms.join(",")
            )
        });
        Ok(Some(Cover {
            clauses: named,
            rule,
            filter,
        }))
    }

    /// Whether a query is searched by meaning: the model reads it as
    /// words, or some document has one of its words (as the embedded
    /// engine decides; random letters lie near every passage alike).
    pub(super) fn readable(
        &self,
        semantic: &crate::semantic::Semantic,
        text: &str,
        lang: Option<&Lang>,
    ) -> Result<bool, SearchError> {
        let text = meaning(text);
        if semantic.reads_as_words(&text) {
            return Ok(true);
        }
        let clauses = relevance::query_clauses(
            &self.engine.analyzers,
            &self.engine.enricher,
            &text,
            lang.map(Lang::as_str),
        );
        if clauses.is_empty() {
            return Ok(false);
        }
        let any: Vec<String> = clauses
            .iter()
            .map(|c| format!("({})", clause_query(c)))
            .collect();
        let any = any.join(" OR ");
        let r = self.select(&[
            ("q", &any),
            ("defType", "lucene"),
            ("fq", "kind:document"),
            ("rows", "0"),
        ])?;
        Ok(r["response"]["numFound"].as_u64().unwrap_or(0) > 0)
    }

    /// Each clause query's idf over the collection's documents, `None`
    /// for one too common to be evidence.
    pub(super) fn clause_weights(
        &self,
        queries: &[String],
    ) -> Result<Vec<Option<f32>>, SearchError> {
        let facet: serde_json::Map<String, Value> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                (
                    format!("c{i}"),
                    serde_json::json!({"type": "query", "q": q}),
                )
            })
            .collect();
        let facet = Value::Object(facet).to_string();
        let r = self.select(&[
            ("q", "*:*"),
            ("fq", "kind:document"),
            ("rows", "0"),
            ("json.facet", &facet),
        ])?;
        let docs = r["response"]["numFound"].as_u64().unwrap_or(0);
        Ok((0..queries.len())
            .map(|i| {
                let df = r["facets"][format!("c{i}")]["count"].as_u64().unwrap_or(0);
                (!relevance::too_common(df, docs)).then(|| relevance::idf(df, docs))
            })
            .collect())
    }
}
