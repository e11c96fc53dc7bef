//! Pushing the corpus into a SolrCloud collection: every document
//! enriched as the embedded index enriches it, in batches; what the
//! collection already holds unchanged (by a hash stored with each
//! document) is not sent again, and what the corpus no longer has is
//! deleted. The collection itself is the state, so a sync killed at any
//! moment is resumed by running it again: nothing is lost or doubled (the
//! id is the collection's unique key).
//!
//! When the collection has a vector field and a model is given
//! ([`Vectors`]), each document goes with its passages (`kind:passage`,
//! `id` = the document's id, `#`, the passage's place): the text and page
//! of each, its vector, and the document's facet fields, so that a search
//! by meaning can filter as one by words. The vectors come from the
//! index's cache (what `egovkb index` embedded); a passage it lacks is
//! embedded here. A document sent again has its old passages deleted
//! first.

use std::collections::HashMap;

use chrono::Datelike;
use serde_json::{Value, json};

use super::client::{Solr, SolrError};
use super::configset::fingerprint;
use crate::document::Document;
use crate::enrich::Enricher;
use crate::progress::{Progress, Quiet};
use crate::semantic::passages::{self, Passage};
use crate::semantic::vectors::{self, Cache};
use crate::semantic::{Semantic, corpus};
use crate::store::Store;

/// The model and the index's cache of passage vectors, for a collection
/// with a vector field.
pub struct Vectors<'a> {
    pub semantic: &'a Semantic,
    pub cache: Cache,
}

/// The facet fields a passage carries from its document.
const PASSAGE_FACETS: [&str; 6] = ["lang", "year", "country", "topic", "doc_type", "event"];

/// Whether `collection` has a field for passage vectors.
pub fn takes_vectors(solr: &Solr, collection: &str) -> Result<bool, SolrError> {
    match solr.get(&format!("{collection}/schema/fields/vector"), &[]) {
        Ok(_) => Ok(true),
        Err(SolrError::Refused { status: 404, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The passages of `doc` (as [`to_solr`] made it: `solr`) that the cache
/// has vectors for, as the collection holds them.
pub fn passage_docs(
    doc: &Document,
    solr: &Value,
    passages: &[Passage],
    semantic: &Semantic,
    cache: &Cache,
) -> Vec<Value> {
    passages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let v = cache.get(&vectors::key(&semantic.name, &p.text))?;
            let vector: Vec<f32> = v.values.iter().map(|&x| f32::from(x) * v.scale).collect();
            let mut out = json!({
                "id": format!("{}#{i}", doc.id),
                "kind": "passage",
                "doc_id": doc.id,
                "passage": p.span.text(doc),
                "vector": vector,
            });
            if let Some(page) = p.span.page {
                out["page"] = json!(page);
            }
            for field in PASSAGE_FACETS {
                if let Some(value) = solr.get(field) {
                    out[field] = value.clone();
                }
            }
            Some(out)
        })
        .collect()
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Documents sent (new or changed).
    pub pushed: usize,
    /// Documents the collection already held as they are.
    pub unchanged: usize,
    /// Documents deleted from the collection: the corpus no longer has them.
    pub deleted: usize,
    /// (id, Solr's reason) for every document the collection refused.
    pub refused: Vec<(String, String)>,
    /// (record, reason) for corpus records that could not be read.
    pub unreadable: Vec<(String, String)>,
}

/// The view a language's text goes to.
pub(super) fn view(lang: Option<&str>) -> &'static str {
    crate::analysis::AnalyzerName::for_lang(lang.unwrap_or("")).as_str()
}

/// A document, enriched, as the collection holds it, with its hash.
pub fn to_solr(doc: &Document) -> Value {
    let v = view(doc.lang.as_ref().map(|l| l.as_str()));
    let mut out = json!({
        "id": doc.id,
        "kind": "document",
        "url": doc.url,
        "source": doc.source,
        "title": doc.title,
        "doc_type": doc.doc_type.as_str(),
        format!("title_{v}"): doc.title,
        format!("body_{v}"): doc.body,
    });
    let fields = [
        ("lang", doc.lang.as_ref().map(|l| json!(l.as_str()))),
        (
            "published",
            doc.published
                .map(|d| json!(format!("{}T00:00:00Z", d.format("%Y-%m-%d")))),
        ),
        ("year", doc.published.map(|d| json!(d.year()))),
        (
            "country",
            (!doc.countries.is_empty()).then(|| json!(doc.countries)),
        ),
        ("topic", (!doc.topics.is_empty()).then(|| json!(doc.topics))),
        ("event", doc.event.as_ref().map(|e| json!(e))),
        ("parent", doc.parent.as_ref().map(|p| json!(p))),
        ("file_name", doc.file_name.as_ref().map(|f| json!(f))),
        ("pages", (!doc.pages.is_empty()).then(|| json!(doc.pages))),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            out[name] = value;
        }
    }
    out["hash"] = json!(format!("{}:{}", fingerprint(), doc.content_hash()));
    out
}

/// Every document id the collection holds, with its hash.
pub fn held(solr: &Solr, collection: &str) -> Result<HashMap<String, String>, SolrError> {
    let mut out = HashMap::new();
    let mut cursor = "*".to_string();
    let path = format!("{collection}/select");
    loop {
        let page = solr.get(
            &path,
            &[
                ("q", "*:*"),
                ("fq", "kind:document"),
                ("fl", "id,hash"),
                ("sort", "id asc"),
                ("rows", "1000"),
                ("cursorMark", &cursor),
                ("defType", "lucene"),
            ],
        )?;
        for d in page["response"]["docs"].as_array().into_iter().flatten() {
            if let Some(id) = d["id"].as_str() {
                out.insert(id.to_string(), d["hash"].as_str().unwrap_or("").to_string());
            }
        }
        let next = page["nextCursorMark"]
            .as_str()
            .unwrap_or(&cursor)
            .to_string();
        if next == cursor {
            return Ok(out);
        }
        cursor = next;
    }
}

/// Send `docs`; a batch the collection refuses is cut in halves until the
/// documents it refuses are found, each reported with Solr's reason and
/// the others sent. Fails only when the cluster cannot be reached.
fn push(
    solr: &Solr,
    collection: &str,
    docs: &[(String, Value)],
    report: &mut SyncReport,
) -> Result<(), SolrError> {
    if docs.is_empty() {
        return Ok(());
    }
    let body: Vec<&Value> = docs.iter().map(|(_, d)| d).collect();
    let bytes = serde_json::to_vec(&body).map_err(|e| SolrError::BadAnswer(e.to_string()))?;
    match solr.post(
        &format!("{collection}/update"),
        &[],
        "application/json",
        &bytes,
    ) {
        Ok(_) => {
            // Documents, not their passages.
            report.pushed += docs.iter().filter(|(_, d)| d["kind"] != "passage").count();
            Ok(())
        }
        Err(e) if e.is_refusal() && docs.len() == 1 => {
            report.refused.push((docs[0].0.clone(), e.to_string()));
            Ok(())
        }
        Err(e) if e.is_refusal() => {
            let (a, b) = docs.split_at(docs.len() / 2);
            push(solr, collection, a, report)?;
            push(solr, collection, b, report)
        }
        Err(e) => Err(e),
    }
}

/// Send a JSON update command to `collection`.
fn update(solr: &Solr, collection: &str, command: &Value) -> Result<(), SolrError> {
    let body = serde_json::to_vec(command).map_err(|e| SolrError::BadAnswer(e.to_string()))?;
    solr.post(
        &format!("{collection}/update"),
        &[],
        "application/json",
        &body,
    )?;
    Ok(())
}

/// Delete the passages of the documents `ids` (a document sent again, or
/// one the corpus no longer has).
fn delete_passages(solr: &Solr, collection: &str, ids: &[String]) -> Result<(), SolrError> {
    for ids in ids.chunks(200) {
        let terms: Vec<String> = ids
            .iter()
            .map(|id| format!("\"{}\"", id.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let query = format!("kind:passage AND doc_id:({})", terms.join(" OR "));
        update(solr, collection, &json!({ "delete": { "query": query } }))?;
    }
    Ok(())
}

/// A batch of documents to send: each document with its passages.
#[derive(Default)]
struct Batch {
    docs: Vec<(Document, Value)>,
    bytes: usize,
}

impl Batch {
    /// Send the batch (the documents' old passages deleted first, the
    /// passages the cache lacks embedded) and empty it.
    fn flush(
        &mut self,
        solr: &Solr,
        collection: &str,
        vectors: Option<&mut Vectors<'_>>,
        report: &mut SyncReport,
    ) -> Result<(), SolrError> {
        let docs = std::mem::take(&mut self.docs);
        self.bytes = 0;
        let mut entries: Vec<(String, Value)> = Vec::new();
        if let Some(v) = vectors {
            let cut: Vec<(String, Vec<Passage>)> = docs
                .iter()
                .map(|(d, _)| (d.id.clone(), passages::cut(d, v.semantic.model.tokenizer())))
                .collect();
            corpus::embed_missing(v.semantic, &mut v.cache, &cut, &Quiet)
                .map_err(|e| SolrError::Vectors(e.to_string()))?;
            let ids: Vec<String> = docs.iter().map(|(d, _)| d.id.clone()).collect();
            delete_passages(solr, collection, &ids)?;
            for ((doc, value), (_, ps)) in docs.into_iter().zip(&cut) {
                for p in passage_docs(&doc, &value, ps, v.semantic, &v.cache) {
                    let id = p["id"].as_str().unwrap_or_default().to_string();
                    entries.push((id, p));
                }
                entries.push((doc.id, value));
            }
        } else {
            entries.extend(docs.into_iter().map(|(d, v)| (d.id, v)));
        }
        push(solr, collection, &entries, report)
    }
}

/// Bring `collection` in line with the corpus in `store`: push what is new
/// or changed in batches of `batch` (with their passages when `vectors`
/// is given), delete what the corpus lacks, commit.
pub fn sync(
    solr: &Solr,
    collection: &str,
    store: &Store,
    enricher: &Enricher,
    batch: usize,
    mut vectors: Option<Vectors<'_>>,
    progress: &dyn Progress,
) -> Result<SyncReport, SolrError> {
    let mut report = SyncReport::default();
    let mut remote = held(solr, collection)?;
    let paths = store.record_paths();
    progress.begin("syncing", Some(paths.len() as u64));
    let mut pending = Batch::default();
    // What the documents' hashes say of their passages.
    let with = vectors
        .as_ref()
        .map(|v| format!(";{}", v.semantic.vectors_name()))
        .unwrap_or_default();
    for path in paths {
        progress.advance(1);
        let doc = match store.read(&path) {
            Ok(d) => d,
            Err(s) => {
                report
                    .unreadable
                    .push((s.path.display().to_string(), s.reason));
                continue;
            }
        };
        let doc = enricher.enrich(&doc);
        let mut value = to_solr(&doc);
        let hash = format!("{}{with}", value["hash"].as_str().unwrap_or(""));
        if remote.remove(&doc.id).is_some_and(|h| h == hash) {
            report.unchanged += 1;
            continue;
        }
        value["hash"] = json!(hash);
        pending.bytes += value.to_string().len();
        if !with.is_empty() {
            // A passage of some 400 characters carries 4 KB of vector.
            pending.bytes += doc.body.len() * 10;
        }
        pending.docs.push((doc, value));
        // A batch ends at `batch` documents or some 8 MB of JSON.
        if pending.docs.len() >= batch.max(1) || pending.bytes > 8 << 20 {
            pending.flush(solr, collection, vectors.as_mut(), &mut report)?;
        }
    }
    pending.flush(solr, collection, vectors.as_mut(), &mut report)?;
    if let Some(v) = vectors.as_mut() {
        v.cache
            .save()
            .map_err(|e| SolrError::Vectors(e.to_string()))?;
    }
    // What is left of the collection's ids, the corpus no longer has.
    let gone: Vec<String> = remote.into_keys().collect();
    delete_passages(solr, collection, &gone)?;
    for ids in gone.chunks(500) {
        update(solr, collection, &json!({ "delete": ids }))?;
        report.deleted += ids.len();
    }
    solr.get(&format!("{collection}/update"), &[("commit", "true")])?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_goes_to_its_language_view_with_its_facets() {
        let mut d = Document::new("https://example.org/a", "local", "Registro civil");
        d.lang = crate::document::Lang::parse("es");
        d.body = "Paraguay modernizó su registro civil.".into();
        d.countries = vec!["PY".into()];
        d.published = chrono::NaiveDate::from_ymd_opt(2018, 6, 27);
        let v = to_solr(&d);
        assert_eq!(v["body_es"], "Paraguay modernizó su registro civil.");
        assert!(v.get("body_en").is_none());
        assert_eq!(v["country"], json!(["PY"]));
        assert_eq!(v["year"], 2018);
        assert_eq!(v["published"], "2018-06-27T00:00:00Z");
        assert!(v["hash"].as_str().unwrap().starts_with(fingerprint()));
        let mut other = d.clone();
        other.lang = crate::document::Lang::parse("pt");
        assert!(to_solr(&other).get("body_other").is_some());
        other.body.push('!');
        assert_ne!(to_solr(&other)["hash"], to_solr(&d)["hash"]);
    }
}
