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
        dict::install(&opts, &mut |_: &str| {}).expect("installing the Korean dictionary");
        root
    })
    .clone()
}

pub fn analyzers() -> Analyzers {
    Analyzers::load(&dict_root()).expect("loading the analyzers")
}

/// The shared evaluation data beside the project, when it is there.
pub fn shared_eval() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    p.is_dir().then_some(p)
}

/// The verified dictionary package (fetched once, kept beside the install).
pub fn dict_package() -> PathBuf {
    dict::obtain_package(&dict_root(), &mut |_: &str| {}).expect("obtaining the dictionary package")
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Chunked bodies: join the chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}
