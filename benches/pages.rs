//! Generic extraction of the saved board pages of `tests/data/pages/`,
//! without a profile: titles exactly right, dates exactly right and body
//! token F1, per language and in all, for egovkb and for trafilatura
//! (pinned, installed into `target/pages-baseline/` by this bench) on the
//! same pages. Prints Markdown for BENCHMARKS.md.
//!
//! Run: `cargo bench --bench pages` (pip fetches trafilatura on first run).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "support/pages.rs"]
mod pages;

const TRAFILATURA: &str = "trafilatura==2.0.0";
/// What trafilatura needs beside it that its own requirements leave out.
const CLEANER: &str = "lxml_html_clean==0.4.6";

/// trafilatura's extraction of every page, in the order of `expected`.
fn baseline(set: &str) -> (Vec<pages::Got>, f64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = root.join("target/pages-baseline");
    let marker = lib.join("installed");
    let wanted = format!("{TRAFILATURA} {CLEANER}");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        let _ = std::fs::remove_dir_all(&lib);
        let ok = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&lib)
            .args([TRAFILATURA, CLEANER])
            .status()
            .expect("python3 -m pip");
        assert!(ok.success(), "installing {wanted}");
        std::fs::write(&marker, &wanted).expect("marker");
    }
    let out = root.join(format!("target/pages-baseline-{set}.jsonl"));
    let run = Command::new("python3")
        .arg(root.join("eval/pages_baseline.py"))
        .arg(pages::dir(set).join("expected.jsonl"))
        .arg(&out)
        .env("PYTHONPATH", &lib)
        .output()
        .expect("python3");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&run.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(f64::NAN);
    let got = std::fs::read_to_string(&out)
        .expect("baseline output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("baseline record"))
        .collect();
    (got, secs)
}

fn main() {
    for (set, what) in [
        (
            "pages",
            "development set: the rules were written from its failures",
        ),
        (
            "pages-heldout",
            "held-out set: made apart from the rules and the first set",
        ),
    ] {
        report(set, what);
    }
}

fn report(set: &str, what: &str) {
    let expected = pages::load(set);
    let t = Instant::now();
    let ours: Vec<pages::Got> = expected.iter().map(pages::egovkb).collect();
    let our_secs = t.elapsed().as_secs_f64();
    let (theirs, their_secs) = baseline(set);
    println!(
        "\n`tests/data/{set}`, {what}: {} pages ({} ko, {} es, {} en)\n",
        expected.len(),
        expected.iter().filter(|e| e.lang == "ko").count(),
        expected.iter().filter(|e| e.lang == "es").count(),
        expected.iter().filter(|e| e.lang == "en").count()
    );
    println!("| extractor | pages | title exact | date exact | body token F1 | seconds |");
    println!("|---|---|---|---|---|---|");
    let mut misses = Vec::new();
    for (name, got, secs) in [
        ("egovkb", &ours, our_secs),
        (TRAFILATURA, &theirs, their_secs),
    ] {
        for lang in ["ko", "es", "en", "all"] {
            let mut s = pages::Score::default();
            for (want, g) in expected.iter().zip(got.iter()) {
                if lang == "all" || want.lang == lang {
                    s.add(want, g);
                }
            }
            let secs = if lang == "all" {
                format!("{secs:.3}")
            } else {
                String::new()
            };
            println!(
                "| {name} | {lang}: {} | {:.1} % | {:.1} % | {:.3} | {secs} |",
                s.pages,
                100.0 * s.title_share(),
                100.0 * s.date_share(),
                s.mean_f1()
            );
            if lang == "all" && name == "egovkb" {
                misses = s.misses;
            }
        }
    }
    if !misses.is_empty() {
        println!("\negovkb's misses:\n");
        for m in misses {
            println!("- {m}");
        }
    }
}
