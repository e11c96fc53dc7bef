//! The worked profile of docs/crawling.md, read from that file as
//! an admin would copy it, crawls a board shaped like MOIS's English "News
//! & Notices" served on 127.0.0.1: list pages of `javascript:` links, an
//! RSS feed, detail pages with "Date : … Read : …" lines and a
//! `FileDown.do` attachment. Only the site's address, its board id and the
//! pace are filled in.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use egovkb::crawl::fetch::FetchConfig;
use egovkb::crawl::profile::SourcesFile;
use egovkb::crawl::run::{CrawlOptions, crawl};
use egovkb::store::Store;

const TITLES: [&str; 3] = [
    "Paraguay adopts Korea's resident registration model",
    "Costa Rica officials complete the e-procurement course",
    "Workshop on digital archives for the Caribbean",
];

fn article(n: usize) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>News &amp; Notices | Ministry of the Interior and Safety</title></head><body>
<div id="header"><ul class="gnb"><li><a href="/eng/sub/a.do">News &amp; Notices</a></li></ul></div>
<div id="contents"><h2>News &amp; Notices</h2>
<div class="board_view"><h3 class="view_title">{title}</h3>
<div class="view_info">Date : 2019.05.1{n} &nbsp; Read : 2113</div>
<div class="view_cont"><p>The Ministry of the Interior and Safety reported on item {n} of the
cooperation programme with Latin America and the Caribbean.</p>
<p>Officials studied how the services were built and run.</p></div>
<div class="file"><a href="/eng/bbs/FileDown.do?atchFileId=FILE_{n}&amp;fileSn=1">report-{n}.pdf</a></div>
</div></div><div id="footer">Copyright MOIS</div></body></html>"#,
        title = TITLES[n - 1]
    )
}

async fn board(uri: axum::http::Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    let html =
        |s: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response();
    match uri.path() {
        "/eng/bbs/commonSelectBoardList.do" => {
            let links = if q.get("pageIndex").map(String::as_str) == Some("1") {
                "<tr><td><a href=\"javascript:fn_egov_inqire_notice('1')\">one</a></td></tr>\
                 <tr><td><a href=\"javascript:fn_egov_inqire_notice('2')\">two</a></td></tr>"
            } else {
                ""
            };
            html(format!("<html><body><table>{links}</table></body></html>"))
        }
        "/eng/bbs/commonSelectBoardArticle.do" => {
            match q.get("nttId").and_then(|n| n.parse::<usize>().ok()) {
                Some(n @ 1..=3) => html(article(n)),
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
        "/eng/bbs/rss.xml" => (
            [(header::CONTENT_TYPE, "application/rss+xml")],
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
             <item><title>three</title>\
             <link>/eng/bbs/commonSelectBoardArticle.do?bbsId=BBSMSTR_1&amp;nttId=3</link></item>\
             </channel></rss>",
        )
            .into_response(),
        "/eng/bbs/FileDown.do" => {
            let pdf = std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bolivia.pdf"),
            )
            .unwrap_or_default();
            let name = format!(
                "attachment; filename=\"report-{}.pdf\"",
                q.get("atchFileId").map_or("x", String::as_str)
            );
            (
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                pdf,
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// README's profile, with the site's address, its board id and a pace
/// for a test filled in.
fn readme_profile(addr: std::net::SocketAddr) -> String {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/crawling.md"))
            .unwrap();
    let start = readme
        .find("```toml\n[[source]]\nname = \"mois-en-notices\"")
        .expect("the worked profile of docs/crawling.md");
    let block = &readme[start + "```toml\n".len()..];
    let toml = &block[..block.find("```").unwrap()];
    assert!(
        toml.contains("https://…/") && toml.contains("bbsId=…"),
        "{toml}"
    );
    toml.replace("https://…/", &format!("http://{addr}/eng/bbs/"))
        .replace("bbsId=…", "bbsId=BBSMSTR_1")
        .replace("\"www.mois.go.kr\"", "\"127.0.0.1\"")
        .replace("requests_per_second = 0.5", "requests_per_second = 100")
}

#[test]
fn the_readme_profile_crawls_a_mois_like_board() {
    let addr = common::spawn(|listener| async move {
        axum::serve(listener, axum::Router::new().fallback(board)).await
    });
    let file: SourcesFile = toml::from_str(&readme_profile(addr)).unwrap();
    let p = &file.sources[0];
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let store = Store::open(&corpus).unwrap();
    let opts = CrawlOptions {
        fetch: FetchConfig {
            retries: 0,
            ..FetchConfig::default()
        },
        ..CrawlOptions::default()
    };
    let r = crawl(p, &store, &corpus, &opts).unwrap();
    assert!(r.health.is_empty(), "{:?}", r.health);
    let (docs, _) = store.load_all();
    let mut items: Vec<_> = docs.iter().filter(|d| d.parent.is_none()).collect();
    items.sort_by(|a, b| a.title.cmp(&b.title));
    let mut titles: Vec<&str> = items.iter().map(|d| d.title.as_str()).collect();
    titles.sort();
    let mut want = TITLES.to_vec();
    want.sort();
    assert_eq!(titles, want, "{r:?}");
    for d in &items {
        assert_eq!(d.source, "mois-en-notices");
        assert_eq!(d.lang.as_ref().map(|l| l.as_str()), Some("en"));
        assert_eq!(d.doc_type.as_str(), "notice");
        assert_eq!(d.countries, ["KR"]);
        assert_eq!(d.event.as_deref(), Some("2018-06-advanced-egov-course"));
        let day = d.published.map(|p| p.to_string()).unwrap_or_default();
        assert!(day.starts_with("2019-05-1"), "{day}");
        assert!(d.body.starts_with("The Ministry"), "{}", d.body);
        for furniture in ["Read", "2113", "Copyright", "report-"] {
            assert!(!d.body.contains(furniture), "{furniture} in {}", d.body);
        }
    }
    // Each notice's PDF, a document of its own, with the name its server
    // gave it and its own language (Spanish; the profile says English).
    let files: Vec<_> = docs.iter().filter(|d| d.parent.is_some()).collect();
    assert_eq!(files.len(), 3, "{:?}", r.skipped);
    for f in files {
        assert!(
            f.file_name
                .as_deref()
                .is_some_and(|n| n.starts_with("report-FILE_"))
        );
        assert_eq!(f.lang.as_ref().map(|l| l.as_str()), Some("es"));
    }
}
