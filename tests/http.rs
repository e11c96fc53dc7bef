//! The JSON API over a real server on 127.0.0.1: routes, the search
//! response field by field, errors (4xx, never 5xx), escaping, and a new
//! index generation swapped in while serving.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use egovkb::document::{DocType, Document, Lang};
use egovkb::engine::Engine;
use egovkb::index::search::Searcher;
use egovkb::index::{IndexDir, build};
use egovkb::progress::Quiet;
use egovkb::server::AppState;
use egovkb::store::Store;
use serde_json::Value;

struct Server {
    addr: SocketAddr,
    root: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn docs() -> Vec<Document> {
    let mk = |id: &str, lang: Lang, t: DocType, date: &str, title: &str, body: &str| {
        let mut d = Document::new(format!("https://example.org/{id}"), "test", title);
        d.id = id.into();
        d.lang = Some(lang);
        d.doc_type = t;
        d.published = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok();
        d.body = body.into();
        d
    };
    vec![
        mk(
            "en-py",
            Lang::en(),
            DocType::Notice,
            "2018-06-26",
            "Paraguay and resident registration",
            "Paraguay learned how resident registration works in Korea.",
        ),
        mk(
            "ko-py",
            Lang::ko(),
            DocType::PressRelease,
            "2019-03-20",
            "파라과이 주민등록 협력",
            "행정안전부는 파라과이와 주민등록 협력을 논의했다.",
        ),
        mk(
            "es-bo",
            Lang::es(),
            DocType::Presentation,
            "2018-06-27",
            "Bolivia: firma digital",
            "Bolivia presentó su firma digital y la interoperabilidad.",
        ),
        mk(
            "en-xss",
            Lang::en(),
            DocType::Other,
            "2017-01-01",
            "Advisory <script>alert(1)</script>",
            "A page with <script>alert(1)</script> inside, about cyber security.",
        ),
    ]
}

fn engine() -> Engine {
    Engine::load(&common::dict_root(), None).unwrap()
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let store = Store::open(&root.join("corpus")).unwrap();
        for d in docs() {
            store.put(&d).unwrap();
        }
        let index = IndexDir::new(&root.join("index"));
        build::update(&index, &store, &engine(), &Quiet).unwrap();
        let searcher = Searcher::open(&index, engine(), None).unwrap();
        let state = Arc::new(AppState::new(
            searcher,
            index,
            engine(),
            root.join("corpus"),
        ));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                egovkb::server::serve_on(listener, state).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Server {
            addr,
            root,
            _dir: dir,
        }
    })
}

fn get(path: &str) -> (u16, Value) {
    let (status, body) = common::http_get(server().addr, path);
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

#[test]
fn search_response_follows_the_contract() {
    let (status, r) = get("/api/search?q=resident%20registration%20Paraguay&ui_lang=en");
    assert_eq!(status, 200);
    assert_eq!(r["query"], "resident registration Paraguay");
    assert_eq!(r["interpreted"]["countries"], serde_json::json!(["PY"]));
    assert_eq!(
        r["interpreted"]["topics"],
        serde_json::json!(["resident-registration"])
    );
    assert!(r["total"].as_u64().unwrap() >= 2);
    assert!(r["took_ms"].is_u64());
    let hit = &r["hits"][0];
    for field in [
        "id",
        "title",
        "url",
        "doc_type",
        "lang",
        "published",
        "countries",
        "topics",
        "score",
        "snippet",
    ] {
        assert!(!hit[field].is_null(), "hit lacks {field}: {hit}");
    }
    for facet in ["country", "topic", "year", "doc_type", "lang", "event"] {
        assert!(r["facets"][facet].is_array(), "facets lack {facet}");
    }
    let py = r["facets"]["country"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == "PY")
        .unwrap();
    assert_eq!(py["label"], "Paraguay");
    assert!(py["count"].as_u64().unwrap() >= 2);
}

#[test]
fn several_values_of_a_facet_are_ored_and_counts_stay_disjunctive() {
    let (_, one) = get("/api/search?country=PY");
    let (_, two) = get("/api/search?country=PY&country=BO");
    assert!(two["total"].as_u64() > one["total"].as_u64());
    // The country facet still shows BO's count while only PY is selected.
    let bo = one["facets"]["country"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == "BO")
        .unwrap();
    assert_eq!(bo["count"], 1);
    let (_, typed) =
        get("/api/search?country=PY&type=notice&type=presentation&year=2018..2019&lang=en");
    assert_eq!(typed["total"], 1);
}

#[test]
fn documents_related_and_stats() {
    let (status, d) = get("/api/documents/ko-py");
    assert_eq!(status, 200);
    assert_eq!(d["title"], "파라과이 주민등록 협력");
    assert_eq!(d["countries"], serde_json::json!(["PY"]));
    let (status, rel) = get("/api/documents/ko-py/related?limit=2");
    assert_eq!(status, 200);
    assert_eq!(rel["hits"][0]["id"], "en-py");
    let (status, stats) = get("/api/stats?ui_lang=ko");
    assert_eq!(status, 200);
    assert_eq!(stats["documents"], 4);
    assert!(stats["generation"].as_str().unwrap().starts_with("gen-"));
    let (status, h) = get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(h["status"], "ok");
}

#[test]
fn bad_input_is_a_json_4xx_never_a_5xx() {
    let long = "a".repeat(2000);
    let cases = [
        ("/api/search?limit=1000", 400),
        ("/api/search?limit=0", 400),
        ("/api/search?limit=ten", 400),
        ("/api/search?offset=-1", 400),
        ("/api/search?offset=99999999", 400),
        ("/api/search?year=abc", 400),
        ("/api/search?year=2020..2010", 400),
        ("/api/search?sort=best", 400),
        ("/api/search?ui_lang=fr", 400),
        ("/api/search?bogus=1", 400),
        ("/api/documents/no-such-id", 404),
        ("/api/documents/no-such-id/related", 404),
        ("/api/documents/ko-py/related?limit=500", 400),
        ("/no/such/route", 404),
    ];
    for (path, expected) in cases {
        let (status, body) = get(path);
        assert_eq!(status, expected, "{path}: {body}");
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{path}: {body}"
        );
    }
    let (status, body) = get(&format!("/api/search?q={long}"));
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than")
    );
    // Odd but valid queries answer 200.
    for q in [
        "%22",
        "-",
        "%F0%9F%98%80",
        "%00",
        "(((",
        "-%22smart%20city%22",
        "%ZZ%",
        "%FF%FE",
    ] {
        let (status, _) = get(&format!("/api/search?q={q}"));
        assert_eq!(status, 200, "{q}");
    }
}

#[test]
fn xss_in_queries_and_documents_comes_back_escaped() {
    let (status, r) = get("/api/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(status, 200);
    assert_eq!(r["query"], "<script>alert(1)</script>");
    let hit = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "en-xss")
        .unwrap();
    let snippet = hit["snippet"].as_str().unwrap();
    // Only <mark> is markup; the document's tags come back as text.
    assert!(!snippet.contains("<script"), "{snippet}");
    assert!(snippet.contains("&lt;<mark>script</mark>&gt;"), "{snippet}");
    assert_eq!(
        snippet
            .replace("<mark>", "")
            .replace("</mark>", "")
            .matches('<')
            .count(),
        0
    );
}

#[test]
fn a_new_generation_is_served_without_a_restart() {
    let s = server();
    let (_, before) = get("/healthz");
    let store = Store::open(&s.root.join("corpus")).unwrap();
    let index = IndexDir::new(&s.root.join("index"));
    build::rebuild(&index, &store, &engine(), &Quiet).unwrap();
    let wanted = index.current().unwrap();
    assert_ne!(before["generation"], wanted.as_str());
    let started = std::time::Instant::now();
    loop {
        let (_, now) = get("/healthz");
        if now["generation"] == wanted.as_str() {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 5,
            "still serving {}",
            now["generation"]
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, r) = get("/api/search?q=Paraguay");
    assert_eq!(status, 200);
    assert!(r["total"].as_u64().unwrap() >= 2);
}
