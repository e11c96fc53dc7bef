//! The first run, as README.md's first command does it: `egovkb serve` on
//! the bundled corpus with no documents and no index yet. It imports the
//! originals, builds the index and serves; "resident registration
//! Paraguay" then finds Korean, Spanish and English documents, with
//! Paraguay in the country facet. A second start reuses what the first
//! built.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Start `serve` on a free port; its address and the lines it printed
/// before serving.
fn start(root: &Path) -> (std::process::Child, std::net::SocketAddr, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(root.join("corpus"))
        .arg("--index")
        .arg(root.join("index"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = common::stderr_lines(&mut child);
    let mut lines = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve said nothing for 2 minutes: {lines:?}");
        };
        if let Some(a) = line.strip_prefix("serving on http://") {
            return (child, a.trim().parse().unwrap(), lines);
        }
        lines.push(line);
    }
}

#[test]
fn serve_on_a_fresh_checkout_imports_indexes_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    copy_dir(
        &corpus.join("originals"),
        &dir.path().join("corpus/originals"),
    );
    std::fs::copy(
        corpus.join("events.toml"),
        dir.path().join("corpus/events.toml"),
    )
    .unwrap();
    let (mut child, addr, steps) = start(dir.path());
    for step in ["[1/4]", "[2/4] importing", "[3/4]", "[4/4]"] {
        assert!(
            steps.iter().any(|l| l.starts_with(step)),
            "{step} missing: {steps:?}"
        );
    }
    let (status, body) = common::http_get(
        addr,
        "/api/search?q=resident+registration+Paraguay&limit=20",
    );
    assert_eq!(status, 200);
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    let langs: std::collections::HashSet<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["lang"].as_str())
        .collect();
    for l in ["ko", "es", "en"] {
        assert!(langs.contains(l), "no {l} hit: {body}");
    }
    let py = r["facets"]["country"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == "PY")
        .expect("Paraguay in the country facet");
    assert!(py["count"].as_u64().unwrap() >= 3);
    // The presentations are there, with their slides.
    let (_, body) = common::http_get(
        addr,
        "/api/search?q=registro+civil+identidad&type=presentation",
    );
    assert!(body.contains("\"page\":3"), "{body}");
    // A trainer pulls up the 2018 course: its materials, with the course's name.
    let (_, body) = common::http_get(addr, "/api/search?event=2018-06-advanced-egov-course");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(r["total"].as_u64().unwrap() >= 3, "{body}");
    assert_eq!(
        r["facets"]["event"][0]["label"],
        "Advanced e-Government Training Course (June 2018)"
    );
    let (status, page) = common::http_get(addr, "/?q=resident+registration+Paraguay");
    assert_eq!(status, 200);
    assert!(page.contains("Paraguay"));
    // ...and downloads a country's slides from its document page; a PDF
    // is shown in the browser.
    let (_, body) = common::http_get(
        addr,
        "/api/search?event=2018-06-advanced-egov-course&limit=50",
    );
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hits = r["hits"].as_array().unwrap();
    let id_of = |file: &str| {
        hits.iter()
            .find(|h| h["url"].as_str().is_some_and(|u| u.ends_with(file)))
            .and_then(|h| h["id"].as_str())
            .unwrap_or_else(|| panic!("no {file}: {body}"))
            .to_string()
    };
    let deck = id_of("paraguay-2018-informe-pais.pptx");
    // No server folder in the API: a corpus file's url is its path in the
    // corpus, with the link to the file.
    let root = dir.path().to_string_lossy().into_owned();
    assert!(!body.contains(&root), "a server path in {body}");
    let hit = hits.iter().find(|h| h["id"] == deck.as_str()).unwrap();
    assert_eq!(
        hit["url"],
        "originals/presentations/paraguay-2018-informe-pais.pptx"
    );
    assert_eq!(hit["original"], format!("/original/{deck}"));
    let (_, body) = common::http_get(addr, &format!("/api/documents/{deck}"));
    assert!(!body.contains(&root), "a server path in {body}");
    let d: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["url"], hit["url"]);
    assert_eq!(d["original"], hit["original"]);
    assert!(
        d["pages"].as_array().is_some_and(|p| p.len() >= 3),
        "{body}"
    );
    let (_, page) = common::http_get(addr, &format!("/doc/{deck}"));
    assert!(
        page.contains(&format!(
            "href=\"/original/{deck}\">paraguay-2018-informe-pais.pptx</a>"
        )),
        "{page}"
    );
    let file = common::http_request(addr, "GET", &format!("/original/{deck}"), &[], "");
    assert_eq!(file.status, 200);
    assert!(
        file.header("content-type")
            .unwrap()
            .contains("presentationml")
    );
    assert_eq!(
        file.header("content-disposition"),
        Some("attachment; filename*=UTF-8''paraguay-2018-informe-pais.pptx")
    );
    let size = std::fs::metadata(
        dir.path()
            .join("corpus/originals/presentations/paraguay-2018-informe-pais.pptx"),
    )
    .unwrap()
    .len();
    assert_eq!(
        file.header("content-length"),
        Some(size.to_string().as_str())
    );
    assert!(file.body.starts_with("PK"));
    let pdf = id_of("peru-2018-country-report.pdf");
    let file = common::http_request(addr, "GET", &format!("/original/{pdf}"), &[], "");
    assert_eq!(file.header("content-type"), Some("application/pdf"));
    assert!(
        file.header("content-disposition")
            .unwrap()
            .starts_with("inline")
    );
    assert!(file.body.starts_with("%PDF"));
    assert_eq!(common::http_get(addr, "/original/no-such-id").0, 404);
    child.kill().unwrap();
    child.wait().unwrap();

    // A file imported from outside the corpus is named, never located:
    // no folder, no link (it is not served).
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(
        elsewhere.join("uruguay-notice.html"),
        "<html lang=\"en\"><head><title>Uruguay digital identity workshop</title></head><body>\
         <h1>Uruguay digital identity workshop</h1><p>Officials from Uruguay studied \
         Korean digital identity and resident registration.</p></body></html>",
    )
    .unwrap();
    for args in [
        vec!["import".into(), elsewhere.to_string_lossy().into_owned()],
        vec!["index".to_string()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
            .arg("--corpus")
            .arg(dir.path().join("corpus"))
            .arg("--index")
            .arg(dir.path().join("index"))
            .args(&args)
            .env("EGOVKB_DICT_DIR", common::dict_root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    }

    // A second start finds everything in place.
    let (mut child, addr, _) = start(dir.path());
    let (status, body) = common::http_get(addr, "/healthz");
    assert_eq!(status, 200);
    assert!(body.contains("\"generation\":\"gen-000001\""), "{body}");
    let (_, body) = common::http_get(addr, "/api/search?q=Uruguay+digital+identity+workshop");
    assert!(!body.contains(&root), "a server path in {body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hit = &r["hits"][0];
    assert_eq!(hit["url"], "uruguay-notice.html", "{body}");
    assert!(hit.get("original").is_none(), "{body}");
    child.kill().unwrap();
    child.wait().unwrap();
}
