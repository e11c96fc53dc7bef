//! The HTTP server on 127.0.0.1: the JSON API (routes, the search response
//! field by field, errors 4xx and never 5xx, escaping), the web page (every
//! state in the URL, facets, escaping, interface languages, headers), the
//! OpenAPI description checked against what the server answers, and a new
//! index generation swapped in while serving.

mod common;

use std::sync::OnceLock;

use egovkb::document::{DocType, Document, Lang};
use egovkb::engine::Engine;
use egovkb::index::{IndexDir, build};
use egovkb::progress::Quiet;
use egovkb::store::Store;
use serde_json::Value;

fn docs() -> Vec<Document> {
    let mk = common::doc;
    let mut docs = common::paraguay_notices();
    docs.extend([
        {
            let mut d = mk(
                "es-bo",
                Lang::es(),
                DocType::Presentation,
                "2018-06-27",
                "Bolivia: firma digital",
                "Bolivia presentó su firma digital y la interoperabilidad.",
            );
            d.url = "https://example.org/FileDown.do?atchFileId=F1&fileSn=2".into();
            d.file_name = Some("발표자료(볼리비아).pptx".into());
            d.pages = vec![
                "Bolivia: gobierno electrónico".into(),
                "La firma digital y la interoperabilidad en Bolivia.".into(),
            ];
            d.body = d.pages.join("\n\n");
            d
        },
        mk(
            "en-xss",
            Lang::en(),
            DocType::Other,
            "2017-01-01",
            "Advisory <script>alert(1)</script>",
            "A page with <script>alert(1)</script> inside, about cyber security.",
        ),
    ]);
    docs
}

fn engine() -> Engine {
    Engine::load(&common::dict_root(), None).unwrap()
}

fn server() -> &'static common::TestServer {
    static S: OnceLock<common::TestServer> = OnceLock::new();
    S.get_or_init(|| common::TestServer::start(docs()))
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
        ("/api/search?year=2020..2010..2000", 400),
        ("/api/search?country=", 400),
        ("/api/search?ui_lang=", 400),
        ("/api/search?topic=", 400),
        ("/api/stats?ui_lang=", 400),
        ("/api/search?sort=best", 400),
        ("/api/search?ui_lang=fr", 400),
        ("/api/search?bogus=1", 400),
        ("/api/documents/no-such-id", 404),
        ("/api/documents/no-such-id/related", 404),
        ("/api/documents/ko-py/related?limit=500", 400),
        ("/api/search?type=slides", 400),
        ("/api/search?lang=spanish", 400),
        ("/api/search?country=PAR", 400),
        ("/api/documents/%FF", 400),
        ("/api/documents/%FF/related", 400),
        ("/api/no/such/route", 404),
    ];
    for (path, expected) in cases {
        let (status, body) = get(path);
        assert_eq!(status, expected, "{path}: {body}");
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{path}: {body}"
        );
    }
    // A range of years written backwards is the same years.
    let (_, forward) = get("/api/search?year=2010..2020");
    let (status, backward) = get("/api/search?year=2020..2010");
    assert_eq!(status, 200);
    assert_eq!(common::hit_ids(&forward), common::hit_ids(&backward));
    let (status, body) = get(&format!("/api/search?q={long}"));
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000 characters")
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

/// A generation copied under another name is opened once when `CURRENT`
/// names it, not again at every look (its record names the original).
#[test]
fn a_copied_generation_is_opened_once() {
    let (state, dir) = common::server_state(docs(), None);
    let index = IndexDir::new(&dir.path().join("index"));
    let original = index.current().unwrap();
    let copy = "gen-000099";
    let copy_files = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    };
    copy_files(&index.path_of(&original), &index.path_of(copy));
    assert_eq!(state.refresh(), None, "nothing changed yet");
    std::fs::write(dir.path().join("index/CURRENT"), copy).unwrap();
    assert_eq!(state.refresh().as_deref(), Some(copy));
    assert_eq!(state.refresh(), None, "opened again");
    assert_eq!(state.backend().health().unwrap().generation, copy);
}

/// An admin adds a topic to the corpus's taxonomy and reindexes: the
/// running server serves the new generation with the new vocabulary (its
/// queries understand the topic), and does not keep trying to open it with
/// the old one.
#[test]
fn a_reindex_with_edited_vocabularies_is_served_without_a_restart() {
    let (state, dir) = common::server_state(docs(), None);
    let corpus = dir.path().join("corpus");
    std::fs::write(
        corpus.join("topics.toml"),
        "[smart-farming]\nlabel = { en = \"Smart farming\", es = \"Agricultura inteligente\", ko = \"스마트팜\" }\n\
         en = [\"smart farming\"]\nes = [\"agricultura inteligente\"]\nko = [\"스마트팜\"]\n",
    )
    .unwrap();
    let understood = |state: &egovkb::server::AppState| {
        let req = egovkb::index::search::SearchRequest {
            q: "smart farming".into(),
            ..Default::default()
        };
        state.backend().search(&req).unwrap().interpreted.topics
    };
    assert!(understood(&state).is_empty());
    let edited = Engine::load(&common::dict_root(), Some(&corpus)).unwrap();
    let index = IndexDir::new(&dir.path().join("index"));
    let store = Store::open(&corpus).unwrap();
    build::rebuild(&index, &store, &edited, &Quiet).unwrap();
    let generation = index.current().unwrap();
    assert_eq!(state.refresh().as_deref(), Some(generation.as_str()));
    assert_eq!(understood(&state), ["smart-farming"]);
    assert_eq!(state.refresh(), None);
}

/// An admin labels an event in the corpus's `events.toml` (which changes
/// no vocabulary) and runs `index`: the running server labels it with the
/// next generation.
#[test]
fn an_event_label_is_served_with_the_next_generation() {
    let (state, dir) = common::server_state(docs(), None);
    let corpus = dir.path().join("corpus");
    let label = |state: &egovkb::server::AppState| {
        let backend = state.backend();
        backend
            .engine()
            .enricher
            .events
            .label("2019-05-course", egovkb::enrich::UiLang::En)
    };
    assert_eq!(label(&state), "2019-05-course");
    std::fs::write(
        corpus.join("events.toml"),
        "[events.\"2019-05-course\"]\nen = \"E-government course, May 2019\"\n",
    )
    .unwrap();
    let index = IndexDir::new(&dir.path().join("index"));
    let store = Store::open(&corpus).unwrap();
    build::rebuild(&index, &store, &engine(), &Quiet).unwrap();
    assert!(state.refresh().is_some());
    assert_eq!(label(&state), "E-government course, May 2019");
}

#[test]
fn a_new_generation_is_served_without_a_restart() {
    let s = server();
    let (_, before) = get("/healthz");
    let tag = |path: &str| page(path).header("etag").map(str::to_string);
    let tag_before = tag("/api/search?q=Paraguay");
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
    // An answer kept from the old generation is not confirmed by the new.
    assert!(tag_before.is_some());
    assert_ne!(tag("/api/search?q=Paraguay"), tag_before);
}

fn page(path: &str) -> common::Response {
    common::http_request(server().addr, "GET", path, &[], "")
}

/// Every attribute value and text of the page is escaped: the only tags are
/// the page's own.
fn assert_no_injected_markup(html: &str) {
    assert!(!html.contains("<script>"), "a raw script tag in the page");
    assert!(!html.contains("alert(1)</"), "an injected element");
}

#[test]
fn the_page_searches_with_facets_and_results() {
    let r = page("/?q=resident+registration+Paraguay&ui=en");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let html = &r.body;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(
        html.contains(r#"role="search""#)
            && html.contains(r#"<label class="visually-hidden" for="q">"#)
    );
    assert!(html.contains(r#"value="resident registration Paraguay""#));
    // Facet groups with counts, as checkboxes that belong to the search form.
    assert!(html.contains(r#"<legend>Country</legend>"#));
    assert!(html.contains(r#"form="search" name="country" value="PY""#));
    // The recognised country and topic, as chips that add a filter.
    assert!(
        html.contains(r#"href="/?q=resident+registration+Paraguay&amp;country=PY&amp;ui=en""#),
        "{html}"
    );
    // Results in both languages, with highlighted snippets and badges.
    assert!(html.contains(r#"href="/doc/en-py?ui=en&amp;q=resident+registration+Paraguay""#));
    assert!(html.contains(r#"href="/doc/ko-py?ui=en&amp;q=resident+registration+Paraguay""#));
    assert!(html.contains("<mark>"));
    assert!(html.contains(r#"<span class="badge lang">ko</span>"#));
    assert!(!html.contains(r#"class="relaxed""#));
}

#[test]
fn the_page_says_when_a_phrase_was_searched_as_words() {
    let html = page("/?q=%22registration+resident+Paraguay%22&ui=en").body;
    assert!(
        html.contains(r#"<p class="relaxed" role="status">"#)
            && html.contains("<q>registration resident Paraguay</q>"),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/doc/en-py?ui=en&amp;q=%22registration+resident+Paraguay%22""#),
        "{html}"
    );
    let r = get("/api/search?q=%22registration+resident+Paraguay%22");
    assert_eq!(
        r.1["interpreted"]["relaxed"][0],
        "registration resident Paraguay"
    );
    // A misspelled word: the page says what it was searched as.
    let html = page("/?q=Paragauy&ui=en").body;
    assert!(
        html.contains("<del>Paragauy</del> → <ins>paraguay</ins>"),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/doc/en-py?ui=en&amp;q=Paragauy""#),
        "{html}"
    );
}

#[test]
fn the_page_keeps_several_selected_values_and_shows_them_as_removable() {
    let r = page("/?country=PY&country=BO&ui=en");
    assert_eq!(r.status, 200);
    let html = &r.body;
    for code in ["PY", "BO"] {
        assert!(
            html.contains(&format!(r#"name="country" value="{code}" checked"#)),
            "{code} not ticked"
        );
    }
    // Three documents: both Paraguayan ones and the Bolivian one.
    assert!(
        html.contains(r#"<h2 class="count" id="results-heading" aria-live="polite">3 results"#),
        "{html}"
    );
    // Removing PY keeps BO.
    assert!(html.contains(r#"href="/?country=BO&amp;ui=en""#));
    // The year range travels as from/to and comes back filled in.
    let r = page("/?from=2018&to=2018&ui=en");
    assert!(
        r.body
            .contains(r#"name="from" min="1900" max="2100" value="2018""#)
    );
    assert!(r.body.contains(">2 results<"), "{}", r.body);
    assert!(r.body.contains(r#"<span class="kind">Year: </span>2018<"#));
    // A presentation hit points at its slide.
    let r = page("/?q=firma+digital&ui=es");
    assert!(
        r.body
            .contains(r#"href="/doc/es-bo?ui=es&amp;q=firma+digital#page-2""#),
        "{}",
        r.body
    );
    assert!(r.body.contains("Diapositiva 2"));
}

#[test]
fn the_page_speaks_three_languages() {
    let es = page("/?q=Paraguay&ui=es");
    assert!(es.body.contains(r#"<html lang="es">"#) && es.body.contains("<legend>País</legend>"));
    let ko = page("/?q=Paraguay&ui=ko");
    assert!(ko.body.contains("<legend>국가</legend>") && ko.body.contains("파라과이"));
    // Without ?ui, the browser's languages decide.
    let r = common::http_request(
        server().addr,
        "GET",
        "/?q=Paraguay",
        &[("Accept-Language", "ko-KR,ko;q=0.9,en;q=0.8")],
        "",
    );
    assert!(r.body.contains(r#"<html lang="ko">"#));
    // Links to the other languages keep the search.
    assert!(es.body.contains(r#"href="/?q=Paraguay&amp;ui=ko""#));
}

#[test]
fn the_document_page_shows_metadata_text_and_related() {
    let r = page("/doc/es-bo?ui=en");
    assert_eq!(r.status, 200);
    let html = &r.body;
    assert!(html.contains(r#"<h1 id="doc-title" lang="es">Bolivia: firma digital</h1>"#));
    assert!(html.contains(r#"<section class="page" id="page-2"><h2>Slide 2</h2>"#));
    assert!(html.contains(r#"href="https://example.org/FileDown.do?atchFileId=F1&amp;fileSn=2""#));
    // The name the server gave the file, in the page and the API.
    assert!(html.contains("발표자료(볼리비아).pptx"), "{html}");
    let (_, doc) = get("/api/documents/es-bo");
    assert_eq!(doc["file_name"], "발표자료(볼리비아).pptx");
    assert!(html.contains(r#"href="/?country=BO&amp;ui=en""#));
    let r = page("/doc/ko-py?ui=en");
    assert!(r.body.contains("Related documents") && r.body.contains(r#"href="/doc/en-py?ui=en""#));
    // A page of results past the last one says so, and leads back.
    let past = page("/?q=registration&page=50&ui=en");
    assert!(
        past.body.contains("This page is past the last result."),
        "{}",
        past.body
    );
    assert!(past.body.contains(">Go to the last page</a>"));
    assert!(!past.body.contains("No documents match"));
    let missing = page("/doc/no-such-doc");
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

#[test]
fn xss_in_the_page_is_escaped() {
    let r = page("/?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&ui=en");
    assert_eq!(r.status, 200);
    assert_no_injected_markup(&r.body);
    assert!(
        r.body
            .contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    let r = page("/?q=advisory&ui=en");
    assert!(
        r.body
            .contains("Advisory &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert_no_injected_markup(&r.body);
    let r = page("/doc/en-xss");
    assert_eq!(r.status, 200);
    assert_no_injected_markup(&r.body);
}

#[test]
fn bad_page_input_is_a_4xx_page_never_a_5xx() {
    let long = "a".repeat(2000);
    let many = "&country=PY".repeat(60);
    for path in [
        "/?page=0".to_string(),
        "/?page=x".to_string(),
        "/?year=abc".to_string(),
        "/?from=1800".to_string(),
        "/?ui=fr".to_string(),
        "/?sort=best".to_string(),
        "/?colour=red".to_string(),
        format!("/?q={long}"),
        format!("/?q=x{many}"),
    ] {
        let r = page(&path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.body.contains("The request is not valid"), "{path}");
    }
    for path in [
        "/?q=%ZZ%",
        "/?q=%FF%FE",
        "/?q=-",
        "/?q=%22",
        "/?page=99999999",
        "/?country=&topic=&from=&to=&sort=&page=&ui=",
        "/?from=2020&to=2010",
    ] {
        assert_eq!(page(path).status, 200, "{path}");
    }
    assert_eq!(page("/no/such/page").status, 404);
    // A body is refused, not read without end.
    let big = "x".repeat(200_000);
    let r = common::http_request(server().addr, "POST", "/api/search", &[], &big);
    assert!((400..500).contains(&r.status), "{}", r.status);
    // Another method than GET: 405, saying which to use, in JSON on the API.
    let r = common::http_request(server().addr, "DELETE", "/api/search", &[], "");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    let r = common::http_request(server().addr, "POST", "/doc/en-py", &[], "");
    assert_eq!(r.status, 405);
    assert!(r.body.contains("<html"), "{}", r.body);
    // A document id that is not UTF-8: a page that says so.
    assert_eq!(page("/doc/%FF").status, 400);
}

#[test]
fn assets_are_served_with_their_types() {
    // The page names them by a version of their content, so that a new
    // build's are fetched at once although they are cached for good.
    let home = page("/?ui=en");
    let version = home
        .body
        .split("/assets/style.css?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no versioned stylesheet: {}", home.body));
    assert_eq!(version.len(), 10);
    assert!(home.body.contains(&format!("/assets/app.js?v={version}")));
    let css = page(&format!("/assets/style.css?v={version}"));
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    let css = page("/assets/style.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    // Without the version, caches check: the next build's file may differ.
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    let tag = css.header("etag").unwrap();
    let again = common::http_request(
        server().addr,
        "GET",
        "/assets/style.css",
        &[("If-None-Match", tag)],
        "",
    );
    assert_eq!((again.status, again.body.as_str()), (304, ""));
    let js = page("/assets/app.js");
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(page("/assets/nothing.js").status, 404);
}

#[test]
fn the_openapi_description_matches_the_server() {
    let (status, spec) = get("/api/openapi.json");
    assert_eq!(status, 200);
    let paths: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Every route the server has, and no other.
    let mut routes = vec![
        "/",
        "/api/documents/{id}",
        "/api/documents/{id}/related",
        "/api/export",
        "/api/feed",
        "/api/openapi.json",
        "/api/search",
        "/api/stats",
        "/assets/{name}",
        "/doc/{id}",
        "/healthz",
        "/metrics",
        "/original/{id}",
    ];
    routes.sort();
    let mut got = paths.clone();
    got.sort();
    assert_eq!(got, routes);
    // Every parameter the search takes is described.
    let params: Vec<&str> = spec["paths"]["/api/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "q", "country", "topic", "year", "type", "lang", "event", "sort", "limit", "offset",
        "ui_lang",
    ] {
        assert!(params.contains(&p), "{p} not described");
    }
    // The schemas name exactly the fields the server sends.
    let schemas = &spec["components"]["schemas"];
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let (_, r) = get("/api/search?q=firma+digital");
    assert_eq!(keys(&schemas["SearchResponse"]["properties"]), keys(&r));
    assert_eq!(keys(&schemas["Facets"]["properties"]), keys(&r["facets"]));
    // A hit: every field sent is described (optional ones may be absent).
    let described = keys(&schemas["Hit"]["properties"]);
    for k in keys(&r["hits"][0]) {
        assert!(described.contains(&k), "hit field {k} not described");
    }
    for k in schemas["Hit"]["required"].as_array().unwrap() {
        assert!(
            r["hits"][0].get(k.as_str().unwrap()).is_some(),
            "{k} missing"
        );
    }
    // What the query was understood as, with the optional parts present.
    let (_, r) = get("/api/search?q=Paragauy+%22registration+resident+Paraguay%22");
    assert_eq!(
        keys(&schemas["Interpreted"]["properties"]),
        keys(&r["interpreted"])
    );
    assert_eq!(
        keys(&schemas["Correction"]["properties"]),
        keys(&r["interpreted"]["corrected"][0])
    );
    let (_, d) = get("/api/documents/es-bo");
    let described = keys(&schemas["Document"]["properties"]);
    for k in keys(&d) {
        assert!(described.contains(&k), "document field {k} not described");
    }
    let (_, st) = get("/api/stats");
    assert_eq!(keys(&schemas["Stats"]["properties"]), keys(&st));
    let (_, h) = get("/healthz");
    assert_eq!(keys(&schemas["Health"]["properties"]), keys(&h));
    let (_, e) = get("/api/search?limit=0");
    assert_eq!(keys(&schemas["ErrorBody"]["properties"]), keys(&e));
}

#[test]
fn documents_indexed_in_place_are_served_without_a_restart() {
    // A server of its own: this test changes the corpus.
    let s = common::TestServer::start(docs());
    let search = |q: &str| -> Value {
        let (_, body) = common::http_get(s.addr, &format!("/api/search?q={q}"));
        serde_json::from_str(&body).unwrap()
    };
    assert_eq!(search("Guyana")["total"], 0);
    let store = Store::open(&s.root.join("corpus")).unwrap();
    let mut d = Document::new("https://example.org/gy", "test", "Guyana opens its data");
    d.lang = Some(Lang::en());
    d.body = "Guyana published open data for the first time.".into();
    store.put(&d).unwrap();
    let index = IndexDir::new(&s.root.join("index"));
    let generation = index.current();
    build::update(&index, &store, &engine(), &Quiet).unwrap();
    assert_eq!(index.current(), generation, "updated in place");
    let started = std::time::Instant::now();
    while search("Guyana")["total"] != 1 {
        assert!(
            started.elapsed().as_secs() < 5,
            "the new document is not served"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The server's threads: many connections at once are all answered, the
/// same as one at a time, and a stop lets them end and closes the port.
#[test]
fn concurrent_connections_are_answered_and_a_stop_closes_the_port() {
    let (state, _dir) = common::server_state(docs(), None);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        egovkb::server::serve_until(listener, state, Default::default(), async {
            let _ = stopped.await;
        })
    });
    let path = "/api/search?q=resident%20registration";
    let (status, alone) = common::http_get(addr, path);
    assert_eq!(status, 200);
    let alone: Value = serde_json::from_str(&alone).unwrap();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| common::http_get(addr, path))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for client in clients {
        for (status, body) in client.join().unwrap() {
            assert_eq!(status, 200);
            let mut answer: Value = serde_json::from_str(&body).unwrap();
            answer["took_ms"] = alone["took_ms"].clone();
            assert_eq!(answer, alone);
        }
    }
    stop.send(()).unwrap();
    assert!(server.join().unwrap().is_ok());
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is still open"
    );
}
