//! Load generation with Debian's `wrk` for the benches: a Lua script that
//! cycles through the typical searches (a third with facet filters), or
//! through distinct questions, and a run's requests/s, latency percentiles
//! and failed requests. (Each bench that includes it uses part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use super::corpus::QUERIES;

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The wrk script: a fixed rotation of search paths, each with `extra`
/// parameters (such as `&mode=lexical`).
pub fn wrk_script(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let mut paths = Vec::new();
    for (i, q) in QUERIES.iter().enumerate() {
        let q = percent_encode(q);
        paths.push(format!("/api/search?q={q}{extra}"));
        paths.push(format!("/api/search?q={q}&offset=10{extra}"));
        if i % 2 == 0 {
            paths.push(format!(
                "/api/search?q={q}&lang=en&lang=es&year=2017..2022{extra}"
            ));
        } else {
            paths.push(format!("/api/search?q={q}&type=notice&country=PY{extra}"));
        }
    }
    let list: Vec<String> = paths.iter().map(|p| format!("  \"{p}\",")).collect();
    let script = format!(
        "local paths = {{\n{}\n}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
        list.join("\n")
    );
    let path = dir.join(name);
    std::fs::write(&path, script).expect("writing the wrk script");
    path
}

/// A wrk script over many distinct questions (`/api/search?q=…` each, with
/// `extra`), each wrk thread starting at another place in the list, so
/// that no question is asked twice within a run shorter than the list:
/// what a search engine gets from its users, unlike a rotation of a few
/// queries whose vectors and walks are kept.
pub fn wrk_script_distinct(dir: &Path, name: &str, questions: &[String], extra: &str) -> PathBuf {
    let list: Vec<String> = questions
        .iter()
        .map(|q| format!("  \"/api/search?q={}{extra}\",", percent_encode(q)))
        .collect();
    let script = format!(
        "local paths = {{\n{}\n}}\nlocal threads = 0\n\
         function setup(thread)\n  thread:set(\"start\", threads * math.floor(#paths / 2))\n  threads = threads + 1\nend\n\
         function init(args)\n  i = start or 0\nend\n\
         request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
        list.join("\n")
    );
    let path = dir.join(name);
    std::fs::write(&path, script).expect("writing the wrk script");
    path
}

/// The questions of every set of `../shared/eval` (distinct, in their
/// order), when it is there.
pub fn shared_questions() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "queries.jsonl") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text.lines() {
                    let q = serde_json::from_str::<serde_json::Value>(line)
                        .ok()
                        .and_then(|v| v["query"].as_str().map(str::to_string));
                    if let Some(q) = q.filter(|q| seen.insert(q.clone())) {
                        out.push(q);
                    }
                }
            }
        }
    }
    out
}

pub struct Run {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub requests: u64,
    pub failed: u64,
}

/// wrk prints latencies as `1.23ms`, `845.00us` or `1.02s`.
fn millis(s: &str) -> f64 {
    let (num, mult) = if let Some(n) = s.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e3)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>().unwrap_or(f64::NAN) * mult
}

pub fn wrk(port: u16, script: &Path, connections: usize, secs: u64) -> Run {
    let out = Command::new("wrk")
        .args([
            "-t",
            &connections.clamp(1, 2).to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{secs}s"),
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .expect("running wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut run = Run {
        rps: 0.0,
        p50: f64::NAN,
        p99: f64::NAN,
        requests: 0,
        failed: 0,
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => run.rps = v.parse().unwrap_or(0.0),
            ["50%", v] => run.p50 = millis(v),
            ["99%", v] => run.p99 = millis(v),
            [n, "requests", "in", ..] => run.requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.failed += n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                // connect 0, read 0, write 0, timeout 0
                run.failed += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    run
}
