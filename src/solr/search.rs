//! Searching a SolrCloud collection behind the same API and page as the
//! embedded index. Query understanding stays here: the countries and
//! topics a query names (in any language) become their tags and their
//! names in the other languages, searched beside the query's own words
//! (edismax over every language's title and body); facets are Solr's JSON
//! facets with each filter tagged and excluded from its own counts (the
//! embedded engine's disjunctive counts); snippets are Solr's highlighter
//! marks. A cluster that does not answer is a 503 for that request, and
//! the next request asks again.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{Solr, SolrError};
use super::configset::{VIEWS, fingerprint};
use crate::analysis::AnalyzerName;
use crate::core::facet::{Facet, Kind};
use crate::core::relevance;
use crate::core::response::Health;
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
pub(super) const NAMES_PER_LANGUAGE: usize = 3;

/// Stored fields a hit is made of.
pub(super) const HIT_FIELDS: &str =
    "id,url,source,title,doc_type,lang,published,country,topic,event,parent,file_name,score";

/// A SolrCloud collection, searched.
pub struct SolrSearcher {
    pub(super) solr: Solr,
    pub(super) collection: String,
    pub(super) engine: Engine,
    /// Whether the collection has a vector field (asked once it answers).
    pub(super) vectors: OnceLock<bool>,
}

/// What a search sends Solr for its words, and its filters.
pub(super) struct Words<'a> {
    /// The query (`q`) and the parameters it names...
    pub(super) q: &'a str,
    pub(super) params: &'a [(&'a str, String)],
    /// ...the user's words alone, for the highlights.
    pub(super) highlight: &'a str,
    /// The filters, `kind:document` first.
    pub(super) filters: &'a [String],
    /// The words rule's clauses (`c0`, `c1`… among `params`), to tell
    /// which of them each hit has: asked as the fields `m0`, `m1`…
    pub(super) rule: Option<&'a relevance::Words>,
    pub(super) fields: &'a str,
}

/// The words rule of a query over the collection.
pub(super) struct Cover {
    /// Each clause's query, by the name it is passed as.
    pub(super) clauses: Vec<(&'static str, String)>,
    pub(super) rule: relevance::Words,
    /// The filter of the documents with enough of the clauses' weight
    /// (none when the rule is off).
    pub(super) filter: Option<String>,
}

/// The parameter names of a query's clauses (at most this many clauses).
pub(super) const CLAUSES: [&str; 16] = [
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

    pub(super) fn select(&self, params: &[(&str, &str)]) -> Result<Value, SearchError> {
        self.solr
            .get(&format!("{}/select", self.collection), params)
            .map_err(|e| self.unavailable(e))
    }

    pub(super) fn unavailable(&self, e: SolrError) -> SearchError {
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
    pub(super) fn words_query(&self, lang: Option<&Lang>) -> String {
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
    pub(super) fn concepts_query(&self, interpreted: &Interpreted, lang: Option<&Lang>) -> String {
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
    pub(super) fn filters(req: &SearchRequest) -> Vec<String> {
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
    pub(super) fn facet_request() -> String {
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
    pub(super) fn counts(facets: &Value) -> Counts {
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

    pub(super) fn get_doc(&self, id: &str) -> Result<Value, SearchError> {
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
pub(super) fn safe_query(text: &str) -> String {
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
pub(super) fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn text(v: &Value, field: &str) -> Option<String> {
    v[field].as_str().map(str::to_string)
}

pub(super) fn texts(v: &Value, field: &str) -> Vec<String> {
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
pub(super) fn day(v: &Value) -> Option<String> {
    v["published"]
        .as_str()
        .and_then(|d| d.get(..10))
        .map(str::to_string)
}

/// A hit from a Solr document and its snippet.
pub(super) fn hit(d: &Value, snippet: Highlighted) -> Hit {
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
pub(super) fn hits_of(r: &Value, rule: Option<&relevance::Words>) -> Vec<Hit> {
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
pub(super) fn meaning(text: &str) -> String {
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
pub(super) fn clause_query(c: &relevance::QueryClause) -> String {
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
pub(super) fn must(text: &str) -> Option<String> {
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
    pub(super) fn generation(&self) -> String {
        format!("solr:{}", self.collection)
    }

    pub(super) fn semantic(&self) -> SemanticStatus {
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
    pub(super) fn has_vectors(&self) -> bool {
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
