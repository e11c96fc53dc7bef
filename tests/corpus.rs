//! The bundled sample knowledge base (`corpus/originals/`), imported with
//! the project's own importer and enriched as the index sees it: every
//! document has a title, a language, a date, a country and a topic; the
//! corpus spans 2015-2025, the fourteen RED GEALC countries of the 2018
//! course and Korea, every topic of the taxonomy, both document families in
//! the numbers issue 6 asks; every facet value has a label in the three
//! interface languages; presentations' slide links lead to their slides.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use egovkb::document::{DocType, Document};
use egovkb::engine::Engine;
use egovkb::enrich::UiLang;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The sample corpus served on loopback, and its enriched documents.
fn served() -> &'static (common::TestServer, Vec<Document>) {
    static S: OnceLock<(common::TestServer, Vec<Document>)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = egovkb::store::Store::open(dir.path()).unwrap();
        let report = egovkb::import::import(&store, &[corpus().join("originals")]);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let engine = Engine::load(&common::dict_root(), Some(&corpus())).unwrap();
        let docs: Vec<Document> = store
            .load_all()
            .0
            .iter()
            .map(|d| engine.enricher.enrich(d))
            .collect();
        let server = common::TestServer::start_with_corpus(store.load_all().0, &corpus());
        (server, docs)
    })
}

#[test]
fn every_document_has_what_the_facets_need() {
    let (_, docs) = served();
    for d in docs {
        let name = d.url.rsplit('/').next().unwrap_or(&d.url);
        assert!(!d.title.trim().is_empty(), "{name}: no title");
        assert!(d.lang.is_some(), "{name}: no language");
        assert!(d.published.is_some(), "{name}: no date");
        assert!(!d.countries.is_empty(), "{name}: no country");
        assert!(!d.topics.is_empty(), "{name}: no topic ({})", d.title);
    }
}

#[test]
fn the_corpus_spans_years_countries_topics_and_both_families() {
    let (_, docs) = served();
    let notices = docs
        .iter()
        .filter(|d| matches!(d.doc_type, DocType::Notice | DocType::PressRelease))
        .count();
    let presentations: Vec<&Document> = docs
        .iter()
        .filter(|d| d.doc_type == DocType::Presentation)
        .collect();
    assert!(notices >= 40, "{notices} notices and press releases");
    assert!(
        presentations.len() >= 15,
        "{} presentations",
        presentations.len()
    );
    let kinds: BTreeSet<&str> = presentations
        .iter()
        .filter_map(|d| d.url.rsplit('.').next())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["pdf", "pptx"]));
    let langs: BTreeSet<&str> = docs
        .iter()
        .filter_map(|d| d.lang.as_ref().map(|l| l.as_str()))
        .collect();
    assert!(
        ["ko", "es", "en"].iter().all(|l| langs.contains(l)),
        "{langs:?}"
    );
    let years: BTreeSet<i32> = docs
        .iter()
        .filter_map(|d| d.published.map(|p| chrono::Datelike::year(&p)))
        .collect();
    assert!((2015..=2025).all(|y| years.contains(&y)), "{years:?}");
    let countries: BTreeSet<&str> = docs
        .iter()
        .flat_map(|d| d.countries.iter().map(String::as_str))
        .collect();
    for c in [
        "AR", "BS", "BO", "BR", "CL", "DM", "EC", "SV", "GY", "JM", "UY", "PE", "PY", "VE", "KR",
    ] {
        assert!(countries.contains(c), "no document about {c}");
    }
    let engine = Engine::load(&common::dict_root(), Some(&corpus())).unwrap();
    let topics: BTreeSet<&str> = docs
        .iter()
        .flat_map(|d| d.topics.iter().map(String::as_str))
        .collect();
    let missing: Vec<&str> = engine
        .enricher
        .topics
        .entries()
        .iter()
        .map(|t| t.key.as_str())
        .filter(|t| !topics.contains(t))
        .collect();
    assert!(missing.is_empty(), "no document on {missing:?}");
    // Some presentations hang under the notice that announced them, and a
    // course ties several documents together.
    assert!(presentations.iter().any(|p| p.parent.is_some()));
    let course = docs
        .iter()
        .filter(|d| d.event.as_deref() == Some("2018-06-advanced-egov-course"))
        .count();
    assert!(course >= 10, "{course}");
}

#[test]
fn every_facet_value_has_a_label_in_three_languages() {
    let (server, _) = served();
    for ui in [UiLang::En, UiLang::Es, UiLang::Ko] {
        let (status, body) =
            common::http_get(server.addr, &format!("/api/stats?ui_lang={}", ui.as_str()));
        assert_eq!(status, 200);
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        for (facet, values) in stats["facets"].as_object().unwrap() {
            for v in values.as_array().unwrap() {
                let value = v["value"].as_str().unwrap();
                if facet == "year" {
                    continue;
                }
                let label = v["label"].as_str().unwrap_or("");
                assert!(!label.is_empty(), "{facet} {value}: no {ui:?} label");
            }
        }
        // Countries, topics and events are named, not coded.
        for facet in ["country", "topic", "event"] {
            for v in stats["facets"][facet].as_array().unwrap() {
                assert_ne!(v["label"], v["value"], "{facet} {} in {ui:?}", v["value"]);
            }
        }
    }
}

#[test]
fn slide_links_lead_to_their_slides() {
    let (server, docs) = served();
    let mut checked = 0;
    for d in docs.iter().filter(|d| d.doc_type == DocType::Presentation) {
        assert!(d.pages.len() >= 4, "{}: {} pages", d.url, d.pages.len());
        // A term of the last slide finds the deck at that slide...
        let last = d.pages.len();
        let q: String = d.pages[last - 1]
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let url = format!(
            "/api/search?q={}&type=presentation&limit=50",
            q.replace(' ', "+").replace('&', "%26").replace('#', "%23")
        );
        let (_, body) = common::http_get(server.addr, &url);
        let r: serde_json::Value = serde_json::from_str(&body).unwrap();
        let hit = r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == d.id.as_str());
        let Some(hit) = hit else { continue };
        let page = hit["page"].as_u64().unwrap_or(0) as usize;
        assert!(
            (1..=last).contains(&page),
            "{}: page {page} of {last}",
            d.url
        );
        // ...and the document page has that slide's anchor.
        let (status, html) = common::http_get(server.addr, &format!("/doc/{}", d.id));
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("id=\"page-{page}\"")),
            "{}: no #page-{page}",
            d.url
        );
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} presentations found by their last slide"
    );
}

/// Indexing analyses each document once for its own view and enrichment
/// reuses those terms: what it finds is what enrichment alone finds.
#[test]
fn indexing_enriches_as_enrichment_alone_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(dir.path()).unwrap();
    egovkb::import::import(&store, &[corpus().join("originals")]);
    let engine = Engine::load(&common::dict_root(), Some(&corpus())).unwrap();
    let (_, fields) = egovkb::index::schema::build();
    let docs = store.load_all().0;
    assert!(docs.len() > 30);
    for d in &docs {
        let lang = engine.enricher.language(d);
        let analysed = egovkb::index::build::Analysed::of(&engine, &fields, d, lang.as_ref());
        let shared = engine.enricher.enrich_with(d, Some(analysed.shared()));
        assert_eq!(shared, engine.enricher.enrich(d), "{}", d.url);
    }
}

/// A placeholder date (a CMS's `0001-01-01`) is no date: the year facet
/// never offers a year the year filter refuses.
#[test]
fn implausible_declared_dates_are_dropped() {
    let engine = Engine::load(&common::dict_root(), Some(&corpus())).unwrap();
    let mut d = Document::new("https://example.org/n", "test", "Gov24 one-stop services");
    d.body = "Published 2019-03-20. Gov24 serves citizens online.".into();
    for (declared, found) in [
        ("0001-01-01", "2019-03-20"),
        ("1850-05-01", "2019-03-20"),
        ("2020-01-02", "2020-01-02"),
    ] {
        d.published = chrono::NaiveDate::parse_from_str(declared, "%Y-%m-%d").ok();
        let e = engine.enricher.enrich(&d);
        assert_eq!(e.published.map(|p| p.to_string()).as_deref(), Some(found));
    }
    d.body = "Gov24 serves citizens online.".into();
    d.published = chrono::NaiveDate::from_ymd_opt(1, 1, 1);
    assert_eq!(engine.enricher.enrich(&d).published, None);
}

/// A country report's page names its course by its label, in the
/// interface's language, and links the notice it was attached to; its
/// slides are numbered as each language writes them.
#[test]
fn a_presentation_page_names_its_course_and_links_its_notice() {
    let (server, docs) = served();
    let deck = docs
        .iter()
        .find(|d| d.url.ends_with("paraguay-2018-informe-pais.pptx"))
        .unwrap();
    let notice = docs
        .iter()
        .find(|d| d.url.ends_with("2018-06-18-mois-idb-course.html"))
        .unwrap();
    assert_eq!(deck.parent.as_deref(), Some(notice.id.as_str()));
    let page = |ui: &str| {
        let (status, html) = common::http_get(server.addr, &format!("/doc/{}?ui={ui}", deck.id));
        assert_eq!(status, 200);
        html
    };
    let en = page("en");
    assert!(
        en.contains(">Advanced e-Government Training Course (June 2018)</a>"),
        "{en}"
    );
    assert!(en.contains("Attached to"));
    assert!(en.contains(&format!(
        "href=\"/doc/{}?ui=en\">{}</a>",
        notice.id, notice.title
    )));
    assert!(en.contains("<h2>Slide 2</h2>"));
    let ko = page("ko");
    assert!(ko.contains(">전자정부 고급과정 연수 (2018년 6월)</a>"));
    assert!(ko.contains("<h2>슬라이드 2</h2>"));
    let es = page("es");
    assert!(es.contains("<h2>Diapositiva 2</h2>"));
}

/// A hit shows its title above its snippet: extraction leaves a page's
/// headline out of its body, and no snippet repeats the title.
#[test]
fn snippets_do_not_repeat_the_title() {
    let (server, docs) = served();
    let pages = docs.iter().filter(|d| d.url.ends_with(".html"));
    assert!(pages.clone().count() >= 10);
    let repeating: Vec<&str> = pages
        .filter(|d| d.body.trim_start().starts_with(d.title.trim()))
        .map(|d| d.title.as_str())
        .collect();
    assert!(
        repeating.is_empty(),
        "bodies repeat their headline: {repeating:?}"
    );
    let (_, body) = common::http_get(
        server.addr,
        "/api/search?q=resident+registration+Paraguay&limit=20",
    );
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    for h in r["hits"].as_array().unwrap() {
        let snippet = h["snippet"]
            .as_str()
            .unwrap()
            .replace("<mark>", "")
            .replace("</mark>", "");
        let title = h["title"].as_str().unwrap();
        assert!(!snippet.starts_with(title), "{title}: {snippet}");
    }
}
