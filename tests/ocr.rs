//! Scanned PDFs: pages with no text layer are read by OCR (Debian's
//! Tesseract and Poppler), found by a search at their page, and a file OCR
//! cannot read is reported while the import goes on. Skipped without
//! Tesseract, Poppler, Python's Pillow or a CJK font, unless
//! EGOVKB_REQUIRE_OCR is set (CI installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use egovkb::engine::Engine;
use egovkb::index::search::{SearchRequest, TantivySearcher};
use egovkb::index::{IndexDir, build};
use egovkb::progress::Quiet;
use egovkb::store::Store;

const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// Pages of text drawn as images into an image-only PDF (Pillow), at
/// 200 dpi on A4: no text layer at all.
const SCAN: &str = r#"
import sys
from PIL import Image, ImageDraw, ImageFont
out, font, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
font = ImageFont.truetype(font, 60)
images = []
for page in pages:
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(page.split("|")):
        draw.text((150, 220 + 130 * i), line, font=font, fill=0)
    images.append(image)
images[0].save(out, save_all=True, append_images=images[1:], resolution=200.0)
"#;

/// The OCR tools and Python with Pillow, or why the test is skipped.
fn tools() -> Option<PathBuf> {
    let have = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ready =
        have("tesseract", "--version") && have("pdftoppm", "-v") && Path::new(FONT).is_file();
    let python = if ready { common::pytools("PIL") } else { None };
    if python.is_none() {
        assert!(
            std::env::var_os("EGOVKB_REQUIRE_OCR").is_none(),
            "OCR needs tesseract-ocr (kor, spa), poppler-utils, fonts-noto-cjk and Pillow"
        );
        eprintln!("skipped: no tesseract, pdftoppm, CJK font or Pillow");
    }
    python
}

fn scan(python: &Path, out: &Path, pages: &[&str]) {
    let status = Command::new(python)
        .args(["-c", SCAN])
        .arg(out)
        .arg(FONT)
        .args(pages)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn scanned_pages_are_read_and_found_at_their_page() {
    let Some(python) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    scan(
        &python,
        &files.join("scan.pdf"),
        &[
            "Resident registration in Paraguay|Registro civil electrónico de Bolivia",
            "주민등록 전산화 협력|행정안전부 연수 과정",
        ],
    );
    // A scan whose images are not images (their JPEG markers gone):
    // reported with the reason, and the import goes on.
    let mut broken = std::fs::read(files.join("scan.pdf")).unwrap();
    let mut damaged = 0;
    for i in 0..broken.len().saturating_sub(3) {
        if broken[i..i + 3] == [0xff, 0xd8, 0xff] {
            broken[i..i + 3].copy_from_slice(b"bad");
            damaged += 1;
        }
    }
    assert_eq!(damaged, 2, "one JPEG a page");
    std::fs::write(files.join("broken.pdf"), broken).unwrap();
    std::fs::write(files.join("note.txt"), "Gov24 online services\n").unwrap();

    let corpus = dir.path().join("corpus");
    let store = Store::open(&corpus).unwrap();
    let report = egovkb::import::import(&store, std::slice::from_ref(&files));
    assert_eq!(report.ocr_pages, 2, "{report:?}");
    assert!(report.added >= 2, "{report:?}");
    let said = |page: &str| {
        report
            .skipped
            .iter()
            .chain(&report.ocr_unread)
            .any(|(at, why)| at.contains("broken.pdf") && at.contains(page) && !why.is_empty())
    };
    assert!(said("page 1") && said("page 2"), "{report:?}");

    let engine = Engine::load(&common::dict_root(), None).unwrap();
    let index = IndexDir::new(&dir.path().join("index"));
    build::rebuild(&index, &store, &engine, &Quiet).unwrap();
    let searcher = TantivySearcher::open(&index, engine).unwrap();
    let find = |q: &str| {
        let r = searcher
            .search(&SearchRequest {
                q: q.into(),
                ..SearchRequest::default()
            })
            .unwrap();
        r.hits
            .into_iter()
            .find(|h| h.url.ends_with("scan.pdf"))
            .unwrap_or_else(|| panic!("{q}: the scan is not found"))
    };
    assert_eq!(find("Paraguay").page, Some(1));
    assert_eq!(find("registro civil").page, Some(1));
    assert_eq!(find("주민등록").page, Some(2));
    assert_eq!(find("행정안전부").page, Some(2));
}

#[test]
fn without_ocr_a_scans_pages_are_reported_with_the_reason() {
    let Some(python) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    scan(&python, &files.join("scan.pdf"), &["Resident registration"]);
    std::fs::write(files.join("note.txt"), "Gov24 online services\n").unwrap();
    // No tesseract on the PATH.
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["--corpus", dir.path().join("corpus").to_str().unwrap()])
        .arg("import")
        .arg(&files)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scan.pdf") && stderr.contains("no OCR installed"),
        "{stderr}"
    );
    // The scan is kept with its title (Pillow's PDF names it), its page
    // counted as left without text; the text file is imported.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 added")
            && stdout.contains("0 scanned pages read by OCR, 1 left without text"),
        "{stdout}"
    );
}
