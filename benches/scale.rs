//! Scale: a deterministic generated corpus (default 100,000 documents,
//! mixed Korean, Spanish and English, realistic lengths; each document on
//! two of twelve e-government subjects, most of its words drawn Zipf-like
//! from a long-tail vocabulary, as in real text) through the real
//! pipeline: corpus store → enrichment → index (both cores), then search
//! latency for typical queries with every facet and snippets, and the
//! resident memory of a process with the index open. Prints Markdown for
//! BENCHMARKS.md.
//!
//! Run: `cargo bench --bench scale` (EGOVKB_BENCH_DOCS=20000 for a smaller run)

use std::time::{Duration, Instant};

use egovkb::analysis::{AnalyzerName, Mode};
use egovkb::engine::Engine;
use egovkb::index::facet::{Facet, Filters};
use egovkb::index::search::{SearchRequest, TantivySearcher};
use egovkb::index::{IndexDir, build};
use egovkb::progress::Quiet;
use egovkb::store::Store;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::generate;

/// The binary's allocator, so that in-process indexing here measures what
/// `egovkb index` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident memory of a process, from /proc.
fn rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Start `egovkb serve` on the bench's index, search through it, and read
/// its resident memory.
fn server_rss(work: &std::path::Path) -> f64 {
    let port = 18000 + (std::process::id() % 1000) as u16;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(work.join("corpus"))
        .arg("--index")
        .arg(work.join("index"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        // Search by words: the bench's index has no passage vectors, and a
        // model would have `serve` embed the corpus first.
        .env("EGOVKB_NO_MODEL", "1")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("egovkb serve");
    let started = Instant::now();
    while corpus::get(port, "/healthz").is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(
            started.elapsed().as_secs() < 900,
            "the server did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 0..120 {
        let q = [
            "resident%20registration",
            "registro%20civil",
            "%EC%A3%BC%EB%AF%BC%EB%93%B1%EB%A1%9D",
        ][i % 3];
        let _ = corpus::get(port, &format!("/api/search?q={q}"));
    }
    let rss = rss_mb(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    rss
}

/// Megabytes of the files under `path`.
fn disk_mb(path: &std::path::Path) -> f64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0.0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_mb(&e.path()),
            Ok(m) => m.len() as f64 / 1e6,
            Err(_) => 0.0,
        })
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// All the analysis indexing needs: the own view, the all-languages view
/// (the fallback analyzer over title and text) and, for enrichment, the
/// analyzers of the other languages the script allows (a Spanish document
/// is also read as English for names, and the reverse).
fn analyse_all(engine: &Engine, docs: &[egovkb::document::Document]) {
    for d in docs {
        let own = AnalyzerName::for_lang(d.lang.as_ref().map_or("", |l| l.as_str()));
        for text in [&d.title, &d.body] {
            engine
                .analyzers
                .get(own)
                .unwrap()
                .analyze(text, Mode::Index);
            for other in egovkb::enrich::matcher::analyzers_for(text) {
                if other != own {
                    engine
                        .analyzers
                        .get(other)
                        .unwrap()
                        .analyze(text, Mode::Query);
                }
            }
        }
        let all = format!("{}\n\n{}", d.title, d.body);
        engine
            .analyzers
            .get(AnalyzerName::Other)
            .unwrap()
            .analyze(&all, Mode::Index);
    }
}

fn main() {
    let n: usize = std::env::var("EGOVKB_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let root = egovkb::analysis::dict::default_dict_root();
    egovkb::analysis::dict::install(
        &egovkb::analysis::dict::InstallOptions {
            root: root.clone(),
            ..Default::default()
        },
        &egovkb::progress::Quiet,
    )
    .expect("dictionary");
    let engine = Engine::load(&root, None).expect("engine");
    let work = tempfile::tempdir().unwrap();
    let docs = generate(n);
    let bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    let store = Store::open(&work.path().join("corpus")).unwrap();
    for d in &docs {
        store.put(d).unwrap();
    }

    // Text analysis alone, single thread, on a sample: the floor of indexing.
    let sample = &docs[..docs.len().min(3000)];
    let t = Instant::now();
    let mut sample_bytes = 0;
    for d in sample {
        let name = AnalyzerName::for_lang(d.lang.as_ref().map_or("", |l| l.as_str()));
        let a = engine.analyzers.get(name).unwrap();
        a.analyze(&d.title, Mode::Index);
        a.analyze(&d.body, Mode::Index);
        sample_bytes += d.title.len() + d.body.len();
    }
    let analysis_mb_s = sample_bytes as f64 / 1e6 / t.elapsed().as_secs_f64();

    // All the analysis indexing needs, on one core and then on both (each
    // thread takes half the sample).
    let t = Instant::now();
    analyse_all(&engine, sample);
    let full_analysis_mb_s = sample_bytes as f64 / 1e6 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    std::thread::scope(|s| {
        for half in sample.chunks(sample.len().div_ceil(2)) {
            let engine = &engine;
            s.spawn(move || analyse_all(engine, half));
        }
    });
    let both_cores_mb_s = sample_bytes as f64 / 1e6 / t.elapsed().as_secs_f64();

    let dir = IndexDir::new(&work.path().join("index"));
    let t = Instant::now();
    let report = build::rebuild(&dir, &store, &engine, &Quiet).expect("index");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(report.documents as usize, n);

    // Finding versions of one story (signatures and their banding): whole
    // reindexes without it and with it, alternated.
    let mut without = engine.clone();
    without.ranking.same_story = 0.0;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..4 {
        let mut runs = [(&without, &mut off), (&engine, &mut on)];
        if round % 2 == 1 {
            runs.reverse();
        }
        for (e, took) in runs {
            let t = Instant::now();
            build::rebuild(&dir, &store, e, &Quiet).expect("index");
            took.push(t.elapsed().as_secs_f64());
        }
    }
    let (on, off) = (on.iter().sum::<f64>(), off.iter().sum::<f64>());

    drop(docs);
    let searcher = TantivySearcher::open(&dir, engine.clone()).expect("open");
    let queries = corpus::QUERIES;
    // Warm up, then measure.
    for q in queries {
        searcher
            .search(&SearchRequest {
                q: q.into(),
                ..SearchRequest::default()
            })
            .unwrap();
    }
    let mut times = Vec::new();
    for round in 0..40 {
        for (i, q) in queries.iter().enumerate() {
            let mut req = SearchRequest {
                q: (*q).into(),
                ..SearchRequest::default()
            };
            // Every third search also filters (disjunctive facets recount).
            if (round + i) % 3 == 0 {
                req.filters = Filters::default()
                    .with(Facet::Lang, "en")
                    .and_then(|f| f.with(Facet::Lang, "es"))
                    .unwrap()
                    .with_years((2017, 2022));
            }
            let t = Instant::now();
            let r = searcher.search(&req).unwrap();
            times.push(t.elapsed());
            assert!(r.total > 0, "{q}");
        }
    }
    times.sort();
    let rss = server_rss(work.path());
    println!("| measure | result | notes |");
    println!("|---|---|---|");
    println!(
        "| corpus | {n} documents, {:.0} MB of text | generated, deterministic; ko/es/en in equal parts |",
        bytes as f64 / 1e6
    );
    println!(
        "| indexing (store → enrich → analyse → index, one segment, 2 cores) | {:.0} docs/s, {:.2} MB/s | {:.1} s in all |",
        n as f64 / secs,
        bytes as f64 / 1e6 / secs,
        secs
    );
    println!(
        "| text analysis alone (1 core) | {analysis_mb_s:.2} MB/s | each document's own analyzer on a 3,000-document sample |"
    );
    println!(
        "| all the analysis indexing needs (1 core) | {full_analysis_mb_s:.2} MB/s | own view, all-languages view, enrichment's other analyzers; same sample |"
    );
    println!(
        "| all the analysis indexing needs (both cores) | {both_cores_mb_s:.2} MB/s | the same, two threads on half the sample each |"
    );
    println!(
        "| indexing against all its analysis on both cores | {:.2} | 1.00 would be indexing limited by analysis alone |",
        bytes as f64 / 1e6 / secs / both_cores_mb_s
    );
    println!(
        "| reindexing with versions of one story found, against without | {:.3} | four reindexes each, alternated: {on:.1} s with, {off:.1} s without |",
        on / off
    );
    println!(
        "| search latency, two-word queries, all facets, snippets | p50 {:.2} ms, p99 {:.2} ms | {} searches, a third with filters |",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len()
    );
    println!(
        "| resident memory of `egovkb serve` with the index open | {rss:.0} MB | after 120 searches over HTTP; dictionary memory-mapped |"
    );
    println!(
        "| disk | corpus {:.0} MB, index {:.0} MB | the store's files; the generation in service |",
        disk_mb(&work.path().join("corpus")),
        disk_mb(&work.path().join("index")),
    );
}
