//! What a researcher takes away from a search, read back by the parsers
//! people use (from PyPI, pinned in tests/pytools.txt): the Atom feed by
//! `feedparser`, CSV by Python's `csv`, RIS by `rispy`, BibTeX by
//! `bibtexparser`; each holds what the search counts, no more. And a
//! document read at its matches: by words, and by meaning.

mod common;

use std::sync::OnceLock;

use egovkb::{DocType, Lang};
use serde_json::Value;

fn server() -> &'static common::TestServer {
    static S: OnceLock<common::TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let mk = common::doc;
        let mut docs = common::paraguay_notices();
        docs.extend([
            mk(
                "es-bo",
                Lang::es(),
                DocType::Report,
                "2020-05-02",
                "Bolivia: firma digital {y} 100% \"segura\"",
                "Bolivia presentó su firma digital; Paraguay también.",
            ),
            mk(
                "en-formula",
                Lang::en(),
                DocType::Other,
                "2017-01-01",
                "=HYPERLINK(\"http://evil\",\"click\")",
                "Paraguay spreadsheet trap.",
            ),
            mk(
                "en-cake",
                Lang::en(),
                DocType::Other,
                "2016-01-01",
                "Chocolate cake",
                "A recipe with no e-government in it.",
            ),
        ]);
        docs[2].pages = vec!["Bolivia".into(), "firma digital Paraguay".into()];
        common::TestServer::start(docs)
    })
}

fn get(path: &str) -> common::Response {
    common::http_request(server().addr, "GET", path, &[], "")
}

/// The ids the search itself counts.
fn counted(query: &str) -> Vec<String> {
    let r = get(&format!("/api/search?{query}&limit=100"));
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["total"].as_u64(), Some(common::hit_ids(&v).len() as u64));
    let mut ids = common::hit_ids(&v);
    ids.sort();
    ids
}

#[test]
fn the_feed_is_atom_with_the_searchs_newest_documents() {
    let Some(py) = common::pytools("feedparser") else {
        return;
    };
    let r = get("/api/feed?q=Paraguay");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let feed = common::python(
        &py,
        "import sys, json, feedparser\n\
         f = feedparser.parse(sys.stdin.read())\n\
         print(json.dumps({'bozo': f.bozo, 'title': f.feed.get('title'), 'id': f.feed.get('id'),\n\
           'entries': [{'id': e.id, 'title': e.title, 'link': e.link, 'updated': e.updated} for e in f.entries]}))",
        &r.body,
    );
    assert_eq!(feed["bozo"], false, "{feed}");
    let entries = feed["entries"].as_array().unwrap();
    let mut ids: Vec<String> = entries
        .iter()
        .map(|e| {
            e["link"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    // Newest first.
    let dates: Vec<&str> = entries
        .iter()
        .map(|e| e["updated"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    ids.sort();
    assert_eq!(ids, counted("q=Paraguay"));
    assert!(!ids.contains(&"en-cake".to_string()));
    // Entry ids are permalinks: the same in the next fetch.
    let again = get("/api/feed?q=Paraguay");
    assert_eq!(again.body, r.body);
    // A search that matches nothing is a valid, empty feed.
    let empty = get("/api/feed?q=zzzxqq+blorf");
    let feed = common::python(
        &py,
        "import sys, json, feedparser\nf = feedparser.parse(sys.stdin.read())\n\
         print(json.dumps({'bozo': f.bozo, 'n': len(f.entries), 'id': f.feed.get('id')}))",
        &empty.body,
    );
    assert_eq!(
        (feed["bozo"].clone(), feed["n"].clone()),
        (false.into(), 0.into()),
        "{feed}"
    );
    // The page links to its feed, in its head and visibly.
    let page = get("/?q=Paraguay&ui=en");
    assert!(
        page.body
            .contains("rel=\"alternate\" type=\"application/atom+xml\"")
    );
    assert!(page.body.contains("/api/feed?q=Paraguay"));
}

#[test]
fn csv_opens_in_a_spreadsheet_with_every_counted_hit() {
    let Some(py) = common::pytools("csv") else {
        return;
    };
    let r = get("/api/export?q=Paraguay&format=csv");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("egovkb-export.csv")
    );
    assert!(r.body.starts_with('\u{FEFF}'), "a byte-order mark first");
    let rows = common::python(
        &py,
        "import sys, csv, json, io\n\
         text = sys.stdin.buffer.read().decode('utf-8-sig')\n\
         print(json.dumps(list(csv.DictReader(io.StringIO(text, newline='')))))",
        &r.body,
    );
    let rows = rows.as_array().unwrap();
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, counted("q=Paraguay"));
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(row("ko-py")["title"], "파라과이 주민등록 협력");
    assert_eq!(row("ko-py")["date"], "2019-03-20");
    assert_eq!(row("ko-py")["type"], "press_release");
    assert!(
        row("ko-py")["permalink"]
            .as_str()
            .unwrap()
            .ends_with("/doc/ko-py")
    );
    assert_eq!(row("es-bo")["page"], "2");
    // A formula is text to a spreadsheet.
    assert!(
        row("en-formula")["title"]
            .as_str()
            .unwrap()
            .starts_with("'=")
    );
}

#[test]
fn ris_and_bibtex_read_back_with_their_parsers() {
    let (Some(py), Some(_)) = (common::pytools("rispy"), common::pytools("bibtexparser")) else {
        return;
    };
    let ris = get("/api/export?q=Paraguay&format=ris");
    assert_eq!(ris.status, 200);
    let entries = common::python(
        &py,
        "import sys, json, rispy\nprint(json.dumps(rispy.loads(sys.stdin.read()), default=str))",
        &ris.body,
    );
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), counted("q=Paraguay").len());
    let bolivia = entries
        .iter()
        .find(|e| e["id"] == "es-bo")
        .unwrap_or_else(|| panic!("{entries:?}"));
    assert_eq!(bolivia["type_of_reference"], "RPRT");
    assert_eq!(bolivia["year"], "2020");
    assert!(bolivia["urls"][0].as_str().unwrap().contains("/doc/es-bo"));

    let bib = get("/api/export?q=Paraguay&format=bibtex");
    let parsed = common::python(
        &py,
        "import sys, json, bibtexparser\n\
         db = bibtexparser.loads(sys.stdin.read())\n\
         print(json.dumps(db.entries))",
        &bib.body,
    );
    let parsed = parsed.as_array().unwrap();
    assert_eq!(parsed.len(), counted("q=Paraguay").len());
    let bolivia = parsed.iter().find(|e| e["ID"] == "egovkb_es_bo").unwrap();
    assert_eq!(bolivia["ENTRYTYPE"], "techreport");
    // Braces, percent and quotes in a title do not break the entry.
    assert!(
        bolivia["title"].as_str().unwrap().contains("firma digital"),
        "{bolivia}"
    );
    assert_eq!(bolivia["year"], "2020");
}

#[test]
fn an_export_streams_every_counted_hit_as_json_lines() {
    let r = get("/api/export?q=Paraguay&format=jsonl&lang=en");
    assert_eq!(r.status, 200);
    let mut ids: Vec<String> = r
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, counted("q=Paraguay&lang=en"));
    // Bad parameters are the API's errors.
    assert_eq!(get("/api/export?format=xls").status, 400);
    assert_eq!(get("/api/feed?sort=date").status, 400);
    // From the page.
    let page = get("/?q=Paraguay&ui=en");
    assert!(
        page.body.contains("/api/export?q=Paraguay"),
        "no export link"
    );
}

#[test]
fn the_document_page_has_a_cite_box_with_bibtex_and_the_access_date() {
    let today = chrono::Utc::now().date_naive().to_string();
    let page = get("/doc/es-bo?ui=es");
    assert_eq!(page.status, 200);
    let addr = server().addr;
    assert!(page.body.contains("Citar"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("http://{addr}/doc/es-bo (consultado el {today})")),
        "{}",
        page.body
    );
    let Some(py) = common::pytools("bibtexparser") else {
        return;
    };
    let pre = page
        .body
        .split("<pre class=\"bibtex\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("a BibTeX block");
    let entries = common::python(
        &py,
        "import sys, json, html, bibtexparser\n\
         print(json.dumps(bibtexparser.loads(html.unescape(sys.stdin.read())).entries))",
        pre,
    );
    let entry = &entries[0];
    assert_eq!(entry["ID"], "egovkb_es_bo", "{entries}");
    assert_eq!(entry["urldate"], today.as_str());
    assert_eq!(entry["url"], format!("http://{addr}/doc/es-bo"));
}

#[test]
fn a_document_opens_at_its_matches_with_next_and_previous() {
    // A hit's link carries the search, and for a page or slide, the page.
    let results = get("/?q=firma+digital&ui=en");
    assert!(
        results
            .body
            .contains("/doc/es-bo?ui=en&amp;q=firma+digital#page-2"),
        "{}",
        results.body
    );
    let page = get("/doc/es-bo?ui=en&q=firma+digital");
    assert_eq!(page.status, 200);
    let body = &page.body;
    // "Bolivia: firma digital…" in the title is not the text; the text has
    // "firma digital" on page 2: two marks, linked to each other.
    assert!(body.contains("<mark id=\"m1\">firma</mark>"), "{body}");
    assert!(body.contains("<mark id=\"m2\">digital</mark>"), "{body}");
    assert!(body.contains("href=\"#m2\"") && body.contains("href=\"#m1\""));
    assert!(!body.contains("id=\"m3\""), "{body}");
    let page2 = body.split("id=\"page-2\"").nth(1).unwrap_or("");
    assert!(page2.contains("<mark id=\"m1\">"), "the match is on page 2");
    assert!(body.contains("2 matches of «firma digital»") && body.contains("href=\"#m1\""));
    // Without a search, nothing is marked; an odd query is shown escaped.
    assert!(!get("/doc/es-bo?ui=en").body.contains("<mark"));
    let odd = get("/doc/es-bo?q=%3Cscript%3E%00x");
    assert_eq!(odd.status, 200);
    assert!(!odd.body.contains("<script>x") && !odd.body.contains('\u{0}'));
}

/// Read at the match by meaning: the document page sets apart the passage
/// nearest the search (here a Korean question for a Spanish report of
/// three paragraphs, none sharing a word with it), and a hit found by
/// meaning alone links to it.
#[test]
fn the_passage_nearest_by_meaning_is_set_apart_on_the_document_page() {
    let mut report = common::doc(
        "es-report",
        Lang::es(),
        DocType::Report,
        "2021-08-10",
        "Informe de la misión técnica",
        "",
    );
    let paragraphs = [
        "La delegación llegó a Seúl el lunes por la mañana después de un vuelo largo. Por \
         la tarde visitó el centro de capacitación, donde se presentó el programa de la \
         semana, se repartieron los materiales y se conoció a los instructores del curso. \
         Los participantes recorrieron las aulas, la biblioteca y el comedor, y recibieron \
         las credenciales para entrar al edificio durante toda la estadía.",
        "El martes los funcionarios estudiaron cómo los ciudadanos presentan quejas, \
         reclamos y peticiones por internet en una sola ventanilla, cómo cada institución \
         recibe el caso y debe responderlo dentro de un plazo fijo, y cómo se mide la \
         satisfacción de quien reclamó. Vieron también las estadísticas de respuestas \
         atrasadas y las sanciones para las oficinas que no cumplen los plazos.",
        "El viernes la misión cerró la semana con una cena ofrecida por la embajada, \
         discursos de despedida y la entrega de diplomas a todos los participantes. Luego \
         hubo una visita guiada a un palacio antiguo y al mercado tradicional, y el sábado \
         temprano la delegación tomó el vuelo de regreso con escala en otra ciudad.",
    ];
    report.body = paragraphs.join("\n\n");
    let server = common::TestServer::start_with_engine(common::semantic_engine(None), vec![report]);
    let query = "국민 민원 온라인 접수와 처리 기한";
    let q = query.replace(' ', "+");
    let (status, page) = common::http_get(server.addr, &format!("/doc/es-report?ui=en&q={q}"));
    assert_eq!(status, 200);
    let block = page
        .split("<div class=\"meaning\" id=\"meaning\">")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_else(|| panic!("no passage set apart: {page}"));
    assert!(block.contains("quejas, reclamos"), "{block}");
    assert!(
        !block.contains("diplomas") && !block.contains("instructores"),
        "{block}"
    );
    assert!(page.contains("href=\"#meaning\""), "{page}");
    // Without a search, or for one the model cannot read, nothing is.
    let (_, plain) = common::http_get(server.addr, "/doc/es-report?ui=en");
    assert!(!plain.contains("id=\"meaning\""));
    let (_, nonsense) = common::http_get(server.addr, "/doc/es-report?ui=en&q=zzzxqq+blorf");
    assert!(!nonsense.contains("id=\"meaning\""));
    // The search's hit, found by meaning alone, opens there.
    let (_, results) = common::http_get(server.addr, &format!("/?q={q}&ui=en"));
    assert!(
        results.contains("/doc/es-report?ui=en&amp;q=") && results.contains("#meaning\""),
        "{results}"
    );
}
