//! `egovkb solr`: the configset, the collection, the sync.

use anyhow::{Result, bail};

use egovkb::config::Config;
use egovkb::engine::Engine;
use egovkb::store::Store;

use super::*;

/// The passage vectors' dimension, when a model is installed and in use.
pub fn vector_dim(config: &Config, no_vectors: bool) -> Option<usize> {
    let installed = !no_vectors
        && !model_off()
        && egovkb::semantic::install::installed_model_file(&config.model_root).is_some();
    installed.then_some(egovkb::semantic::DIM)
}

/// What `solr sync` sends beside the documents: their passages' vectors,
/// when a model is loaded and the collection has a vector field.
pub fn sync_vectors<'e>(
    config: &Config,
    engine: &'e Engine,
    solr: &egovkb::solr::client::Solr,
    collection: &str,
) -> Result<Option<egovkb::solr::sync::Vectors<'e>>> {
    use egovkb::solr::sync;
    let Some(semantic) = &engine.semantic else {
        return Ok(None);
    };
    if !sync::takes_vectors(solr, collection)? {
        return Ok(None);
    }
    std::fs::create_dir_all(&config.index)?;
    let cache = config.index.join(egovkb::index::build::EMBEDDING_CACHE);
    let cache = egovkb::semantic::vectors::Cache::open(&cache, semantic.model.dim())?;
    println!(
        "passages and their vectors go with the documents ({})",
        semantic.vectors_name()
    );
    Ok(Some(sync::Vectors { semantic, cache }))
}

pub fn solr(config: &Config, command: SolrCommand) -> Result<()> {
    use egovkb::solr::{client::Solr, configset, sync};
    match command {
        SolrCommand::Configset { dir, no_vectors } => {
            let files =
                configset::files(vector_dim(config, no_vectors)).map_err(anyhow::Error::msg)?;
            configset::write(&dir, &files)?;
            println!("configset written to {}", dir.display());
        }
        SolrCommand::Upload {
            url,
            collection,
            shards,
            replicas,
            no_vectors,
        } => {
            let files =
                configset::files(vector_dim(config, no_vectors)).map_err(anyhow::Error::msg)?;
            let solr = Solr::new(&url)?;
            solr.upload_configset(&collection, &configset::zip(&files)?)?;
            let created = solr.create_or_reload(&collection, &collection, shards, replicas)?;
            if created {
                println!(
                    "collection {collection} created: {shards} shards × {replicas} replicas, configset {collection}"
                );
            } else {
                println!("collection {collection} reloaded onto the configset just uploaded");
            }
        }
        SolrCommand::Sync {
            url,
            collection,
            batch,
        } => {
            let store = Store::open(&config.corpus)?;
            let engine = engine_with_model(config)?;
            let solr = Solr::new(&url)?;
            let vectors = sync_vectors(config, &engine, &solr, &collection)?;
            let bar = Bar::new();
            let report = sync::sync(
                &solr,
                &collection,
                &store,
                &engine.enricher,
                batch,
                vectors,
                &bar,
            )?;
            bar.0.finish_and_clear();
            for (id, why) in &report.refused {
                eprintln!("refused {id}: {why}");
            }
            for (at, why) in &report.unreadable {
                eprintln!("unreadable {at}: {why}");
            }
            println!(
                "{collection}: {} pushed, {} unchanged, {} deleted, {} refused, {} unreadable",
                report.pushed,
                report.unchanged,
                report.deleted,
                report.refused.len(),
                report.unreadable.len()
            );
            if !report.refused.is_empty() {
                bail!("the collection refused some documents (listed above)");
            }
        }
    }
    Ok(())
}
