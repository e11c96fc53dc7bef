//! Load: `egovkb serve` over the generated benchmark corpus (default
//! 100,000 documents, see `support/corpus.rs`) under Debian's `wrk` at 1, 8
//! and 64 connections, at 64 connections while a new generation is put in
//! service every second (the swap alone: `CURRENT` flipped between the
//! generation and a copy of it), then while `egovkb reindex` builds and
//! swaps in a new generation. Requests cycle through typical queries,
//! a third of them with facet filters. Prints Markdown for BENCHMARKS.md:
//! requests/s, p50/p99 latency and failed requests (non-2xx and socket
//! errors) per run.
//!
//! Run: `cargo bench --bench load` (needs `wrk`: `apt-get install wrk`).
//! EGOVKB_BENCH_DOCS sets the corpus size, EGOVKB_LOAD_SECS the length of
//! each run (default 10 s). The corpus and index are kept under
//! `target/bench-load-<docs>/` and reused by the next run.
//!
//! With the model installed, `index` embeds every passage (hours for
//! 100,000 documents on two cores). EGOVKB_BENCH_VECTORS_FROM=<a cache>
//! (another run's `index/embeddings.cache`, such as 10,000 documents')
//! gives the passages it lacks synthetic vectors instead: see
//! [`synthetic_vectors`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use egovkb::semantic::vectors::{self, Cache, Quantised};
use egovkb::semantic::{Semantic, install, passages};
use egovkb::store::Store;

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/wrk.rs"]
mod wrk;

use wrk::{Run, shared_questions, wrk, wrk_script, wrk_script_distinct};

fn generation(port: u16) -> String {
    let r = corpus::get(port, "/healthz").unwrap_or_default();
    let body = r.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["generation"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A run at 64 connections while `CURRENT` flips every second between the
/// generation in service and a copy of it (as a reindex flips it): the
/// run, the flips, and how many the server was seen to follow within a
/// second. The copy is removed and the first generation put back after.
fn swapping(work: &Path, port: u16, script: &Path, secs: u64) -> (Run, usize, usize) {
    let index = work.join("index");
    let first = std::fs::read_to_string(index.join("CURRENT"))
        .expect("CURRENT")
        .trim()
        .to_string();
    let number: u64 = first
        .trim_start_matches("gen-")
        .parse()
        .expect("a generation number");
    let copy = format!("gen-{:06}", number + 1);
    let ok = Command::new("cp")
        .arg("-r")
        .arg(index.join(&first))
        .arg(index.join(&copy))
        .status()
        .expect("cp");
    assert!(ok.success(), "copying the generation");
    let meta = index.join(&copy).join("egovkb-index.json");
    let text = std::fs::read_to_string(&meta).expect("generation meta");
    std::fs::write(&meta, text.replace(&first, &copy)).expect("generation meta");
    let flipper = {
        let (index, first, copy) = (index.clone(), first.clone(), copy.clone());
        std::thread::spawn(move || {
            let (mut flips, mut followed) = (0, 0);
            for k in 1..secs {
                let to = if k % 2 == 1 { &copy } else { &first };
                put_in_service(&index, to);
                flips += 1;
                std::thread::sleep(Duration::from_secs(1));
                followed += usize::from(generation(port) == *to);
            }
            (flips, followed)
        })
    };
    let r = wrk(port, script, 64, secs);
    let (flips, followed) = flipper.join().expect("flipper");
    put_in_service(&index, &first);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(generation(port), first, "the first generation is back");
    std::fs::remove_dir_all(index.join(&copy)).expect("removing the copy");
    (r, flips, followed)
}

/// Point `CURRENT` at `generation` by a rename, as a reindex does.
fn put_in_service(index: &Path, generation: &str) {
    let tmp = index.join("CURRENT.swap");
    std::fs::write(&tmp, generation).expect("CURRENT");
    std::fs::rename(&tmp, index.join("CURRENT")).expect("CURRENT");
}

fn egovkb(work: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    c.arg("--corpus")
        .arg(work.join("corpus"))
        .arg("--index")
        .arg(work.join("index"));
    c
}

/// How far a synthetic vector lies from the real one it is made from: the
/// noise's standard deviation per dimension, against a unit vector's
/// 1/√384 ≈ 0.051 (cosine to its source about 0.9).
const NOISE: f32 = 0.025;

/// Vectors for a corpus too big to embed for a bench: every passage of
/// `work`'s corpus that its cache lacks and `base` has gets its real
/// vector; every other one gets one of the real passage
/// vectors of the cache `base` (chosen by the passage's key), moved by
/// Gaussian noise ([`NOISE`]) and made unit length again. Searching them
/// costs what searching real ones costs (the same dimension and
/// quantisation; clusters where real passages are); the rankings they give
/// mean nothing, so only throughput and latency are measured with them.
fn synthetic_vectors(work: &Path, base: &Path) {
    let semantic = Semantic::load_installed(&install::default_model_root(), None)
        .expect("loading the model")
        .expect("EGOVKB_BENCH_VECTORS_FROM needs the model installed");
    let dim = semantic.model.dim();
    let base = Cache::open(base, dim).expect("reading EGOVKB_BENCH_VECTORS_FROM");
    let real: Vec<&Quantised> = base.vectors().collect();
    assert!(
        !real.is_empty(),
        "EGOVKB_BENCH_VECTORS_FROM holds no vector"
    );
    std::fs::create_dir_all(work.join("index")).expect("index dir");
    let mut cache = Cache::open(&work.join("index/embeddings.cache"), dim).expect("cache");
    let store = Store::open(&work.join("corpus")).expect("store");
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut gaussian = move || {
        let mut uniform = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ((seed >> 11) as f32 + 1.0) / (1u64 << 53) as f32
        };
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    };
    let mut made = 0;
    for path in store.record_paths() {
        let doc = store.read(&path).expect("a generated document");
        for p in passages::cut(&doc, semantic.model.tokenizer()) {
            let key = vectors::key(&semantic.name, &p.text);
            if cache.get(&key).is_some() {
                continue;
            }
            // A passage the base corpus has too keeps its real vector.
            if let Some(v) = base.get(&key) {
                cache.insert(key, v.clone());
                continue;
            }
            let pick = u64::from_le_bytes(key[..8].try_into().expect("16 bytes"));
            let source = real[(pick % real.len() as u64) as usize];
            let mut v: Vec<f32> = source
                .values
                .iter()
                .map(|&x| f32::from(x) * source.scale + NOISE * gaussian())
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            cache.insert(key, Quantised::new(&v));
            made += 1;
        }
    }
    cache.save().expect("saving the cache");
    eprintln!(
        "{made} synthetic passage vectors from {} real ones",
        real.len()
    );
}

fn main() {
    let n: usize = std::env::var("EGOVKB_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let secs: u64 = std::env::var("EGOVKB_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let work = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-load-{n}"));
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
    if let Ok(base) = std::env::var("EGOVKB_BENCH_VECTORS_FROM") {
        synthetic_vectors(&work, Path::new(&base));
    }
    // Up to date with this build's analysis (a stale index asks for reindex).
    let indexed = egovkb(&work).arg("index").status().expect("egovkb index");
    if !indexed.success() {
        let ok = egovkb(&work)
            .arg("reindex")
            .status()
            .expect("egovkb reindex");
        assert!(ok.success(), "reindex failed");
    }

    let port = 18100 + (std::process::id() % 800) as u16;
    let mut server = egovkb(&work)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
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
    let script = wrk_script(&work, "queries.lua", "");
    // Warm the page cache and the searcher.
    wrk(port, &script, 2, 2);

    println!("| connections | requests/s | p50 | p99 | requests | failed |");
    println!("|---|---|---|---|---|---|");
    let row = |label: &str, r: &Run| {
        println!(
            "| {label} | {:.0} | {:.2} ms | {:.2} ms | {} | {} |",
            r.rps, r.p50, r.p99, r.requests, r.failed
        );
    };
    for c in [1, 8, 64] {
        let r = wrk(port, &script, c, secs);
        row(&c.to_string(), &r);
    }
    let mut notes = Vec::new();

    // With a model, the runs above are hybrid (the default): the same
    // searches by words only, alternated with hybrid ones.
    let stats = corpus::get(port, "/api/stats").unwrap_or_default();
    if stats.contains("\"available\":true") {
        let lexical = wrk_script(&work, "queries-lexical.lua", "&mode=lexical");
        let (mut words, mut both) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            words.push(wrk(port, &lexical, 64, secs));
            both.push(wrk(port, &script, 64, secs));
        }
        let mean = |runs: &[Run]| runs.iter().map(|r| r.rps).sum::<f64>() / runs.len() as f64;
        for r in &words {
            row("64, `mode=lexical` (alternated)", r);
        }
        for r in &both {
            row("64, hybrid (alternated)", r);
        }
        notes.push(format!(
            "hybrid: {:.0} % of lexical throughput at 64 connections (means of the alternated runs)",
            100.0 * mean(&both) / mean(&words)
        ));
        // Questions never asked before: the shared eval sets' questions.
        let questions = shared_questions();
        if questions.len() >= 1000 {
            let words =
                wrk_script_distinct(&work, "distinct-lexical.lua", &questions, "&mode=lexical");
            let meaning = wrk_script_distinct(&work, "distinct-hybrid.lua", &questions, "");
            let (mut w, mut h) = (Vec::new(), Vec::new());
            for _ in 0..2 {
                w.push(wrk(port, &words, 64, secs));
                h.push(wrk(port, &meaning, 64, secs));
            }
            for r in &w {
                row("64, distinct questions, `mode=lexical` (alternated)", r);
            }
            for r in &h {
                row("64, distinct questions, hybrid (alternated)", r);
            }
            let one = wrk(port, &meaning, 1, secs);
            row("1, distinct questions, hybrid", &one);
            notes.push(format!(
                "distinct questions ({} of ../shared/eval): hybrid {:.0} % of lexical throughput at 64 connections",
                questions.len(),
                100.0 * mean(&h) / mean(&w)
            ));
        } else {
            notes.push("distinct questions: no ../shared/eval here, not measured".into());
        }
    }

    // The swap alone, without a reindex's CPU: the pointer file flipped
    // every second between the generation in service and a copy of it.
    let (r, flips, followed) = swapping(&work, port, &script, secs);
    row("64, a new generation put in service every second", &r);
    notes.push(format!(
        "swaps: {flips} flips of `CURRENT`, the server followed {followed} within a second"
    ));

    // The same at 64 connections while a reindex builds a new generation
    // and the server swaps it in: as is, and at the lowest CPU priority
    // (`nice -n 19`, what docs/searching.md recommends on a busy server).
    for niced in [false, true] {
        let before = generation(port);
        let t = Instant::now();
        let mut cmd = if niced {
            let mut c = Command::new("nice");
            c.args(["-n", "19", env!("CARGO_BIN_EXE_egovkb")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_egovkb"))
        };
        let mut reindex = cmd
            .arg("--corpus")
            .arg(work.join("corpus"))
            .arg("--index")
            .arg(work.join("index"))
            .arg("reindex")
            .stderr(Stdio::null())
            .spawn()
            .expect("egovkb reindex");
        let mut during = Vec::new();
        let mut reindex_secs = None;
        // Runs of `secs` until the reindex has finished and been swapped in.
        // A niced reindex gets almost no CPU while the searches take both
        // cores: its runs stop after a minute and it finishes unloaded.
        let most = if niced { 6 } else { usize::MAX };
        while (reindex_secs.is_none() || during.len() < 2) && during.len() < most {
            during.push(wrk(port, &script, 64, secs));
            if reindex_secs.is_none() && reindex.try_wait().ok().flatten().is_some() {
                reindex_secs = Some(t.elapsed().as_secs_f64());
            }
            assert!(t.elapsed().as_secs() < 3600, "reindex took over an hour");
        }
        let status = reindex.wait().expect("reindex");
        let under_load = reindex_secs.is_some();
        let reindex_secs = reindex_secs.unwrap_or_else(|| t.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_secs(1));
        let after = generation(port);
        let label = if niced {
            "nice -n 19 reindex"
        } else {
            "reindex"
        };
        let total = Run {
            rps: during.iter().map(|r| r.rps).sum::<f64>() / during.len() as f64,
            p50: during.iter().map(|r| r.p50).fold(f64::NAN, f64::max),
            p99: during.iter().map(|r| r.p99).fold(f64::NAN, f64::max),
            requests: during.iter().map(|r| r.requests).sum(),
            failed: during.iter().map(|r| r.failed).sum(),
        };
        row(
            &format!(
                "64 during `{label}` ({} runs; mean rate, worst p50/p99)",
                during.len()
            ),
            &total,
        );
        notes.push(format!(
            "`{label}`: {} in {reindex_secs:.0} s ({}); generation {before} → {after}",
            if status.success() {
                "succeeded"
            } else {
                "FAILED"
            },
            if under_load {
                "under load"
            } else {
                "finished after the load stopped"
            },
        ));
    }
    println!();
    for n in notes {
        println!("{n}  ");
    }
    let _ = server.kill();
    let _ = server.wait();
}
