//! Writing the index: `update` brings the current generation up to date
//! with the corpus (add, update by content hash, delete); `rebuild` builds a
//! new generation from scratch, checks it and puts it in service.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::{Index, IndexWriter, TantivyDocument};

use super::schema::{self, Fields, TextView};
use super::terms;
use super::{IndexDir, IndexError, IndexMeta, io, tv};
use crate::analysis::korean::is_hangul;
use crate::analysis::{AnalyzerName, Mode, Term};
use crate::document::{Document, Lang};
use crate::engine::Engine;
use crate::enrich::{Shared, searchable_text};
use crate::progress::Progress;
use crate::semantic::corpus::{self, EmbedReport};
use crate::store::{Skipped, Store};

/// Memory for each of tantivy's indexing threads. A segment is written
/// when its thread's buffers reach this, so it is large: 100,000 documents
/// (240 MB of text) fit in about half of it, and one segment needs no merge.
const WRITER_MEMORY_PER_THREAD: usize = 1024 * 1024 * 1024;

/// What an `index` or `reindex` did.
#[derive(Debug, Default)]
pub struct Report {
    pub generation: String,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Corpus records that could not be read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Documents in the index afterwards.
    pub documents: u64,
    /// What embedding the passages did (absent without a model).
    pub embedding: Option<EmbedReport>,
    /// Stories of two or more versions and groups of translations
    /// (`versions.rs`, `languages.rs`).
    pub versions: Option<super::versions::Found>,
}

/// Korean text only (everything else blanked), for the Korean view of a
/// document in another language.
fn hangul_only(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_hangul(c) || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// A document's title and searchable text analysed for the view of its
/// language (in index mode), once, for the index and for enrichment.
pub struct Analysed {
    view: TextView,
    title: Vec<Term>,
    body: Vec<Term>,
}

impl Analysed {
    pub fn of(engine: &Engine, fields: &Fields, doc: &Document, lang: Option<&Lang>) -> Self {
        let view = fields.view(AnalyzerName::for_lang(lang.map_or("", |l| l.as_str())));
        Self {
            view,
            title: analyse(engine, view.analyzer, &doc.title),
            body: analyse(engine, view.analyzer, &searchable_text(doc)),
        }
    }

    /// The analysis, for enrichment to reuse.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            analyzer: self.view.analyzer,
            title: &self.title,
            body: &self.body,
        }
    }
}

/// Terms of `text` by one analyzer (none if it is not loaded).
pub(crate) fn analyse(engine: &Engine, analyzer: AnalyzerName, text: &str) -> Vec<Term> {
    match engine.analyzers.get(analyzer) {
        Ok(a) => a.analyze(text, Mode::Index),
        Err(_) => Vec::new(),
    }
}

/// The tantivy document of an enriched document, given the analysis of its
/// text for the view of its language. `hash` is the content hash of the
/// document as stored in the corpus. Every text field gets terms analysed
/// here, on the caller's thread ([`terms`]).
pub fn to_tantivy(
    engine: &Engine,
    fields: &Fields,
    doc: &Document,
    analysed: Analysed,
    hash: &str,
) -> TantivyDocument {
    let mut t = TantivyDocument::default();
    t.add_text(fields.id, &doc.id);
    t.add_text(fields.hash, hash);
    t.add_text(fields.doc, serde_json::to_string(doc).unwrap_or_default());
    let body = searchable_text(doc);
    let lang = doc.lang.as_ref().map(|l| l.as_str()).unwrap_or("");
    // The body field holds the title too, so that one field's statistics
    // rank a document; the title field adds a boost on top.
    let full = format!("{}\n\n{}", doc.title, body);
    let all = analyse(engine, fields.all.analyzer, &full);
    t.add_text(fields.all.body, terms::encode(all.iter().map(terms::pair)));
    let Analysed {
        view,
        title,
        body: body_terms,
    } = analysed;
    if engine.ranking.same_story > 0.0
        && let Some(signature) = super::versions::signature(&title, &body_terms)
    {
        t.add_bytes(fields.versions, &signature);
    }
    t.add_text(view.title, terms::encode(title.iter().map(terms::pair)));
    // The body's terms follow the title's, as if `full` were analysed.
    let next = title.iter().map(|t| t.position + 1).max().unwrap_or(0);
    let shifted = body_terms
        .iter()
        .map(|t| (t.text.as_str(), t.position + next));
    t.add_text(
        view.body,
        terms::encode(title.iter().map(terms::pair).chain(shifted)),
    );
    // Korean names and terms quoted in a document in another language.
    let has_hangul = doc.title.chars().any(is_hangul) || body.chars().any(is_hangul);
    if has_hangul && lang != "ko" {
        for (field, text) in [
            (fields.ko.title, doc.title.as_str()),
            (fields.ko.body, &body),
        ] {
            let korean = analyse(engine, fields.ko.analyzer, &hangul_only(text));
            t.add_text(field, terms::encode(korean.iter().map(terms::pair)));
        }
    }
    for c in &doc.countries {
        t.add_text(fields.countries, c);
    }
    for topic in &doc.topics {
        t.add_text(fields.topics, topic);
    }
    t.add_text(fields.doc_type, doc.doc_type.as_str());
    if !lang.is_empty() {
        t.add_text(fields.lang, lang);
    }
    if let Some(e) = &doc.event {
        t.add_text(fields.event, e);
    }
    t.add_text(fields.source, &doc.source);
    if let Some(p) = &doc.parent {
        t.add_text(fields.parent, p);
    }
    if let Some(d) = doc.published {
        use chrono::Datelike;
        t.add_u64(fields.year, d.year().max(0) as u64);
        t.add_u64(
            fields.day,
            (d.year().max(0) as u64) * 10_000 + u64::from(d.month()) * 100 + u64::from(d.day()),
        );
    }
    t
}

/// Open a generation's tantivy index with its tokenizer registered.
pub fn open_generation(path: &std::path::Path) -> Result<(Index, Fields), IndexError> {
    let index = Index::open_in_dir(path).map_err(tv(path))?;
    let fields = Fields::of(&index.schema()).map_err(tv(path))?;
    index
        .tokenizers()
        .register(terms::TOKENIZER, terms::TermsTokenizer::default());
    Ok((index, fields))
}

/// Bytes of stored documents compressed together (tantivy's default is
/// 16 KiB, about four of our documents).
const DOCSTORE_BLOCK_BYTES: usize = 4096;

fn create_generation(path: &std::path::Path) -> Result<(Index, Fields), IndexError> {
    std::fs::create_dir_all(path).map_err(io(path))?;
    let (schema, _) = schema::build();
    // Small document-store blocks: a search reads about ten stored
    // documents at random, and each read decompresses its whole block.
    let settings = tantivy::IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..Default::default()
    };
    Index::builder()
        .schema(schema)
        .settings(settings)
        .create_in_dir(path)
        .map_err(tv(path))?;
    open_generation(path)
}

/// Threads that read, analyse and enrich documents: every core.
fn analysis_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// tantivy's indexing threads. Analysis happens before tantivy, on every
/// core ([`add_all`]); what is left to tantivy (its postings) is about two
/// fifths of the work, so one indexing thread keeps up with two or three
/// cores of analysis. Each thread writes a segment of its own, and more
/// segments cost a merge at the end (on two cores, a reindex of 100,000
/// documents took 42 s with two threads, 35 s with one: BENCHMARKS.md).
fn writer(index: &Index, path: &std::path::Path) -> Result<IndexWriter, IndexError> {
    let threads = (analysis_threads() / 3).max(1);
    index
        .writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)
        .map_err(tv(path))
}

/// Records read, enriched and analysed together, on every core, before
/// they go to tantivy in corpus order. So a reindex of the same corpus
/// gives the same index, documents in the same order: hits with equal
/// scores (or, sorted by date, of the same day) come in the same order
/// after every reindex.
const BATCH: usize = 512;

/// Read, enrich, analyse and add the documents of these corpus records,
/// in their order. Returns the records that could not be read.
fn add_all(
    engine: &Engine,
    store: &Store,
    writer: &IndexWriter,
    fields: &Fields,
    records: &[PathBuf],
    progress: &dyn Progress,
) -> Result<Vec<Skipped>, tantivy::TantivyError> {
    let mut skipped = Vec::new();
    for batch in records.chunks(BATCH) {
        let next = AtomicUsize::new(0);
        let mut prepared: Vec<(usize, Result<TantivyDocument, Skipped>)> =
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..analysis_threads().min(batch.len()))
                    .map(|_| {
                        s.spawn(|| {
                            let mut out = Vec::new();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(path) = batch.get(i) else { break };
                                out.push((i, prepare(engine, store, fields, path)));
                                progress.advance(1);
                            }
                            out
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            });
        prepared.sort_unstable_by_key(|(i, _)| *i);
        for (_, doc) in prepared {
            match doc {
                Ok(doc) => {
                    writer.add_document(doc)?;
                }
                Err(s) => skipped.push(s),
            }
        }
    }
    Ok(skipped)
}

/// One corpus record as a tantivy document: read, language detected,
/// analysed once for its own view (for enrichment and the index),
/// enriched, and analysed for the other views.
fn prepare(
    engine: &Engine,
    store: &Store,
    fields: &Fields,
    path: &std::path::Path,
) -> Result<TantivyDocument, Skipped> {
    let mut doc = store.read(path)?;
    // The hash of the record as stored, before enrichment.
    let hash = doc.content_hash();
    doc.lang = engine.enricher.language(&doc);
    let analysed = Analysed::of(engine, fields, &doc, doc.lang.as_ref());
    let enriched = engine.enricher.enrich_with(&doc, Some(analysed.shared()));
    Ok(to_tantivy(engine, fields, &enriched, analysed, &hash))
}

/// The (id, content hash) of every live document of an index.
fn indexed_hashes(index: &Index) -> tantivy::Result<HashMap<String, String>> {
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let mut out = HashMap::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(ids), Some(hashes)) = (fast.str("id")?, fast.str("hash")?) else {
            continue;
        };
        let alive = segment.alive_bitset();
        let (mut id, mut hash) = (String::new(), String::new());
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let (Some(i), Some(h)) = (ids.term_ords(doc).next(), hashes.term_ords(doc).next())
            else {
                continue;
            };
            if ids.ord_to_str(i, &mut id)? && hashes.ord_to_str(h, &mut hash)? {
                out.insert(id.clone(), hash.clone());
            }
        }
    }
    Ok(out)
}

fn now() -> String {
    // Milliseconds: the server tells two updates apart by this.
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn count(index: &Index, path: &std::path::Path) -> Result<u64, IndexError> {
    let reader = index.reader().map_err(tv(path))?;
    reader.reload().map_err(tv(path))?;
    Ok(reader.searcher().num_docs())
}

/// The records of the corpus that are new or changed since the index
/// `existing` (id → content hash) was built (their paths, and which are
/// new), counted in `report`; the changed and deleted documents' old
/// versions deleted through `writer`.
fn changes(
    store: &Store,
    existing: &std::collections::HashMap<String, String>,
    (writer, fields): (&tantivy::IndexWriter, &Fields),
    report: &mut Report,
    progress: &dyn Progress,
) -> (Vec<PathBuf>, std::collections::HashSet<PathBuf>) {
    // The corpus is read one record at a time: only what changed is kept
    // (as the path of its record, read again to index it).
    let paths = store.record_paths();
    progress.begin("reading the corpus", Some(paths.len() as u64));
    let mut changed = Vec::new();
    let mut new = std::collections::HashSet::new();
    let mut in_corpus = std::collections::HashSet::new();
    for record in paths {
        progress.advance(1);
        let doc = match store.read(&record) {
            Ok(doc) => doc,
            Err(s) => {
                report.skipped.push(s);
                continue;
            }
        };
        match existing.get(&doc.id) {
            Some(h) if *h == doc.content_hash() => report.unchanged += 1,
            Some(_) => {
                writer.delete_term(tantivy::Term::from_field_text(fields.id, &doc.id));
                report.updated += 1;
                changed.push(record);
            }
            None => {
                report.added += 1;
                new.insert(record.clone());
                changed.push(record);
            }
        }
        in_corpus.insert(doc.id);
    }
    for id in existing.keys() {
        if !in_corpus.contains(id.as_str()) {
            writer.delete_term(tantivy::Term::from_field_text(fields.id, id));
            report.deleted += 1;
        }
    }
    (changed, new)
}

/// Bring the index up to date with the corpus: add new documents, replace
/// changed ones (by content hash), delete those that left the corpus. With
/// no index yet, this builds the first generation.
pub fn update(
    dir: &IndexDir,
    store: &Store,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Report, IndexError> {
    let _lock = dir.lock()?;
    let analysis = super::fingerprint(engine);
    if dir.current().is_none() {
        drop(_lock);
        return rebuild(dir, store, engine, progress);
    }
    let (generation, meta) = dir.in_service(&analysis)?;
    let path = dir.path_of(&generation);
    let (index, fields) = open_generation(&path)?;
    let existing = indexed_hashes(&index).map_err(tv(&path))?;
    // The corpus is read one record at a time: only what changed is kept
    // (as the path of its record, read again to index it).
    let mut report = Report {
        generation: generation.clone(),
        ..Report::default()
    };
    let writer = writer(&index, &path)?;
    let (changed, new) = changes(store, &existing, (&writer, &fields), &mut report, progress);
    progress.begin("indexing", Some(changed.len() as u64));
    let unread = add_all(engine, store, &writer, &fields, &changed, progress).map_err(tv(&path))?;
    // A record that became unreadable since it was compared is skipped.
    for s in &unread {
        let count = if new.contains(&s.path) {
            &mut report.added
        } else {
            &mut report.updated
        };
        *count = count.saturating_sub(1);
    }
    report.skipped.extend(unread);
    // Nothing to write, the vectors of the last commit and of this model:
    // the generation stays as it is, stamp included (a server has nothing
    // to reopen; cutting 100,000 documents into passages again takes
    // minutes).
    if changed.is_empty() && report.deleted == 0 {
        drop(writer);
        report.documents = count(&index, &path)?;
        if meta.committed == Some(opstamp(&index, &path)?) && vectors_current(&path, engine)? {
            return Ok(report);
        }
    } else {
        let mut writer = writer;
        writer.commit().map_err(tv(&path))?;
        writer.wait_merging_threads().map_err(tv(&path))?;
        report.documents = count(&index, &path)?;
    }
    report.embedding = embed(dir, &path, store, engine, progress)?;
    report.versions = Some(find_versions(&index, &path, engine, progress)?);
    dir.write_meta(&IndexMeta {
        generation,
        analysis,
        documents: report.documents,
        updated: now(),
        committed: Some(opstamp(&index, &path)?),
    })?;
    Ok(report)
}

/// The index's last commit.
fn opstamp(index: &Index, path: &std::path::Path) -> Result<u64, IndexError> {
    Ok(index.load_metas().map_err(tv(path))?.opstamp)
}

/// Whether the generation at `path` has the vectors of the engine's model
/// (or the engine has no model and the generation no vectors).
fn vectors_current(path: &std::path::Path, engine: &Engine) -> Result<bool, IndexError> {
    let header =
        crate::semantic::vectors::read_header(&path.join(crate::semantic::vectors::FILE_NAME))?;
    Ok(match (&engine.semantic, header) {
        (Some(semantic), Some(h)) => {
            h.model == semantic.vectors_name() && h.dim == semantic.model.dim()
        }
        (None, None) => true,
        _ => false,
    })
}

/// Build a new generation from the whole corpus, check that it holds every
/// document, then put it in service and delete the old ones.
pub fn rebuild(
    dir: &IndexDir,
    store: &Store,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Report, IndexError> {
    let _lock = dir.lock()?;
    let generation = dir.next_generation();
    let path = dir.path_of(&generation);
    let (index, fields) = create_generation(&path)?;
    let records = store.record_paths();
    progress.begin("indexing", Some(records.len() as u64));
    let result = (|| {
        let mut writer = writer(&index, &path)?;
        let skipped =
            add_all(engine, store, &writer, &fields, &records, progress).map_err(tv(&path))?;
        writer.commit().map_err(tv(&path))?;
        // One segment: a search pays per segment for term lookups, scorers
        // and facet bitsets (a new generation is written once, read often).
        let segments = index.searchable_segment_ids().map_err(tv(&path))?;
        if segments.len() > 1 {
            progress.begin("merging segments", None);
            writer.merge(&segments).wait().map_err(tv(&path))?;
        }
        writer.wait_merging_threads().map_err(tv(&path))?;
        let indexed = count(&index, &path)?;
        let expected = (records.len() - skipped.len()) as u64;
        if indexed != expected {
            return Err(IndexError::Check { indexed, expected });
        }
        Ok((indexed, skipped))
    })();
    let result = result.and_then(|(documents, skipped)| {
        let embedding = embed(dir, &path, store, engine, progress)?;
        let versions = find_versions(&index, &path, engine, progress)?;
        Ok((documents, skipped, versions, embedding))
    });
    let result = result.and_then(|(documents, skipped, versions, embedding)| {
        Ok((
            documents,
            skipped,
            versions,
            embedding,
            opstamp(&index, &path)?,
        ))
    });
    let (documents, skipped, versions, embedding, committed) = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&path);
            return Err(e);
        }
    };
    dir.write_meta(&IndexMeta {
        generation: generation.clone(),
        analysis: super::fingerprint(engine),
        documents,
        updated: now(),
        committed: Some(committed),
    })?;
    dir.set_current(&generation)?;
    dir.prune(&generation);
    Ok(Report {
        generation,
        added: documents as usize,
        skipped,
        documents,
        embedding,
        versions: Some(versions),
        ..Report::default()
    })
}

/// Find the committed generation's stories of several versions and its
/// translations (from its vectors, when it has them) and write them beside
/// its index.
fn find_versions(
    index: &Index,
    path: &std::path::Path,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<super::versions::Found, IndexError> {
    progress.begin("finding versions and translations", None);
    let reader = index.reader().map_err(tv(path))?;
    reader.reload().map_err(tv(path))?;
    super::versions::write(&reader.searcher(), path, &engine.ranking)
}

/// The embedding cache, beside the generations.
pub const EMBEDDING_CACHE: &str = "embeddings.cache";

/// Embed the corpus's passages into the generation at `path` when the
/// engine has a model (vectors come from the cache where they can).
fn embed(
    dir: &IndexDir,
    path: &std::path::Path,
    store: &Store,
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Option<EmbedReport>, IndexError> {
    let Some(semantic) = &engine.semantic else {
        return Ok(None);
    };
    let cache = dir.root().join(EMBEDDING_CACHE);
    Ok(Some(corpus::embed_corpus(
        semantic, store, path, &cache, progress,
    )?))
}
