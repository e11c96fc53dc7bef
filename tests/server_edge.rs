//! The server's edge, with real sockets on loopback: slow and idle clients
//! are closed, the connection cap sheds with 503 and the server recovers,
//! and every refusal made before routing is the API's JSON error (or the
//! page) with the security headers.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use egovkb::config::Connections;
use serde_json::Value;

/// A server on a free loopback port with these connection limits.
fn start(connections: Connections) -> (SocketAddr, tempfile::TempDir) {
    let (state, dir) = common::server_state(common::paraguay_notices(), None);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || egovkb::server::serve_with(listener, state, connections));
    (addr, dir)
}

/// One shared server with the default limits.
fn default_server() -> SocketAddr {
    static S: OnceLock<(SocketAddr, tempfile::TempDir)> = OnceLock::new();
    S.get_or_init(|| start(Connections::default())).0
}

/// Send `raw` as it is and read the answer to the end.
fn raw(addr: SocketAddr, request: &[u8]) -> common::Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(request);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    parse(&got)
}

fn parse(got: &[u8]) -> common::Response {
    let text = String::from_utf8_lossy(got);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    common::Response {
        status,
        headers,
        body: body.to_string(),
    }
}

/// Read one whole answer (head and `Content-Length` body) from a kept-alive
/// connection.
fn read_answer(s: &mut TcpStream) -> common::Response {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "the connection ended early");
        got.push(byte[0]);
    }
    let mut r = parse(&got);
    let n: usize = r
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; n];
    s.read_exact(&mut body).unwrap();
    r.body = String::from_utf8_lossy(&body).into_owned();
    r
}

fn assert_json_error(r: &common::Response, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("content-security-policy").is_some());
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// The time `/healthz` takes on a new connection, the median of five.
fn healthz_ms(addr: SocketAddr) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let r = raw(
                addr,
                b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            );
            assert_eq!(r.status, 200, "{}", r.body);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// The server's count of open connections, asked over a kept-alive one.
fn open_connections(s: &mut TcpStream) -> usize {
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let r = read_answer(s);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .lines()
        .find_map(|l| l.strip_prefix("egovkb_open_connections "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no open connections in {}", r.body))
}

/// Connections this process may open for the test's clients, beside the
/// server's own ends (both are in this process).
fn client_room() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes `limit` only.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let max = if ok { limit.rlim_max } else { 1024 };
    usize::try_from(max)
        .unwrap_or(usize::MAX)
        .saturating_sub(1024)
        / 2
}

#[test]
fn slow_and_idle_clients_are_closed_and_a_full_server_sheds_then_recovers() {
    // 5,000 half-open and 2,000 idle connections where the machine allows
    // (each is two descriptors here: the client's and the server's).
    let scale = (client_room() as f64 / 7_200.0).min(1.0);
    let half_open = (5_000.0 * scale) as usize;
    let idle = (2_000.0 * scale) as usize;
    assert!(half_open >= 500, "too few file descriptors for this test");
    let cap = half_open + idle + 20;
    let header_timeout = Duration::from_secs(8);
    let idle_timeout = Duration::from_secs(20);
    let (addr, _dir) = start(Connections {
        header_timeout,
        idle_timeout,
        max_connections: cap,
        max_per_client: 0,
        ..Connections::default()
    });
    let quiet_ms = healthz_ms(addr);

    // Kept alive after one answer, then idle.
    let opening = Instant::now();
    let mut idle_ones: Vec<TcpStream> = (0..idle)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            assert_eq!(read_answer(&mut s).status, 200);
            s
        })
        .collect();
    let idle_since = Instant::now();
    // Half a request, then nothing (slowloris).
    let began = Instant::now();
    let mut slow: Vec<TcpStream> = (0..half_open)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    let loaded_ms = healthz_ms(addr);
    println!(
        "{idle} idle connections opened in {:?}, {half_open} half-open in {:?}; /healthz \
         {quiet_ms:.1} ms before, {loaded_ms:.1} ms with them",
        idle_since - opening,
        began.elapsed()
    );
    assert!(loaded_ms < 100.0, "/healthz took {loaded_ms:.1} ms");

    // Wait until the server counts exactly the connections held here (the
    // ones the timings used close on the server's side a moment after the
    // client sees their end), asking over one kept-alive connection.
    let mut watcher = TcpStream::connect(addr).unwrap();
    watcher
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let held = half_open + idle + 1;
    let settled = Instant::now();
    while open_connections(&mut watcher) != held {
        assert!(
            settled.elapsed() < Duration::from_secs(5),
            "the server's count of connections did not settle at {held}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Fill the server: the connection past the cap gets 503 and is closed.
    let filler: Vec<TcpStream> = (0..cap - held)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let shed = parse(&got);
    assert_json_error(&shed, 503, "overloaded");
    assert!(shed.header("retry-after").is_some());
    for mut f in &filler {
        f.set_nonblocking(true).unwrap();
        assert!(
            matches!(f.read(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a connection under the cap was refused"
        );
    }
    assert!(
        began.elapsed() < header_timeout,
        "the machine was too slow for this test's timeouts"
    );

    // The half-open connections are answered 408 and closed within the
    // header timeout (from their first byte), with some slack.
    let deadline = began + header_timeout + Duration::from_secs(3);
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    let mut timed_out = 0;
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut got = Vec::new();
        if s.read_to_end(&mut got).is_ok() {
            let r = parse(&got);
            assert_json_error(&r, 408, "request_timeout");
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, half_open, "half-open connections still open");
    drop(slow);
    drop(filler);
    // The server took its descriptors back: new clients are answered.
    assert!(healthz_ms(addr) < 100.0);

    // Idle kept-alive connections end after the idle timeout.
    let deadline = idle_since + idle_timeout + Duration::from_secs(2);
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    let mut closed = 0;
    for s in &mut idle_ones {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if matches!(s.read(&mut [0u8; 1]), Ok(0)) {
            closed += 1;
        }
    }
    assert_eq!(closed, idle, "idle connections still open");
}

#[test]
fn one_client_takes_at_most_its_share() {
    let (addr, _dir) = start(Connections {
        max_per_client: 3,
        ..Connections::default()
    });
    let held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let r = raw(addr, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_json_error(&r, 503, "overloaded");
    assert!(r.body.contains("this address"), "{}", r.body);
    drop(held);
    // Its places come back as its connections close.
    let ok = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        raw(
            addr,
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .status
            == 200
    });
    assert!(ok, "the client's places did not come back");
}

#[test]
fn refusals_before_routing_are_the_api_error_or_the_page() {
    let addr = default_server();
    let long = "a".repeat(20_000);
    // A URL too long: JSON on the API, the page elsewhere.
    let r = raw(
        addr,
        format!("GET /api/search?q={long} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
    );
    assert_json_error(&r, 414, "uri_too_long");
    let r = raw(
        addr,
        format!("GET /?q={long} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
    );
    assert_eq!(r.status, 414);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(r.body.contains("<form"), "the page, with its search box");
    assert!(!r.body.contains(&long[..200]), "the long URL is not echoed");
    assert!(r.header("content-security-policy").is_some());
    // Too many header fields, a head too large.
    let mut many = String::from("GET /api/stats HTTP/1.1\r\nHost: t\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-{i}: 1\r\n"));
    }
    many.push_str("\r\n");
    assert_json_error(&raw(addr, many.as_bytes()), 431, "header_too_large");
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40_000)
    );
    assert_json_error(&raw(addr, big.as_bytes()), 431, "header_too_large");
    // Malformed requests.
    assert_json_error(&raw(addr, b"NOT HTTP AT ALL\r\n\r\n"), 400, "bad_request");
    assert_json_error(
        &raw(addr, b"GET /api/stats HTTP/1.1\r\nBad Field: 1\r\n\r\n"),
        400,
        "bad_request",
    );
    assert_json_error(
        &raw(
            addr,
            b"POST /api/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        411,
        "length_required",
    );
    // The server still answers, on a kept-alive connection too.
    let mut s = TcpStream::connect(addr).unwrap();
    for _ in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        assert_eq!(read_answer(&mut s).status, 200);
    }
}

#[test]
fn every_route_refuses_a_path_that_is_not_utf8_the_same_way() {
    let addr = default_server();
    for path in [
        "/api/documents/%FF",
        "/api/documents/%C3%28/related",
        "/api/nothing/%FF",
    ] {
        let r = common::http_request(addr, "GET", path, &[], "");
        assert_json_error(&r, 400, "bad_request");
    }
    for path in ["/doc/%FF", "/original/%FF", "/assets/%FF", "/%FF%FE"] {
        let r = common::http_request(addr, "GET", path, &[], "");
        assert_eq!(r.status, 400, "{path}");
        assert!(
            r.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        assert!(r.header("content-security-policy").is_some(), "{path}");
    }
}

#[test]
fn what_a_client_sent_comes_back_bounded_and_without_control_characters() {
    let addr = default_server();
    // A NUL and other control characters in the query never reach the page.
    let r = common::http_request(addr, "GET", "/?q=a%00b%1Bc%07", &[], "");
    assert_eq!(r.status, 200);
    for c in ['\u{0}', '\u{1b}', '\u{7}'] {
        assert!(!r.body.contains(c), "{c:?} in the page");
    }
    // A long bad value is quoted cut short, on the API and on the page.
    let long = "z".repeat(7_000);
    let r = common::http_request(addr, "GET", &format!("/api/search?{long}=1"), &[], "");
    assert_json_error(&r, 400, "bad_request");
    assert!(r.body.len() < 1_000, "{} bytes", r.body.len());
    let r = common::http_request(addr, "GET", &format!("/?q=x&page={long}"), &[], "");
    assert_eq!(r.status, 400);
    assert!(!r.body.contains(&long[..400]), "the whole value is echoed");
    let r = common::http_request(addr, "GET", &format!("/{long}"), &[], "");
    assert_eq!(r.status, 404);
    assert!(!r.body.contains(&long[..400]), "the whole path is echoed");
}

#[test]
fn a_repeated_search_with_its_etag_is_answered_304() {
    let addr = default_server();
    let get = |path: &str, tag: Option<&str>| {
        let headers: Vec<(&str, &str)> = tag.map(|t| ("If-None-Match", t)).into_iter().collect();
        common::http_request(addr, "GET", path, &headers, "")
    };
    for path in [
        "/api/search?q=resident+registration",
        "/api/documents/en-py",
        "/api/stats",
        "/api/openapi.json",
        "/?q=Paraguay",
        "/doc/en-py",
    ] {
        let first = get(path, None);
        assert_eq!(first.status, 200, "{path}");
        assert_eq!(first.header("cache-control"), Some("no-cache"), "{path}");
        let tag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"));
        // The same request, the same index: the same tag, whatever the body
        // says of the time taken.
        assert_eq!(get(path, None).header("etag"), Some(tag), "{path}");
        let again = get(path, Some(tag));
        assert_eq!((again.status, again.body.as_str()), (304, ""), "{path}");
        assert_eq!(again.header("etag"), Some(tag));
        assert_eq!(get(path, Some("W/\"other\"")).status, 200);
    }
    // Another search has another tag; the page varies with the language.
    let a = get("/api/search?q=Paraguay", None);
    let b = get("/api/search?q=Korea", None);
    assert_ne!(a.header("etag"), b.header("etag"));
    assert_eq!(
        get("/?q=Paraguay", None).header("vary"),
        Some("Accept-Language")
    );
    // Errors and health are never kept.
    let bad = get("/api/search?page=0", None);
    assert_eq!(
        (bad.status, bad.header("cache-control")),
        (400, Some("no-store"))
    );
    assert!(bad.header("etag").is_none());
    assert_eq!(
        get("/healthz", None).header("cache-control"),
        Some("no-store")
    );
}

/// Prometheus's own parser (prometheus_client, from PyPI) reads `/metrics`:
/// its families, and every series as (name, labels, value).
fn parse_metrics(python: &std::path::Path, text: &str) -> Value {
    let script = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = {}\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   out[f.name] = {'type': f.type, 'samples': [[s.name, s.labels, s.value] for s in f.samples]}\n\
        print(json.dumps(out))\n";
    common::python(python, script, text)
}

#[test]
fn metrics_parse_with_prometheus_and_their_labels_stay_bounded() {
    let Some(python) = common::pytools("prometheus_client") else {
        return;
    };
    let (addr, _dir) = start(Connections::default());
    // A search, a refusal before routing, and 10,000 distinct URLs over
    // kept-alive connections.
    assert_eq!(common::http_get(addr, "/api/search?q=Paraguay").0, 200);
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    assert_eq!(raw(addr, long.as_bytes()).status, 414);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    for i in 0..10_000 {
        let path = match i % 4 {
            0 => format!("/no/such/page/{i}"),
            1 => format!("/api/documents/missing-{i}"),
            2 => format!("/doc/missing-{i}"),
            _ => format!("/api/search?q=word{i}"),
        };
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .unwrap();
        read_answer(&mut s);
    }
    let (status, text) = common::http_get(addr, "/metrics");
    assert_eq!(status, 200);
    let families = parse_metrics(&python, &text);
    let samples = |name: &str| {
        families[name]["samples"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let series: usize = families
        .as_object()
        .unwrap()
        .values()
        .map(|f| f["samples"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(series < 400, "{series} series after 10,000 distinct URLs");
    let routes: std::collections::BTreeSet<String> = samples("egovkb_http_requests")
        .iter()
        .map(|s| s[1]["route"].as_str().unwrap().to_string())
        .collect();
    assert!(
        routes.contains("other") && routes.contains("/api/documents/{id}"),
        "{routes:?}"
    );
    assert!(routes.len() <= 12, "{routes:?}");
    assert_eq!(
        families["egovkb_http_request_duration_seconds"]["type"],
        "histogram"
    );
    let searches: f64 = samples("egovkb_searches")
        .iter()
        .map(|s| s[2].as_f64().unwrap())
        .sum();
    assert!(searches >= 2_501.0, "{searches} searches counted");
    let refused = samples("egovkb_refused_requests");
    assert!(
        refused
            .iter()
            .any(|s| s[1]["status"] == "414" && s[2] == 1.0),
        "{refused:?}"
    );
    let documents = common::paraguay_notices().len() as f64;
    assert_eq!(samples("egovkb_documents")[0][2], documents);
    assert!(samples("egovkb_open_connections")[0][2].as_f64().unwrap() >= 1.0);
}

#[test]
fn searches_over_a_clients_rate_get_429_with_retry_after() {
    let (addr, _dir) = start(Connections {
        search_rate: 0.5,
        search_burst: 3,
        ..Connections::default()
    });
    let get = |path: &str| common::http_request(addr, "GET", path, &[], "");
    for _ in 0..3 {
        assert_eq!(get("/api/search?q=Paraguay").status, 200);
    }
    let r = get("/api/search?q=Paraguay");
    assert_json_error(&r, 429, "rate_limited");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After: {wait}");
    let page = get("/?q=Paraguay");
    assert_eq!(page.status, 429);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    // Other routes are not searches.
    assert_eq!(get("/healthz").status, 200);
    assert_eq!(get("/api/documents/en-py").status, 200);
    // The bucket refills at the rate.
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(get("/api/search?q=Paraguay").status, 200);
}

/// Schemathesis (from PyPI, pinned in .ci/run) against a real server: every
/// check, valid and invalid data, a fixed seed, a bounded number of cases.
/// Each parameter's constraint in `/api/openapi.json` is what the handler
/// enforces, each answer's status and body are documented: no failure.
#[test]
fn schemathesis_finds_the_api_description_is_the_contract() {
    let Some(python) = common::pytools("schemathesis") else {
        return;
    };
    let addr = default_server();
    let reports = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(python.with_file_name("schemathesis"))
        .current_dir(reports.path())
        .args(["run", &format!("http://{addr}/api/openapi.json")])
        .args(["--checks", "all", "--mode", "all", "--seed", "20261207"])
        .args(["--max-examples", "60", "--workers", "2", "--no-color"])
        .args(["--generation-database", "none", "--request-timeout", "20"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("passed") && !report.contains("failed"),
        "{report}"
    );
}
