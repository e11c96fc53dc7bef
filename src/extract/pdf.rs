//! PDF: the text of each page (pdf-extract, which reads embedded and subset
//! fonts through their ToUnicode maps), the title from the document's
//! metadata unless it is a default one ("Presentación de PowerPoint"),
//! else the first line of the first page. A PDF the parser gives up on is
//! reported as malformed, never a crash.
//!
//! The parser can be made to recurse without end (arrays nested 200,000
//! deep, 400 KB) or to inflate a 3 MB stream into gigabytes; neither can be
//! caught inside a process. So the `egovkb` binary reads each PDF in a
//! child process of its own ([`WORKER_ARG`]), with a memory limit and a
//! time limit: whatever the file does, the import or crawl reports it and
//! goes on. Used as a library, without the binary, PDFs are read in
//! process.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{ExtractError, Extracted, is_default_title};

/// The argument that makes `egovkb` a PDF worker: the file on standard
/// input, its text as JSON on standard output.
pub const WORKER_ARG: &str = "__extract-pdf";
/// How long a worker may take over one file.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// A worker's address space, in MB, unless `EGOVKB_PDF_MEMORY_MB` says.
const MEMORY_LIMIT_MB: u64 = 2048;

static WORKER: OnceLock<PathBuf> = OnceLock::new();

/// Read PDFs in child processes of `exe`, an `egovkb` binary.
pub fn isolate_in(exe: PathBuf) {
    let _ = WORKER.set(exe);
}

/// What a worker answers.
#[derive(serde::Serialize, serde::Deserialize)]
enum Answer {
    Text { title: String, pages: Vec<String> },
    Malformed(String),
}

/// The worker: read the file, answer. Its exit code. Its limits were set
/// before it started ([`in_worker`]).
pub fn worker_main() -> i32 {
    // One thread for the parser's pool: a small address space has room
    // for few thread stacks.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    let mut pdf = Vec::new();
    if std::io::stdin().read_to_end(&mut pdf).is_err() {
        return 2;
    }
    let answer = match extract_here(&pdf) {
        Ok(x) => Answer::Text {
            title: x.title,
            pages: x.pages,
        },
        Err(ExtractError::Malformed(m) | ExtractError::Unsupported(m)) => Answer::Malformed(m),
    };
    match serde_json::to_writer(std::io::stdout().lock(), &answer) {
        Ok(()) => 0,
        Err(_) => 2,
    }
}

/// The text of a PDF: in a worker process when the binary set one up;
/// then its scanned pages (no text layer) read by OCR (`ocr.rs`).
pub fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let mut x = match WORKER.get() {
        Some(exe) => in_worker(exe, bytes),
        None => extract_here(bytes),
    }?;
    let ocr = super::ocr::fill(bytes, &mut x.pages);
    if ocr.read > 0 {
        let title = if x.title.trim().is_empty() {
            first_line(&x.pages).unwrap_or_default()
        } else {
            x.title
        };
        x = Extracted::of_pages(title, x.pages);
    }
    x.ocr = ocr;
    Ok(x)
}

/// The first line of text of `pages`, cut to 300 characters.
fn first_line(pages: &[String]) -> Option<String> {
    pages
        .iter()
        .flat_map(|p| p.lines())
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect())
}

/// The worker's command: this binary in its worker role, its address space
/// limited (`EGOVKB_PDF_MEMORY_MB`) from its first instruction, so that no
/// allocator reserves memory past it before it is set.
fn worker_command(exe: &std::path::Path) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mb = std::env::var("EGOVKB_PDF_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(MEMORY_LIMIT_MB);
    let bytes = mb.saturating_mul(1 << 20) as libc::rlim_t;
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    let mut command = std::process::Command::new(exe);
    command
        .arg(WORKER_ARG)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: between fork and exec the closure only calls setrlimit,
    // which is async-signal-safe, on a struct it was given.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command
}

fn in_worker(exe: &std::path::Path, pdf: &[u8]) -> Result<Extracted, ExtractError> {
    let spawned = worker_command(exe).spawn();
    // No worker to be had (the binary replaced, say): read it here.
    let Ok(mut child) = spawned else {
        return extract_here(pdf);
    };
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
    let (finished, out) = std::thread::scope(|s| {
        s.spawn(move || {
            // A worker that dies early closes the pipe: nothing to do.
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(pdf);
            }
        });
        let reader = s.spawn(move || {
            let mut out = Vec::new();
            if let Some(mut stdout) = stdout {
                let _ = stdout.read_to_end(&mut out);
            }
            out
        });
        let deadline = Instant::now() + TIME_LIMIT;
        let mut pause = Duration::from_millis(1);
        let finished = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        (finished, reader.join().unwrap_or_default())
    });
    let Some(status) = finished else {
        return Err(ExtractError::Malformed(format!(
            "reading this PDF took over {} s",
            TIME_LIMIT.as_secs()
        )));
    };
    match serde_json::from_slice::<Answer>(&out) {
        Ok(Answer::Text { title, pages }) if status.success() => {
            Ok(Extracted::of_pages(title, pages))
        }
        Ok(Answer::Malformed(m)) => Err(ExtractError::Malformed(m)),
        _ => Err(ExtractError::Malformed(
            "the PDF parser could not read this file within its limits (memory, or nesting)".into(),
        )),
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding
/// (Latin-1 for the characters titles use).
fn text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Ok(s) =
        std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes))
    {
        s.to_string()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

/// The Title of the document information dictionary.
fn info_title(bytes: &[u8]) -> Option<String> {
    let doc = lopdf::Document::load_mem(bytes).ok()?;
    let info = doc.trailer.get(b"Info").ok()?;
    let dict = match info.as_reference() {
        Ok(id) => doc.get_dictionary(id).ok()?,
        Err(_) => info.as_dict().ok()?,
    };
    let title = text_string(dict.get(b"Title").ok()?.as_str().ok()?);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!is_default_title(&title)).then_some(title)
}

/// Text of a page as paragraphs: lines joined, blank lines kept.
fn page_text(raw: &str) -> String {
    let mut paras: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in raw.lines() {
        let l = line.trim();
        if l.is_empty() {
            if !current.is_empty() {
                paras.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(l);
        }
    }
    if !current.is_empty() {
        paras.push(current.join(" "));
    }
    paras.join("\n\n")
}

/// The text of a PDF, read in this process.
fn extract_here(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    // The parser panics on some damaged files: contain it.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| ExtractError::Malformed("the PDF parser gave up on this file".into()))?
        .map_err(|e| ExtractError::Malformed(format!("not a readable PDF: {e}")))?;
    let pages: Vec<String> = pages.iter().map(|p| page_text(p)).collect();
    let title = info_title(bytes)
        .or_else(|| first_line(&pages))
        .unwrap_or_default();
    Ok(Extracted::of_pages(title, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings_decode() {
        assert_eq!(text_string(b"\xFE\xFF\x00P\x00e\x00r\x00\xFA"), "Perú");
        assert_eq!(text_string(b"Per\xFA"), "Perú");
        assert_eq!(text_string("Perú".as_bytes()), "Perú");
    }

    #[test]
    fn damaged_pdfs_are_errors() {
        for bad in [
            &b"%PDF-1.4\n%%EOF"[..],
            b"%PDF-1.7\n1 0 obj << /Type /Catalog",
            b"not a pdf",
        ] {
            assert!(
                matches!(extract(bad), Err(ExtractError::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
