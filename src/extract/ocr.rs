//! Scanned pages: a PDF page with no text layer is read by OCR, with
//! Debian's Tesseract (`tesseract-ocr` and its `kor`, `spa` and `eng` data)
//! on the page as Poppler's `pdftoppm` renders it. Both are programs of
//! their own, run with a time cap per page; without them a page stays
//! without text and the import says why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one page may take to render and read.
const PAGE_TIME: Duration = Duration::from_secs(60);
/// The longer side of a rendered page, in pixels (about 200 dpi on A4):
/// a page of any size is rendered at most this large.
const RENDER_PX: &str = "2400";
/// The languages read, when Tesseract has their data.
const LANGS: [&str; 3] = ["kor", "spa", "eng"];

/// What OCR did for one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcrReport {
    /// Pages read by OCR.
    pub read: usize,
    /// Pages with no text layer that stay without text, and why (pages
    /// count from 1).
    pub unread: Vec<(usize, String)>,
}

/// The programs, when installed: `pdftoppm`, `tesseract` and the
/// languages it has among [`LANGS`] (`kor+spa+eng`).
struct Tools {
    pdftoppm: PathBuf,
    tesseract: PathBuf,
    langs: String,
}

/// Why OCR cannot run here, or the programs.
fn tools() -> &'static Result<Tools, String> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let missing = "no OCR installed (apt-get install tesseract-ocr tesseract-ocr-kor \
                       tesseract-ocr-spa poppler-utils)";
        let pdftoppm = on_path("pdftoppm").ok_or(missing)?;
        let tesseract = on_path("tesseract").ok_or(missing)?;
        let listed = Command::new(&tesseract)
            .arg("--list-langs")
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("tesseract does not run: {e}"))?;
        let have = String::from_utf8_lossy(&listed.stdout).into_owned();
        let langs: Vec<&str> = LANGS
            .into_iter()
            .filter(|l| have.lines().any(|h| h.trim() == *l))
            .collect();
        if langs.is_empty() {
            return Err("tesseract has none of the kor, spa and eng data".into());
        }
        Ok(Tools {
            pdftoppm,
            tesseract,
            langs: langs.join("+"),
        })
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Whether a page's text is as good as none (a scanned page's text layer
/// is empty, or a page number).
pub fn is_blank(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).count() < 3
}

/// Read by OCR the pages of `pdf` (its bytes) whose text is blank, in
/// place in `pages`.
pub fn fill(pdf: &[u8], pages: &mut [String]) -> OcrReport {
    let mut report = OcrReport::default();
    let blank: Vec<usize> = (0..pages.len()).filter(|&i| is_blank(&pages[i])).collect();
    if blank.is_empty() {
        return report;
    }
    let tools = match tools() {
        Ok(t) => t,
        Err(why) => {
            report.unread = blank.iter().map(|&i| (i + 1, why.clone())).collect();
            return report;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            let why = format!("no room for OCR: {e}");
            report.unread = blank.iter().map(|&i| (i + 1, why.clone())).collect();
            return report;
        }
    };
    let file = dir.path().join("scan.pdf");
    if let Err(e) = std::fs::write(&file, pdf) {
        let why = format!("no room for OCR: {e}");
        report.unread = blank.iter().map(|&i| (i + 1, why.clone())).collect();
        return report;
    }
    for i in blank {
        match read_page(tools, &file, i + 1, dir.path()) {
            Ok(text) if !is_blank(&text) => {
                pages[i] = text;
                report.read += 1;
            }
            Ok(_) => report.unread.push((i + 1, "OCR found no text".into())),
            Err(why) => report.unread.push((i + 1, why)),
        }
    }
    report
}

/// Render page `n` of `file` and read it.
fn read_page(tools: &Tools, file: &Path, n: usize, dir: &Path) -> Result<String, String> {
    let started = Instant::now();
    let image = dir.join(format!("page-{n}"));
    let page = n.to_string();
    run(
        Command::new(&tools.pdftoppm)
            .args(["-f", &page, "-l", &page, "-singlefile", "-gray", "-png"])
            .args(["-scale-to", RENDER_PX])
            .arg(file)
            .arg(&image),
        PAGE_TIME,
    )
    .map_err(|e| format!("the page could not be rendered: {e}"))?;
    let png = image.with_extension("png");
    // Tesseract's automatic layout analysis (3) finds no lines on some
    // sparse pages (a few Korean lines on an A4 page: "Empty page!!") that
    // it reads as one column of text (4).
    let mut text = String::new();
    for layout in ["3", "4"] {
        let left = PAGE_TIME.saturating_sub(started.elapsed());
        text = run(
            Command::new(&tools.tesseract)
                .arg(&png)
                .arg("stdout")
                .args(["-l", &tools.langs, "--psm", layout]),
            left,
        )
        .map_err(|e| format!("OCR failed: {e}"))?;
        if !is_blank(&text) {
            break;
        }
    }
    let _ = std::fs::remove_file(&png);
    Ok(super::text_paragraphs(&text).join("\n\n"))
}

/// Run `command` to its end within `limit`: its standard output, or why
/// not (killed past the limit).
fn run(command: &mut Command, limit: Duration) -> Result<String, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut out);
        }
        out
    });
    let mut stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut out);
        }
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("stopped after {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = reader.join().unwrap_or_default();
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let first = err
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(format!("{status}: {first}"));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_number_alone_is_a_blank_page() {
        assert!(is_blank("") && is_blank("  12 ") && is_blank("- 3 -"));
        assert!(!is_blank("주민등록") && !is_blank("Registro civil"));
    }

    #[test]
    fn a_program_past_its_time_is_stopped() {
        let err = run(Command::new("sleep").arg("5"), Duration::from_millis(100)).unwrap_err();
        assert!(err.contains("stopped"), "{err}");
        assert_eq!(
            run(Command::new("echo").arg("hi"), PAGE_TIME).unwrap(),
            "hi\n"
        );
    }
}
