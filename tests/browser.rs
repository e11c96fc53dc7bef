//! The web page in a real browser: Debian's `chromium`, headless, driven
//! through the DevTools protocol. Load the page, type a search and press
//! Enter, tick a facet with the mouse and see results and counts change,
//! open a document; a document's markup never runs; the page loads nothing
//! its Content-Security-Policy refuses. A screenshot of the results page is
//! saved under `target/tmp/artifacts/`.
//!
//! Without chromium the test says so and passes, unless
//! EGOVKB_REQUIRE_BROWSER=1 (as in CI), where that is a failure.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egovkb::document::{DocType, Document, Lang};
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

fn docs() -> Vec<Document> {
    let mk = common::doc;
    vec![
        mk(
            "en-py",
            Lang::en(),
            DocType::Notice,
            "2018-06-26",
            "Paraguay officials study resident registration in Korea",
            "Officials from Paraguay studied how resident registration supports Gov24 in Korea.",
        ),
        mk(
            "ko-py",
            Lang::ko(),
            DocType::PressRelease,
            "2019-03-20",
            "행정안전부, 파라과이와 주민등록 협력",
            "행정안전부는 파라과이 정부와 주민등록 제도 협력을 논의했다.",
        ),
        mk(
            "ko-py-2",
            Lang::ko(),
            DocType::PressRelease,
            "2020-05-11",
            "파라과이 공무원 주민등록 연수",
            "파라과이 공무원들이 주민등록 시스템을 배웠다.",
        ),
        mk(
            "es-py",
            Lang::es(),
            DocType::Presentation,
            "2018-06-27",
            "Paraguay: registro civil y cédula de identidad",
            "El registro civil de Paraguay presentó la cédula de identidad electrónica.",
        ),
        mk(
            "en-xss",
            Lang::en(),
            DocType::Other,
            "2017-01-01",
            r#"Paraguay resident registration <img src=x onerror="window.__xss=1">"#,
            r#"Resident registration in Paraguay <script>window.__xss=2</script> explained."#,
        ),
    ]
}

/// Chromium, headless, killed when the test ends.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Start chromium with a DevTools port; the browser's WebSocket address.
fn launch(exe: &PathBuf) -> (Browser, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1280,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chromium");
    let lines = common::stderr_lines(&mut child);
    let url = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium did not open its DevTools port");
        if let Some(url) = line.strip_prefix("DevTools listening on ") {
            break url.trim().to_string();
        }
    };
    (
        Browser {
            child,
            _profile: profile,
        },
        url,
    )
}

/// A DevTools protocol session with one page.
struct Page {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events seen while waiting for answers.
    events: Vec<Value>,
}

impl Page {
    /// Attach to the browser's first page.
    fn open(browser_ws: &str) -> Self {
        // ws://127.0.0.1:PORT/devtools/browser/ID → the page list on that port.
        let host = browser_ws
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let addr: std::net::SocketAddr = host.parse().unwrap();
        let list = common::http_get(addr, "/json/list").1;
        let targets: Vec<Value> = serde_json::from_str(&list).unwrap();
        let page = targets
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let (ws, _) = tungstenite::connect(url).expect("connecting to the page");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        let mut p = Self {
            ws,
            next_id: 1,
            events: Vec::new(),
        };
        p.call("Page.enable", json!({}));
        p.call("Runtime.enable", json!({}));
        p.call("Log.enable", json!({}));
        p
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(msg.into())).unwrap();
        loop {
            let msg = self.ws.read().expect("reading from chromium");
            let Ok(text) = msg.into_text() else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
            if v["id"] == id {
                assert!(v["error"].is_null(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
            if v["method"].is_string() {
                self.events.push(v);
            }
        }
    }

    /// Evaluate JavaScript in the page; its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        assert!(
            r["exceptionDetails"].is_null(),
            "{expr}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Wait until `expr` is true in a fully loaded page.
    fn wait_for(&mut self, expr: &str) {
        let started = Instant::now();
        let full = format!("document.readyState === 'complete' && ({expr})");
        while self.eval(&full) != Value::Bool(true) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited 20 s for {expr}; at {}",
                self.eval("location.href")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A real mouse click in the middle of the element `selector` matches.
    fn click(&mut self, selector: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const b = e.getBoundingClientRect(); \
             return [b.x + b.width / 2, b.y + b.height / 2]; }})()",
            sel = serde_json::to_string(selector).unwrap()
        );
        let at = self.eval(&js);
        assert!(at.is_array(), "nothing matches {selector}");
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    fn key(&mut self, key: &str, code: u32, text: &str) {
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": code, "text": text}),
        );
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": code}),
        );
    }

    /// The result count, the hits' ids and languages, and a facet's counts.
    fn results(&mut self) -> Value {
        self.eval(
            "(() => ({ \
               total: parseInt(document.querySelector('#results-heading').textContent), \
               ids: [...document.querySelectorAll('.hit h3 a')].map(a => a.getAttribute('href').split('?')[0].slice(5)), \
               langs: [...document.querySelectorAll('.hit .badge.lang')].map(b => b.textContent), \
               lang_facet: Object.fromEntries([...document.querySelectorAll('fieldset[data-facet=lang] li')].map(li => \
                 [li.querySelector('input').value, parseInt(li.querySelector('.count').textContent)])), \
               ticked: [...document.querySelectorAll('.facet input:checked')].map(i => i.name + '=' + i.value) \
             }))()",
        )
    }
}

#[test]
fn search_tick_a_facet_and_open_a_document_in_chromium() {
    let Some(exe) = chromium() else {
        assert!(
            std::env::var("EGOVKB_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "chromium is not installed (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed");
        return;
    };
    let server = common::TestServer::start(docs());
    let base = format!("http://{}", server.addr);
    let (_browser, ws) = launch(&exe);
    let mut page = Page::open(&ws);

    // Load the page and search from the keyboard.
    page.call("Page.navigate", json!({"url": format!("{base}/?ui=en")}));
    page.wait_for("!!document.querySelector('#q')");
    page.click("#q");
    page.call(
        "Input.insertText",
        json!({"text": "resident registration Paraguay"}),
    );
    page.key("Enter", 13, "\r");
    page.wait_for("location.search.includes('q=resident+registration+Paraguay')");
    let before = page.results();
    assert_eq!(before["total"], 5, "{before}");
    assert_eq!(before["lang_facet"], json!({"en": 2, "ko": 2, "es": 1}));
    // The recognised country is offered as a filter chip.
    assert_eq!(
        page.eval("document.querySelector('.understood a.chip') !== null"),
        true
    );

    // The charts: a bar a year and a country, their counts the facets'.
    let charts = page.eval(
        "(() => { const counts = (sel, key) => Object.fromEntries([...document.querySelectorAll(sel)] \
           .map(a => [a.dataset[key], +a.dataset.count])); return { \
           years: counts('.chart.years a.bar', 'year'), \
           countries: counts('.chart.countries a.bar', 'country'), \
           facet_years: Object.fromEntries([...document.querySelectorAll('fieldset[data-facet=year] ul.years a')] \
             .map(a => [a.firstChild.textContent.trim(), parseInt(a.querySelector('.count').textContent)])), \
           facet_countries: Object.fromEntries([...document.querySelectorAll('fieldset[data-facet=country] li')] \
             .map(li => [li.querySelector('input').value, parseInt(li.querySelector('.count').textContent)])), \
           drawn: [...document.querySelectorAll('.chart svg')].map(s => s.getBoundingClientRect().height), \
           named: [...document.querySelectorAll('.chart a.bar')].every(a => /: \\d+ results$/.test(a.getAttribute('aria-label'))) \
         }; })()",
    );
    assert!(charts["years"].as_object().unwrap().len() >= 2, "{charts}");
    assert_eq!(charts["years"], charts["facet_years"], "{charts}");
    assert_eq!(charts["countries"], charts["facet_countries"], "{charts}");
    assert_eq!(charts["named"], true, "{charts}");
    let drawn = charts["drawn"].as_array().unwrap();
    assert_eq!(drawn.len(), 2, "{charts}");
    assert!(drawn.iter().all(|h| h.as_f64().unwrap() > 20.0), "{charts}");
    // A bar is a filter: click 2018's, and the search narrows to 2018.
    let in_2018 = charts["years"]["2018"].clone();
    page.click(".chart.years a.bar[data-year='2018'] rect:not(.hit)");
    page.wait_for("location.search.includes('year=2018')");
    assert_eq!(page.results()["total"], in_2018);
    assert_eq!(
        page.eval("document.querySelector(\".chart.years a.bar[data-year='2018']\").classList.contains('on')"),
        true
    );
    page.eval("history.back()");
    page.wait_for("!location.search.includes('year=')");

    // Tick Korean with the mouse: the script submits the form.
    page.click("fieldset[data-facet=lang] input[value=ko]");
    page.wait_for("location.search.includes('lang=ko')");
    let after = page.results();
    assert_eq!(after["total"], 2, "{after}");
    assert_eq!(after["langs"], json!(["ko", "ko"]));
    assert_eq!(after["ticked"], json!(["lang=ko"]));
    // Disjunctive: the language facet still offers the other languages.
    assert_eq!(after["lang_facet"], json!({"en": 2, "ko": 2, "es": 1}));

    // A screenshot of the results page, to look at.
    let shot = page.call(
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true}),
    );
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("results-page.png"), &png).unwrap();
    eprintln!("screenshot: {}", dir.join("results-page.png").display());

    // On a phone-sized screen the filters fold away and the results come
    // first; one tap opens them.
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 800, "deviceScaleFactor": 1, "mobile": true}),
    );
    page.call("Page.reload", json!({}));
    page.wait_for(
        "document.readyState === 'complete' && !!document.querySelector('details.filter-box')",
    );
    assert_eq!(
        page.eval("document.querySelector('details.filter-box').open"),
        false
    );
    let top = page.eval("document.querySelector('#results-heading').getBoundingClientRect().top");
    assert!(top.as_f64().unwrap() < 400.0, "results start at {top} px");
    page.click("details.filter-box > summary");
    assert_eq!(
        page.eval("document.querySelector('details.filter-box').open"),
        true
    );
    page.call("Emulation.clearDeviceMetricsOverride", json!({}));
    page.call("Page.reload", json!({}));
    page.wait_for(
        "document.readyState === 'complete' && !!document.querySelector('details.filter-box')",
    );
    assert_eq!(
        page.eval("document.querySelector('details.filter-box').open"),
        true
    );

    // Open the first document.
    let first = after["ids"][0].as_str().unwrap().to_string();
    page.click(".hit h3 a");
    page.wait_for("location.pathname.startsWith('/doc/')");
    assert_eq!(page.eval("location.pathname"), format!("/doc/{first}"));
    let title = page.eval("document.querySelector('h1').textContent");
    assert!(title.as_str().unwrap().contains("파라과이"), "{title}");
    assert_eq!(
        page.eval("document.querySelector('.related') !== null"),
        true
    );

    // What a researcher takes away: the results link to their feed (in the
    // head too) and their export; the document opens at its matches, one
    // link to the next, and has a Cite box.
    page.call(
        "Page.navigate",
        json!({"url": format!("{base}/?q=registration+Paraguay&lang=en&ui=en")}),
    );
    page.wait_for("!!document.querySelector('a.feed')");
    let feed = page
        .eval("document.querySelector(\"link[rel=alternate][type='application/atom+xml']\").href");
    assert_eq!(feed, page.eval("document.querySelector('a.feed').href"));
    let export = page.eval(
        "[...document.querySelectorAll('a.export')].map(a => [a.textContent, a.hasAttribute('download'), a.getAttribute('href')])",
    );
    assert_eq!(export.as_array().unwrap().len(), 4, "{export}");
    let csv_href = export[0][2].as_str().unwrap().replace("&amp;", "&");
    let csv = common::http_request(server.addr, "GET", &csv_href, &[], "");
    assert_eq!((csv.status, export[0][1].clone()), (200, Value::Bool(true)));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let feed = common::http_request(
        server.addr,
        "GET",
        feed.as_str().unwrap().trim_start_matches(&base),
        &[],
        "",
    );
    assert!(
        feed.body
            .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    page.click("a[href^='/doc/en-py']");
    page.wait_for("location.pathname === '/doc/en-py'");
    let marks = page.eval("[...document.querySelectorAll('mark[id]')].map(m => m.id)");
    assert_eq!(marks, json!(["m1", "m2"]), "Paraguay, registration");
    page.click("p.matches a[href='#m1']");
    page.wait_for("location.hash === '#m1'");
    page.click("mark#m1 + a.to-match");
    page.wait_for("location.hash === '#m2'");
    page.click("mark#m2 + a.to-match");
    page.wait_for("location.hash === '#m1'");
    assert_eq!(
        page.eval("document.querySelector('.cite pre.bibtex').textContent.startsWith('@misc{egovkb_en_py')"),
        true
    );

    // A document's markup is text, never run: search for it and open it.
    page.call(
        "Page.navigate",
        json!({"url": format!("{base}/?q=explained&ui=en")}),
    );
    page.wait_for("location.search.includes('explained')");
    page.click(".hit h3 a");
    page.wait_for("location.pathname === '/doc/en-xss'");
    assert_eq!(page.eval("typeof window.__xss"), "undefined");
    assert_eq!(
        page.eval("document.querySelectorAll('img, script:not([src])').length"),
        0
    );

    // Nothing was refused by the Content-Security-Policy and no script failed.
    let problems: Vec<&Value> = page
        .events
        .iter()
        .filter(|e| {
            e["method"] == "Runtime.exceptionThrown"
                || (e["method"] == "Log.entryAdded"
                    && e["params"]["entry"]["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("Content Security Policy")))
        })
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
}
