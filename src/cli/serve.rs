//! `egovkb serve`: over the embedded index or a SolrCloud collection.

use anyhow::{Context, Result};

use egovkb::config::Config;
use egovkb::index::IndexDir;
use egovkb::index::search::TantivySearcher;

use super::*;

/// `serve` builds what it needs: the dictionary, the embedding model (when
/// it can: without it search is lexical only), the documents of the
/// bundled originals (`<corpus>/originals/`, imported again at every start
/// so that a better extractor reaches them), and the index (brought up to
/// date, or rebuilt when it was built with other analysis).
pub fn serve(config: &Config) -> Result<()> {
    eprintln!("[1/4] Korean dictionary and embedding model");
    serve_model(config);
    let engine = engine_with_model(config)?;
    let originals = config.corpus.join("originals");
    if originals.is_dir() {
        eprintln!("[2/4] importing {}", originals.display());
        import(config, &[originals])?;
    } else {
        eprintln!("[2/4] no {} to import", originals.display());
    }
    let dir = IndexDir::new(&config.index);
    eprintln!("[3/4] index in {}", config.index.display());
    match dir.in_service(&egovkb::index::fingerprint(&engine)) {
        Err(egovkb::index::IndexError::Stale { .. }) => {
            eprintln!("the index was built with other analysis: rebuilding it");
            index(config, true)?;
        }
        _ => index(config, false)?,
    }
    eprintln!("[4/4] starting the server");
    let searcher = TantivySearcher::open(&dir, engine)?;
    let state = egovkb::server::AppState::new(searcher, dir, config.corpus.clone());
    listen(config, state)
}

/// Serve `state` on `addr`, saying where.
pub fn listen(config: &Config, state: egovkb::server::AppState) -> Result<()> {
    let addr = config.serve.addr;
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    eprintln!("serving on http://{}", listener.local_addr()?);
    egovkb::server::serve_with(
        listener,
        std::sync::Arc::new(state),
        config.serve.connections.clone(),
    )?;
    Ok(())
}

/// `serve --solr`: the same API and page over a SolrCloud collection.
/// Nothing is imported or indexed here: `egovkb solr sync` fills the
/// collection. A cluster that does not answer yet is a warning: every
/// request asks it again.
pub fn serve_solr(config: &Config, url: &str) -> Result<()> {
    let collection = config.serve.collection.as_str();
    use egovkb::index::search::Backend;
    eprintln!("[1/2] Korean dictionary and embedding model");
    serve_model(config);
    let engine = engine_with_model(config)?;
    eprintln!("[2/2] starting the server over the collection {collection} at {url}");
    let backend = egovkb::solr::search::SolrSearcher::new(url, collection, engine)?;
    match backend.health() {
        Ok(h) => eprintln!("{} documents in {collection}", h.documents),
        Err(e) => eprintln!("WARNING {e}"),
    }
    let state =
        egovkb::server::AppState::with_backend(std::sync::Arc::new(backend), config.corpus.clone());
    listen(config, state)
}
