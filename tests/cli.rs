//! The command line, run as a user runs it.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn egovkb(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    cmd.args(args)
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn analyze_prints_one_term_per_line() {
    let a = egovkb(&["analyze", "--lang", "es", "Gobierno Electrónico"], None);
    let b = egovkb(&["analyze", "--lang", "es", "gobierno electronico"], None);
    assert!(a.status.success());
    assert_eq!(lines(&a).len(), 2);
    assert_eq!(lines(&a), lines(&b));
}

#[test]
fn analyze_reads_standard_input_and_guesses_korean() {
    let out = egovkb(&["analyze"], Some("주민등록을 발급했다\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lines(&out).contains(&"주민등록".to_string()),
        "{:?}",
        lines(&out)
    );
    let query = egovkb(&["analyze", "--query"], Some("주민등록을"));
    assert_eq!(lines(&query), vec!["주민", "등록"]);
}

#[test]
fn analyze_json_and_morphemes() {
    let out = egovkb(&["analyze", "--lang", "en", "--json", "The records"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["text"], "record");
    assert_eq!(v[0]["start"], 4);
    assert_eq!(v[0]["end"], 11);
    let m = egovkb(
        &["analyze", "--lang", "ko", "--morphemes", "파라과이에"],
        None,
    );
    assert_eq!(lines(&m), vec!["파라과이\tNNP", "에\tJKB"]);
}

#[test]
fn errors_are_one_line_with_a_non_zero_status() {
    let out = egovkb(&["analyze", "--lang", "es", "--morphemes", "hola"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("egovkb: --morphemes"), "{err}");

    let bad = egovkb(
        &[
            "dict",
            "install",
            "--force",
            "--from",
            "/nonexistent/pkg.tgz",
        ],
        None,
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("/nonexistent/pkg.tgz"), "{err}");

    // A misspelt setting in the configuration file is not ignored.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("egovkb.toml");
    std::fs::write(&config, "[serve]\nsolr_nodes = \"http://a\"\n").unwrap();
    let out = egovkb(&["--config", config.to_str().unwrap(), "stats"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("egovkb.toml") && err.contains("solr_nodes"),
        "{err}"
    );
}

#[test]
fn dict_status_names_the_installed_dictionary() {
    let out = egovkb(&["dict", "status"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("installed:"), "{text}");
    assert!(text.contains("816283 entries"), "{text}");
}

#[test]
fn no_dictionary_source_names_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["dict", "install"])
        .env("EGOVKB_DICT_DIR", root.path())
        .env("PATH", root.path().join("no-clients-here"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("could not be obtained"), "{err}");
    assert!(err.contains("--from"), "{err}");
    assert!(!egovkb::analysis::dict::installed_path(root.path()).exists());
}

/// `serve` on an empty corpus builds an index, answers, logs each request,
/// and stops cleanly on SIGTERM.
/// `egovkb ARGS` (a `serve`) started, its standard error's lines, and the
/// address it says it serves on.
fn serve(
    args: &[&str],
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    std::net::SocketAddr,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(args)
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env_remove("EGOVKB_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = common::stderr_lines(&mut child);
    let addr = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server went quiet");
        if let Some(a) = line.strip_prefix("serving on http://") {
            break a.trim().parse().unwrap();
        }
    };
    (child, rx, addr)
}

#[test]
fn serve_answers_logs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs.jsonl");
    std::fs::write(
        &docs,
        r#"{"id":"a","url":"https://example.org/a","source":"test","title":"Paraguay resident registration","body":"Resident registration in Paraguay.","lang":"en"}"#,
    )
    .unwrap();
    let corpus = dir.path().join("corpus");
    let index = dir.path().join("index");
    let corpus_arg = corpus.to_str().unwrap();
    let index_arg = index.to_str().unwrap();
    let out = egovkb(
        &[
            "--corpus",
            corpus_arg,
            "--index",
            index_arg,
            "import",
            docs.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Served as the configuration file says: its paths relative to it.
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        "corpus = \"corpus\"\nindex = \"index\"\n\n[serve]\naddr = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let (mut child, rx, addr) = serve(&["--config", config.to_str().unwrap(), "serve"]);
    let next_line = || {
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server went quiet")
    };
    let (status, body) = common::http_get(addr, "/api/search?q=Paraguay");
    assert_eq!(status, 200);
    assert!(body.contains(r#""id":"a""#), "{body}");
    // The request is in the log, with its status.
    loop {
        let line = next_line();
        if line.contains("egovkb::server::access") {
            assert!(
                line.contains("/api/search?q=Paraguay") && line.contains("status=200"),
                "{line}"
            );
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "still running after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    // The same log as JSON, one object a line, for a log collector.
    let config = config.to_str().unwrap();
    let (mut child, rx, addr) = serve(&["--config", config, "--log-format", "json", "serve"]);
    let next_line = || {
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the server went quiet")
    };
    assert_eq!(common::http_get(addr, "/api/stats").0, 200);
    let logged: serde_json::Value = loop {
        let line = next_line();
        if line.contains("egovkb::server::access") {
            break serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
    };
    assert_eq!(logged["target"], "egovkb::server::access");
    assert_eq!(logged["uri"], "/api/stats");
    assert_eq!(logged["status"], 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn search_exports_every_counted_hit() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs.jsonl");
    std::fs::write(
        &docs,
        concat!(
            r#"{"id":"a","url":"https://example.org/a","source":"test","title":"Paraguay resident registration","body":"Resident registration in Paraguay.","lang":"en","published":"2018-06-26"}"#,
            "\n",
            r#"{"id":"b","url":"https://example.org/b","source":"test","title":"Chocolate cake","body":"A recipe.","lang":"en"}"#,
            "\n"
        ),
    )
    .unwrap();
    let base = [
        "--corpus",
        dir.path().join("corpus").to_str().unwrap(),
        "--index",
        dir.path().join("index").to_str().unwrap(),
    ]
    .map(str::to_string);
    let run = |more: &[&str]| {
        let args: Vec<&str> = base
            .iter()
            .map(String::as_str)
            .chain(more.iter().copied())
            .collect();
        let out = egovkb(&args, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["import", docs.to_str().unwrap()]);
    run(&["index"]);
    let csv = run(&["search", "Paraguay", "--mode", "lexical", "--export", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("\u{FEFF}\"title\",\"date\""), "{csv}");
    assert_eq!(rows.len(), 2, "{csv}");
    // Every hit the search counts, whatever the mode.
    let json = run(&["search", "Paraguay", "--json"]);
    let total = serde_json::from_str::<serde_json::Value>(&json).unwrap()["total"]
        .as_u64()
        .unwrap();
    let all = run(&["search", "Paraguay", "--export", "jsonl"]);
    assert_eq!(all.lines().count() as u64, total);
    assert!(rows[1].starts_with("\"Paraguay resident registration\",\"2018-06-26\""));
    assert!(rows[1].contains("/doc/a\""), "a permalink: {csv}");
    let ris = run(&["search", "Paraguay", "--export", "ris"]);
    assert!(
        ris.starts_with("TY  - GEN") && ris.contains("ER  - "),
        "{ris}"
    );
    let out = egovkb(
        &[
            &base[..],
            &["search".into(), "x".into(), "--export".into(), "xls".into()],
        ]
        .concat()
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        None,
    );
    assert!(!out.status.success());
}
