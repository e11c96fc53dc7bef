//! Language detection on short texts, to pick the detector by numbers:
//! egovkb's `enrich::lang::detect` (script, a vote of function words, then
//! whichlang), whatlang alone, and whichlang alone, on
//! `tests/data/lang_titles.tsv` (150 titles written for the project) and on
//! the eval queries (questions) and titles in `../shared/eval`.
//!
//! Run: `cargo bench --bench lang_detect`

use std::io::BufRead;
use std::path::PathBuf;

use egovkb::enrich::lang;

fn whatlang_alone(text: &str) -> Option<&'static str> {
    match whatlang::detect_lang(text)? {
        whatlang::Lang::Kor => Some("ko"),
        whatlang::Lang::Spa => Some("es"),
        whatlang::Lang::Eng => Some("en"),
        _ => Some("?"),
    }
}

fn whichlang_alone(text: &str) -> Option<&'static str> {
    Some(match whichlang::detect_language(text) {
        whichlang::Lang::Kor => "ko",
        whichlang::Lang::Spa => "es",
        whichlang::Lang::Eng => "en",
        _ => "?",
    })
}

fn ours(text: &str) -> Option<&'static str> {
    match lang::detect(text)?.as_str() {
        "ko" => Some("ko"),
        "es" => Some("es"),
        "en" => Some("en"),
        _ => Some("?"),
    }
}

fn jsonl(path: PathBuf, text_key: &str) -> Vec<(String, String)> {
    let Ok(f) = std::fs::File::open(&path) else {
        return Vec::new();
    };
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter_map(|v| {
            Some((
                v["lang"].as_str()?.to_string(),
                v[text_key].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let titles: Vec<(String, String)> =
        std::fs::read_to_string(root.join("tests/data/lang_titles.tsv"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    let eval = root.join("../shared/eval/mixed-ko-es-en");
    let sets = [
        ("project titles (tests/data)", titles),
        (
            "eval questions (mixed-ko-es-en)",
            jsonl(eval.join("queries.jsonl"), "query"),
        ),
        (
            "eval passage titles (mixed-ko-es-en)",
            jsonl(eval.join("passages.jsonl"), "title"),
        ),
    ];
    type Detector = fn(&str) -> Option<&'static str>;
    let detectors: [(&str, Detector); 3] = [
        ("egovkb (script, function words, whichlang)", ours),
        ("whatlang alone", whatlang_alone),
        ("whichlang alone", whichlang_alone),
    ];
    println!("| texts | detector | ko | es | en | all |");
    println!("|---|---|---|---|---|---|");
    for (name, items) in &sets {
        for (dname, detect) in detectors {
            let mut per: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
            for (lang, text) in items {
                let e = per.entry(lang.as_str()).or_default();
                e.1 += 1;
                if detect(text) == Some(lang.as_str()) {
                    e.0 += 1;
                }
            }
            let pct = |l: &str| {
                per.get(l)
                    .map(|(ok, n)| format!("{:.1}% of {n}", 100.0 * *ok as f64 / *n as f64))
                    .unwrap_or_else(|| "-".into())
            };
            let (ok, n) = per.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            println!(
                "| {name} | {dname} | {} | {} | {} | {:.1}% |",
                pct("ko"),
                pct("es"),
                pct("en"),
                100.0 * ok as f64 / n.max(1) as f64
            );
        }
    }
}
