//! Extraction throughput, one core: HTML board pages (pages/s and MB/s; a
//! generated notice page of the size real boards send, with navigation,
//! scripts, an editor's JSON in a comment and a mobile copy of the body),
//! the PDF, PPTX and DOCX fixtures of `tests/fixtures/` (MB/s, pages/s).
//! Prints Markdown for BENCHMARKS.md.
//!
//! Run: `cargo bench --bench extract`

use std::time::Instant;

use egovkb::extract::{self, Format};

/// A board page: ~40 KB, most of it furniture.
fn board_page(i: usize) -> String {
    let nav: String = (0..120)
        .map(|k| format!("<li><a href=\"/menu/{k}\">메뉴 항목 {k}</a></li>"))
        .collect();
    let script = "var tracking = {\"id\": 1, \"values\": [1,2,3,4,5,6,7,8,9,10]};\n".repeat(60);
    let junk = "{\"editor\":\"namo\",\"data\":\"AAAAAAAAAAAAAAAAAAAA\"}".repeat(150);
    let body: String = (0..12)
        .map(|k| {
            format!(
                "<p>행정안전부는 {i}번째 공지에서 중남미 공무원 연수 과정의 {k}번째 일정을 안내했다. \
                 The Ministry of the Interior and Safety announced session {k} of the course for \
                 officials from Paraguay, Bolivia and Peru on resident registration and e-procurement.</p>"
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>공지사항 | 행정안전부</title>\
         <script>{script}</script><style>.a{{color:red}}</style></head><body>\
         <header><ul class=\"gnb\">{nav}</ul></header><nav class=\"lnb\"><ul>{nav}</ul></nav>\
         <div id=\"container\"><div class=\"board_view\"><h3 class=\"title\">연수 안내 {i}</h3>\
         <!-- {junk} --><div class=\"view_cont\">{body}</div><div class=\"m_view\">{body}</div>\
         <div class=\"sns_share\"><a href=\"/s\">share</a></div></div></div>\
         <footer><p>Copyright</p></footer></body></html>"
    )
}

fn row(what: &str, files: usize, bytes: usize, pages: usize, secs: f64) {
    println!(
        "| {what} | {files} | {:.1} | {:.0} | {:.1} |",
        bytes as f64 / 1e6 / secs,
        pages as f64 / secs,
        secs * 1e3 / files as f64
    );
}

fn main() {
    println!("| input | files | MB/s | pages/s | ms per file |");
    println!("|---|---|---|---|---|");

    let pages: Vec<String> = (0..400).map(board_page).collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    let t = Instant::now();
    let mut chars = 0;
    for p in &pages {
        let x = extract::extract(p.as_bytes(), Format::Html, None).expect("html");
        chars += x.body.len();
    }
    assert!(chars > 0);
    row(
        &format!("HTML board page ({} KB)", bytes / pages.len() / 1000),
        pages.len(),
        bytes,
        pages.len(),
        t.elapsed().as_secs_f64(),
    );

    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (name, format, rounds) in [
        ("bolivia.pdf", Format::Pdf, 200),
        ("paraguay.pptx", Format::Pptx, 400),
        ("informe.docx", Format::Docx, 400),
    ] {
        let data = std::fs::read(dir.join(name)).expect("fixture");
        let t = Instant::now();
        let mut n_pages = 0;
        for _ in 0..rounds {
            let x = extract::extract(&data, format, None).expect(name);
            n_pages += x.pages.len().max(1);
        }
        row(
            &format!("{name} ({} KB)", data.len() / 1000),
            rounds,
            data.len() * rounds,
            n_pages,
            t.elapsed().as_secs_f64(),
        );
    }
}
