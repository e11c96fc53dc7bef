//! Relevance you can count (`core::relevance`): a search counts only
//! documents with evidence, says when nothing matches, and each hit says
//! why it is there; over the HTTP API, the page and the command line,
//! with the real embedding model.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{TestServer, doc, http_get};
use egovkb::{DocType, Lang};

/// E-government notices in three languages.
fn notices() -> Vec<egovkb::Document> {
    let n = |id: &str, lang: Lang, date: &str, title: &str, body: &str| {
        doc(id, lang, DocType::Notice, date, title, body)
    };
    vec![
        n(
            "py-registry",
            Lang::en(),
            "2018-06-26",
            "Paraguay studies Korea's resident registration system",
            "Officials from Paraguay visited the Ministry of the Interior and Safety to learn \
             how resident registration numbers are issued and how birth records are kept online.",
        ),
        n(
            "bo-procurement",
            Lang::es(),
            "2019-03-11",
            "Bolivia estudia la contratación pública electrónica de Corea",
            "Una delegación de Bolivia conoció el sistema de compras públicas en línea, las \
             licitaciones electrónicas y el registro de proveedores del Estado.",
        ),
        n(
            "cl-cloud",
            Lang::es(),
            "2016-04-20",
            "Chile traslada sus sistemas a la nube de gobierno",
            "El ministerio hizo un inventario de los sistemas de cada institución antes de \
             trasladarlos al centro de datos del gobierno.",
        ),
        n(
            "kr-archives",
            Lang::ko(),
            "2017-09-12",
            "우루과이 대표단, 전자문서 보존 제도 연수",
            "우루과이 공무원들이 행정안전부를 방문해 전자문서 유통과 기록물 보존 형식을 배웠다.",
        ),
        n(
            "jm-disaster",
            Lang::en(),
            "2016-11-08",
            "Jamaica learns disaster alerts by mobile phone",
            "Emergency managers from Jamaica visited the situation room to see how warnings \
             and shelter maps reach every mobile phone before a hurricane.",
        ),
        n(
            "sv-tax",
            Lang::es(),
            "2019-06-25",
            "El Salvador moderniza la declaración de impuestos",
            "El ministerio de hacienda aprendió a llenar por adelantado las declaraciones con \
             los datos que ya tiene y a devolver los impuestos en línea.",
        ),
    ]
}

fn server() -> &'static TestServer {
    static SERVER: std::sync::OnceLock<TestServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let mut engine = common::semantic_engine(None);
        // The counting rules on, as measured (they are off by default).
        engine.ranking.min_coverage = 0.5;
        engine.ranking.meaning_bar = 1.0;
        TestServer::start_with_engine(engine, notices())
    })
}

fn search(path_and_query: &str) -> serde_json::Value {
    let (status, body) = http_get(server().addr, path_and_query);
    assert_eq!(status, 200, "{path_and_query}: {body}");
    serde_json::from_str(&body).unwrap()
}

use common::hit_ids as ids;

/// Every facet count of a response, summed per facet.
fn facet_sum(r: &serde_json::Value, facet: &str) -> u64 {
    r["facets"][facet]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum()
}

const OFF_TOPIC: &[&str] = &[
    "zzzxqq blorf",
    "qwxv ptlok zzmb",
    "흙뿕 뷁쉛똵",
    "chocolate cake recipe",
    "What year did the Denver Broncos win the Super Bowl?",
    "¿Quién escribió Cien años de soledad?",
];

#[test]
fn nonsense_and_off_topic_questions_count_nothing() {
    for q in OFF_TOPIC {
        let enc = urlencode(q);
        let r = search(&format!("/api/search?q={enc}"));
        assert_eq!(r["total"], 0, "{q}: {r}");
        assert!(ids(&r).is_empty(), "{q}: {r}");
        for facet in ["country", "topic", "lang", "doc_type", "year"] {
            assert_eq!(facet_sum(&r, facet), 0, "{q}: {facet} counts {r}");
        }
        // The page says so, in the interface's language.
        for (ui, says) in [
            ("en", "Nothing in the knowledge base matches"),
            ("es", "Nada en la base de conocimiento coincide"),
            ("ko", "지식 베이스에 이 검색과 일치하는 문서가 없습니다"),
        ] {
            let (status, page) = http_get(server().addr, &format!("/?q={enc}&ui={ui}"));
            assert_eq!(status, 200);
            assert!(page.contains(says), "{q} ({ui}): no message");
        }
    }
}

#[test]
fn on_topic_questions_in_other_words_and_languages_still_find_their_document() {
    let cases = [
        // Spanish for the English notice.
        (
            "¿cómo se registran los nacimientos de los residentes?",
            "py-registry",
        ),
        // English for a Spanish one.
        (
            "buying goods for the state through online tenders",
            "bo-procurement",
        ),
        // (A Korean question for the English one falls below the bar:
        // BENCHMARKS.md, "Relevance", not met.)
    ];
    for (q, want) in cases {
        let r = search(&format!("/api/search?q={}", urlencode(q)));
        let got = ids(&r);
        assert!(
            got.iter().take(3).any(|id| id == want),
            "{q}: {want} not in the top 3 of {got:?}"
        );
        let hit = &r["hits"][got.iter().position(|id| id == want).unwrap()];
        let by = hit["matched"]["by"].as_str().unwrap();
        assert!(["meaning", "both"].contains(&by), "{q}: {hit}");
        assert!(
            ["fair", "strong"].contains(&hit["matched"]["strength"].as_str().unwrap()),
            "{hit}"
        );
    }
}

#[test]
fn totals_and_facets_describe_the_counted_set_on_every_page() {
    let q = urlencode("resident registration Paraguay");
    let first = search(&format!("/api/search?q={q}&limit=1"));
    let total = first["total"].as_u64().unwrap();
    assert!(total >= 1, "{first}");
    assert_eq!(ids(&first)[0], "py-registry");
    // Found by its words and tags, and close in meaning.
    let m = &first["hits"][0]["matched"];
    assert_eq!(m["by"], "both", "{m}");
    assert!(
        m["concepts"].as_array().unwrap().iter().any(|c| c == "PY"),
        "{m}"
    );
    let mut seen = Vec::new();
    for offset in 0..total {
        let page = search(&format!("/api/search?q={q}&limit=1&offset={offset}"));
        assert_eq!(page["total"].as_u64(), Some(total), "offset {offset}");
        seen.extend(ids(&page));
        // Every document counted, and only those: one language each.
        assert_eq!(facet_sum(&page, "lang"), total);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len() as u64, total, "{seen:?}");
    let past = search(&format!("/api/search?q={q}&offset={total}"));
    assert!(ids(&past).is_empty());
    // The page shows each hit's reason.
    let (_, page) = http_get(server().addr, &format!("/?q={q}"));
    assert!(
        page.contains(r#"<p class="why" data-by="both">"#),
        "no reason"
    );
    assert!(page.contains("Paraguay"));
}

#[test]
fn a_word_alone_among_rarer_ones_is_no_evidence() {
    // "ministerio" is in three documents; the other words in none: a
    // search by words counts nothing.
    let r = search(&format!(
        "/api/search?q={}&mode=lexical",
        urlencode("ministerio quirófano astronauta")
    ));
    assert_eq!(r["total"], 0, "{r}");
    // Two of three of a notice's rarer words count it.
    let r = search(&format!(
        "/api/search?q={}&mode=lexical",
        urlencode("licitaciones proveedores astronauta")
    ));
    assert_eq!(ids(&r), ["bo-procurement"], "{r}");
    assert_eq!(r["hits"][0]["matched"]["by"], "words");
    assert_eq!(
        r["hits"][0]["matched"]["words"],
        serde_json::json!(["licitaciones", "proveedores"])
    );
    // Browsing counts every document, and asks nothing of them.
    let all = search("/api/search?q=");
    assert_eq!(all["total"], 6);
    assert!(all["hits"][0].get("matched").is_none(), "{all}");
}

#[test]
fn a_calibration_of_another_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("calibration.toml");
    std::fs::write(
        &other,
        "model = \"another-model\"\nmeasured = \"test\"\n[[bar]]\nquery = \"*\"\ndocument = \"*\"\ncounts = 0.5\nstrong = 0.6\n",
    )
    .unwrap();
    let err = egovkb::semantic::Semantic::load_installed(&common::model_root(), Some(&other))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another-model") && err.contains("multilingual-e5-small"),
        "{err}"
    );
    // The command line refuses to search with it, saying why.
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["--calibration"])
        .arg(&other)
        .args(["--corpus"])
        .arg(dir.path().join("corpus"))
        .args(["--index"])
        .arg(dir.path().join("index"))
        .args(["search", "registro"])
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_MODEL_DIR", common::model_root())
        .env_remove("EGOVKB_NO_MODEL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another-model"), "{stderr}");
    // The shipped one belongs to the installed model.
    let ok = egovkb::semantic::Semantic::load_installed(&common::model_root(), None)
        .unwrap()
        .unwrap();
    assert!(ok.calibration.bar(Some("es"), Some("en")).counts > 0.5);
}

#[test]
fn the_command_line_says_nothing_matches() {
    // Without the rules (the default), a nonsense query still finds
    // nothing: it is not searched by meaning.
    let root = &server().root;
    let run = |q: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_egovkb"))
            .arg("--corpus")
            .arg(root.join("corpus"))
            .arg("--index")
            .arg(root.join("index"))
            .args(["search", q])
            .env("EGOVKB_DICT_DIR", common::dict_root())
            .env("EGOVKB_MODEL_DIR", common::model_root())
            .env_remove("EGOVKB_NO_MODEL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdin.take().map(|mut i| i.write_all(b"")));
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let none = run("zzzxqq blorf");
    assert!(
        none.starts_with("nothing in the knowledge base matches"),
        "{none}"
    );
    let some = run("licitaciones proveedores");
    assert!(some.contains("matched by words"), "{some}");
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
