//! Searching a SolrCloud collection behind the same API and page as the
//! embedded index. Query understanding stays here: the countries and
//! topics a query names (in any language) become their tags and their
//! names in the other languages, searched beside the query's own words
//! (edismax over every language's title and body); facets are Solr's JSON
//! facets with each filter tagged and excluded from its own counts (the
//! embedded engine's disjunctive counts); snippets are Solr's highlighter
//! marks. A cluster that does not answer is a 503 for that request, and
//! the next request asks again.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{Solr, SolrError};
use super::configset::{VIEWS, fingerprint};
use super::hybrid::{self, Best, Lexical};
use crate::analysis::AnalyzerName;
use crate::core::facet::{Facet, Kind};
use crate::core::relevance;
use crate::core::response::Health;
use crate::core::snippet;
use crate::core::snippet::Highlighted;
use crate::document::{DocType, Document, Lang};
use crate::engine::Engine;
use crate::enrich::UiLang;
use crate::index::bits::Counts;
use crate::index::search::{
    Backend, Hit, Interpreted, SearchError, SearchMode, SearchRequest, SearchResponse,
    SemanticStatus, Sort, Stats, facets_from,
};

/// Names of each country or topic the query names, per language, searched
/// beside the query (the first few of each language are the main ones).
const NAMES_PER_LANGUAGE: usize = 3;

/// Stored fields a hit is made of.
const HIT_FIELDS: &str =
    "id,url,source,title,doc_type,lang,published,country,topic,event,parent,file_name,score";

/// A SolrCloud collection, searched.
pub struct SolrSearcher {
    solr: Solr,
    collection: String,
    engine: Engine,
    /// Whether the collection has a vector field (asked once it answers).
    vectors: OnceLock<bool>,
}

/// What a search sends Solr for its words, and its filters.
struct Words<'a> {
    /// The query (`q`) and the parameters it names...
    q: &'a str,
    params: &'a [(&'a str, String)],
    /// ...the user's words alone, for the highlights.
    highlight: &'a str,
    /// The filters, `kind:document` first.
    filters: &'a [String],
    /// The words rule's clauses (`c0`, `c1`… among `params`), to tell
    /// which of them each hit has: asked as the fields `m0`, `m1`…
    rule: Option<&'a relevance::Words>,
    fields: &'a str,
}

/// The words rule of a query over the collection.
struct Cover {
    /// Each clause's query, by the name it is passed as.
    clauses: Vec<(&'static str, String)>,
    rule: relevance::Words,
    /// The filter of the documents with enough of the clauses' weight
    /// (none when the rule is off).
    filter: Option<String>,
}

/// The parameter names of a query's clauses (at most this many clauses).
const CLAUSES: [&str; 16] = [
    "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14",
    "c15",
];

impl SolrSearcher {
    /// Search `collection` of the cluster at `url`, understanding queries
    /// with `engine` (which labels the events too). A
    /// request goes to the next node at once when one does not answer, or
    /// has not answered in 5 s; it is tried twice so, briefly: a search
    /// waits for no node that is down.
    pub fn new(url: &str, collection: &str, engine: Engine) -> Result<Self, SolrError> {
        let mut solr = Solr::with_timeout(url, Duration::from_secs(5))?;
        solr.retries = 1;
        solr.backoff = Duration::from_millis(100);
        Ok(Self {
            solr,
            collection: collection.to_string(),
            engine,
            vectors: OnceLock::new(),
        })
    }

    fn select(&self, params: &[(&str, &str)]) -> Result<Value, SearchError> {
        self.solr
            .get(&format!("{}/select", self.collection), params)
            .map_err(|e| self.unavailable(e))
    }

    fn unavailable(&self, e: SolrError) -> SearchError {
        match e {
            e @ SolrError::Refused { status: 400, .. } => SearchError::BadRequest(e.to_string()),
            e => SearchError::Unavailable(format!(
                "the search cluster did not answer ({e}); try again in a moment"
            )),
        }
    }

    /// The user's words (`$uq`) over every language's fields, weighed as
    /// the embedded engine weighs its views: the query's language fully
    /// (its body, and its title for a bonus), the other languages a little
    /// (their body), every language at once in between; scores summed
    /// over fields (`tie=1`), adjacent words a bonus in the query's
    /// language.
    fn words_query(&self, lang: Option<&Lang>) -> String {
        let r = &self.engine.ranking;
        let own = super::sync::view(lang.map(|l| l.as_str()));
        let mut qf = vec![format!("text_all^{}", r.all_languages)];
        let mut pf = Vec::new();
        for v in VIEWS {
            if lang.is_none() || v == own {
                qf.push(format!("body_{v} title_{v}^{}", r.title_boost));
                pf.push(format!("body_{v}^{}", r.proximity_boost));
            } else {
                qf.push(format!("body_{v}^{}", r.other_language));
            }
        }
        format!(
            "{{!edismax qf='{}' pf='{}' ps={} tie=1.0 v=$uq}}",
            qf.join(" "),
            pf.join(" "),
            r.proximity_slop
        )
    }

    /// The countries and topics the query names, as their tags and as
    /// their names in each language (empty when it names none).
    fn concepts_query(&self, interpreted: &Interpreted, lang: Option<&Lang>) -> String {
        let enricher = &self.engine.enricher;
        let r = &self.engine.ranking;
        let own = super::sync::view(lang.map(|l| l.as_str()));
        let mut concepts: Vec<String> = Vec::new();
        let entries = interpreted
            .countries
            .iter()
            .map(|c| ("country", c, r.country, enricher.countries.get(c)))
            .chain(
                interpreted
                    .topics
                    .iter()
                    .map(|t| ("topic", t, r.topic, enricher.topics.get(t))),
            );
        for (field, key, boost, entry) in entries {
            concepts.push(format!("{field}:{}^{boost}", quoted(key)));
            let mut per_language: HashMap<AnalyzerName, usize> = HashMap::new();
            for (analyzer, name) in entry.map(|e| e.names.as_slice()).unwrap_or_default() {
                let n = per_language.entry(*analyzer).or_default();
                *n += 1;
                // One-word names only, as the embedded engine: a document
                // that uses a longer name is tagged with it already.
                if *n > NAMES_PER_LANGUAGE || name.split_whitespace().nth(1).is_some() {
                    continue;
                }
                let view = match analyzer {
                    AnalyzerName::Korean => "ko",
                    AnalyzerName::Spanish => "es",
                    AnalyzerName::English => "en",
                    AnalyzerName::Other => "other",
                };
                let weight = if lang.is_none() || view == own {
                    r.expansion
                } else {
                    r.expansion * r.other_language
                };
                concepts.push(format!("body_{view}:{}^{weight}", quoted(name)));
            }
        }
        concepts.join(" ")
    }

    /// Filters, each tagged with its facet so that its own counts leave
    /// it out.
    fn filters(req: &SearchRequest) -> Vec<String> {
        let mut fq = vec!["kind:document".to_string()];
        for facet in Facet::ALL {
            let field = facet.spec().name;
            match facet.spec().kind {
                Kind::Values(_) => {
                    let values = req.filters.values(facet);
                    if !values.is_empty() {
                        let values: Vec<String> = values.iter().map(|v| quoted(v)).collect();
                        fq.push(format!("{{!tag={field}}}{field}:({})", values.join(" OR ")));
                    }
                }
                Kind::Years => {
                    if let Some((from, to)) = req.filters.years() {
                        fq.push(format!("{{!tag={field}}}{field}:[{from} TO {to}]"));
                    }
                }
            }
        }
        fq
    }

    /// The JSON facets, every one without its own filter.
    fn facet_request() -> String {
        let facets: serde_json::Map<String, Value> = Facet::ALL
            .iter()
            .map(|f| {
                let name = f.spec().name;
                (
                    name.to_string(),
                    json!({"type": "terms", "field": name, "limit": -1, "mincount": 1,
                           "domain": {"excludeTags": name}}),
                )
            })
            .collect();
        Value::Object(facets).to_string()
    }

    /// Solr's facet answer as the counts [`facets_from`] reads.
    fn counts(facets: &Value) -> Counts {
        let mut counts = Counts::default();
        for facet in Facet::ALL {
            let values = &mut counts[facet];
            for b in facets[facet.spec().name]["buckets"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let value = match &b["val"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                values.insert(value, b["count"].as_u64().unwrap_or(0));
            }
        }
        counts
    }

    fn get_doc(&self, id: &str) -> Result<Value, SearchError> {
        let r = self
            .solr
            .get(&format!("{}/get", self.collection), &[("id", id)])
            .map_err(|e| self.unavailable(e))?;
        match &r["doc"] {
            Value::Null => Err(SearchError::NotFound(id.to_string())),
            d => Ok(d.clone()),
        }
    }
}

/// The query in our syntax (words, "phrases", -exclusions) as edismax
/// reads it, nothing else in it taken for Solr's syntax (a `?` or `:` in a
/// question is a character, not a wildcard or a field).
fn safe_query(text: &str) -> String {
    let escape = |w: &str| -> String {
        let mut out = String::with_capacity(w.len());
        for c in w.chars() {
            if "+-&|!(){}[]^\"~*?:\\/".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    let phrase = |p: &str| format!("\"{}\"", p.replace(['"', '\\'], " "));
    let mut parts: Vec<String> = Vec::new();
    for clause in crate::core::query::parse(text) {
        match clause {
            crate::core::query::Clause::Words(w) => {
                parts.extend(w.split_whitespace().map(escape));
            }
            crate::core::query::Clause::Phrase(p) => parts.push(phrase(&p)),
            crate::core::query::Clause::Exclude(p) if p.contains(' ') => {
                parts.push(format!("-{}", phrase(&p)));
            }
            crate::core::query::Clause::Exclude(p) => parts.push(format!("-{}", escape(&p))),
        }
    }
    parts.join(" ")
}

/// A value as a quoted Solr term.
fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn text(v: &Value, field: &str) -> Option<String> {
    v[field].as_str().map(str::to_string)
}

fn texts(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `2019-03-20T00:00:00Z` as `2019-03-20`.
fn day(v: &Value) -> Option<String> {
    v["published"]
        .as_str()
        .and_then(|d| d.get(..10))
        .map(str::to_string)
}

/// A hit from a Solr document and its snippet.
fn hit(d: &Value, snippet: Highlighted) -> Hit {
    Hit {
        id: text(d, "id").unwrap_or_default(),
        title: text(d, "title").unwrap_or_default(),
        url: text(d, "url").unwrap_or_default(),
        original: None,
        file_name: text(d, "file_name"),
        source: text(d, "source").unwrap_or_default(),
        doc_type: text(d, "doc_type").unwrap_or_default(),
        lang: text(d, "lang"),
        published: day(d),
        countries: texts(d, "country"),
        topics: texts(d, "topic"),
        event: text(d, "event"),
        parent: text(d, "parent"),
        score: d["score"].as_f64().unwrap_or(0.0) as f32,
        snippet,
        page: None,
        matched: None,
        versions: Vec::new(),
        languages: Vec::new(),
    }
}

/// The hits of a select response, each with its highlighted snippet.
fn hits_of(r: &Value, rule: Option<&relevance::Words>) -> Vec<Hit> {
    let highlights = &r["highlighting"];
    r["response"]["docs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let id = d["id"].as_str().unwrap_or("");
            let snippet = highlights[id]
                .as_object()
                .and_then(|fields| fields.values().find_map(|v| v[0].as_str()))
                .unwrap_or("");
            let mut h = hit(d, Highlighted::from_html(snippet));
            h.matched = rule.map(|rule| {
                let has = |i: usize| d[format!("m{i}")].as_bool() == Some(true);
                relevance::why(
                    rule,
                    &relevance::Evidence {
                        words_share: Some(rule.share(has)),
                        has: &has,
                        meaning: None,
                    },
                )
            });
            h
        })
        .collect()
}

impl Backend for SolrSearcher {
    fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        let text = req.q.trim();
        let interpreted = self.interpret(text);
        let lang = crate::enrich::lang::detect_query(text);
        let words = self.words_query(lang.as_ref());
        let safe = safe_query(text);
        let concepts = self.concepts_query(&interpreted, lang.as_ref());
        let matched = match (text.is_empty(), concepts.is_empty()) {
            (true, _) => "*:*",
            (false, true) => words.as_str(),
            (false, false) => "{!bool should=$words should=$concepts}",
        };
        let by_date = req.sort == Some(Sort::Date) || (req.sort.is_none() && text.is_empty());
        let filters = Self::filters(req);
        let mut params: Vec<(&str, String)> = vec![
            ("defType", "lucene".into()),
            ("uq", safe),
            ("words", words.clone()),
            ("concepts", concepts),
        ];
        // The words rule (`core::relevance`): a match must have enough of
        // the query's clauses (when the rule is on).
        let cover = match text.is_empty() {
            true => None,
            false => self.coverage(&meaning(text), lang.as_ref())?,
        };
        let q = match &cover {
            Some(c) if c.filter.is_some() => "{!bool must=$matched filter=$cover}",
            _ => matched,
        };
        let mut fields = HIT_FIELDS.to_string();
        if let Some(c) = cover.as_ref() {
            params.push(("matched", matched.to_string()));
            params.extend(c.filter.iter().map(|f| ("cover", f.clone())));
            params.extend(c.clauses.iter().map(|(n, q)| (*n, q.clone())));
            for (i, (n, _)) in c.clauses.iter().enumerate() {
                fields.push_str(&format!(",m{i}:exists(query(${n}))"));
            }
        }
        let words = Words {
            q,
            params: &params,
            highlight: &words,
            filters: &filters,
            rule: cover.as_ref().map(|c| &c.rule),
            fields: &fields,
        };
        let mode = req.mode.unwrap_or(SearchMode::Hybrid);
        if !text.is_empty() && mode != SearchMode::Lexical && !by_date {
            let vector = match &self.engine.semantic {
                Some(s) if self.has_vectors() && self.readable(s, text, lang.as_ref())? => {
                    Some(s.embed_query(crate::core::query::for_model(&meaning(text))))
                }
                _ => None,
            };
            if let Some(vector) = vector {
                let interpreted = Interpreted {
                    mode,
                    ..interpreted
                };
                let understood = (lang.as_ref(), interpreted);
                return self.by_meaning(req, &words, &vector, understood, started);
            }
        }
        self.by_words(req, &words, interpreted, by_date, started)
    }

    fn document(&self, id: &str) -> Result<Document, SearchError> {
        let d = self.get_doc(id)?;
        let lang = text(&d, "lang");
        let view = super::sync::view(lang.as_deref());
        let mut doc = Document::new(
            text(&d, "url").unwrap_or_default(),
            text(&d, "source").unwrap_or_default(),
            text(&d, "title").unwrap_or_default(),
        );
        doc.id = id.to_string();
        doc.body = text(&d, &format!("body_{view}")).unwrap_or_default();
        doc.lang = lang.as_deref().and_then(Lang::parse);
        doc.doc_type = text(&d, "doc_type")
            .as_deref()
            .and_then(DocType::parse)
            .unwrap_or_default();
        doc.published =
            day(&d).and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
        doc.countries = texts(&d, "country");
        doc.topics = texts(&d, "topic");
        doc.event = text(&d, "event");
        doc.parent = text(&d, "parent");
        doc.pages = texts(&d, "pages");
        doc.file_name = text(&d, "file_name");
        Ok(doc)
    }

    /// Documents that share its topics, countries and event, best first.
    fn related(&self, id: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let d = self.get_doc(id)?;
        let mut shared: Vec<String> = Vec::new();
        for (field, boost) in [("topic", 2.0), ("country", 1.0)] {
            for v in texts(&d, field) {
                shared.push(format!("{field}:{}^{boost}", quoted(&v)));
            }
        }
        if let Some(e) = text(&d, "event") {
            shared.push(format!("event:{}^3", quoted(&e)));
        }
        if shared.is_empty() {
            return Ok(Vec::new());
        }
        let q = shared.join(" ");
        let not_itself = format!("-id:{}", quoted(id));
        let rows = limit.min(100).to_string();
        let r = self.select(&[
            ("q", &q),
            ("defType", "lucene"),
            ("fq", "kind:document"),
            ("fq", &not_itself),
            ("fl", HIT_FIELDS),
            ("rows", &rows),
            ("sort", "score desc,published desc,id asc"),
        ])?;
        Ok(r["response"]["docs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| hit(d, Highlighted::default()))
            .collect())
    }

    fn stats(&self, ui: UiLang) -> Result<Stats, SearchError> {
        let facets = Self::facet_request();
        let r = self.select(&[
            ("q", "*:*"),
            ("fq", "kind:document"),
            ("rows", "0"),
            ("json.facet", &facets),
        ])?;
        let req = SearchRequest {
            ui,
            ..SearchRequest::default()
        };
        let counts = Self::counts(&r["facets"]);
        Ok(Stats {
            documents: r["response"]["numFound"].as_u64().unwrap_or(0),
            generation: self.generation(),
            updated: String::new(),
            analysis: format!("solr configset {}", fingerprint()),
            semantic: self.semantic(),
            facets: facets_from(&counts, &req, &self.engine.enricher),
        })
    }

    fn health(&self) -> Result<Health, SearchError> {
        let r = self.select(&[("q", "*:*"), ("fq", "kind:document"), ("rows", "0")])?;
        Ok(Health {
            generation: self.generation(),
            documents: r["response"]["numFound"].as_u64().unwrap_or(0),
            semantic: self.semantic(),
        })
    }

    fn engine(&self) -> &Engine {
        &self.engine
    }

    fn waits_on_network(&self) -> bool {
        true
    }
}

/// The query's words and phrases, without its exclusions: what is
/// embedded (as the embedded engine embeds).
fn meaning(text: &str) -> String {
    use crate::core::query::Clause;
    let parts: Vec<String> = crate::core::query::parse(text)
        .into_iter()
        .filter_map(|c| match c {
            Clause::Words(w) => Some(w),
            Clause::Phrase(p) => Some(p),
            Clause::Exclude(_) => None,
        })
        .collect();
    parts.join(" ")
}

/// A clause of the words rule as a Solr query: its tag, or any of its
/// words in any language's view (Solr analyses each as the view does).
fn clause_query(c: &relevance::QueryClause) -> String {
    let mut parts: Vec<String> = match &c.concept {
        Some(relevance::Concept::Country(k)) => vec![format!("country:{}", quoted(k))],
        Some(relevance::Concept::Topic(k)) => vec![format!("topic:{}", quoted(k))],
        None => Vec::new(),
    };
    for word in &c.words {
        if c.morpheme {
            parts.push(format!("body_ko:{}", quoted(word)));
            continue;
        }
        parts.push(format!("text_all:{}", quoted(word)));
        for v in VIEWS {
            parts.push(format!("body_{v}:{}", quoted(word)));
        }
    }
    parts.join(" ")
}

/// Required phrases and exclusions of the query, as an edismax query of
/// the all-languages view (`None` when it has neither).
fn must(text: &str) -> Option<String> {
    use crate::core::query::Clause;
    let parts: Vec<String> = crate::core::query::parse(text)
        .into_iter()
        .filter_map(|c| match c {
            Clause::Phrase(p) => Some(quoted(&p)),
            Clause::Exclude(p) => Some(format!("-{}", quoted(&p))),
            Clause::Words(_) => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

impl SolrSearcher {
    /// A search by meaning (`interpreted.mode` semantic) or by words and
    /// meaning fused (hybrid), as `hybrid` says; the total and facet
    /// counts describe the words' hits and the documents found by meaning.
    fn by_meaning(
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
    fn why(
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
    fn best_of(&self, vector: &[f32], ids: &[&str]) -> Result<HashMap<String, Best>, SearchError> {
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
    fn reaches_bar(&self, lang: Option<&Lang>, b: &Best) -> bool {
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
    fn cognates(
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

    /// A search by words: Solr ranks (or sorts by date, `by_date`), pages,
    /// counts and highlights.
    fn by_words(
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
    fn page_of(
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
    fn lexical_window(
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

    /// Solr's `top` passages nearest `vector` among those `filters` keep.
    fn nearest(
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
    fn kept(
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
    fn hybrid_counts(
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

    /// The hits of `page` (fused score, id), in its order, with the words'
    /// highlights; a hit found by meaning only (`passage` gives its best
    /// passage) shows that passage and its page.
    fn page_hits<'b>(
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
    fn interpret(&self, text: &str) -> Interpreted {
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
    fn coverage(&self, text: &str, lang: Option<&Lang>) -> Result<Option<Cover>, SearchError> {
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
    fn readable(
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
    fn clause_weights(&self, queries: &[String]) -> Result<Vec<Option<f32>>, SearchError> {
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

    fn generation(&self) -> String {
        format!("solr:{}", self.collection)
    }

    fn semantic(&self) -> SemanticStatus {
        let model = self.engine.semantic.as_ref().map(|s| s.vectors_name());
        let reason = match (&model, self.has_vectors()) {
            (None, _) => "no embedding model is loaded: searches over SolrCloud rank by words",
            (Some(_), false) => {
                "the collection has no vector field (uploaded with --no-vectors or without a model): searches rank by words"
            }
            (Some(_), true) => "",
        };
        SemanticStatus {
            available: reason.is_empty(),
            model,
            passages: 0,
            graph: false,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        }
    }

    /// Whether the collection has a vector field: asked of the cluster
    /// until it answers, then known.
    fn has_vectors(&self) -> bool {
        if self.engine.semantic.is_none() {
            return false;
        }
        if let Some(&known) = self.vectors.get() {
            return known;
        }
        match super::sync::takes_vectors(&self.solr, &self.collection) {
            Ok(known) => *self.vectors.get_or_init(|| known),
            Err(_) => false,
        }
    }
}
