//! Embedding a corpus into an index generation: every document cut into
//! passages, each passage's vector taken from the cache or computed (in
//! batches, with progress), the cache saved after each batch so that an
//! interrupted run resumes where it stopped.

use std::path::Path;
use std::time::Instant;

use egovkb_embed::Kind;

use super::passages::{self, Passage};
use super::vectors::{self, Cache, DocVectors, Header, Quantised, VectorError};
use super::{Semantic, graph};
use crate::progress::Progress;
use crate::store::Store;

/// Passages embedded per call of the model (and per cache save).
const BATCH: usize = 64;

/// What embedding a corpus did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmbedReport {
    pub documents: usize,
    pub passages: usize,
    /// Passages whose vector was computed (the others came from the cache).
    pub embedded: usize,
    /// Model tokens of the embedded passages.
    pub tokens: usize,
    pub seconds: f64,
}

/// Embed the documents of `store` into the generation directory `generation`
/// (its vector file is replaced), with the cache at `cache_path`.
pub fn embed_corpus(
    semantic: &Semantic,
    store: &Store,
    generation: &Path,
    cache_path: &Path,
    progress: &dyn Progress,
) -> Result<EmbedReport, VectorError> {
    let started = Instant::now();
    let model = &semantic.model;
    let mut cache = Cache::open(cache_path, model.dim())?;
    let records = store.record_paths();
    progress.begin("cutting passages", Some(records.len() as u64));
    let mut docs: Vec<(String, Vec<Passage>)> = Vec::with_capacity(records.len());
    for path in &records {
        progress.advance(1);
        // A record that cannot be read is reported by the index build.
        if let Ok(doc) = store.read(path) {
            docs.push((doc.id.clone(), passages::cut(&doc, model.tokenizer())));
        }
    }
    let mut report = EmbedReport {
        documents: docs.len(),
        passages: docs.iter().map(|(_, p)| p.len()).sum(),
        ..EmbedReport::default()
    };
    (report.embedded, report.tokens) = embed_missing(semantic, &mut cache, &docs, progress)?;
    let out: Vec<DocVectors> = docs
        .into_iter()
        .map(|(id, ps)| DocVectors {
            id,
            passages: ps
                .into_iter()
                .filter_map(|p| {
                    let v = cache.get(&vectors::key(&semantic.name, &p.text))?;
                    Some((p.span, v.clone()))
                })
                .collect(),
        })
        .collect();
    write_generation(semantic, generation, &out, progress)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Embed the passages the cache does not have (each text once), in
/// batches, saving the cache after each: how many, and their tokens.
pub(crate) fn embed_missing(
    semantic: &Semantic,
    cache: &mut Cache,
    docs: &[(String, Vec<Passage>)],
    progress: &dyn Progress,
) -> Result<(usize, usize), VectorError> {
    let model = &semantic.model;
    let mut missing: Vec<([u8; 16], &str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, ps) in docs {
        for p in ps {
            let k = vectors::key(&semantic.name, &p.text);
            if cache.get(&k).is_none() && seen.insert(k) {
                missing.push((k, &p.text));
            }
        }
    }
    let mut tokens = 0;
    if !missing.is_empty() {
        progress.begin("embedding passages", Some(missing.len() as u64));
        for batch in missing.chunks(BATCH) {
            let texts: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
            tokens += texts
                .iter()
                .map(|t| model.token_count(t, Kind::Passage))
                .sum::<usize>();
            for ((k, _), v) in batch.iter().zip(model.embed_batch(&texts, Kind::Passage)) {
                cache.insert(*k, Quantised::new(&v));
            }
            cache.save()?;
            progress.advance(batch.len() as u64);
        }
    }
    Ok((missing.len(), tokens))
}

/// The generation's vector file, and its graph when the passages are
/// many (else no graph).
fn write_generation(
    semantic: &Semantic,
    generation: &Path,
    docs: &[DocVectors],
    progress: &dyn Progress,
) -> Result<(), VectorError> {
    let dim = semantic.model.dim();
    vectors::write(
        &generation.join(vectors::FILE_NAME),
        &Header {
            model: semantic.vectors_name(),
            dim,
        },
        docs,
    )?;
    let rows: Vec<&[i8]> = docs
        .iter()
        .flat_map(|d| d.passages.iter().map(|(_, v)| v.values.as_slice()))
        .collect();
    let graph = generation.join(graph::FILE_NAME);
    if rows.len() >= graph::graph_from() {
        graph::build(&graph, dim, &rows, progress)
    } else {
        graph::remove(&graph)
    }
}
