//! Query understanding: the query parsed into words, phrases and
//! exclusions, each analysed per language view, typos corrected, and
//! countries and topics recognised and expanded into every language.

use std::collections::{HashMap, HashSet};

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query};
use tantivy::schema::Field;

use super::{TantivySearcher, hangul_word, term_query};
use crate::analysis::korean::is_hangul;
use crate::analysis::{Analyzer, AnalyzerName, Mode};
use crate::core::query::{self, Clause};
use crate::core::relevance::{self, Concept, Words};
use crate::core::response::{Correction, Interpreted};
use crate::document::Lang;
use crate::index::schema::TextView;
use crate::index::typos;

/// Two query words further apart in the query than adjacent count as near
/// each other in a document within this many positions.
pub(super) const PAIR_SLOP: u32 = 8;

/// At most this many proximity pairs per view and query.
pub(super) const MAX_NEAR: usize = 256;

/// Names of one country or topic added to a query, per language.
pub(super) const MAX_EXPANSIONS_PER_LANGUAGE: usize = 3;

/// The text query and what the snippets should mark.
pub(super) struct TextQuery {
    /// Weighted terms, any of which matches: one union, scored term at a
    /// time (`matching`).
    pub(super) weighted: Vec<(Term, f32)>,
    /// Quoted phrases: a match has each of them.
    pub(super) must: Vec<Box<dyn Query>>,
    /// Excluded words and phrases.
    pub(super) must_not: Vec<Box<dyn Query>>,
    pub(super) interpreted: Interpreted,
    /// Query terms per analyzer, for snippets.
    pub(super) terms: HashMap<AnalyzerName, HashSet<String>>,
    /// Bonuses applied to the best candidates only (`rescore`).
    pub(super) rescoring: Vec<Box<dyn Query>>,
    /// The query's words and phrases as written (no exclusions), for the
    /// model.
    pub(super) meaning: String,
    /// The query's language, when it can be told.
    pub(super) lang: Option<Lang>,
    /// The clauses of the words rule (`core::relevance`): each word and
    /// each country or topic named, with the terms any of which a
    /// document has it by.
    pub(super) evidence: Vec<EvidenceClause>,
    /// The words rule as the index weighs it (set by `plan`), and each
    /// of its clauses' terms.
    pub(super) words: Words,
    pub(super) words_terms: Vec<Vec<Term>>,
}

/// A query word, or a country or topic it names, and the terms (in every
/// view, or the tag) that a document has it by.
pub(super) struct EvidenceClause {
    pub(super) label: String,
    pub(super) concept: bool,
    pub(super) terms: Vec<Term>,
}

/// What a clause's text gives in one view: its analysed words, and for a
/// quoted phrase the query that must match.
pub(super) struct ViewTerms {
    pub(super) words: Vec<String>,
    pub(super) phrase: Option<Box<dyn Query>>,
}

/// A query being built: weighted terms, scored together as one flat union,
/// and second-phase bonuses.
#[derive(Default)]
pub(super) struct QueryParts {
    pub(super) terms: Vec<(Term, f32)>,
    pub(super) rescoring: Vec<Box<dyn Query>>,
}

impl QueryParts {
    /// Add a term; a term added twice counts with both weights (BM25 is
    /// linear in the weight).
    pub(super) fn add(&mut self, term: Term, weight: f32) {
        match self.terms.iter_mut().find(|(t, _)| *t == term) {
            Some((_, w)) => *w += weight,
            None => self.terms.push((term, weight)),
        }
    }
}

impl TantivySearcher {
    pub(super) fn views_for(&self, text: &str) -> Vec<TextView> {
        let f = &self.fields;
        let mut views = vec![f.all];
        if text.chars().any(is_hangul) {
            views.push(f.ko);
        }
        if text.chars().any(|c| c.is_alphanumeric() && !is_hangul(c)) {
            views.extend([f.es, f.en, f.other]);
            if !views.iter().any(|v| v.title == f.ko.title) {
                // Korean documents keep Latin words (KONEPS) as they are.
                views.push(f.ko);
            }
        }
        views
    }

    /// How much a view counts for a query in `lang`: fully in the query's
    /// language, a little in the others (BM25 scores of fields with other
    /// statistics are not comparable; other languages are reached through
    /// query understanding instead). Without a language, all count alike.
    pub(super) fn view_weight(&self, view: &TextView, lang: Option<&Lang>) -> f32 {
        if view.title == self.fields.all.title {
            return self.ranking().all_languages;
        }
        let Some(lang) = lang else { return 1.0 };
        let own = self
            .fields
            .view(AnalyzerName::for_lang(lang.as_str()))
            .title;
        if view.title == own {
            1.0
        } else {
            self.ranking().other_language
        }
    }

    pub(super) fn analyzer(&self, name: AnalyzerName) -> Option<std::sync::Arc<dyn Analyzer>> {
        self.engine.analyzers.get(name).ok()
    }

    /// What `text` contributes in one view. Words add weighted terms (title
    /// and body; in another language than the query's, the body only, which
    /// holds the title too) and proximity bonuses to `parts`; a phrase
    /// gives a query that must match. Returns the analysed words and that
    /// phrase query; `None` when the text gives no terms in this view.
    pub(super) fn view_terms(
        &self,
        view: &TextView,
        text: &str,
        phrase: bool,
        weight: f32,
        lang: Option<&Lang>,
        parts: &mut QueryParts,
    ) -> Option<ViewTerms> {
        let analyzer = self.analyzer(view.analyzer)?;
        let terms = analyzer.analyze(text, Mode::Query);
        if terms.is_empty() {
            return None;
        }
        let own_language = weight >= 1.0;
        let words: Vec<String> = terms.iter().map(|t| t.text.clone()).collect();
        let fields: &[(Field, f32)] = if own_language {
            &[(view.title, self.ranking().title_boost), (view.body, 1.0)]
        } else {
            &[(view.body, 1.0)]
        };
        if phrase {
            return Some(ViewTerms {
                words,
                phrase: Some(self.phrase_query(fields, &terms, weight)),
            });
        }
        for &(field, field_boost) in fields {
            for t in &terms {
                parts.add(Term::from_field_text(field, &t.text), weight * field_boost);
            }
        }
        let near = Near {
            view,
            text,
            terms: &terms,
            weight,
            own_language,
        };
        self.proximity(&near, lang, parts);
        Some(ViewTerms {
            words,
            phrase: None,
        })
    }

    /// A phrase's analysed terms as one phrase query per field, any of
    /// which may match.
    fn phrase_query(
        &self,
        fields: &[(Field, f32)],
        terms: &[crate::analysis::Term],
        weight: f32,
    ) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(field, field_boost) in fields {
            let first = terms[0].position;
            let mut seen = HashSet::new();
            let with_offsets: Vec<(usize, Term)> = terms
                .iter()
                .filter(|t| seen.insert(t.position))
                .map(|t| (t.position - first, Term::from_field_text(field, &t.text)))
                .collect();
            let q: Box<dyn Query> = if with_offsets.len() > 1 {
                Box::new(PhraseQuery::new_with_offset(with_offsets))
            } else {
                term_query(field, &terms[0].text)
            };
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    self.stats
                        .scoped(field, terms.iter().all(|t| hangul_word(&t.text)), q),
                    weight * field_boost,
                )),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Proximity bonuses, for the best candidates (a second phase): query
    /// words found near each other in the body.
    /// - Adjacent words, in the query's own view, and for Korean in the
    ///   all-languages view too, where Korean is character bigrams:
    ///   adjacent bigrams are the query's word as written (a name with
    ///   its particle, 반기문이).
    /// - In the own view of a query in a Latin script, every other pair
    ///   of its words within 8 positions, at a smaller weight (as the
    ///   full-dependence model does).
    /// - The own view leaves stop words out, so it cannot see "la
    ///   universidad" or "Bank of Korea" as written; the all-languages
    ///   view keeps them: its adjacent pairs of a stop word of the
    ///   query's language and a content word.
    fn proximity(&self, n: &Near<'_>, lang: Option<&Lang>, parts: &mut QueryParts) {
        let ranking = self.ranking();
        let all_view = n.view.title == self.fields.all.title;
        let terms = n.terms;
        // Each pair once, and at most MAX_NEAR of them: a query of hundreds
        // of words must not become hundreds of thousands of phrase queries.
        let mut pairs: HashSet<(String, String, u32)> = HashSet::new();
        let mut near = |a: &crate::analysis::Term, b: &crate::analysis::Term, slop, boost| {
            if pairs.len() >= MAX_NEAR || !pairs.insert((a.text.clone(), b.text.clone(), slop)) {
                return;
            }
            let q = PhraseQuery::new_with_offset_and_slop(
                vec![
                    (0, Term::from_field_text(n.view.body, &a.text)),
                    (1, Term::from_field_text(n.view.body, &b.text)),
                ],
                slop,
            );
            let hangul = hangul_word(&a.text) && hangul_word(&b.text);
            parts.rescoring.push(Box::new(BoostQuery::new(
                self.stats.scoped(n.view.body, hangul, Box::new(q)),
                n.weight * boost,
            )));
        };
        let hangul = n.text.chars().any(is_hangul);
        if n.own_language || (all_view && hangul) {
            // Each term with the first term of the position before (a
            // position may hold several terms).
            let mut prev: Option<&crate::analysis::Term> = None;
            for t in terms {
                if let Some(p) = prev
                    && t.position == p.position + 1
                {
                    near(p, t, ranking.proximity_slop, ranking.proximity_boost);
                }
                if prev.is_none_or(|p| t.position > p.position) {
                    prev = Some(t);
                }
            }
        }
        if n.own_language && !hangul && ranking.pair_proximity > 0.0 {
            for (i, a) in terms.iter().enumerate() {
                for b in &terms[i + 1..] {
                    if b.position > a.position + 1 {
                        near(a, b, PAIR_SLOP, ranking.pair_proximity);
                    }
                }
            }
        }
        if all_view
            && !hangul
            && ranking.stopword_proximity > 0.0
            && let Some(own) = lang.and_then(|l| self.language_analyzer(l))
        {
            let stop = |t: &crate::analysis::Term| {
                own.analyze(&n.text[t.start..t.end], Mode::Query).is_empty()
            };
            for pair in terms.windows(2) {
                if let [a, b] = pair
                    && b.position == a.position + 1
                    && stop(a) != stop(b)
                {
                    near(a, b, ranking.proximity_slop, ranking.stopword_proximity);
                }
            }
        }
    }

    /// The analyzer of a query language with stop words (Spanish, English).
    pub(super) fn language_analyzer(&self, lang: &Lang) -> Option<std::sync::Arc<dyn Analyzer>> {
        match lang.as_str() {
            "es" => self.analyzer(AnalyzerName::Spanish),
            "en" => self.analyzer(AnalyzerName::English),
            _ => None,
        }
    }

    /// `text` with each word that no document has replaced by the word it
    /// was most likely meant as (`typos`), the replacements added to
    /// `corrected`. Words are looked up as the all-languages view has them
    /// (folded, not stemmed), which holds every document's words; a few
    /// words per query at most are looked up.
    pub(super) fn correct<'t>(
        &self,
        searcher: &tantivy::Searcher,
        text: &'t str,
        attempts: &mut usize,
        corrected: &mut Vec<Correction>,
    ) -> std::borrow::Cow<'t, str> {
        let Some(analyzer) = self.analyzer(self.fields.all.analyzer) else {
            return text.into();
        };
        let field = self.fields.all.body;
        let mut out = String::new();
        let mut copied = 0;
        // Where the text names a country or topic (found when a word is
        // unknown): "Brasil" or "Dominican Republic" is meant as written,
        // even when no document has the word.
        let mut names: Option<Vec<(usize, usize)>> = None;
        for t in analyzer.analyze(text, Mode::Query) {
            if *attempts >= typos::MAX_CORRECTIONS || typos::allowed(&t.text) == 0 {
                continue;
            }
            let known =
                !typos::unknown(searcher, &Term::from_field_text(field, &t.text)).unwrap_or(false);
            if known {
                continue;
            }
            let names = names.get_or_insert_with(|| {
                self.names_in(text)
                    .into_iter()
                    .map(|(_, _, f)| (f.start, f.end))
                    .collect()
            });
            if names.iter().any(|&(a, b)| t.start < b && a < t.end) {
                continue;
            }
            // Counted found or not: the search's cost stays bounded.
            *attempts += 1;
            if let Ok(Some(found)) = typos::correct(searcher, field, &t.text) {
                out.push_str(&text[copied..t.start]);
                out.push_str(&found);
                copied = t.end;
                corrected.push(Correction {
                    word: text[t.start..t.end].to_string(),
                    term: found,
                });
            }
        }
        if copied == 0 {
            return text.into();
        }
        out.push_str(&text[copied..]);
        out.into()
    }

    /// When an exclusion is the name of a country or topic (`-Paraguay`),
    /// its one-word names in every language, excluded too: 파라과이 and
    /// paraguayo go with Paraguay.
    pub(super) fn names_of_excluded(&self, text: &str) -> Vec<Box<dyn Query>> {
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        for (vocabulary, key, f) in self.names_in(text) {
            let before = text.get(..f.start).is_some_and(|t| t.trim().is_empty());
            let after = text.get(f.end..).is_some_and(|t| t.trim().is_empty());
            if !(before && after) {
                continue;
            }
            for (analyzer, words) in vocabulary.phrases(key) {
                if let [word] = words.as_slice() {
                    out.push(term_query(self.fields.view(*analyzer).body, word));
                }
            }
        }
        out
    }

    /// The countries and topics `text` names, in any language: the
    /// vocabulary, the entry's key and where in `text` it is named.
    pub(super) fn names_in<'a>(
        &'a self,
        text: &str,
    ) -> Vec<(
        &'a crate::enrich::Vocabulary,
        &'a str,
        crate::enrich::matcher::Found,
    )> {
        let en = &self.engine.enricher;
        let analysed = crate::enrich::matcher::analyse(&self.engine.analyzers, text);
        [&en.countries, &en.topics]
            .into_iter()
            .flat_map(|v| {
                v.find_in_query(&analysed)
                    .into_iter()
                    .map(move |(k, f)| (v, k, f))
            })
            .collect()
    }

    /// The text part of a query: words ranked, phrases required (or, when
    /// `relax`, searched as words), exclusions removed, and countries and
    /// topics recognised and expanded.
    pub(super) fn text_query(
        &self,
        searcher: &tantivy::Searcher,
        q: &str,
        relax: bool,
    ) -> TextQuery {
        let lang = crate::enrich::lang::detect_query(q);
        let mut b = Building::default();
        for clause in query::parse(q) {
            self.add_clause(searcher, &mut b, clause, relax, lang.as_ref());
        }
        let mut interpreted = self.concepts(&b.positive_text);
        interpreted.relaxed = std::mem::take(&mut b.relaxed);
        interpreted.corrected = std::mem::take(&mut b.corrected);
        if let Some(bonus) = self.all_concepts_bonus(&interpreted) {
            b.parts.rescoring.push(bonus);
        }
        self.expand_concepts(&interpreted, lang.as_ref(), &mut b);
        let evidence = self.evidence(&b.positive_text, lang.as_ref());
        TextQuery {
            weighted: b.parts.terms,
            must: b.must,
            must_not: b.must_not,
            interpreted,
            terms: b.terms,
            rescoring: b.parts.rescoring,
            meaning: b.meaning,
            lang,
            evidence,
            words: Words::default(),
            words_terms: Vec::new(),
        }
    }

    /// The clauses of the words rule of `text` (`core::relevance`), each
    /// with the terms that a document has it by: a concept's tag or the
    /// words that named it, a word's terms in every view, a Korean
    /// morpheme in the Korean view.
    fn evidence(&self, text: &str, lang: Option<&Lang>) -> Vec<EvidenceClause> {
        let f = &self.fields;
        let terms_of = |word: &str, terms: &mut Vec<Term>| {
            for view in [f.all, f.es, f.en, f.other, f.ko] {
                let Some(analyzer) = self.analyzer(view.analyzer) else {
                    continue;
                };
                for t in analyzer.analyze(word, Mode::Query) {
                    let term = Term::from_field_text(view.body, &t.text);
                    if !terms.contains(&term) {
                        terms.push(term);
                    }
                }
            }
        };
        relevance::query_clauses(
            &self.engine.analyzers,
            &self.engine.enricher,
            text,
            lang.map(Lang::as_str),
        )
        .into_iter()
        .map(|c| {
            let mut terms = match &c.concept {
                Some(Concept::Country(k)) => vec![Term::from_field_text(f.countries, k)],
                Some(Concept::Topic(k)) => vec![Term::from_field_text(f.topics, k)],
                None => Vec::new(),
            };
            for word in &c.words {
                match c.morpheme {
                    true => terms.push(Term::from_field_text(f.ko.body, word)),
                    false => terms_of(word, &mut terms),
                }
            }
            EvidenceClause {
                label: c.label,
                concept: c.concept.is_some(),
                terms,
            }
        })
        .filter(|c| !c.terms.is_empty())
        .collect()
    }

    /// One clause of the query (words, a phrase or an exclusion) into
    /// `b`: its terms in every view that has them, and the phrase or
    /// exclusion as a query.
    fn add_clause(
        &self,
        searcher: &tantivy::Searcher,
        b: &mut Building,
        clause: Clause,
        relax: bool,
        lang: Option<&Lang>,
    ) {
        if let Clause::Words(t) | Clause::Phrase(t) = &clause {
            if !b.meaning.is_empty() {
                b.meaning.push(' ');
            }
            b.meaning.push_str(t);
        }
        let clause = match clause {
            Clause::Phrase(p) if relax => {
                b.relaxed.push(p.clone());
                Clause::Words(p)
            }
            c => c,
        };
        let (text, phrase) = match &clause {
            Clause::Words(w) => (
                self.correct(searcher, w, &mut b.attempts, &mut b.corrected),
                false,
            ),
            Clause::Phrase(p) | Clause::Exclude(p) => (p.into(), true),
        };
        let text = text.as_ref();
        let excluded = matches!(clause, Clause::Exclude(_));
        let Some(alternatives) = self.clause_views(b, text, phrase, excluded, lang) else {
            return;
        };
        match clause {
            Clause::Words(_) => {}
            Clause::Phrase(_) => b.must.push(Box::new(BooleanQuery::new(alternatives))),
            Clause::Exclude(_) => {
                b.must_not.push(Box::new(BooleanQuery::new(alternatives)));
                b.must_not.extend(self.names_of_excluded(text));
                return;
            }
        }
        b.positive_text.push_str(text);
        b.positive_text.push('\n');
    }

    /// A clause's text in every view that has terms for it: the terms and
    /// bonuses go to `b`, and for a phrase each view's phrase query is
    /// returned, one of which must match; `None` when no view has terms.
    fn clause_views(
        &self,
        b: &mut Building,
        text: &str,
        phrase: bool,
        excluded: bool,
        lang: Option<&Lang>,
    ) -> Option<Vec<(Occur, Box<dyn Query>)>> {
        let mut found = false;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for view in self.views_for(text) {
            let weight = self.view_weight(&view, lang);
            let Some(ViewTerms {
                words,
                phrase: phrase_query,
            }) = self.view_terms(&view, text, phrase, weight, lang, &mut b.parts)
            else {
                continue;
            };
            found = true;
            if !excluded {
                b.searched.push((view.analyzer, words.clone()));
                b.terms.entry(view.analyzer).or_default().extend(words);
            }
            if let Some(q) = phrase_query {
                alternatives.push((Occur::Should, q));
            }
        }
        found.then_some(alternatives)
    }

    /// Query understanding: the countries and topics `text` names in any
    /// language.
    fn concepts(&self, text: &str) -> Interpreted {
        let (countries, topics) = self.engine.enricher.concepts_in_query(text);
        Interpreted {
            countries,
            topics,
            ..Interpreted::default()
        }
    }

    /// A document tagged with every country and topic the query names is
    /// what a researcher asks for, whatever its language: a bonus for the
    /// best candidates, when the query names both.
    fn all_concepts_bonus(&self, interpreted: &Interpreted) -> Option<Box<dyn Query>> {
        if interpreted.countries.is_empty() || interpreted.topics.is_empty() {
            return None;
        }
        let any = |field: Field, keys: &[String]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                keys.iter()
                    .map(|k| (Occur::Should, term_query(field, k)))
                    .collect(),
            ))
        };
        let both = BooleanQuery::new(vec![
            (
                Occur::Must,
                any(self.fields.countries, &interpreted.countries),
            ),
            (Occur::Must, any(self.fields.topics, &interpreted.topics)),
        ]);
        Some(Box::new(BoostQuery::new(
            Box::new(both),
            self.ranking().all_concepts,
        )))
    }

    /// Each country and topic named: its tag as a term, and its one-word
    /// names in every language (the first few of each) as terms of their
    /// language's view.
    fn expand_concepts(&self, interpreted: &Interpreted, lang: Option<&Lang>, b: &mut Building) {
        let enricher = &self.engine.enricher;
        let expansions = interpreted
            .countries
            .iter()
            .map(|c| {
                (
                    self.fields.countries,
                    c,
                    self.ranking().country,
                    enricher.countries.phrases(c),
                )
            })
            .chain(interpreted.topics.iter().map(|t| {
                (
                    self.fields.topics,
                    t,
                    self.ranking().topic,
                    enricher.topics.phrases(t),
                )
            }));
        for (field, key, boost, phrases) in expansions {
            b.parts.add(Term::from_field_text(field, key), boost);
            self.expand_names(phrases, lang, b);
        }
    }

    /// A concept's names (per analyzer, as analysed words) into `b`.
    fn expand_names(
        &self,
        phrases: &[(AnalyzerName, Vec<String>)],
        lang: Option<&Lang>,
        b: &mut Building,
    ) {
        let mut seen = HashSet::new();
        let mut per_analyzer: HashMap<AnalyzerName, usize> = HashMap::new();
        for (analyzer, words) in phrases {
            // The first names of each language are the main ones.
            let n = per_analyzer.entry(*analyzer).or_default();
            *n += 1;
            if *n > MAX_EXPANSIONS_PER_LANGUAGE {
                continue;
            }
            // Only one-word names are searched: a document that uses a
            // longer name is tagged with it already (and phrase scorers
            // are dear). Its words are still marked in snippets.
            let [word] = words.as_slice() else {
                b.terms
                    .entry(*analyzer)
                    .or_default()
                    .extend(words.iter().cloned());
                continue;
            };
            // Skip what would only repeat the query's own words.
            let repeats_query = b
                .searched
                .iter()
                .any(|(a, q)| a == analyzer && q.contains(word));
            if repeats_query || !seen.insert((*analyzer, word.clone())) {
                continue;
            }
            let view = self.fields.view(*analyzer);
            let weight = self.ranking().expansion * self.view_weight(&view, lang);
            b.parts.add(Term::from_field_text(view.body, word), weight);
            b.terms.entry(*analyzer).or_default().insert(word.clone());
        }
    }
}

/// A text query being built, clause by clause.
#[derive(Default)]
struct Building {
    parts: QueryParts,
    must: Vec<Box<dyn Query>>,
    must_not: Vec<Box<dyn Query>>,
    /// Query terms per analyzer, for snippets.
    terms: HashMap<AnalyzerName, HashSet<String>>,
    /// The analysed words of the query per analyzer, to skip expansions
    /// that would only repeat them.
    searched: Vec<(AnalyzerName, Vec<String>)>,
    /// The words and phrases kept (not excluded), for query understanding.
    positive_text: String,
    /// The words and phrases as written, for the model.
    meaning: String,
    relaxed: Vec<String>,
    corrected: Vec<Correction>,
    /// Words looked up for typos so far.
    attempts: usize,
}

/// A clause's words in one view, for the proximity bonuses.
struct Near<'a> {
    view: &'a TextView,
    text: &'a str,
    terms: &'a [crate::analysis::Term],
    weight: f32,
    /// The view of the query's own language (or of every language alike).
    own_language: bool,
}
