//! egovkb against a real SolrCloud: three Solr 9.10.1 nodes on 127.0.0.1
//! with an embedded ZooKeeper (`tests/solrcloud/`, Solr's own test
//! framework, built with Maven the first time), a collection of 2 shards
//! × 2 replicas made from the configset egovkb writes. The bundled
//! knowledge base syncs into it with the embedded engine's facet counts
//! and nori's Korean analysis; a second sync sends nothing; an edited and
//! a removed document are pushed and deleted; a document the collection
//! refuses is reported and the others are kept; a configset the cluster
//! refuses and a cluster that is not there are clear errors. With the
//! model, passages and their vectors go with the documents, and Solr's k
//! nearest find them.
//!
//! Without Java or Maven the tests are skipped with a message, except
//! under EGOVKB_REQUIRE_SOLR=1 (as in CI), where that is a failure.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use egovkb::solr::client::Solr;
use serde_json::Value;

/// The running cluster: its nodes' base URLs, and its process (stopped
/// by `quit` on its standard input).
struct Cluster {
    nodes: Vec<String>,
    process: Mutex<(Child, ChildStdin)>,
}

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/solrcloud")
}

fn required() -> bool {
    std::env::var("EGOVKB_REQUIRE_SOLR").as_deref() == Ok("1")
}

/// Build the cluster's launcher with Maven if it is not built.
fn build() -> Result<(), String> {
    if project()
        .join("target/classes/egovkb/Cluster.class")
        .is_file()
        && project().join("target/lib").is_dir()
    {
        return Ok(());
    }
    let out = Command::new("mvn")
        .args(["-q", "-B", "package"])
        .current_dir(project())
        .output()
        .map_err(|e| format!("mvn: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mvn package failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The cluster shared by this file's tests, started once; `None` (the test
/// skipped) without Java or Maven, unless they are required.
fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| match start() {
            Ok(c) => Some(c),
            Err(e) if !required() => {
                eprintln!("SolrCloud tests skipped: {e}");
                None
            }
            Err(e) => panic!("no SolrCloud test cluster: {e}"),
        })
        .as_ref()
}

fn start() -> Result<Cluster, String> {
    build()?;
    let dir = project().join("target");
    let classpath = format!(
        "{}:{}/*",
        dir.join("classes").display(),
        dir.join("lib").display()
    );
    let mut child = Command::new("java")
        .args(["-Xmx1g", "-cp", &classpath, "egovkb.Cluster", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("java: {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut nodes = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(180))
            .map_err(|_| format!("the cluster did not start in 3 minutes: {nodes:?}"))?;
        if let Some(rest) = line.strip_prefix("node ") {
            let url = rest.split_whitespace().nth(1).ok_or("a node without URL")?;
            nodes.push(url.to_string());
        } else if line == "ready" {
            break;
        }
    }
    assert_eq!(nodes.len(), 3);
    for n in &nodes {
        assert!(n.starts_with("http://127.0.0.1:"), "{n}");
    }
    Ok(Cluster {
        nodes,
        process: Mutex::new((child, stdin)),
    })
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok((child, stdin)) = self.process.get_mut() {
            let _ = stdin.write_all(b"quit\n");
            let _ = child.wait();
        }
    }
}

fn egovkb(root: &Path, args: &[&str]) -> std::process::Output {
    egovkb_as(root, args, false)
}

/// `egovkb` with the embedding model (installed by the tests), or without.
fn egovkb_as(root: &Path, args: &[&str], model: bool) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    command
        .arg("--corpus")
        .arg(root.join("corpus"))
        .arg("--index")
        .arg(root.join("index"))
        .args(args)
        .env("EGOVKB_DICT_DIR", common::dict_root());
    if model {
        command.env("EGOVKB_MODEL_DIR", common::model_root());
    } else {
        command.env("EGOVKB_NO_MODEL", "1");
    }
    command.output().unwrap()
}

fn ok(out: std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// A corpus of the bundled knowledge base, imported and indexed.
fn knowledge_base() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    std::fs::create_dir_all(dir.path().join("corpus")).unwrap();
    std::fs::copy(
        bundled.join("events.toml"),
        dir.path().join("corpus/events.toml"),
    )
    .unwrap();
    let originals = bundled.join("originals");
    ok(egovkb(
        dir.path(),
        &["import", &originals.to_string_lossy()],
    ));
    ok(egovkb(dir.path(), &["index"]));
    dir
}

fn select(solr: &Solr, collection: &str, query: &[(&str, &str)]) -> Value {
    solr.get(&format!("{collection}/select"), query).unwrap()
}

/// (value, count) of a facet as Solr counts it, zero counts left out.
fn solr_facet(solr: &Solr, collection: &str, field: &str) -> Vec<(String, u64)> {
    let r = select(
        solr,
        collection,
        &[
            ("q", "*:*"),
            ("rows", "0"),
            ("facet", "true"),
            ("facet.field", field),
            ("facet.limit", "-1"),
            ("facet.mincount", "1"),
        ],
    );
    let flat = r["facet_counts"]["facet_fields"][field]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<(String, u64)> = flat
        .chunks(2)
        .map(|p| {
            let value = match &p[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (value, p[1].as_u64().unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_knowledge_base_syncs_with_the_embedded_engine_counts() {
    let Some(cluster) = cluster() else { return };
    let nodes = &cluster.nodes;
    let kb = knowledge_base();
    let url = &nodes[1];
    let text = ok(egovkb(
        kb.path(),
        &[
            "solr",
            "upload",
            url,
            "--collection",
            "kb",
            "--shards",
            "2",
            "--replicas",
            "2",
        ],
    ));
    assert!(text.contains("2 shards × 2 replicas"), "{text}");
    let solr = Solr::new(url).unwrap();
    let status = solr
        .get(
            "admin/collections",
            &[("action", "CLUSTERSTATUS"), ("collection", "kb")],
        )
        .unwrap();
    let shards = status["cluster"]["collections"]["kb"]["shards"]
        .as_object()
        .unwrap();
    assert_eq!(shards.len(), 2);
    for (_, shard) in shards {
        assert_eq!(shard["replicas"].as_object().unwrap().len(), 2);
    }

    let text = ok(egovkb(
        kb.path(),
        &["solr", "sync", url, "--collection", "kb"],
    ));
    let stats: Value = serde_json::from_str(&ok(egovkb(kb.path(), &["stats", "--json"]))).unwrap();
    let total = stats["documents"].as_u64().unwrap();
    assert!(
        text.contains(&format!(
            "kb: {total} pushed, 0 unchanged, 0 deleted, 0 refused"
        )),
        "{text}"
    );
    // Every node answers for the whole collection.
    for node in nodes {
        let r = select(
            &Solr::new(node).unwrap(),
            "kb",
            &[("q", "*:*"), ("rows", "0")],
        );
        assert_eq!(r["response"]["numFound"].as_u64(), Some(total), "{node}");
    }
    // The facets count as the embedded engine counts.
    for facet in ["country", "topic", "lang", "doc_type", "event", "year"] {
        let mut embedded = common::facet_counts(&stats, facet);
        embedded.sort();
        assert_eq!(solr_facet(&solr, "kb", facet), embedded, "{facet}");
    }
    // Korean through nori: 주민등록 (resident registration) inside
    // compounds such as 주민등록증 finds the Korean notices about it.
    let r = select(
        &solr,
        "kb",
        &[
            ("q", "주민등록"),
            ("qf", "title_ko body_ko"),
            ("fl", "id,title,lang"),
        ],
    );
    let docs = r["response"]["docs"].as_array().unwrap();
    assert!(docs.len() >= 2, "{r}");
    assert!(docs.iter().all(|d| d["lang"] == "ko"), "{r}");
    // Spanish with its accents folded and ñ kept: "tramites" finds
    // "trámites".
    let r = select(
        &solr,
        "kb",
        &[("q", "tramites"), ("qf", "body_es"), ("rows", "0")],
    );
    assert!(r["response"]["numFound"].as_u64().unwrap() > 0, "{r}");

    // Nothing changed: nothing sent.
    let text = ok(egovkb(
        kb.path(),
        &["solr", "sync", url, "--collection", "kb"],
    ));
    assert!(
        text.contains(&format!("kb: 0 pushed, {total} unchanged, 0 deleted")),
        "{text}"
    );
    // One document edited, one removed: one sent, one deleted.
    let store = egovkb::store::Store::open(&kb.path().join("corpus")).unwrap();
    let (mut docs, _) = store.load_all();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut edited = docs[0].clone();
    edited.title.push_str(" (revised)");
    store.put(&edited).unwrap();
    store.remove(&docs[1].id).unwrap();
    let text = ok(egovkb(
        kb.path(),
        &["solr", "sync", url, "--collection", "kb"],
    ));
    assert!(
        text.contains(&format!("kb: 1 pushed, {} unchanged, 1 deleted", total - 2)),
        "{text}"
    );
    let r = select(
        &solr,
        "kb",
        &[
            ("q", &format!("id:{}", edited.id)),
            ("defType", "lucene"),
            ("fl", "title"),
        ],
    );
    assert_eq!(r["response"]["docs"][0]["title"], edited.title.as_str());
    let r = select(&solr, "kb", &[("q", "*:*"), ("rows", "0")]);
    assert_eq!(r["response"]["numFound"].as_u64(), Some(total - 1));

    // A document the collection refuses (an event name over Lucene's
    // largest term) is reported with Solr's reason; the others go in.
    let mut huge = docs[2].clone();
    huge.id = "huge-event".into();
    huge.url = "https://example.org/huge".into();
    huge.event = Some("x".repeat(40_000));
    store.put(&huge).unwrap();
    let mut fine = docs[3].clone();
    fine.id = "fine-neighbour".into();
    fine.url = "https://example.org/fine".into();
    store.put(&fine).unwrap();
    let out = egovkb(kb.path(), &["solr", "sync", url, "--collection", "kb"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("refused huge-event: Solr refused (400)"),
        "{text}"
    );
    assert!(text.contains("immense term"), "{text}");
    assert!(text.contains("kb: 1 pushed"), "{text}");
    let r = select(
        &solr,
        "kb",
        &[
            ("q", "id:fine-neighbour"),
            ("defType", "lucene"),
            ("rows", "0"),
        ],
    );
    assert_eq!(r["response"]["numFound"].as_u64(), Some(1));
}

/// A configset the cluster refuses, and a cluster that is not there, are
/// errors that say so.
#[test]
fn refusals_and_absences_are_clear_errors() {
    let Some(cluster) = cluster() else { return };
    let solr = Solr::new(&cluster.nodes[1]).unwrap();
    // A schema whose analyzer names a file the configset does not have.
    let mut files = egovkb::solr::configset::files(None).unwrap();
    files.retain(|f| f.path != "lang/stopwords_es.txt");
    solr.upload_configset("broken", &egovkb::solr::configset::zip(&files).unwrap())
        .unwrap();
    let err = solr
        .create_or_reload("broken", "broken", 1, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "Solr refused (400): Underlying core creation failed while creating collection: broken"
        ),
        "{err}"
    );
    assert!(err.contains("analysis-extras"), "{err}");
    // Nothing of it is left: a rerun starts clean.
    assert!(!solr.has_collection("broken").unwrap());

    let mut absent = Solr::new("http://127.0.0.1:9/solr").unwrap();
    absent.retries = 1;
    absent.backoff = Duration::from_millis(10);
    let err = absent.has_collection("kb").unwrap_err().to_string();
    assert!(
        err.starts_with("Solr at http://127.0.0.1:9/solr/admin/collections is unreachable"),
        "{err}"
    );
    assert!(Solr::new("127.0.0.1:8983").is_err());
}

/// The passages the collection holds: (document, text), in order.
fn passages(solr: &Solr, collection: &str) -> Vec<(String, String)> {
    let r = select(
        solr,
        collection,
        &[
            ("q", "kind:passage"),
            ("fl", "doc_id,passage"),
            ("rows", "100"),
            ("sort", "id asc"),
        ],
    );
    r["response"]["docs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let field = |f: &str| d[f].as_str().unwrap_or_default().to_string();
            (field("doc_id"), field("passage"))
        })
        .collect()
}

/// With the model, each document goes with its passages and their
/// vectors: Solr's nearest passages to a Spanish question are the English
/// document's that answers it; a second sync sends nothing and doubles no
/// passage; an edited document has its passages replaced.
#[test]
fn passages_and_their_vectors_sync_with_the_model() {
    let Some(cluster) = cluster() else { return };
    let url = &cluster.nodes[0];
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(&dir.path().join("corpus")).unwrap();
    let doc = |id: &str, title: &str, body: &str| {
        common::doc(
            id,
            egovkb::Lang::en(),
            egovkb::DocType::Notice,
            "2021-02-01",
            title,
            body,
        )
    };
    let library = "The central library opens on Sundays from ten in the morning until two \
                   in the afternoon. Books can be borrowed for three weeks.";
    let docs = [
        doc("library", "Opening hours of the central library", library),
        doc(
            "bridge",
            "Works on the river bridge",
            "The old steel bridge over the river \
             will be closed to cars for six months while engineers replace its supports.",
        ),
        doc(
            "storm",
            "Warning of heavy rain",
            "Forecasters expect heavy rain and strong \
             winds tonight. Residents near the coast should secure loose objects.",
        ),
    ];
    for d in &docs {
        store.put(d).unwrap();
    }
    let upload = [
        "solr",
        "upload",
        url,
        "--collection",
        "vec",
        "--shards",
        "2",
        "--replicas",
        "1",
    ];
    ok(egovkb_as(dir.path(), &upload, true));
    let sync = ["solr", "sync", url, "--collection", "vec"];
    let text = ok(egovkb_as(dir.path(), &sync, true));
    assert!(
        text.contains("passages and their vectors go with the documents"),
        "{text}"
    );
    assert!(text.contains("3 pushed"), "{text}");
    let solr = Solr::new(url).unwrap();
    let held = passages(&solr, "vec");
    let ids: Vec<&str> = held.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(ids, ["bridge", "library", "storm"], "one passage each");
    assert!(
        held[1]
            .1
            .starts_with("The central library opens on Sundays"),
        "{held:?}"
    );
    // The documents alone are what a search by words counts.
    let documents = select(&solr, "vec", &[("q", "kind:document"), ("rows", "0")]);
    assert_eq!(documents["response"]["numFound"], 3);

    // Solr's nearest passage to a question in Spanish.
    let semantic = common::semantic();
    let q = semantic.model.embed(
        "¿A qué hora abre la biblioteca los domingos?",
        egovkb::semantic::Kind::Query,
    );
    let v: Vec<String> = q.iter().map(|x| x.to_string()).collect();
    let knn = format!("{{!knn f=vector topK=3}}[{}]", v.join(","));
    let r = select(
        &solr,
        "vec",
        &[
            ("q", &knn),
            ("defType", "lucene"),
            ("fq", "kind:passage"),
            ("fl", "doc_id"),
        ],
    );
    assert_eq!(r["response"]["docs"][0]["doc_id"], "library", "{r}");
    hybrid_search_over_the_cluster(dir.path(), url);

    // Again: nothing sent, nothing doubled.
    let text = ok(egovkb_as(dir.path(), &sync, true));
    assert!(text.contains("0 pushed, 3 unchanged"), "{text}");
    assert_eq!(passages(&solr, "vec"), held);
    // An edited document: its old passage deleted, the new one sent.
    let mut edited = docs[0].clone();
    edited.body = "The central library now also opens on Saturday mornings.".into();
    store.put(&edited).unwrap();
    let text = ok(egovkb_as(dir.path(), &sync, true));
    assert!(text.contains("1 pushed, 2 unchanged"), "{text}");
    let now = passages(&solr, "vec");
    assert_eq!(now.len(), 3);
    assert!(now[1].1.contains("Saturday"), "{now:?}");
    // A document the corpus no longer has: its passages go with it.
    assert!(store.remove("storm").unwrap());
    let text = ok(egovkb_as(dir.path(), &sync, true));
    assert!(text.contains("1 deleted"), "{text}");
    let ids: Vec<String> = passages(&solr, "vec").into_iter().map(|p| p.0).collect();
    assert_eq!(ids, ["bridge", "library"]);
}

/// `serve --solr` with the model: a Spanish question no word of which is
/// in the English documents finds the one that answers it by meaning,
/// with its passage as the snippet; by words alone it finds nothing.
fn hybrid_search_over_the_cluster(root: &Path, url: &str) {
    let (_server, addr) = serve_as(root, &["--solr", url, "--collection", "vec"], true);
    let (status, health) = api(addr, "/healthz");
    assert_eq!(status, 200);
    assert_eq!(health["semantic"]["available"], true, "{health}");
    let q = "%C2%BFA%20qu%C3%A9%20hora%20abre%20la%20biblioteca%20los%20domingos%3F";
    let (status, r) = api(addr, &format!("/api/search?q={q}"));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["interpreted"]["mode"], "hybrid", "{r}");
    assert_eq!(r["hits"][0]["id"], "library", "{r}");
    let snippet = r["hits"][0]["snippet"].to_string();
    assert!(snippet.contains("opens on Sundays"), "{snippet}");
    assert_eq!(
        r["total"],
        r["hits"].as_array().map_or(0, |h| h.len()),
        "{r}"
    );
    let doc_type = &r["facets"]["doc_type"];
    assert!(doc_type.to_string().contains("notice"), "{doc_type}");
    // A filter holds for what meaning finds.
    let (_, r) = api(addr, &format!("/api/search?q={q}&year=2000..2010"));
    assert_eq!(r["total"], 0, "{r}");
    let (_, r) = api(addr, &format!("/api/search?q={q}&mode=semantic"));
    assert_eq!(r["hits"][0]["id"], "library", "{r}");
    let (_, r) = api(addr, &format!("/api/search?q={q}&mode=lexical"));
    assert_eq!(r["interpreted"]["mode"], "lexical", "{r}");
    assert!(
        r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["id"] != "library"),
        "{r}"
    );
    relevance_over_the_cluster(root, url, q);
}

/// With the counting rules on (`core::relevance`), the cluster counts
/// what the embedded engine counts: the Spanish question its English
/// document, by meaning; by words, a document needs enough of the
/// query's rarer words; an off-topic question the same total.
fn relevance_over_the_cluster(root: &Path, url: &str, q: &str) {
    let rules = Some("min_coverage=0.5,meaning_bar=1");
    let (_cluster, solr) = serve_with(root, &["--solr", url, "--collection", "vec"], true, rules);
    let (_embedded, local) = serve_with(root, &[], true, rules);
    let (_, r) = api(solr, &format!("/api/search?q={q}"));
    assert_eq!(r["hits"][0]["id"], "library", "{r}");
    let by = r["hits"][0]["matched"]["by"].as_str().unwrap_or_default();
    assert!(["meaning", "both"].contains(&by), "{r}");
    // Two of the query's three rare words count the notice; one does not.
    let (_, r) = api(
        solr,
        "/api/search?q=borrowed%20afternoon%20astronaut&mode=lexical",
    );
    assert_eq!(ids(&r), ["library"], "{r}");
    assert_eq!(r["hits"][0]["matched"]["by"], "words", "{r}");
    let (_, r) = api(
        solr,
        "/api/search?q=borrowed%20trophy%20astronaut&mode=lexical",
    );
    assert_eq!(r["total"], 0, "{r}");
    // Random letters are not searched by meaning, over the cluster as
    // in the engine.
    let (_, r) = api(solr, "/api/search?q=zzzxqq%20blorf");
    assert_eq!(r["interpreted"]["mode"], "lexical", "{r}");
    assert_eq!(r["total"], 0, "{r}");
    for path in [
        format!("/api/search?q={q}"),
        "/api/search?q=borrowed%20afternoon%20astronaut&mode=lexical".to_string(),
        "/api/search?q=borrowed%20trophy%20astronaut".to_string(),
        "/api/search?q=What%20year%20did%20the%20Denver%20Broncos%20win%20the%20Super%20Bowl%3F"
            .to_string(),
    ] {
        let (_, a) = api(local, &path);
        let (_, b) = api(solr, &path);
        assert_eq!(a["total"], b["total"], "{path}: {a} / {b}");
        assert_eq!(ids(&a), ids(&b), "{path}");
    }
}

#[path = "../benches/support/corpus.rs"]
#[allow(dead_code)]
mod generated;

/// 10,000 generated documents: a sync killed with SIGKILL midway is
/// resumed by running it again, and the collection ends with every
/// document once.
#[test]
fn a_sync_killed_midway_resumes_without_losses_or_doubles() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(&dir.path().join("corpus")).unwrap();
    let docs = generated::generate(10_000);
    for d in &docs {
        store.put(d).unwrap();
    }
    let url = &cluster.nodes[2];
    ok(egovkb(
        dir.path(),
        &[
            "solr",
            "upload",
            url,
            "--collection",
            "gen",
            "--shards",
            "2",
            "--replicas",
            "2",
        ],
    ));
    let solr = Solr::new(url).unwrap();
    let count = || {
        select(&solr, "gen", &[("q", "*:*"), ("rows", "0")])["response"]["numFound"]
            .as_u64()
            .unwrap_or(0)
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(dir.path().join("corpus"))
        .args(["solr", "sync", url, "--collection", "gen", "--batch", "100"])
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_NO_MODEL", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some documents are visible (soft commits every 2 s).
    let started = std::time::Instant::now();
    while count() < 500 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "nothing synced"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let before = count();
    assert!(
        before < 10_000,
        "{before}: the sync finished before the kill"
    );

    let text = ok(egovkb(
        dir.path(),
        &["solr", "sync", url, "--collection", "gen"],
    ));
    let numbers: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    // "gen: P pushed, U unchanged, 0 deleted, 0 refused, 0 unreadable"
    assert_eq!(numbers[0] + numbers[1], 10_000, "{text}");
    assert!(
        numbers[1] >= before,
        "{text}: fewer unchanged than were there"
    );
    assert_eq!(&numbers[2..], [0, 0, 0], "{text}");
    assert_eq!(count(), 10_000);
    // Every language's documents once.
    let mut by_lang: Vec<(String, u64)> = ["en", "es", "ko"]
        .iter()
        .map(|l| {
            (
                l.to_string(),
                docs.iter()
                    .filter(|d| d.lang.as_ref().is_some_and(|x| x.as_str() == *l))
                    .count() as u64,
            )
        })
        .collect();
    by_lang.sort();
    assert_eq!(solr_facet(&solr, "gen", "lang"), by_lang);
}

/// `egovkb serve` on a free port (over the cluster with `extra` =
/// `["--solr", URL, …]`); the child and its address.
/// A server the test started, stopped when it goes out of scope (a test
/// that fails leaves none behind).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(root: &Path, extra: &[&str]) -> (Server, std::net::SocketAddr) {
    serve_as(root, extra, false)
}

/// `serve` with the embedding model (installed by the tests), or without.
fn serve_as(root: &Path, extra: &[&str], model: bool) -> (Server, std::net::SocketAddr) {
    serve_with(root, extra, model, None)
}

/// `serve`, with ranking weights of its own (`EGOVKB_RANKING`) when given.
fn serve_with(
    root: &Path,
    extra: &[&str],
    model: bool,
    ranking: Option<&str>,
) -> (Server, std::net::SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    if let Some(r) = ranking {
        command.env("EGOVKB_RANKING", r);
    }
    command
        .arg("--corpus")
        .arg(root.join("corpus"))
        .arg("--index")
        .arg(root.join("index"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_LOG", "warn");
    if model {
        command.env("EGOVKB_MODEL_DIR", common::model_root());
    } else {
        command.env("EGOVKB_NO_MODEL", "1");
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = common::stderr_lines(&mut child);
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("serve said nothing for 2 minutes");
        if let Some(a) = line.strip_prefix("serving on http://") {
            return (Server(child), a.trim().parse().unwrap());
        }
    }
}

fn api(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let (status, body) = common::http_get(addr, path);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A response's facets as (facet, value, count), sorted.
fn facet_counts(r: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for (facet, values) in r["facets"].as_object().unwrap() {
        for v in values.as_array().unwrap() {
            out.push((
                facet.clone(),
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            ));
        }
    }
    out.sort();
    out
}

use common::hit_ids as ids;

/// The same API and page over the cluster as over the embedded index:
/// browsing with filters gives the same documents and facet counts, a
/// search the same understanding and mostly the same top hits (the
/// rankings differ in their details), across languages; a node that
/// stops is a 503 for the requests it would answer, and its return ends
/// them.
#[test]
fn serve_over_the_cluster_answers_as_the_embedded_engine() {
    let Some(cluster) = cluster() else { return };
    let nodes = &cluster.nodes;
    let kb = knowledge_base();
    ok(egovkb(
        kb.path(),
        &[
            "solr",
            "upload",
            &nodes[1],
            "--collection",
            "served",
            "--shards",
            "2",
            "--replicas",
            "2",
        ],
    ));
    ok(egovkb(
        kb.path(),
        &["solr", "sync", &nodes[1], "--collection", "served"],
    ));
    let (embedded, local) = serve(kb.path(), &[]);
    let (over, remote) = serve(kb.path(), &["--solr", &nodes[0], "--collection", "served"]);

    for path in [
        "/api/search?limit=100",
        "/api/search?country=PY&limit=100",
        "/api/search?lang=ko&lang=es&year=2018..2019&limit=100",
        "/api/search?type=presentation&country=PY&country=BO&limit=100",
        "/api/search?event=2018-06-advanced-egov-course&ui_lang=es&limit=100",
    ] {
        let (s1, a) = api(local, path);
        let (s2, b) = api(remote, path);
        assert_eq!((s1, s2), (200, 200), "{path}");
        assert_eq!(a["total"], b["total"], "{path}");
        assert_eq!(facet_counts(&a), facet_counts(&b), "{path}");
        let (mut x, mut y) = (ids(&a), ids(&b));
        x.sort();
        y.sort();
        assert_eq!(x, y, "{path}");
        // The same response, key for key.
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(keys(&a["hits"][0]), keys(&b["hits"][0]), "{path}");
    }
    for q in [
        "resident+registration+Paraguay",
        "registro+civil",
        "%EC%A3%BC%EB%AF%BC%EB%93%B1%EB%A1%9D",
        "e-procurement",
        "cyber+security+Jamaica",
    ] {
        let path = format!("/api/search?q={q}&limit=5");
        let (_, a) = api(local, &path);
        let (s, b) = api(remote, &path);
        assert_eq!(s, 200, "{b}");
        assert_eq!(a["interpreted"], b["interpreted"], "{q}");
        let (x, y) = (ids(&a), ids(&b));
        let shared = x.iter().filter(|id| y.contains(id)).count();
        assert!(shared >= 3, "{q}: {x:?} / {y:?}");
        assert!(
            b["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["snippet"].as_str().is_some_and(|s| s.contains("<mark>")))
        );
    }
    // Across languages: an English query finds Korean and Spanish documents.
    let (_, r) = api(
        remote,
        "/api/search?q=resident+registration+Paraguay&limit=20",
    );
    let langs: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["lang"].as_str())
        .collect();
    for l in ["ko", "es", "en"] {
        assert!(langs.contains(&l), "{r}");
    }
    // The page, a document, the health.
    let (status, page) = common::http_get(remote, "/?q=resident+registration+Paraguay");
    assert_eq!(status, 200);
    assert!(page.contains("<mark>"), "{page}");
    let id = r["hits"][0]["id"].as_str().unwrap();
    let (_, a) = api(local, &format!("/api/documents/{id}"));
    let (_, b) = api(remote, &format!("/api/documents/{id}"));
    for field in [
        "title",
        "body",
        "url",
        "lang",
        "published",
        "countries",
        "pages",
    ] {
        assert_eq!(a[field], b[field], "{field}");
    }
    assert_eq!(common::http_get(remote, &format!("/doc/{id}")).0, 200);
    assert_eq!(api(remote, "/api/documents/no-such-doc").0, 404);
    let (_, health) = api(remote, "/healthz");
    assert_eq!(health["generation"], "solr:served");

    // A server that knows two nodes: one stops answering, the other
    // answers every search.
    let (first, second) = (Proxy::to(&nodes[0]), Proxy::to(&nodes[2]));
    let (spread, two) = serve(
        kb.path(),
        &[
            "--solr",
            &format!("{},{}", first.url, second.url),
            "--collection",
            "served",
        ],
    );
    assert_eq!(api(two, "/api/search?q=registro").0, 200);
    first.set_up(false);
    for i in 0..30 {
        let (status, r) = api(
            two,
            &format!("/api/search?q=registro+civil&offset={}", i % 3),
        );
        assert_eq!(status, 200, "{r}");
    }
    drop(spread);

    // The only node a server knows does not answer: 503, JSON and page,
    // with what happened; once it answers again, so does the server.
    let cut = Proxy::to(&nodes[1]);
    let (through, proxied) = serve(kb.path(), &["--solr", &cut.url, "--collection", "served"]);
    let (status, r) = api(proxied, "/api/search?q=registro");
    assert_eq!(status, 200, "{r}");
    cut.set_up(false);
    let (status, e) = api(proxied, "/api/search?q=registro");
    assert_eq!(status, 503, "{e}");
    assert_eq!(e["error"]["code"], "unavailable");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the search cluster did not answer")),
        "{e}"
    );
    let (status, page) = common::http_get(proxied, "/?q=registro");
    assert_eq!(status, 503);
    assert!(page.contains("the search cluster did not answer"), "{page}");
    assert_eq!(api(proxied, "/healthz").0, 503);
    cut.set_up(true);
    assert_eq!(api(proxied, "/api/search?q=registro").0, 200);
    drop((through, embedded, over));
}

/// A loopback TCP proxy to a node, that can be cut (its connections
/// closed, and each new one as soon as it is accepted) and restored.
struct Proxy {
    url: String,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn to(node: &str) -> Self {
        let target: std::net::SocketAddr = node
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/solr", listener.local_addr().unwrap());
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open: std::sync::Arc<Mutex<Vec<std::net::TcpStream>>> = Default::default();
        let (serving, connections) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !serving.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                if let Ok(c) = client.try_clone() {
                    connections.lock().unwrap().push(c);
                }
                let Ok(server) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Self { url, up, open }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        if !up {
            for c in self.open.lock().unwrap().drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// A process of a cluster made of separate processes (`egovkb.Node`): a
/// ZooKeeper or a Solr node, which SIGKILL stops as a crash does.
struct Part {
    child: Child,
    url: String,
}

impl Part {
    fn start(args: &[&str]) -> Result<Self, String> {
        build()?;
        let dir = project().join("target");
        let classpath = format!(
            "{}:{}/*",
            dir.join("classes").display(),
            dir.join("lib").display()
        );
        let mut child = Command::new("java")
            .args(["-Xmx512m", "-cp", &classpath, "egovkb.Node"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("java: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let mut url = String::new();
        for line in lines.by_ref() {
            if let Some(rest) = line.strip_prefix("node ") {
                url = rest.split_whitespace().nth(1).unwrap_or("").to_string();
            } else if let Some(rest) = line.strip_prefix("zk ") {
                url = rest.trim().to_string();
            } else if line == "ready" {
                break;
            }
        }
        // Solr's log goes on: read it, or the node blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        if url.is_empty() {
            return Err(format!("egovkb.Node {args:?} did not start"));
        }
        Ok(Self { child, url })
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether every replica of `collection` is active.
fn healthy(solr: &Solr, collection: &str) -> bool {
    let Ok(status) = solr.get(
        "admin/collections",
        &[("action", "CLUSTERSTATUS"), ("collection", collection)],
    ) else {
        return false;
    };
    status["cluster"]["collections"][collection]["shards"]
        .as_object()
        .is_some_and(|shards| {
            shards.values().all(|s| {
                s["replicas"]
                    .as_object()
                    .is_some_and(|r| r.values().all(|r| r["state"] == "active"))
            })
        })
}

/// Three Solr nodes in processes of their own: one killed with SIGKILL
/// while searches go on fails none of them (the server asks another node,
/// the nodes ask another replica), and results stay the same; started
/// again on its port, the node rejoins and the collection heals. Killed
/// during a sync, the sync finishes on the other nodes, nothing lost or
/// doubled.
#[test]
fn a_node_killed_fails_no_search_and_no_sync() {
    let zk = match Part::start(&["zk", &tempfile::tempdir().unwrap().keep().to_string_lossy()]) {
        Ok(zk) => zk,
        Err(e) if !required() => {
            eprintln!("SolrCloud tests skipped: {e}");
            return;
        }
        Err(e) => panic!("no ZooKeeper: {e}"),
    };
    let homes = tempfile::tempdir().unwrap();
    let ports: Vec<String> = (0..3).map(|_| free_port().to_string()).collect();
    let node = |i: usize| -> Part {
        let home = homes.path().join(format!("node{i}"));
        Part::start(&["node", &zk.url, &ports[i], &home.to_string_lossy()]).unwrap()
    };
    let mut nodes: Vec<Part> = (0..3).map(node).collect();
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let all = urls.join(",");
    let kb = knowledge_base();
    ok(egovkb(
        kb.path(),
        &[
            "solr",
            "upload",
            &urls[1],
            "--collection",
            "kb",
            "--shards",
            "2",
            "--replicas",
            "2",
        ],
    ));
    ok(egovkb(
        kb.path(),
        &["solr", "sync", &all, "--collection", "kb"],
    ));
    let solr = Solr::new(&urls[2]).unwrap();
    {
        let (server, addr) = serve(kb.path(), &["--solr", &all, "--collection", "kb"]);
        let (status, first) = api(addr, "/api/search?q=registro+civil&limit=20");
        assert_eq!(status, 200);
        let (total, hits) = (first["total"].clone(), ids(&first));
        // Searches without a pause, while node 0 is killed and restarted.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut done, mut failed) = (0, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let (status, r) = api(addr, "/api/search?q=registro+civil&limit=20");
                    done += 1;
                    if status != 200 || r["total"] != total || ids(&r) != hits {
                        failed.push((status, r));
                    }
                }
                (done, failed)
            })
        };
        std::thread::sleep(Duration::from_secs(2));
        nodes[0].child.kill().unwrap(); // SIGKILL
        nodes[0].child.wait().unwrap();
        std::thread::sleep(Duration::from_secs(5));
        nodes[0] = node(0);
        let started = std::time::Instant::now();
        while !healthy(&solr, "kb") {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the collection did not heal"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (done, failed) = load.join().unwrap();
        assert!(done > 20, "{done} searches");
        assert!(
            failed.is_empty(),
            "{} of {done} failed or changed: {:?}",
            failed.len(),
            failed.first()
        );
        drop(server);
    }

    // A node killed during a sync of 3,000 generated documents.
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(&dir.path().join("corpus")).unwrap();
    for d in generated::generate(3_000) {
        store.put(&d).unwrap();
    }
    ok(egovkb(
        dir.path(),
        &[
            "solr",
            "upload",
            &urls[2],
            "--collection",
            "gen",
            "--shards",
            "2",
            "--replicas",
            "2",
        ],
    ));
    let sync = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(dir.path().join("corpus"))
        .args(["solr", "sync", &all, "--collection", "gen", "--batch", "50"])
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_NO_MODEL", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    nodes[1].child.kill().unwrap(); // SIGKILL
    nodes[1].child.wait().unwrap();
    // It finishes, or stops with what happened and a rerun finishes.
    let out = sync.wait_with_output().unwrap();
    let mut text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        assert!(text.contains("unreachable"), "{text}");
        text = ok(egovkb(
            dir.path(),
            &["solr", "sync", &all, "--collection", "gen"],
        ));
    }
    let numbers: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers[0] + numbers[1], 3_000, "{text}");
    let r = select(&solr, "gen", &[("q", "*:*"), ("rows", "0")]);
    assert_eq!(r["response"]["numFound"].as_u64(), Some(3_000));
}
