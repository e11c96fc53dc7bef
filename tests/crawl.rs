//! The crawler against a mock board served on 127.0.0.1 by the test: list
//! pages with `javascript:` item links and `;jsessionid=` URLs, an EUC-KR
//! detail page with only a meta charset, editor JSON in comments and a
//! mobile copy of the body, view counts that change on every visit,
//! attachments behind `FileDown.do?atchFileId=…&fileSn=…` with Korean
//! Content-Disposition names (a PDF and its PPTX twin, one linked twice, a
//! "PDF" that is an HTML error page), a robots.txt that disallows a path,
//! attachments with no file name behind one download path, a robots.txt
//! redirected to where its rules are, a board that repeats its last page
//! past its end, a 500, a 429 with Retry-After, a redirect loop, a
//! truncated page and a page over the size cap. Each bad case is skipped with its reason and the
//! crawl goes on; a recrawl fetches nothing it has; a crawl killed with
//! SIGKILL resumes without duplicates or losses. An RSS feed adds an item
//! the list pages do not show.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use egovkb::crawl::fetch::FetchConfig;
use egovkb::crawl::profile::SourcesFile;
use egovkb::crawl::run::{CrawlOptions, crawl};
use egovkb::store::Store;

type Hits = Arc<Mutex<HashMap<String, usize>>>;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn utf8_page(title: &str, body: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>게시판 | 모의 사이트</title></head><body>\
         <header><ul class=\"gnb\"><li>메뉴</li></ul></header>\
         <div class=\"board_view\"><h4 class=\"view_title\">{title}</h4><p class=\"view_info\">Date : 2019.03.20</p>\
         <div class=\"view_cont\">{body}</div>{extra}</div><footer>Copyright</footer></body></html>"
    )
}

/// The mock board. Every request is counted by path and query.
async fn site(
    State(hits): State<Hits>,
    uri: Uri,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let key = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let n = {
        let mut h = hits.lock().unwrap();
        let c = h.entry(key.clone()).or_default();
        *c += 1;
        *c
    };
    let path = uri.path();
    let html =
        |s: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response();
    // The rules live elsewhere, as on a host that moved to https or www.
    if path == "/robots.txt" {
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/rules.txt")],
        )
            .into_response();
    }
    if path == "/rules.txt" {
        return (
            [(header::CONTENT_TYPE, "text/plain")],
            "User-agent: *\nDisallow: /private/\n",
        )
            .into_response();
    }
    if path == "/feed.xml" {
        let rss = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>보도자료</title>\
             <item><title>새 글</title><link>/board/view.do?nttId=106</link></item>\
             <item><title>첫 글</title><link>/board/view.do?nttId=101</link></item></channel></rss>";
        return ([(header::CONTENT_TYPE, "application/rss+xml")], rss).into_response();
    }
    if path.starts_with("/private/") {
        return html(utf8_page("비밀", "보면 안 되는 글", ""));
    }
    if path == "/board/list.do" {
        let page: u32 = q.get("pageIndex").and_then(|p| p.parse().ok()).unwrap_or(1);
        let links = match page {
            1 => concat!(
                "<tr><td class=\"subject\"><a href=\"javascript:fn_egov_inqire_notice('101')\">첫 글</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do;jsessionid=ABC123?nttId=102&amp;pageIndex=1\">둘째 글</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"#\" onclick=\"fn_egov_inqire_notice('103'); return false;\">EUC-KR 글</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/private/view.do?nttId=999\">비공개</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=500\">오류</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=429\">혼잡</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=loop\">고리</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=trunc\">잘림</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=big\">큰 글</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"https://elsewhere.example/board/view.do?nttId=7\">밖</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=away\">이사</a></td></tr>",
            )
            .to_string(),
            // Past its last page, the board shows its last page again.
            _ => concat!(
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=104\">첨부 글</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=105\">같은 첨부</a></td></tr>",
                "<tr><td class=\"subject\"><a href=\"/board/view.do?nttId=107\">이름 없는 첨부</a></td></tr>",
            )
            .to_string(),
        };
        // The board's session, as Java boards keep one.
        let mut r = html(format!(
            "<html><body><nav><a href=\"/board/view.do?nttId=nav\">메뉴</a></nav>\
             <table class=\"board_list\">{links}</table>\
             <a href=\"javascript:fn_egov_select_noticeList({})\">다음</a></body></html>",
            page + 1
        ));
        r.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_static("JSESSIONID=S3SS10N; Path=/; HttpOnly"),
        );
        return r;
    }
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("");
    let referer = headers
        .get(header::REFERER)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("");
    if path == "/board/FileDown.do" {
        // Downloads need the page they are linked from, and the session.
        if !referer.contains("/board/view.do") || !cookie.contains("JSESSIONID=S3SS10N") {
            return StatusCode::FORBIDDEN.into_response();
        }
        let sn = q.get("fileSn").map(String::as_str).unwrap_or("");
        // No file name (as when it is sent in bytes no header may carry).
        let anonymous = |bytes: Vec<u8>| {
            let mut r = bytes.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        };
        let (bytes, name, kind) = match sn {
            "4" => return anonymous(fixture("informe.docx")),
            "5" => return anonymous(fixture("paraguay.pptx")),
            "1" => (
                fixture("bolivia.pdf"),
                "보도자료(볼리비아).pdf",
                "application/pdf",
            ),
            "2" => (
                fixture("paraguay.pptx"),
                "보도자료(볼리비아).pptx",
                "application/octet-stream",
            ),
            "3" => (
                b"<html><body>File not found</body></html>".to_vec(),
                "missing.pdf",
                "application/pdf",
            ),
            _ => return StatusCode::NOT_FOUND.into_response(),
        };
        let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        let mut r = bytes.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")).unwrap(),
        );
        return r;
    }
    if path == "/board/view.do" {
        let id = q.get("nttId").map(String::as_str).unwrap_or("");
        // The view count changes on every visit.
        let read = format!("<p class=\"count\">Read : {}</p>", 1000 + n);
        return match id {
            "101" | "102" | "106" => {
                let etag = format!("\"v1-{id}\"");
                if headers
                    .get(header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok())
                    == Some(etag.as_str())
                {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                let mut r = html(utf8_page(
                    &format!("공지 {id}: 파라과이 주민등록 협력"),
                    &format!(
                        "<p>행정안전부는 파라과이와 주민등록 협력을 논의했다 ({id}).</p>{read}"
                    ),
                    "",
                ));
                r.headers_mut()
                    .insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
                r
            }
            "103" => {
                let page = format!(
                    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-kr\"></head><body>\
                     <div class=\"board_view\"><h4 class=\"view_title\">볼리비아 전자정부 연수</h4>\
                     <!-- {{\"editor\":\"namo\",\"body\":\"{junk}\"}} -->\
                     <div class=\"view_cont\"><p>볼리비아 공무원들이 전자정부를 배웠다. 똠방각하.</p></div>\
                     <div class=\"m_view\"><p>볼리비아 공무원들이 전자정부를 배웠다. 똠방각하.</p></div></div></body></html>",
                    junk = "x".repeat(5000)
                );
                let (bytes, _, _) = encoding_rs::EUC_KR.encode(&page);
                ([(header::CONTENT_TYPE, "text/html")], bytes.into_owned()).into_response()
            }
            "104" | "105" => html(utf8_page(
                &format!("첨부 {id}"),
                "<p>발표 자료를 첨부합니다.</p>",
                "<ul class=\"files\"><li><a href=\"FileDown.do?atchFileId=FILE_0001&amp;fileSn=1\">PDF</a></li>\
                 <li><a href=\"FileDown.do?atchFileId=FILE_0001&amp;fileSn=2\">PPTX</a></li>\
                 <li><a href=\"FileDown.do?atchFileId=FILE_0001&amp;fileSn=3\">깨진 PDF</a></li></ul>",
            )),
            "107" => html(utf8_page(
                "첨부 107",
                "<p>두 나라의 발표 자료.</p>",
                "<ul class=\"files\"><li><a href=\"FileDown.do?atchFileId=FILE_0002&amp;fileSn=4\">DOCX</a></li>\
                 <li><a href=\"FileDown.do?atchFileId=FILE_0002&amp;fileSn=5\">PPTX</a></li></ul>",
            )),
            "500" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            "429" if n == 1 => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "slow down",
            )
                .into_response(),
            "429" => html(utf8_page("혼잡 뒤의 글", "<p>기다린 끝에 받은 글.</p>", "")),
            // Moved to another host (the same server by another name).
            "away" => {
                let port = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .and_then(|h| h.rsplit_once(':'))
                    .map_or("80", |(_, p)| p)
                    .to_string();
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(
                        header::LOCATION,
                        format!("http://localhost:{port}/board/view.do?nttId=101"),
                    )],
                )
                    .into_response()
            }
            "loop" => (
                StatusCode::FOUND,
                [(header::LOCATION, "/board/view.do?nttId=loop2")],
            )
                .into_response(),
            "loop2" => (
                StatusCode::FOUND,
                [(header::LOCATION, "/board/view.do?nttId=loop")],
            )
                .into_response(),
            // Served by a server that hangs up inside the body.
            "trunc" => (
                StatusCode::FOUND,
                [(
                    header::LOCATION,
                    format!("http://127.0.0.1:{}/cut/length", cutting_server()),
                )],
            )
                .into_response(),
            "huge" => {
                // 30 MB of page, in 64 KB chunks, without a length: each
                // chunk the server hands out is counted.
                let counter = hits.clone();
                let chunks = (0..480).map(move |_| {
                    if let Ok(mut h) = counter.lock() {
                        *h.entry("huge-chunk".to_string()).or_default() += 1;
                    }
                    Ok::<Vec<u8>, std::io::Error>(b"<p>x</p>".repeat(8192))
                });
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                    .body(Body::from_stream(futures_stream(chunks)))
                    .unwrap()
            }
            "big" => html(utf8_page(
                "큰 글",
                &"<p>가나다라마바사</p>".repeat(20_000),
                "",
            )),
            _ => StatusCode::NOT_FOUND.into_response(),
        };
    }
    StatusCode::NOT_FOUND.into_response()
}

fn futures_stream<I>(
    items: I,
) -> impl tokio_stream_like::Stream<Item = Result<Vec<u8>, std::io::Error>>
where
    I: IntoIterator<Item = Result<Vec<u8>, std::io::Error>>,
    I::IntoIter: Unpin,
{
    tokio_stream_like::iter(items)
}

/// A minimal stream of ready items (axum's Body::from_stream needs one).
mod tokio_stream_like {
    pub use futures_core::Stream;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct Iter<I>(I);

    impl<I: Iterator + Unpin> Stream for Iter<I> {
        type Item = I::Item;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
            Poll::Ready(self.0.next())
        }
    }

    pub fn iter<T: IntoIterator>(items: T) -> Iter<T::IntoIter>
    where
        T::IntoIter: Unpin,
    {
        Iter(items.into_iter())
    }
}

/// A server on 127.0.0.1 that sends a page's head and part of its body,
/// then closes the connection: `/cut/length` announces 100,000 bytes and
/// sends 39; `/cut/chunked` sends one chunk and no end. Its port.
fn cutting_server() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                // The rest of the request head.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut stream = reader.into_inner();
                let body = "<html><body><div class=\"view_cont\">part";
                let answer = if request_line.contains("/cut/length") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n{body}"
                    )
                } else if request_line.contains("/cut/chunked") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
                };
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.flush();
                // Dropped: the connection closes inside the body.
            }
        });
        port
    })
}

/// Serve the mock board on 127.0.0.1; its address and hit counts.
fn start_site() -> (std::net::SocketAddr, Hits) {
    let hits: Hits = Arc::default();
    let state = hits.clone();
    let addr = common::spawn(move |listener| async move {
        let app = axum::Router::new().fallback(site).with_state(state);
        axum::serve(listener, app).await
    });
    (addr, hits)
}

fn profile_toml(addr: std::net::SocketAddr, rate: f64) -> String {
    format!(
        r#"
[[source]]
name = "mock-board"
lang = "ko"
doc_type = "press_release"
countries = ["KR"]
requests_per_second = {rate}
drop_params = ["pageIndex"]
date_formats = ["%Y.%m.%d"]
feed = "http://{addr}/feed.xml"

[source.list]
url = "http://{addr}/board/list.do?pageIndex={{page}}"

[source.items]
selector = "table.board_list a"
pattern = "/(board|private)/view\\.do"
js_capture = "fn_egov_inqire_notice\\('(\\d+)'\\)"
js_template = "http://{addr}/board/view.do?nttId={{1}}"

[source.detail]
title = ".view_title"
date = ".view_info"
body = ".view_cont"
attachments = ".files a"
"#
    )
}

fn hits_of(hits: &Hits, needle: &str) -> usize {
    hits.lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.contains(needle))
        .map(|(_, v)| *v)
        .sum()
}

fn enricher() -> Arc<egovkb::enrich::Enricher> {
    static E: std::sync::OnceLock<Arc<egovkb::enrich::Enricher>> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        egovkb::engine::Engine::load(&common::dict_root(), None)
            .unwrap()
            .enricher
    })
    .clone()
}

fn test_fetch() -> FetchConfig {
    FetchConfig {
        retries: 2,
        backoff: Duration::from_millis(20),
        max_bytes: 200_000,
        max_page_bytes: 100_000,
        timeout: Duration::from_secs(5),
        ..FetchConfig::default()
    }
}

#[test]
fn a_hostile_board_is_crawled_and_every_bad_case_skipped_with_its_reason() {
    let (addr, hits) = start_site();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let store = Store::open(&corpus).unwrap();
    let file: SourcesFile = toml::from_str(&profile_toml(addr, 200.0)).unwrap();
    let p = &file.sources[0];
    let opts = CrawlOptions {
        fetch: test_fetch(),
        ..CrawlOptions::default()
    };
    let r = crawl(p, &store, &corpus, &opts).unwrap();
    let reasons: Vec<String> = r.skipped.iter().map(|(u, w)| format!("{u}: {w}")).collect();
    let reason_of = |needle: &str| -> String {
        reasons
            .iter()
            .find(|r| r.contains(needle))
            .cloned()
            .unwrap_or_else(|| panic!("nothing skipped for {needle}: {reasons:#?}"))
    };
    assert!(reason_of("nttId=999").contains("robots"));
    assert!(reason_of("nttId=500").contains("HTTP 500"));
    assert!(reason_of("nttId=loop").contains("redirect loop"));
    assert!(
        reason_of("nttId=trunc").contains("truncated (got 39 bytes of 100000)"),
        "{}",
        reason_of("nttId=trunc")
    );
    assert!(
        reason_of("nttId=big").contains("too large (0.5 MB, cap 0.1 MB)"),
        "{}",
        reason_of("nttId=big")
    );
    assert!(reason_of("elsewhere.example").contains("host not allowed"));
    assert!(reason_of("nttId=away").contains("redirected to http://localhost:"));
    assert!(reason_of("fileSn=3").contains("not one"));
    assert!(reason_of("fileSn=").contains("twin"));
    // robots.txt kept us out entirely; the 500 was retried; the 429 waited.
    assert_eq!(hits_of(&hits, "/private/"), 0);
    assert_eq!(hits_of(&hits, "nttId=500"), 3);
    assert_eq!(hits_of(&hits, "nttId=429"), 2);
    // A cut body was asked for again, as a network error is.
    assert_eq!(hits_of(&hits, "nttId=trunc"), 3);
    // Nothing here says the site changed: a cut page never reaches the
    // selectors.
    assert!(r.health.is_empty(), "{:?}", r.health);

    let (docs, _) = store.load_all();
    let by_url = |needle: &str| {
        docs.iter()
            .find(|d| d.url.contains(needle))
            .unwrap_or_else(|| panic!("no document for {needle}"))
    };
    // The javascript: link, the jsessionid link and the onclick link.
    let d101 = by_url("nttId=101");
    assert_eq!(d101.title, "공지 101: 파라과이 주민등록 협력");
    assert_eq!(
        d101.published.map(|d| d.to_string()).as_deref(),
        Some("2019-03-20")
    );
    assert!(!d101.body.contains("Read"), "{}", d101.body);
    let d102 = by_url("nttId=102");
    assert!(
        !d102.url.contains("jsessionid") && !d102.url.contains("pageIndex"),
        "{}",
        d102.url
    );
    let d103 = by_url("nttId=103");
    assert_eq!(
        d103.body,
        "볼리비아 공무원들이 전자정부를 배웠다. 똠방각하."
    );
    assert!(by_url("nttId=429").body.contains("기다린 끝에"));
    // One attachment document of 104 and 105 (the PDF; its PPTX twin
    // skipped), with its parent, fetched once although two pages link it.
    let d107 = by_url("nttId=107").id.clone();
    let (of_107, attachments): (Vec<_>, Vec<_>) = docs
        .iter()
        .filter(|d| d.parent.is_some())
        .partition(|d| d.parent.as_ref() == Some(&d107));
    assert_eq!(attachments.len(), 1, "{attachments:#?}");
    // Two attachments without file names behind one download path are two
    // documents, not twins.
    assert_eq!(of_107.len(), 2, "{of_107:#?}");
    assert_eq!(attachments[0].title, "Bolivia: gobierno electrónico");
    assert_eq!(attachments[0].pages.len(), 2);
    assert_eq!(hits_of(&hits, "fileSn=1"), 1);
    let parent = attachments[0].parent.clone().unwrap();
    assert!(
        docs.iter()
            .any(|d| d.id == parent && d.url.contains("nttId=104"))
    );
    // From the feed only: 106.
    assert_eq!(
        by_url("nttId=106").title,
        "공지 106: 파라과이 주민등록 협력"
    );
    // 101, 102, 103, 429, 104, 105, 106, 107 and the three attachments.
    assert_eq!(
        docs.len(),
        11,
        "{:#?}",
        docs.iter().map(|d| &d.url).collect::<Vec<_>>()
    );

    // A recrawl fetches no item it has, and stops paging at a known page;
    // what failed is not asked for again before its next try is due, and
    // the report says so, with the reason.
    let failures = ["nttId=500", "nttId=loop", "nttId=big", "nttId=trunc"];
    let count = |needle: &str| hits_of(&hits, needle);
    let items_before = count("nttId=1");
    let failed_before: Vec<usize> = failures.iter().map(|f| count(f)).collect();
    let again = crawl(p, &store, &corpus, &opts).unwrap();
    assert_eq!(again.new, 0);
    assert_eq!(count("nttId=1"), items_before);
    assert_eq!(
        failures.iter().map(|f| count(f)).collect::<Vec<_>>(),
        failed_before
    );
    for f in failures {
        let (_, why) = again
            .deferred
            .iter()
            .find(|(u, _)| u.contains(f))
            .unwrap_or_else(|| panic!("{f} not deferred: {:#?}", again.deferred));
        assert!(why.starts_with("failed before ("), "{why}");
        assert!(why.contains("next try after"), "{why}");
    }
    let (_, big) = again
        .deferred
        .iter()
        .find(|(u, _)| u.contains("nttId=big"))
        .unwrap();
    assert!(
        big.contains("too large (0.5 MB, cap 0.1 MB), 1 time)"),
        "{big}"
    );
    assert_eq!(store.load_all().0.len(), 11);
    // Asked to, the crawl tries them again; the count of failures grows.
    let retried = crawl(
        p,
        &store,
        &corpus,
        &CrawlOptions {
            retry_failed: true,
            ..opts.clone()
        },
    )
    .unwrap();
    assert!(retried.deferred.is_empty(), "{:?}", retried.deferred);
    assert_eq!(count("nttId=500"), failed_before[0] + 3);
    assert_eq!(count("nttId=big"), failed_before[2] + 1);
    let again = crawl(p, &store, &corpus, &opts).unwrap();
    let (_, big) = again
        .deferred
        .iter()
        .find(|(u, _)| u.contains("nttId=big"))
        .unwrap();
    assert!(big.contains("2 times"), "{big}");
    assert_eq!(count("nttId=big"), failed_before[2] + 1);
    assert_eq!(store.load_all().0.len(), 11);

    // A refresh asks again with the ETag it has: 304, nothing changes.
    let refreshed = crawl(
        p,
        &store,
        &corpus,
        &CrawlOptions {
            refresh: true,
            ..opts.clone()
        },
    )
    .unwrap();
    // (Without a last page, the paging ends where the board repeats its
    // last page.)
    assert!(refreshed.not_modified >= 2, "{refreshed:?}");
    assert_eq!(refreshed.new, 0);
    assert_eq!(store.load_all().0.len(), 11);

    // The raw responses let extraction run again offline: same documents.
    let re = egovkb::crawl::run::reextract(p, &store, &corpus, &opts).unwrap();
    assert_eq!((re.new, re.updated), (0, 0), "{:?}", re.skipped);
    assert!(re.unchanged >= 6, "{re:?}");
}

/// A body cut short, by a connection closed before the announced length
/// or inside a chunk, is an error of its own, with what came.
#[test]
fn a_cut_body_is_truncated_not_kept() {
    let port = cutting_server();
    let fetcher = egovkb::crawl::fetch::Fetcher::new(FetchConfig {
        min_interval: Duration::from_millis(1),
        retries: 0,
        ..test_fetch()
    });
    let err = |path: &str| {
        fetcher
            .get(
                &format!("http://127.0.0.1:{port}{path}"),
                None,
                (None, None),
            )
            .unwrap_err()
    };
    assert_eq!(
        err("/cut/length").to_string(),
        "truncated (got 39 bytes of 100000)"
    );
    assert!(
        matches!(
            err("/cut/chunked"),
            egovkb::crawl::fetch::FetchError::Truncated { expected: None, .. }
        ),
        "{:?}",
        err("/cut/chunked")
    );
}

#[test]
fn selectors_that_match_nothing_are_reported() {
    let (addr, _) = start_site();
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let store = Store::open(&corpus).unwrap();
    let text = profile_toml(addr, 200.0).replace("table.board_list a", "div.renamed-list a");
    let file: SourcesFile = toml::from_str(&text).unwrap();
    let r = crawl(
        &file.sources[0],
        &store,
        &corpus,
        &CrawlOptions {
            fetch: test_fetch(),
            ..CrawlOptions::default()
        },
    )
    .unwrap();
    assert_eq!(r.health.len(), 1, "{:?}", r.health);
    assert!(r.health[0].contains("div.renamed-list a") && r.health[0].contains("site changed"));
}

/// A page past the cap for pages (HTML: far lower than for files) is
/// skipped with its size and the cap, and its download stops at the cap:
/// of a 30 MB page sent without a length, the server hands out a small
/// part before the crawler hangs up.
#[test]
fn a_page_over_the_cap_is_not_read_whole() {
    let (addr, hits) = start_site();
    let fetcher = egovkb::crawl::fetch::Fetcher::new(FetchConfig {
        min_interval: Duration::from_millis(1),
        ..test_fetch()
    });
    let url = format!("http://{addr}/board/view.do?nttId=huge");
    let err = fetcher.get(&url, None, (None, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "too large (over 0.1 MB, cap 0.1 MB)",
        "{err:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let sent = hits_of(&hits, "huge-chunk");
    assert!(sent < 240, "{sent} of 480 chunks handed out");
}

/// Without an `attachments` selector, or with one that stopped matching
/// (which the report says), the crawler finds the files a page links (here
/// behind `FileDown.do?atchFileId=…`) by itself, the same as with one; and an attachment's own language wins over the profile's: the
/// Spanish PDF of a board whose profile says Korean is Spanish and keeps
/// the file name its server gave it; a file is about the countries it
/// names, the profile's (Korea) only when it names none.
#[test]
fn attachments_are_found_without_a_selector_and_keep_their_own_language() {
    let attachments_of = |profile: &str| {
        let (addr, _) = start_site();
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        let store = Store::open(&corpus).unwrap();
        let text = profile_toml(addr, 200.0);
        let text = match profile {
            "generic" => text.replace("attachments = \".files a\"\n", ""),
            "renamed" => text.replace(".files a", ".renamed-files a"),
            _ => text,
        };
        assert_eq!(text.contains(".files a"), profile == "selector");
        let file: SourcesFile = toml::from_str(&text).unwrap();
        let opts = CrawlOptions {
            fetch: test_fetch(),
            enricher: Some(enricher()),
            ..CrawlOptions::default()
        };
        let report = crawl(&file.sources[0], &store, &corpus, &opts).unwrap();
        let (docs, _) = store.load_all();
        // The pages take the profile's countries.
        for d in docs.iter().filter(|d| d.parent.is_none()) {
            assert_eq!(d.countries, ["KR"], "{}", d.url);
        }
        type Found = (String, Option<String>, String, Option<String>, Vec<String>);
        let mut found: Vec<Found> = docs
            .into_iter()
            .filter(|d| d.parent.is_some())
            .map(|d| {
                let path = d.url.split_once("/FileDown").map(|(_, p)| p.to_string());
                let lang = d.lang.map(|l| l.as_str().to_string()).unwrap_or_default();
                (d.title, path, lang, d.file_name, d.countries)
            })
            .collect();
        found.sort();
        (found, report.health)
    };
    let (generic, quiet) = attachments_of("generic");
    let (chosen, _) = attachments_of("selector");
    assert_eq!(generic, chosen);
    assert!(quiet.is_empty(), "{quiet:?}");
    // A selector that stopped matching: the generic rules take over, and
    // the report says the site may have changed.
    let (renamed, health) = attachments_of("renamed");
    assert_eq!(renamed, chosen);
    assert!(
        health
            .iter()
            .any(|h| h.contains(".renamed-files a") && h.contains("site changed")),
        "{health:?}"
    );
    let bolivia = generic
        .iter()
        .find(|(title, ..)| title == "Bolivia: gobierno electrónico")
        .unwrap_or_else(|| panic!("{generic:#?}"));
    assert_eq!(bolivia.2, "es", "{generic:#?}");
    // The name the server gave the file (Content-Disposition) is kept.
    assert!(
        bolivia.3.as_deref().is_some_and(|n| n.ends_with(".pdf")),
        "{generic:#?}"
    );
    // The countries a file names, not the profile's Korea: the course
    // report names Bolivia and Peru only.
    let report = generic
        .iter()
        .find(|(title, ..)| title.starts_with("Informe del curso"))
        .unwrap_or_else(|| panic!("{generic:#?}"));
    assert_eq!(report.4, ["BO", "PE"], "{generic:#?}");
}

fn run_crawl(dir: &Path, sources: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(dir.join("corpus"))
        .arg("crawl")
        .arg("--sources")
        .arg(sources)
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_crawl_killed_midway_resumes_without_duplicates_or_losses() {
    let (addr, hits) = start_site();
    let dir = tempfile::tempdir().unwrap();
    // Only the good pages, slowly (20 requests a second).
    let sources = dir.path().join("sources.toml");
    let text = profile_toml(addr, 20.0).replace(
        "pattern = \"/(board|private)/view\\\\.do\"",
        "pattern = \"nttId=10[1-6]\"",
    );
    std::fs::write(&sources, text).unwrap();
    let store = Store::open(&dir.path().join("corpus")).unwrap();
    let mut child = run_crawl(dir.path(), &sources);
    // Kill it once the first documents are stored.
    let started = std::time::Instant::now();
    while store.load_all().0.len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no documents yet"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stored_before: Vec<String> = store.load_all().0.into_iter().map(|d| d.url).collect();
    assert!(
        stored_before.len() < 6,
        "the crawl finished before the kill"
    );
    let fetched_before: HashMap<String, usize> = hits.lock().unwrap().clone();

    let mut child = run_crawl(dir.path(), &sources);
    assert!(child.wait().unwrap().success());
    let (docs, skipped) = store.load_all();
    assert!(skipped.is_empty());
    let mut urls: Vec<&str> = docs.iter().map(|d| d.url.as_str()).collect();
    urls.sort();
    let n = urls.len();
    urls.dedup();
    assert_eq!(urls.len(), n, "duplicates: {urls:?}");
    // 101-106 and the PDF attachment.
    assert_eq!(n, 7, "{urls:?}");
    // What was stored before the kill was not fetched again.
    let after = hits.lock().unwrap().clone();
    for url in &stored_before {
        let key = url.split_once(&addr.to_string()).map_or("", |(_, k)| k);
        if key.contains("nttId") {
            assert_eq!(
                after.get(key),
                fetched_before.get(key),
                "{key} fetched again"
            );
        }
    }
}

/// Two profiles that crawl one host, run at once by `egovkb crawl`, keep
/// one pace: the slower one's spacing between any two requests the host
/// receives (robots.txt included, read once), as the request times the
/// host records show.
#[test]
fn two_profiles_on_one_host_keep_one_pace() {
    type Times = Arc<Mutex<Vec<(std::time::Instant, String)>>>;
    let times: Times = Arc::default();
    let state = times.clone();
    let addr = common::spawn(move |listener| async move {
        let app = axum::Router::new()
            .fallback(|State(times): State<Times>, uri: Uri| async move {
                let path = uri.path().to_string();
                times
                    .lock()
                    .unwrap()
                    .push((std::time::Instant::now(), path.clone()));
                let html = |s: String| {
                    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
                };
                match path.as_str() {
                    "/robots.txt" => StatusCode::NOT_FOUND.into_response(),
                    "/a/list.html" | "/b/list.html" => {
                        let board = &path[1..2];
                        let links: String = (1..=4)
                            .map(|i| format!("<li><a href=\"/{board}/{i}.html\">item {i}</a></li>"))
                            .collect();
                        html(format!("<html><body><ul class=\"list\">{links}</ul></body></html>"))
                    }
                    _ => html(format!(
                        "<html><head><title>Board</title></head><body><article><h1>Notice {path}</h1>\
                         <p>Date: 2020-05-14</p><p>The ministry met the delegation from Paraguay \
                         to discuss resident registration ({path}).</p></article></body></html>"
                    )),
                }
            })
            .with_state(state);
        axum::serve(listener, app).await
    });
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    let profile = |name: &str, rate: f64| {
        format!(
            "[[source]]\nname = \"{name}\"\nlang = \"en\"\nrequests_per_second = {rate}\n\
             start_urls = [\"http://{addr}/{name}/list.html\"]\n\
             [source.items]\nselector = \"ul.list a\"\n"
        )
    };
    std::fs::write(&sources, profile("a", 10.0) + &profile("b", 20.0)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(dir.path().join("corpus"))
        .arg("crawl")
        .arg("--sources")
        .arg(&sources)
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("a: 5 fetched, 4 new"), "{stdout}");
    assert!(stdout.contains("b: 5 fetched, 4 new"), "{stdout}");
    let mut times = times.lock().unwrap().clone();
    times.sort();
    let paths: Vec<&str> = times.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths.len(), 11, "{paths:?}");
    assert_eq!(
        paths.iter().filter(|p| **p == "/robots.txt").count(),
        1,
        "{paths:?}"
    );
    // Both boards were read, interleaved: the profiles ran at once.
    let first_b = paths.iter().position(|p| p.starts_with("/b/"));
    let last_a = paths.iter().rposition(|p| p.starts_with("/a/"));
    assert!(first_b < last_a, "{paths:?}");
    // The slower profile's 100 ms between any two requests (less what a
    // busy machine may take off one arrival against the other).
    for pair in times.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= Duration::from_millis(75),
            "{} ms between {} and {}",
            gap.as_millis(),
            pair[0].1,
            pair[1].1
        );
    }
}
