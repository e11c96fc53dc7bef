//! `egovkb search` and `stats`: the results as a terminal shows them, or
//! JSON, or an export.

use std::io::IsTerminal;

use anyhow::Result;

use egovkb::config::Config;
use egovkb::engine::Engine;
use egovkb::enrich::UiLang;
use egovkb::index::IndexDir;
use egovkb::index::search::{SearchMode, SearchRequest, SearchResponse, TantivySearcher};
use egovkb::index::snippet::Highlighted;
use egovkb::store::Store;

use super::*;

pub fn open_searcher(config: &Config) -> Result<(TantivySearcher, Engine)> {
    let engine = engine_with_model(config)?;
    let dir = IndexDir::new(&config.index);
    let searcher = TantivySearcher::open(&dir, engine.clone())?;
    Ok((searcher, engine))
}

/// Snippet HTML as terminal text: marks in bold on a terminal.
pub fn terminal_text(snippet: &Highlighted, tty: bool) -> String {
    let marks = if tty {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    snippet.render(marks, &|s: &str| s.to_string())
}

/// The line above a result list: the count, and what the query was
/// understood, relaxed and corrected as.
pub fn results_head(r: &SearchResponse) -> String {
    fn joined(items: impl Iterator<Item = String>) -> String {
        items.collect::<Vec<_>>().join(", ")
    }
    let i = &r.interpreted;
    let by = match i.mode {
        SearchMode::Lexical => "",
        SearchMode::Hybrid => ", by words and meaning",
        SearchMode::Semantic => ", by meaning",
    };
    if r.total == 0 && !r.query.trim().is_empty() {
        return format!(
            "nothing in the knowledge base matches ({} ms{by})",
            r.took_ms
        );
    }
    let mut head = format!("{} results ({} ms{by})", r.total, r.took_ms);
    if !i.countries.is_empty() || !i.topics.is_empty() {
        let understood = joined(i.countries.iter().chain(&i.topics).cloned());
        head.push_str(&format!("; understood: {understood}"));
    }
    if !i.relaxed.is_empty() {
        let phrases = joined(i.relaxed.iter().map(|p| format!("\"{p}\"")));
        head.push_str(&format!(
            "\nno document has {phrases} as written: its words were searched instead"
        ));
    }
    if !i.corrected.is_empty() {
        let words = joined(
            i.corrected
                .iter()
                .map(|c| format!("{} → {}", c.word, c.term)),
        );
        head.push_str(&format!("\nno document has {words}: searched instead"));
    }
    head
}

/// Why a hit is there, as the command line says it.
pub fn why_line(m: &egovkb::core::relevance::Matched) -> String {
    use egovkb::core::relevance::{MatchedBy, Strength};
    let how = match m.by {
        MatchedBy::Words => "matched by words",
        MatchedBy::Concept => "matched by tags",
        MatchedBy::Meaning => "matched by meaning",
        MatchedBy::Both => "matched by words and meaning",
    };
    let named: Vec<&str> = m
        .words
        .iter()
        .chain(&m.concepts)
        .map(String::as_str)
        .collect();
    let mut line = how.to_string();
    if !named.is_empty() && m.by != MatchedBy::Meaning {
        line.push_str(&format!(": {}", named.join(", ")));
    }
    if m.strength == Strength::Strong {
        line.push_str(" (strong)");
    }
    line
}

pub fn print_results(r: &SearchResponse, offset: usize) {
    let tty = std::io::stdout().is_terminal();
    let head = results_head(r);
    println!("{head}\n");
    for (i, h) in r.hits.iter().enumerate() {
        let mut badges = vec![h.doc_type.clone()];
        badges.extend(h.lang.clone());
        badges.extend(h.published.clone());
        if !h.countries.is_empty() {
            badges.push(h.countries.join(" "));
        }
        println!(
            "{:>3}. {}  [{}]",
            offset + i + 1,
            h.title,
            badges.join(" · ")
        );
        println!("     {}", terminal_text(&h.snippet, tty));
        if let Some(m) = &h.matched {
            println!("     {}", why_line(m));
        }
        match h.page {
            Some(p) if h.has_slides() => println!("     {} (slide {p})", h.url),
            Some(p) => println!("     {} (page {p})", h.url),
            None => println!("     {}", h.url),
        }
        if !h.versions.is_empty() {
            let n = h.versions.len();
            println!(
                "     {n} other version{} of this story:",
                if n == 1 { "" } else { "s" }
            );
            for v in &h.versions {
                let date = v.published.as_deref().unwrap_or("undated");
                println!("       {} · {} · {date} · {}", v.source, v.doc_type, v.url);
            }
        }
        if !h.languages.is_empty() {
            let langs: Vec<String> = h
                .languages
                .iter()
                .map(|v| format!("{} {}", v.lang.as_deref().unwrap_or("?"), v.url))
                .collect();
            println!("     also in: {}", langs.join(" · "));
        }
        println!();
    }
    let f = &r.facets;
    for (facet, values) in f.iter() {
        let name = facet.spec().param;
        if values.is_empty() {
            continue;
        }
        let shown: Vec<String> = values
            .iter()
            .take(12)
            .map(|v| format!("{} ({})", v.value, v.count))
            .collect();
        let more = if values.len() > 12 {
            format!(" +{} more", values.len() - 12)
        } else {
            String::new()
        };
        println!("{name:>8}: {}{more}", shown.join(", "));
    }
}

pub fn search(config: &Config, req: &SearchRequest, json: bool) -> Result<()> {
    let (searcher, _) = open_searcher(config)?;
    let response = searcher.search(req)?;
    if json {
        println!("{}", serde_json::to_string(&response)?);
    } else {
        print_results(&response, req.offset);
    }
    Ok(())
}

/// `egovkb search --export FORMAT`: every hit, written as it is read.
pub fn export_search(
    config: &Config,
    req: SearchRequest,
    format: egovkb::server::export::Format,
) -> Result<()> {
    use std::io::Write;
    let (searcher, _) = open_searcher(config)?;
    let base = format!("http://{}", config.serve.addr);
    let mut export =
        egovkb::server::export::Export::new(std::sync::Arc::new(searcher), req, format, base);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    while let Some(chunk) = export.next_chunk() {
        out.write_all(chunk?.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

pub fn stats(config: &Config, json: bool) -> Result<()> {
    let (searcher, _) = open_searcher(config)?;
    let stats = searcher.stats(UiLang::En)?;
    let corpus = Store::open(&config.corpus)?.len();
    if json {
        let mut v = serde_json::to_value(&stats)?;
        v["corpus_documents"] = corpus.into();
        println!("{v}");
        return Ok(());
    }
    println!(
        "index: {} documents, generation {}, updated {}",
        stats.documents, stats.generation, stats.updated
    );
    println!("corpus: {corpus} documents in {}", config.corpus.display());
    for (facet, values) in stats.facets.iter() {
        let name = facet.spec().param;
        let shown: Vec<String> = values
            .iter()
            .map(|v| format!("{} {}", v.value, v.count))
            .collect();
        println!("{name:>8}: {}", shown.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use egovkb::index::search::{Correction, Facets, Interpreted};

    #[test]
    fn the_head_says_what_the_query_became() {
        let mut r = SearchResponse {
            query: "x".into(),
            interpreted: Interpreted::default(),
            total: 3,
            took_ms: 2,
            hits: Vec::new(),
            facets: Facets::default(),
        };
        assert_eq!(results_head(&r), "3 results (2 ms)");
        r.interpreted.mode = SearchMode::Hybrid;
        assert_eq!(results_head(&r), "3 results (2 ms, by words and meaning)");
        r.interpreted = Interpreted {
            mode: SearchMode::Lexical,
            countries: vec!["PY".into()],
            topics: vec!["resident-registration".into()],
            relaxed: vec!["registro de personas".into()],
            corrected: vec![Correction {
                word: "Paragauy".into(),
                term: "paraguay".into(),
            }],
        };
        assert_eq!(
            results_head(&r),
            "3 results (2 ms); understood: PY, resident-registration\n\
             no document has \"registro de personas\" as written: its words were searched instead\n\
             no document has Paragauy → paraguay: searched instead"
        );
        r.total = 0;
        r.interpreted = Interpreted::default();
        assert_eq!(
            results_head(&r),
            "nothing in the knowledge base matches (2 ms)"
        );
    }
}
