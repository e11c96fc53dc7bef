//! `egovkb snapshot` and `egovkb restore` on a real index on disk: a good
//! snapshot restores to byte-identical search answers; a snapshot killed
//! half-way, cut short, with a byte changed, or of another format is
//! refused and changes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use egovkb::engine::Engine;
use egovkb::index::search::{SearchRequest, TantivySearcher};
use egovkb::index::snapshot::{self, SnapshotError};
use egovkb::index::{IndexDir, build, fingerprint};
use egovkb::progress::Quiet;
use egovkb::store::Store;
use egovkb::{DocType, Lang};

fn engine() -> Engine {
    Engine::load(&common::dict_root(), None).unwrap()
}

struct Kb {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Kb {
    fn corpus(&self) -> PathBuf {
        self.root.join("corpus")
    }
    fn index(&self) -> IndexDir {
        IndexDir::new(&self.root.join("index"))
    }
}

/// A corpus of a few documents and its index.
fn kb(engine: &Engine) -> Kb {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let kb = Kb { _dir: dir, root };
    let store = Store::open(&kb.corpus()).unwrap();
    let docs = [
        (
            "en-py",
            Lang::en(),
            "Paraguay and resident registration",
            "Paraguay learned how resident registration works in Korea.",
        ),
        (
            "ko-py",
            Lang::ko(),
            "파라과이 주민등록 협력",
            "행정안전부는 파라과이와 주민등록 협력을 논의했다.",
        ),
        (
            "es-bo",
            Lang::es(),
            "Bolivia: firma digital",
            "Bolivia presentó su firma digital y la interoperabilidad.",
        ),
    ];
    for (id, lang, title, body) in docs {
        store
            .put(&common::doc(
                id,
                lang,
                DocType::Notice,
                "2019-03-20",
                title,
                body,
            ))
            .unwrap();
    }
    build::rebuild(&kb.index(), &store, engine, &Quiet).unwrap();
    kb
}

/// The answers to a few searches, as JSON without the time they took.
fn answers(kb: &Kb, engine: &Engine) -> Vec<String> {
    let searcher = TantivySearcher::open(&kb.index(), engine.clone()).unwrap();
    ["Paraguay", "주민등록", "firma digital", ""]
        .iter()
        .map(|q| {
            let req = SearchRequest {
                q: q.to_string(),
                ..SearchRequest::default()
            };
            let mut v = serde_json::to_value(searcher.search(&req).unwrap()).unwrap();
            v["took_ms"] = 0.into();
            serde_json::to_string(&v).unwrap()
        })
        .chain(std::iter::once(
            serde_json::to_string(&searcher.document("en-py").unwrap()).unwrap(),
        ))
        .collect()
}

fn refused(result: Result<snapshot::Summary, SnapshotError>) -> String {
    match result {
        Err(e @ SnapshotError::Refused { .. }) => e.to_string(),
        other => panic!("not refused: {other:?}"),
    }
}

/// What a refused restore must leave as it was.
fn state(kb: &Kb) -> (Option<String>, usize) {
    (
        kb.index().current(),
        Store::open(&kb.corpus()).unwrap().len(),
    )
}

#[test]
fn a_good_snapshot_restores_to_the_same_answers() {
    let engine = engine();
    let kb = kb(&engine);
    let before = answers(&kb, &engine);
    let file = kb.root.join("kb.snapshot");
    let taken = snapshot::snapshot(&kb.index(), &kb.corpus(), &file).unwrap();
    assert_eq!(taken.records, 3);
    assert!(!kb.root.join("kb.snapshot.partial").exists());

    // The knowledge base changes: a document added, one removed, reindexed.
    let store = Store::open(&kb.corpus()).unwrap();
    store
        .put(&common::doc(
            "en-new",
            Lang::en(),
            DocType::Notice,
            "2024-01-01",
            "Paraguay again",
            "Paraguay and Korea.",
        ))
        .unwrap();
    store.remove("es-bo").unwrap();
    build::rebuild(&kb.index(), &store, &engine, &Quiet).unwrap();
    assert_ne!(answers(&kb, &engine), before);

    let restored =
        snapshot::restore(&file, &kb.index(), &kb.corpus(), &fingerprint(&engine)).unwrap();
    assert_eq!(
        kb.index().current().as_deref(),
        Some(restored.generation.as_str())
    );
    assert_eq!(answers(&kb, &engine), before);
    assert_eq!(Store::open(&kb.corpus()).unwrap().len(), 3);
    // Nothing of the restore is left beside the index and the corpus.
    let leftovers: Vec<_> = std::fs::read_dir(kb.index().root())
        .unwrap()
        .chain(std::fs::read_dir(kb.corpus()).unwrap())
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_damaged_or_foreign_snapshot_is_refused_and_changes_nothing() {
    let engine = engine();
    let kb = kb(&engine);
    let file = kb.root.join("kb.snapshot");
    snapshot::snapshot(&kb.index(), &kb.corpus(), &file).unwrap();
    let good = std::fs::read(&file).unwrap();
    let analysis = fingerprint(&engine);
    let unchanged = state(&kb);
    let bad = kb.root.join("bad.snapshot");
    let try_bytes = |bytes: &[u8]| {
        std::fs::write(&bad, bytes).unwrap();
        let why = refused(snapshot::restore(
            &bad,
            &kb.index(),
            &kb.corpus(),
            &analysis,
        ));
        assert_eq!(state(&kb), unchanged, "{why}");
        why
    };
    // Cut short anywhere, in the manifest (written last) too.
    let manifest = find(&good, b"\"format\"").expect("the manifest");
    for cut in [0, 512, good.len() / 3, good.len() / 2, manifest + 10] {
        try_bytes(&good[..cut]);
    }
    // One byte changed in a file's data.
    let mut flipped = good.clone();
    let at = find(&good, b"Paraguay learned").expect("a record in the snapshot");
    flipped[at] ^= 0x20;
    let why = try_bytes(&flipped);
    assert!(why.contains("checksum"), "{why}");
    // Another format, another analysis.
    let why = try_bytes(&with_manifest(&good, |m| m["format"] = 99.into()));
    assert!(why.contains("format 99"), "{why}");
    let why = try_bytes(&with_manifest(&good, |m| m["analysis"] = "other".into()));
    assert!(why.contains("other analysis"), "{why}");
    // A file the manifest does not list, or one outside the snapshot's folders.
    let why = try_bytes(&with_manifest(&good, |m| {
        let files = m["files"].as_object_mut().unwrap();
        let record = files.keys().find(|k| k.starts_with("corpus/")).cloned();
        files.remove(&record.unwrap());
    }));
    assert!(why.contains("differ") || why.contains("checksum"), "{why}");
    let escape = rebuilt(&good, |name, data| {
        if name == "manifest.json" {
            vec![
                ("../../escape".into(), b"x".to_vec()),
                (name.into(), data.to_vec()),
            ]
        } else {
            vec![(name.into(), data.to_vec())]
        }
    });
    let why = try_bytes(&escape);
    assert!(why.contains("outside"), "{why}");
    assert!(!kb.root.join("escape").exists());
    // The good one still restores.
    snapshot::restore(&file, &kb.index(), &kb.corpus(), &analysis).unwrap();
}

#[test]
fn a_snapshot_killed_half_way_is_never_restored() {
    let engine = engine();
    let kb = kb(&engine);
    // A large file in the generation makes a snapshot take a while.
    let generation = kb.index().current().unwrap();
    let filler = kb.index().path_of(&generation).join("filler.bin");
    std::fs::write(&filler, vec![7u8; 64 << 20]).unwrap();
    let analysis = fingerprint(&engine);
    let file = kb.root.join("kb.snapshot");
    let partial = kb.root.join("kb.snapshot.partial");
    let (mut killed_midway, mut cut_short) = (0, 0);
    for delay_ms in [1, 5, 20, 60, 150, 400] {
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(&partial);
        let mut child = Command::new(env!("CARGO_BIN_EXE_egovkb"))
            .args([
                "--corpus",
                path(&kb.corpus()),
                "--index",
                path(kb.index().root()),
            ])
            .args(["snapshot", path(&file)])
            .env("EGOVKB_DICT_DIR", common::dict_root())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if partial.exists() {
            killed_midway += 1;
            refused(snapshot::restore(
                &partial,
                &kb.index(),
                &kb.corpus(),
                &analysis,
            ));
            // Under another name, its content alone refuses it (unless the
            // kill came after the last byte, before the rename).
            let copy = kb.root.join("copy.snapshot");
            std::fs::copy(&partial, &copy).unwrap();
            if let Err(SnapshotError::Refused { .. }) =
                snapshot::restore(&copy, &kb.index(), &kb.corpus(), &analysis)
            {
                cut_short += 1;
            }
        }
        if file.exists() {
            // Only ever a whole snapshot under the name asked for.
            snapshot::restore(&file, &kb.index(), &kb.corpus(), &analysis).unwrap();
        }
    }
    assert!(killed_midway > 0, "no snapshot was killed half-way");
    assert!(
        cut_short > 0,
        "no partial snapshot was refused for its content"
    );
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The snapshot's entries passed through `f` (name, data → entries).
fn rebuilt(good: &[u8], f: impl Fn(&str, &[u8]) -> Vec<(String, Vec<u8>)>) -> Vec<u8> {
    use std::io::Read;
    let mut out = tar::Builder::new(Vec::new());
    for entry in tar::Archive::new(good).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        for (name, data) in f(&name, &data) {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            // Written raw: `append_data` refuses a `..` in a name.
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            out.append(&header, data.as_slice()).unwrap();
        }
    }
    out.into_inner().unwrap()
}

fn with_manifest(good: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    rebuilt(good, |name, data| {
        if name != "manifest.json" {
            return vec![(name.into(), data.to_vec())];
        }
        let mut m: serde_json::Value = serde_json::from_slice(data).unwrap();
        edit(&mut m);
        vec![(name.into(), serde_json::to_vec(&m).unwrap())]
    })
}
