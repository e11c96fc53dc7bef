//! SolrCloud beside the embedded engine, on one machine: the generated
//! benchmark corpus (`support/corpus.rs`, default 10,000 documents) synced
//! into a collection of 2 shards × 2 replicas on the 3-node test cluster
//! of `tests/solrcloud/` (built with Maven if need be), then the same
//! searches (`support/wrk.rs`) at 64 connections against `egovkb serve`
//! over the embedded index and `egovkb serve --solr` over the cluster,
//! alternately, twice each. Both rank by words (no model). Prints Markdown
//! for BENCHMARKS.md: sync time and documents/s, requests/s, p50/p99
//! latency and failed requests per run.
//!
//! Run: `cargo bench --bench solr` (needs Java, Maven and `wrk`).
//! EGOVKB_BENCH_DOCS sets the corpus size, EGOVKB_LOAD_SECS the length of
//! each run (default 10 s). The corpus and index are kept under
//! `target/bench-solr-<docs>/`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egovkb::store::Store;

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/wrk.rs"]
mod wrk;

fn egovkb(work: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    c.arg("--corpus")
        .arg(work.join("corpus"))
        .arg("--index")
        .arg(work.join("index"))
        .env("EGOVKB_NO_MODEL", "1");
    c
}

/// Start the test cluster; its process and nodes' URLs.
fn cluster() -> (Child, Vec<String>) {
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/solrcloud");
    if !project.join("target/lib").is_dir() {
        let ok = Command::new("mvn")
            .args(["-q", "-B", "package"])
            .current_dir(&project)
            .status()
            .expect("mvn");
        assert!(ok.success(), "building the test cluster");
    }
    let classpath = format!(
        "{}:{}/*",
        project.join("target/classes").display(),
        project.join("target/lib").display()
    );
    let mut child = Command::new("java")
        .args(["-Xmx2g", "-cp", &classpath, "egovkb.Cluster", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("java");
    let out = child.stdout.take().expect("stdout");
    let mut nodes = Vec::new();
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("node ") {
            nodes.push(rest.split_whitespace().nth(1).expect("a URL").to_string());
        } else if line == "ready" {
            break;
        }
    }
    assert_eq!(nodes.len(), 3, "the cluster did not start");
    (child, nodes)
}

fn serve(work: &Path, port: u16, extra: &[&str]) -> Child {
    let child = egovkb(work)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stderr(Stdio::null())
        .spawn()
        .expect("egovkb serve");
    let started = Instant::now();
    while corpus::get(port, "/healthz").is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(
            started.elapsed().as_secs() < 120,
            "the server did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn main() {
    let n: usize = std::env::var("EGOVKB_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let secs: u64 = std::env::var("EGOVKB_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let work = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-solr-{n}"));
    std::fs::create_dir_all(&work).expect("work dir");
    let marker = work.join("corpus-complete");
    if !marker.exists() {
        eprintln!("writing the {n}-document corpus to {}", work.display());
        let store = Store::open(&work.join("corpus")).expect("store");
        for d in corpus::generate(n) {
            store.put(&d).expect("store");
        }
        std::fs::write(&marker, "").expect("marker");
    }
    let ok = egovkb(&work).arg("index").status().expect("egovkb index");
    assert!(ok.success(), "index failed");

    let (mut solr, nodes) = cluster();
    let all = nodes.join(",");
    let ok = egovkb(&work)
        .args([
            "solr",
            "upload",
            &nodes[0],
            "--collection",
            "bench",
            "--shards",
            "2",
            "--replicas",
            "2",
        ])
        .status()
        .expect("egovkb solr upload");
    assert!(ok.success(), "upload failed");
    let started = Instant::now();
    let out = egovkb(&work)
        .args(["solr", "sync", &all, "--collection", "bench"])
        .output()
        .expect("egovkb solr sync");
    let took = started.elapsed().as_secs_f64();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sync failed: {report}");

    let script = wrk::wrk_script(&work, "queries.lua", "");
    let base = 18900 + (std::process::id() % 50) as u16;
    let mut embedded = serve(&work, base, &[]);
    let mut over = serve(&work, base + 1, &["--solr", &all, "--collection", "bench"]);
    // Warm both (Solr's caches, our pages).
    wrk::wrk(base, &script, 2, 2);
    wrk::wrk(base + 1, &script, 2, 2);
    let mut runs = Vec::new();
    for round in 1..=2 {
        for (label, port) in [("embedded index", base), ("SolrCloud, 3 nodes", base + 1)] {
            runs.push((round, label, wrk::wrk(port, &script, 64, secs)));
        }
    }
    for child in [&mut embedded, &mut over] {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(stdin) = solr.stdin.as_mut() {
        let _ = writeln!(stdin, "quit");
    }
    let _ = solr.wait();

    println!(
        "{n} generated documents; sync into 2 shards × 2 replicas: {took:.1} s, {:.0} documents/s ({})\n",
        n as f64 / took,
        report.trim()
    );
    println!("| round | engine | requests/s | p50 ms | p99 ms | requests | failed |");
    println!("|---|---|---|---|---|---|---|");
    for (round, label, r) in &runs {
        println!(
            "| {round} | {label} | {:.0} | {:.2} | {:.2} | {} | {} |",
            r.rps, r.p50, r.p99, r.requests, r.failed
        );
    }
}
