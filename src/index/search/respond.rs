//! Response assembly: hits with their snippets, facets with their labels,
//! and the index's statistics.

use std::collections::{HashMap, HashSet};

use tantivy::DocAddress;

use super::columns::Bars;
use super::{SearchError, TantivySearcher};
use crate::analysis::AnalyzerName;
use crate::core::facet::Filters;
use crate::core::relevance::{self, Words};
use crate::core::request::{SearchMode, SearchRequest};
use crate::core::response::{Facets, Hit, SemanticStatus, Stats, Version, facets_from};
use crate::core::snippet::{self, Highlighted};
use crate::document::Document;
use crate::enrich::{UiLang, searchable_text};
use crate::index::bits::{self, Counts};
use crate::index::matching::Plan;
use crate::semantic::passages::Span;

/// How a search finds its terms in a hit's text, per analyzer: built once
/// per search, used on every hit.
pub(super) enum Mark<'a> {
    /// Korean morphemes, as written.
    Literal(snippet::Literal<'a>),
    /// Spanish and English stems, as word beginnings.
    Stems(snippet::Stems<'a>),
    /// Anything else: the text analysed again.
    Analysed(&'a HashSet<String>),
}

pub(super) type Marks<'a> = HashMap<AnalyzerName, Mark<'a>>;

pub(super) fn marks(terms: &HashMap<AnalyzerName, HashSet<String>>) -> Marks<'_> {
    terms
        .iter()
        .map(|(&name, t)| {
            let mark = match name {
                AnalyzerName::Korean => Mark::Literal(snippet::Literal::new(t)),
                AnalyzerName::Spanish | AnalyzerName::English => {
                    Mark::Stems(snippet::Stems::new(t))
                }
                AnalyzerName::Other => Mark::Analysed(t),
            };
            (name, mark)
        })
        .collect()
}

pub(super) fn to_hit(doc: Document, score: f32, snippet: Highlighted, page: Option<usize>) -> Hit {
    Hit {
        id: doc.id,
        title: doc.title,
        url: doc.url,
        original: None,
        file_name: doc.file_name,
        source: doc.source,
        doc_type: doc.doc_type.as_str().to_string(),
        lang: doc.lang.map(|l| l.to_string()),
        published: doc.published.map(|d| d.format("%Y-%m-%d").to_string()),
        countries: doc.countries,
        topics: doc.topics,
        event: doc.event,
        parent: doc.parent,
        score,
        snippet,
        page,
        matched: None,
        versions: Vec::new(),
        languages: Vec::new(),
    }
}

impl TantivySearcher {
    /// Each story once in a ranking: a document whose story has a version
    /// ranked above it is left out (the hit shown lists it).
    pub(super) fn one_per_story(&self, ranked: Vec<(f32, DocAddress)>) -> Vec<(f32, DocAddress)> {
        if self.versions.is_empty() {
            return ranked;
        }
        let mut seen = HashSet::new();
        ranked
            .into_iter()
            .filter(|(_, a)| self.versions.story(*a).is_none_or(|s| seen.insert(s)))
            .collect()
    }

    /// The other versions of a document's story, best first.
    pub(super) fn other_versions(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Vec<Version> {
        let Some(story) = self.versions.story(addr) else {
            return Vec::new();
        };
        let others: Vec<DocAddress> = self
            .versions
            .members(story)
            .iter()
            .copied()
            .filter(|a| *a != addr)
            .collect();
        self.described(searcher, &others)
    }

    /// A document's translations.
    pub(super) fn translations(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Vec<Version> {
        self.described(searcher, self.versions.languages(addr))
    }

    fn described(&self, searcher: &tantivy::Searcher, addrs: &[DocAddress]) -> Vec<Version> {
        addrs
            .iter()
            .filter_map(|a| self.stored(searcher, *a))
            .map(|d| Version {
                id: d.id,
                title: d.title,
                url: d.url,
                source: d.source,
                doc_type: d.doc_type.as_str().to_string(),
                lang: d.lang.map(|l| l.to_string()),
                published: d.published.map(|p| p.format("%Y-%m-%d").to_string()),
            })
            .collect()
    }

    /// The hits of the page `req` asks for: a hit found by meaning only
    /// (or in semantic mode) shows its best passage, any other its
    /// snippet with the query's terms marked.
    pub(super) fn page_hits(
        &self,
        searcher: &tantivy::Searcher,
        page: Page<'_>,
        req: &SearchRequest,
        terms: &HashMap<AnalyzerName, HashSet<String>>,
        in_time: &dyn Fn() -> Result<(), SearchError>,
    ) -> Result<Vec<Hit>, SearchError> {
        let marks = marks(terms);
        let shown: Vec<(f32, DocAddress)> = page
            .ranked
            .iter()
            .skip(req.offset)
            .take(req.limit)
            .copied()
            .collect();
        let clauses = self.clauses_of(searcher, &page, &shown)?;
        let mut hits = Vec::new();
        for (score, addr) in shown {
            in_time()?;
            let lexical = page.mode != SearchMode::Semantic && page.lexical.contains(&addr);
            let hit = match page.passages.get(&addr) {
                Some(span) if !lexical => self.passage_hit(searcher, addr, score, *span),
                _ => self.hit(searcher, addr, score, &marks),
            };
            hits.extend(hit.map(|mut h| {
                h.versions = self.other_versions(searcher, addr);
                h.languages = self.translations(searcher, addr);
                h.matched = page.why.as_ref().map(|why| {
                    let has = |i: usize| clauses.get(i).is_some_and(|c| c.contains(&addr));
                    let meaning = (why.similarity)(addr)
                        .and_then(|s| why.bars.reached(addr, s).map(|bar| (s, bar)));
                    relevance::why(
                        why.words,
                        &relevance::Evidence {
                            words_share: lexical.then(|| why.words.share(has)),
                            has: &has,
                            meaning,
                        },
                    )
                });
                h
            }));
        }
        Ok(hits)
    }

    /// Which of the `shown` hits have each clause of the words rule.
    fn clauses_of(
        &self,
        searcher: &tantivy::Searcher,
        page: &Page<'_>,
        shown: &[(f32, DocAddress)],
    ) -> Result<Vec<std::collections::HashSet<DocAddress>>, SearchError> {
        let Some(why) = &page.why else {
            return Ok(Vec::new());
        };
        let mut addrs: Vec<DocAddress> = shown.iter().map(|(_, a)| *a).collect();
        addrs.sort_unstable();
        let mut out = Vec::new();
        for terms in why.terms {
            let mut has = std::collections::HashSet::new();
            for term in terms {
                has.extend(super::columns::holders(searcher, term, &addrs)?);
            }
            out.push(has);
        }
        Ok(out)
    }

    /// Whether searches can rank by meaning, and why not.
    pub fn semantic_status(&self) -> SemanticStatus {
        match &self.vectors {
            Ok(v) => SemanticStatus {
                available: true,
                model: Some(v.model.clone()),
                passages: v.len(),
                graph: v.has_graph(),
                reason: None,
            },
            Err(reason) => SemanticStatus {
                available: false,
                model: None,
                passages: 0,
                graph: false,
                reason: Some(reason.clone()),
            },
        }
    }

    /// A hit found by meaning: its best passage as the snippet, and its
    /// page or slide.
    pub(super) fn passage_hit(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
        score: f32,
        span: Span,
    ) -> Option<Hit> {
        let doc = self.stored(searcher, addr)?;
        let text = span.text(&doc);
        let text = if text.trim().is_empty() {
            doc.body.as_str()
        } else {
            text
        };
        let shown = snippet::passage(text);
        let page = span.page.map(|p| p as usize);
        Some(to_hit(doc, score, shown, page))
    }

    pub(super) fn facets(&self, counts: &Counts, req: &SearchRequest) -> Facets {
        facets_from(counts, req, &self.engine.enricher)
    }

    pub(super) fn hit(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
        score: f32,
        marks: &Marks<'_>,
    ) -> Option<Hit> {
        let doc = self.stored(searcher, addr)?;
        let (snippet, page) = self.snippet(&doc, marks);
        Some(to_hit(doc, score, snippet, page))
    }

    /// The snippet of a document, and the page it comes from.
    pub(super) fn snippet(
        &self,
        doc: &Document,
        marks: &Marks<'_>,
    ) -> (Highlighted, Option<usize>) {
        let name = AnalyzerName::for_lang(doc.lang.as_ref().map(|l| l.as_str()).unwrap_or(""));
        let Some(analyzer) = self.analyzer(name) else {
            return (Highlighted::plain(&doc.title), None);
        };
        let find = |text: &str| {
            let hits = match marks.get(&name) {
                Some(Mark::Literal(l)) => l.find(text),
                Some(Mark::Stems(s)) => s.find(text),
                Some(Mark::Analysed(terms)) => snippet::analysed(text, analyzer.as_ref(), terms),
                None => Vec::new(),
            };
            snippet::best(text, &hits)
        };
        if !doc.pages.is_empty() {
            let best = doc
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (i, find(p)))
                .max_by_key(|(i, s)| (s.distinct, s.matches, std::cmp::Reverse(*i)));
            if let Some((i, s)) = best
                && s.distinct > 0
            {
                return (s.text, Some(i + 1));
            }
        }
        // The hit shows its title above the snippet: a text that opens with
        // the title is taken from after it.
        let text = searchable_text(doc);
        let title = doc.title.trim();
        let body = text
            .trim_start()
            .strip_prefix(title)
            .filter(|rest| !title.is_empty() && !rest.trim().is_empty())
            .unwrap_or(&text);
        (find(body.trim_start()).text, None)
    }

    /// Counts per facet over the whole index, and what the index is.
    pub fn stats(&self, ui: UiLang) -> Result<Stats, SearchError> {
        let searcher = self.reader.searcher();
        let none = Filters::default();
        let fruits = bits::run(
            &searcher,
            &Plan::default(),
            &self.facet_bits,
            &none,
            bits::Order::Day,
            0,
        )?;
        // The inventory counts documents, each version of a story too.
        let every = crate::index::versions::Versions::default();
        let counts = bits::outcome(fruits, &none, bits::Order::Day, &every).counts;
        let req = SearchRequest {
            ui,
            ..SearchRequest::default()
        };
        Ok(Stats {
            documents: searcher.num_docs(),
            generation: self.meta.generation.clone(),
            updated: self.meta.updated.clone(),
            analysis: self.meta.analysis.clone(),
            semantic: self.semantic_status(),
            facets: self.facets(&counts, &req),
        })
    }
}

/// A search's ranking, with what tells how to show each hit.
pub(super) struct Page<'a> {
    pub(super) ranked: Vec<(f32, DocAddress)>,
    /// The best passage of each document found by meaning.
    pub(super) passages: HashMap<DocAddress, Span>,
    /// The documents the words found.
    pub(super) lexical: &'a HashSet<DocAddress>,
    pub(super) mode: SearchMode,
    /// What says why each hit is there (none when browsing).
    pub(super) why: Option<Why<'a>>,
}

/// What a search knows to say why a hit is there.
pub(super) struct Why<'a> {
    pub(super) words: &'a Words,
    /// The terms of each of `words`' clauses.
    pub(super) terms: &'a [Vec<tantivy::Term>],
    /// A document's best passage's similarity to the query, if it has one.
    pub(super) similarity: &'a dyn Fn(DocAddress) -> Option<f32>,
    pub(super) bars: Bars<'a>,
}
