//! One story once: versions of a notice (on another board, printed to a
//! PDF, saved again later) are found at indexing, counted once in the
//! total and the facets, shown once with the others under it, over the
//! HTTP API, the page and the command line; a translation stays apart,
//! linked as the same notice in another language.

mod common;

use common::{TestServer, doc, http_get};
use egovkb::{DocType, Lang};
use serde_json::Value;

const NOTICE: &str = "Officials from Paraguay and Bolivia spent two weeks at the Ministry of \
    the Interior and Safety in Seoul. They learned how resident registration numbers are \
    issued at birth, how a district office keeps the register of residents up to date when \
    families move, and how citizens print certificates from Gov24 kiosks without visiting an \
    office. The course ended with a plan for connecting the civil registry of each country \
    with its health and tax systems.";

fn versions_of_one_notice() -> Vec<egovkb::Document> {
    let mut board = doc(
        "mois-board",
        Lang::en(),
        DocType::Notice,
        "2019-03-20",
        "Paraguay and Bolivia study resident registration in Korea",
        NOTICE,
    );
    board.source = "mois-board".into();
    let mut portal = doc(
        "portal-copy",
        Lang::en(),
        DocType::Notice,
        "2019-03-21",
        "Paraguay and Bolivia study resident registration in Korea",
        &format!("{NOTICE} Share this page. Print."),
    );
    portal.source = "gov-portal".into();
    let mut pdf = doc(
        "pdf-twin",
        Lang::en(),
        DocType::Presentation,
        "2019-03-20",
        "Paraguay and Bolivia study resident registration in Korea",
        &format!("MOIS International Cooperation 1 / 2 {NOTICE} 2 / 2"),
    );
    pdf.source = "mois-files".into();
    let translation = doc(
        "mois-board-es",
        Lang::es(),
        DocType::Notice,
        "2019-03-20",
        "Paraguay y Bolivia estudian el registro de residentes en Corea",
        "Funcionarios de Paraguay y Bolivia pasaron dos semanas en el Ministerio del Interior \
         y Seguridad en Seúl. Aprendieron cómo se asignan los números de registro de residentes \
         al nacer, cómo una oficina de distrito mantiene al día el padrón cuando las familias se \
         mudan y cómo los ciudadanos imprimen certificados en los quioscos de Gov24 sin ir a una \
         oficina. Paraguay registration.",
    );
    let other = doc(
        "py-procurement",
        Lang::en(),
        DocType::Notice,
        "2020-05-02",
        "Paraguay opens its e-procurement portal to suppliers",
        "Paraguay's procurement agency published every tender of the year online, with \
         registration of suppliers and electronic bids, after a study visit on Korea's KONEPS \
         system and its rules for small businesses and public works.",
    );
    vec![board, portal, pdf, translation, other]
}

fn server() -> &'static TestServer {
    static S: std::sync::OnceLock<TestServer> = std::sync::OnceLock::new();
    S.get_or_init(|| TestServer::start(versions_of_one_notice()))
}

fn search(query: &str) -> Value {
    let (status, body) = http_get(server().addr, &format!("/api/search?{query}"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    common::hit_ids(v)
}

/// The ids of a list of versions, sorted.
fn ids_of(versions: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

const STORY: [&str; 3] = ["mois-board", "portal-copy", "pdf-twin"];

#[test]
fn a_story_is_one_hit_with_its_other_versions_and_counts_once() {
    let r = search("q=resident+registration+Paraguay&limit=20");
    let found = ids(&r);
    let shown: Vec<&String> = found
        .iter()
        .filter(|i| STORY.contains(&i.as_str()))
        .collect();
    assert_eq!(shown.len(), 1, "one version of the story in {found:?}");
    let hit = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == *shown[0])
        .unwrap();
    let others = ids_of(&hit["versions"]);
    let mut expected: Vec<&str> = STORY.iter().copied().filter(|i| *i != shown[0]).collect();
    expected.sort_unstable();
    assert_eq!(others, expected);
    // Each version says where it is, what it is and when.
    for v in hit["versions"].as_array().unwrap() {
        assert!(v["url"].as_str().is_some_and(|u| !u.is_empty()), "{v}");
        assert!(v["source"].as_str().is_some(), "{v}");
        assert!(v["doc_type"].as_str().is_some(), "{v}");
    }
    // The translation is another story, and no version of the notice.
    assert!(found.contains(&"mois-board-es".to_string()), "{found:?}");
    let es = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "mois-board-es")
        .unwrap();
    assert!(es.get("versions").is_none(), "{es}");
    // The total and every facet count stories: what the page lists.
    let total = r["total"].as_u64().unwrap();
    assert_eq!(total as usize, found.len());
    for facet in ["lang", "doc_type"] {
        let counted: u64 = r["facets"][facet]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["count"].as_u64().unwrap())
            .sum();
        assert_eq!(counted, total, "{facet}: {}", r["facets"][facet]);
    }
}

#[test]
fn every_page_has_the_same_total_and_no_story_twice() {
    let all = search("q=Paraguay&limit=20");
    let total = all["total"].as_u64().unwrap();
    let mut seen = Vec::new();
    for offset in 0..total {
        let r = search(&format!("q=Paraguay&limit=1&offset={offset}"));
        assert_eq!(r["total"].as_u64(), Some(total));
        seen.extend(ids(&r));
    }
    assert_eq!(seen, ids(&all));
    let of_story = seen.iter().filter(|i| STORY.contains(&i.as_str())).count();
    assert_eq!(of_story, 1, "{seen:?}");
}

#[test]
fn a_filter_finds_the_version_it_asks_for() {
    let r = search("q=resident+registration&type=presentation");
    assert_eq!(ids(&r), ["pdf-twin"]);
    assert_eq!(r["total"], 1);
    // The story counts once, as the presentation the filter asks for.
    let by_type = common::facet_counts(&r, "doc_type");
    assert!(by_type.contains(&("presentation".into(), 1)), "{by_type:?}");
}

#[test]
fn the_document_says_its_other_versions_and_the_page_lists_them() {
    let (status, body) = http_get(server().addr, "/api/documents/portal-copy");
    assert_eq!(status, 200, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids_of(&d["versions"]), ["mois-board", "pdf-twin"]);
    // Related documents are other stories, not versions of this one.
    let (_, body) = http_get(server().addr, "/api/documents/portal-copy/related");
    let related: Value = serde_json::from_str(&body).unwrap();
    let related = ids(&related);
    assert!(
        !related.iter().any(|i| STORY.contains(&i.as_str())),
        "{related:?}"
    );

    let (status, page) = http_get(server().addr, "/?q=resident+registration+Paraguay");
    assert_eq!(status, 200);
    assert!(page.contains("2 other versions of this story"), "{page}");
    assert!(page.contains("<details class=\"versions\">"), "{page}");
    let (_, page) = http_get(server().addr, "/doc/portal-copy?ui=es");
    assert!(page.contains("2 versiones más de esta noticia"), "{page}");
    assert!(page.contains("href=\"/doc/pdf-twin?ui=es\""), "{page}");
}

#[test]
fn a_version_indexed_later_joins_its_story_and_leaves_with_it() {
    use egovkb::index::search::{SearchRequest, TantivySearcher};
    use egovkb::index::{IndexDir, build};
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(&dir.path().join("corpus")).unwrap();
    let docs = versions_of_one_notice();
    let engine = egovkb::engine::Engine::load(&common::dict_root(), None).unwrap();
    let index = IndexDir::new(&dir.path().join("index"));
    store.put(&docs[0]).unwrap();
    store.put(&docs[4]).unwrap();
    let quiet = &egovkb::progress::Quiet;
    let first = build::update(&index, &store, &engine, quiet).unwrap();
    assert_eq!(
        first.versions.map(|f| (f.stories, f.documents)),
        Some((0, 0))
    );
    store.put(&docs[1]).unwrap();
    let second = build::update(&index, &store, &engine, quiet).unwrap();
    assert_eq!(
        second.versions.map(|f| (f.stories, f.documents)),
        Some((1, 2))
    );
    let searcher = TantivySearcher::open(&index, engine.clone()).unwrap();
    let req = SearchRequest {
        q: "resident registration".into(),
        ..SearchRequest::default()
    };
    let story = |r: &egovkb::index::search::SearchResponse| {
        let hits: Vec<_> = r
            .hits
            .iter()
            .filter(|h| h.id == docs[0].id || h.id == docs[1].id)
            .map(|h| h.versions.len())
            .collect();
        (r.total, hits)
    };
    // The story and the procurement notice ("registration of suppliers").
    assert_eq!(story(&searcher.search(&req).unwrap()), (2, vec![1]));
    // The copy deleted from the corpus: the notice is told once again.
    store.remove(&docs[1].id).unwrap();
    let third = build::update(&index, &store, &engine, quiet).unwrap();
    assert_eq!(
        third.versions.map(|f| (f.stories, f.documents)),
        Some((0, 0))
    );
    let searcher = TantivySearcher::open(&index, engine).unwrap();
    assert_eq!(story(&searcher.search(&req).unwrap()), (2, vec![0]));
}

#[test]
fn the_command_line_lists_the_other_versions() {
    let root = &server().root;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["--corpus", &root.join("corpus").to_string_lossy()])
        .args(["--index", &root.join("index").to_string_lossy()])
        .args(["search", "resident registration Paraguay"])
        .env("EGOVKB_NO_MODEL", "1")
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("2 other versions of this story:"), "{text}");
    assert!(text.contains("gov-portal · notice · 2019-03-21"), "{text}");
}

/// A notice's translation is another story, linked from its hit and its
/// page as "also in" (the bundled course notice in English and Korean,
/// with the real embedding model).
#[test]
fn a_translation_is_linked_from_the_hit_and_the_page() {
    let originals = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/originals");
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(dir.path()).unwrap();
    let files = [
        originals.join("en/2018-06-18-mois-idb-course.html"),
        originals.join("ko/2018-06-18-중남미-전자정부-연수.html"),
    ];
    let report = egovkb::import::import(&store, &files);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let mut docs = store.load_all().0;
    // The English notice on a portal too: one story, linked through its
    // best version, whose other version has the same translation.
    let mut copy = docs
        .iter()
        .find(|d| d.lang.as_ref().is_some_and(|l| l.as_str() == "en"))
        .unwrap()
        .clone();
    copy.id = "portal-copy".into();
    copy.url = "https://portal.example/course".into();
    copy.source = "portal".into();
    copy.body.push_str("\n\nShare this page. Print.");
    docs.push(copy);
    let server = TestServer::start_with_engine(common::semantic_engine(None), docs);
    let (status, body) = http_get(server.addr, "/api/search?q=IDB+course&limit=5");
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    let hit = &r["hits"][0];
    assert_eq!(hit["lang"], "en", "{r}");
    assert_eq!(hit["languages"][0]["lang"], "ko", "{hit}");
    // The Korean notice is a translation, not a version.
    let versions: Vec<&str> = hit["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["lang"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["en"], "{hit}");
    // Both English versions say where the Korean one is.
    for id in [&hit["id"], &hit["versions"][0]["id"]] {
        let (_, d) = http_get(
            server.addr,
            &format!("/api/documents/{}", id.as_str().unwrap()),
        );
        let d: Value = serde_json::from_str(&d).unwrap();
        assert_eq!(d["languages"][0]["lang"], "ko", "{d}");
    }
    let ko = hit["languages"][0]["id"].as_str().unwrap().to_string();
    let (_, page) = http_get(server.addr, "/?q=IDB+course&ui=en");
    assert!(page.contains("Also in: <a href=\"/doc/"), "{page}");
    let (_, doc_page) = http_get(server.addr, &format!("/doc/{ko}?ui=es"));
    assert!(doc_page.contains("También en: "), "{doc_page}");
    assert!(doc_page.contains(">Inglés</a>"), "{doc_page}");
}
