//! `egovkb import` on files of every format it reads, from a folder: a
//! PPTX with notes and a default embedded title and a DOCX made by the
//! libraries that write them (`tests/fixtures/make_office.py`), a PDF with
//! a subset-embedded font (`make_pdf.py`, reportlab), an HWP 5 file and an
//! HWPX
//! built here as Hancom's format lays it out, an EUC-KR page with only a
//! meta charset, Markdown, text, JSONL; and files that must be skipped with
//! a reason (a "PDF" that is not one, an image, a broken zip).

use std::io::Write;
use std::path::{Path, PathBuf};

use egovkb::document::{DocType, Document};
use egovkb::import::import;
use egovkb::store::Store;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// An HWPX file: a zip with the mimetype first (stored), the OPF package
/// description and one section of paragraphs in Hancom's namespaces.
fn hwpx(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/hwp+zip").unwrap();
    zip.start_file("META-INF/container.xml", deflated).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container"><ocf:rootfiles><ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/></ocf:rootfiles></ocf:container>"#).unwrap();
    zip.start_file("Contents/content.hpf", deflated).unwrap();
    zip.write_all(r#"<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata><opf:title>행정안전부, 중남미 공무원 전자정부 연수 개최</opf:title><opf:language>ko</opf:language></opf:metadata><opf:manifest><opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/></opf:manifest><opf:spine><opf:itemref idref="section0"/></opf:spine></opf:package>"#.as_bytes()).unwrap();
    zip.start_file("Contents/section0.xml", deflated).unwrap();
    zip.write_all(r#"<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"><hp:p id="1"><hp:run charPrIDRef="0"><hp:t>행정안전부는 중남미 14개국 공무원을 대상으로</hp:t></hp:run><hp:run charPrIDRef="1"><hp:t> 전자정부 연수를 열었다.</hp:t></hp:run></hp:p><hp:p id="2"><hp:run><hp:t>파라과이와 볼리비아는 주민등록 제도를 배웠다.</hp:t><hp:lineBreak/><hp:t>담당: 국제협력과</hp:t></hp:run></hp:p></hs:sec>"#.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// An HWP 5 file as the format lays it out: an OLE compound file with a
/// FileHeader (signature, version 5.1, compressed), DocInfo and one
/// BodyText section of deflated records: paragraph headers and texts, one
/// with a table control and a tab inside.
fn hwp(path: &Path) {
    use egovkb::extract::hwp::record;
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let deflate = |data: &[u8]| -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let mut header = vec![0u8; 256];
    header[..17].copy_from_slice(b"HWP Document File");
    header[32..36].copy_from_slice(&0x0501_0000u32.to_le_bytes());
    header[36..40].copy_from_slice(&1u32.to_le_bytes());
    let mut section = record(66, 0, &[0; 22]);
    section.extend(record(
        67,
        1,
        &utf16("2019년 중남미 전자정부 협력 보도자료\r"),
    ));
    section.extend(record(66, 0, &[0; 22]));
    let mut text = Vec::new();
    // A table control (8 code units), then text with a tab (8 units).
    text.extend(
        [11u16, 0x6274, 0x6C62, 0, 0, 0, 0, 11]
            .iter()
            .flat_map(|u| u.to_le_bytes()),
    );
    text.extend(utf16("에콰도르는 전자조달"));
    text.extend(
        [9u16, 0, 0, 0, 0, 0, 0, 9]
            .iter()
            .flat_map(|u| u.to_le_bytes()),
    );
    text.extend(utf16("시스템을 도입했다.\r"));
    section.extend(record(67, 1, &text));
    let mut cf = cfb::create(path).unwrap();
    cf.create_stream("/FileHeader")
        .unwrap()
        .write_all(&header)
        .unwrap();
    cf.create_stream("/DocInfo")
        .unwrap()
        .write_all(&deflate(&[]))
        .unwrap();
    cf.create_storage("/BodyText").unwrap();
    cf.create_stream("/BodyText/Section0")
        .unwrap()
        .write_all(&deflate(&section))
        .unwrap();
    cf.flush().unwrap();
}

fn only(store: &Store, url_ends: &str) -> Document {
    let (docs, _) = store.load_all();
    docs.into_iter()
        .find(|d| d.url.ends_with(url_ends))
        .unwrap_or_else(|| panic!("no document from {url_ends}"))
}

#[test]
fn a_folder_of_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    std::fs::copy(fixture("paraguay.pptx"), files.join("paraguay.pptx")).unwrap();
    std::fs::copy(fixture("bolivia.pdf"), files.join("bolivia.pdf")).unwrap();
    // Named wrongly on purpose: the type comes from the bytes.
    std::fs::copy(fixture("informe.docx"), files.join("sub/informe.bin")).unwrap();
    hwpx(&files.join("연수.hwpx"));
    hwp(&files.join("보도자료.hwp"));
    let (euc, _, _) = encoding_rs::EUC_KR.encode(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-kr\">\
         <title>보도자료</title></head><body><div id=\"content\"><h1>파라과이 주민등록 협력</h1>\
         <p>행정안전부는 파라과이 정부와 주민등록 제도 협력을 논의했다. 똠방각하.</p></div></body></html>",
    );
    std::fs::write(files.join("notice.htm"), &euc).unwrap();
    std::fs::write(
        files.join("notes.md"),
        "# Open data in Uruguay\n\nUruguay publishes **open data** since 2010.\n",
    )
    .unwrap();
    std::fs::write(
        files.join("plain.txt"),
        "Peru e-procurement\n\nThe portal buys for the state.\n",
    )
    .unwrap();
    std::fs::write(
        files.join("records.jsonl"),
        r#"{"id":"rec-1","url":"https://example.org/1","source":"test","title":"One","lang":"en"}"#,
    )
    .unwrap();
    // What the files do not say: a folder's meta.toml (not a document).
    std::fs::write(
        files.join("meta.toml"),
        "[defaults]\nsource = \"sample\"\n\n[files.\"notes.md\"]\ndoc_type = \"report\"\nevent = \"2018-06-course\"\nurl = \"https://example.org/uy-open-data\"\npublished = 2020-01-02\ncountries = [\"UY\"]\n",
    )
    .unwrap();
    // Bad files: reported and skipped, the rest goes on.
    std::fs::write(files.join("fake.pdf"), "this is not a PDF at all").unwrap();
    std::fs::write(
        files.join("image.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0",
    )
    .unwrap();
    std::fs::write(files.join("broken.pptx"), b"PK\x03\x04\x14\0\0\0garbage").unwrap();
    std::fs::write(files.join("empty.txt"), "").unwrap();

    let store = Store::open(&dir.path().join("corpus")).unwrap();
    let report = import(&store, std::slice::from_ref(&files));
    let reasons: Vec<String> = report
        .skipped
        .iter()
        .map(|(w, r)| format!("{w}: {r}"))
        .collect();
    // fake.pdf is text (its bytes say so) and is imported as text.
    assert_eq!(report.added, 10, "{reasons:?}");
    assert_eq!(report.skipped.len(), 3, "{reasons:?}");
    for bad in ["image.png", "broken.pptx", "empty.txt"] {
        assert!(
            reasons.iter().any(|r| r.contains(bad)),
            "{bad}: {reasons:?}"
        );
    }
    assert!(reasons.iter().any(|r| r.contains("unsupported type")));

    let p = only(&store, "paraguay.pptx");
    assert_eq!(p.doc_type, DocType::Presentation);
    // Not "Presentación de PowerPoint": slide 1's title.
    assert_eq!(p.title, "Paraguay: gobierno electrónico");
    assert_eq!(p.pages.len(), 3);
    assert!(
        p.pages[1].contains("cédula de identidad electrónica"),
        "{:?}",
        p.pages
    );
    assert!(
        p.pages[1].contains("주민등록"),
        "notes kept with their slide: {:?}",
        p.pages
    );
    assert!(p.pages[2].contains("Conectividad rural"), "{:?}", p.pages);
    assert_eq!(p.source, "sample", "the folder's default");
    assert!(Path::new(&p.url).is_absolute());

    // A PDF with a subset-embedded font: accents and ñ come out right; the
    // metadata title is PowerPoint's default, so page 1's first line.
    let b = only(&store, "bolivia.pdf");
    assert_eq!(b.title, "Bolivia: gobierno electrónico");
    assert_eq!(b.pages.len(), 2);
    assert!(
        b.pages[1].contains("La cédula de identidad y la firma digital"),
        "{:?}",
        b.pages
    );
    assert!(b.pages[1].contains("niño, señal, acción"), "{:?}", b.pages);

    let d = only(&store, "informe.bin");
    assert_eq!(d.title, "Informe del curso de gobierno electrónico 2018");
    assert!(
        d.body
            .contains("El sistema KONEPS reduce costos y tiempos."),
        "{}",
        d.body
    );

    let h = only(&store, "연수.hwpx");
    assert_eq!(h.title, "행정안전부, 중남미 공무원 전자정부 연수 개최");
    assert!(
        h.body.contains("공무원을 대상으로 전자정부 연수를 열었다."),
        "{}",
        h.body
    );
    assert!(h.body.contains("배웠다. 담당"), "{}", h.body);

    let k = only(&store, "보도자료.hwp");
    assert_eq!(k.title, "2019년 중남미 전자정부 협력 보도자료");
    assert!(
        k.body.contains("에콰도르는 전자조달 시스템을 도입했다."),
        "{}",
        k.body
    );

    let n = only(&store, "notice.htm");
    assert_eq!(n.title, "파라과이 주민등록 협력");
    assert!(
        n.body.contains("주민등록 제도 협력을 논의했다. 똠방각하."),
        "{}",
        n.body
    );

    let md = only(&store, "uy-open-data");
    assert_eq!(md.title, "Open data in Uruguay");
    assert_eq!(
        (md.doc_type, md.event.as_deref(), md.source.as_str()),
        (DocType::Report, Some("2018-06-course"), "sample")
    );
    assert_eq!(
        md.published.map(|d| d.to_string()).as_deref(),
        Some("2020-01-02")
    );
    assert_eq!(md.countries, ["UY"]);
    assert_eq!(only(&store, "plain.txt").source, "sample");
    assert_eq!(only(&store, "plain.txt").title, "Peru e-procurement");
    assert!(store.get("rec-1").unwrap().is_some());

    // Importing again changes nothing.
    let again = import(&store, &[files]);
    assert_eq!((again.added, again.unchanged), (0, 10));
}

/// A PDF written for the test: `objects` numbered from 1, a cross-reference
/// table, a trailer whose root is object 1.
fn pdf_of(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// PDFs made to crash a reader: arrays nested 200,000 deep (400 KB; the
/// parser recurses until the stack overflows, which aborts a process) and
/// a stream that inflates to 1 GB. `egovkb import` reads each PDF in a
/// worker process with a memory limit (256 MB here): it reports both,
/// imports the good PDF beside them, and exits normally.
#[test]
fn pdfs_made_to_crash_the_reader_are_skipped_and_the_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec();
    let depth = 200_000;
    let mut catalog = b"<< /Type /Catalog /Pages 2 0 R /Deep ".to_vec();
    catalog.extend(std::iter::repeat_n(b'[', depth));
    catalog.extend(std::iter::repeat_n(b']', depth));
    catalog.extend(b" >>");
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec();
    std::fs::write(
        files.join("deep.pdf"),
        pdf_of(&[catalog, pages.clone(), page]),
    )
    .unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..1024 {
        z.write_all(&zeros).unwrap();
    }
    let inflating = z.finish().unwrap();
    let mut stream = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        inflating.len()
    )
    .into_bytes();
    stream.extend(&inflating);
    stream.extend(b"\nendstream");
    let catalog = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec();
    std::fs::write(
        files.join("bomb.pdf"),
        pdf_of(&[catalog, pages, page, stream]),
    )
    .unwrap();
    std::fs::copy(fixture("bolivia.pdf"), files.join("bolivia.pdf")).unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .arg("--corpus")
        .arg(dir.path().join("corpus"))
        .arg("import")
        .arg(&files)
        .env("EGOVKB_PDF_MEMORY_MB", "256")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let skipped = |name: &str| {
        text.lines()
            .find(|l| l.starts_with("skipped") && l.contains(name))
            .unwrap_or_else(|| panic!("{name} not reported: {text}"))
            .to_string()
    };
    assert!(skipped("deep.pdf").contains("limits"), "{text}");
    skipped("bomb.pdf");
    assert!(text.contains("1 added"), "{text}");
    let docs = Store::open(&dir.path().join("corpus"))
        .unwrap()
        .load_all()
        .0;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].title, "Bolivia: gobierno electrónico");
}

/// A corpus directory moved (or the project cloned elsewhere) and imported
/// again keeps its documents: ids of the corpus's own files come from
/// their place in it, not from the absolute path; the URLs follow the
/// move, and a record stored by an earlier version under its absolute
/// path's id is replaced, not kept beside.
#[test]
fn a_moved_corpus_imports_into_the_same_documents() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let originals = first.join("corpus/originals");
    std::fs::create_dir_all(&originals).unwrap();
    std::fs::write(
        originals.join("notice.html"),
        "<html><body><h1>Curso de gobierno electrónico</h1><p>Los países presentaron sus informes.</p></body></html>",
    )
    .unwrap();
    std::fs::copy(fixture("bolivia.pdf"), originals.join("bolivia.pdf")).unwrap();
    std::fs::write(
        originals.join("meta.toml"),
        "[files.\"bolivia.pdf\"]\nparent = \"notice.html\"\n",
    )
    .unwrap();
    let imported = |corpus: &Path| {
        let store = Store::open(corpus).unwrap();
        let report = import(&store, &[corpus.join("originals")]);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let mut docs = store.load_all().0;
        docs.sort_by(|a, b| a.url.cmp(&b.url));
        docs
    };
    let before = imported(&first.join("corpus"));
    assert_eq!(before.len(), 2);
    let notice = before
        .iter()
        .find(|d| d.url.ends_with("notice.html"))
        .unwrap();
    let pdf = before
        .iter()
        .find(|d| d.url.ends_with("bolivia.pdf"))
        .unwrap();
    assert_eq!(pdf.parent.as_deref(), Some(notice.id.as_str()));

    let second = dir.path().join("second");
    std::fs::rename(&first, &second).unwrap();
    let after = imported(&second.join("corpus"));
    assert_eq!(after.len(), 2, "{after:#?}");
    let ids = |docs: &[Document]| {
        let mut ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&after), ids(&before));
    assert!(
        after
            .iter()
            .all(|d| d.url.contains("/second/corpus/originals/"))
    );

    // A record from before ids were relative, under its path's id.
    let store = Store::open(&second.join("corpus")).unwrap();
    let mut legacy = after[0].clone();
    legacy.id = Document::id_for(&legacy.url);
    store.put(&legacy).unwrap();
    assert_eq!(store.load_all().0.len(), 3);
    assert_eq!(imported(&second.join("corpus")).len(), 2);
}
