//! What commands need first: the engine, the dictionary and the model
//! (installed with a progress line), and the progress bar.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use egovkb::analysis::dict;
use egovkb::config::Config;
use egovkb::engine::Engine;
use egovkb::progress::Progress;
use egovkb::semantic::Semantic;
use egovkb::semantic::install as model;

/// A progress bar on a terminal, for indexing.
pub struct Bar(pub ProgressBar);

impl Bar {
    pub fn new() -> Self {
        let pb = spinner();
        Self(pb)
    }
}

impl Progress for Bar {
    fn begin(&self, label: &str, total: Option<u64>) {
        tracing::info!("{label}");
        match total {
            Some(n) => {
                self.0.set_length(n);
                self.0.set_position(0);
                self.0.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            None => self.0.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        }
        self.0.set_message(label.to_string());
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

pub fn engine(config: &Config) -> Result<Engine> {
    ensure_dictionary(config, None, false)?;
    Ok(Engine::load(&config.dict_root, Some(&config.corpus))?)
}

/// `EGOVKB_NO_MODEL=1`: no embedding model is installed or used (search
/// by words only).
pub fn model_off() -> bool {
    std::env::var_os("EGOVKB_NO_MODEL").is_some_and(|v| v == "1")
}

/// The engine with the embedding model when one is installed (and not
/// turned off): indexing embeds passages, searching may use meaning. A
/// model that fails to load is a warning: search works by words.
pub fn engine_with_model(config: &Config) -> Result<Engine> {
    let engine = engine(config)?;
    if model_off() {
        return Ok(engine);
    }
    let semantic = match Semantic::load_installed(&config.model_root, config.calibration.as_deref())
    {
        Ok(s) => s.map(std::sync::Arc::new),
        // Bars of another model would count the wrong documents.
        Err(
            e @ egovkb::semantic::LoadError::Calibration(_)
            | e @ egovkb::semantic::LoadError::Read { .. },
        ) => {
            bail!("{e}")
        }
        Err(e) => {
            eprintln!("semantic search off: {e}");
            None
        }
    };
    Ok(engine.with_semantic(semantic))
}

/// A spinner with the current step on a terminal; nothing otherwise.
pub fn spinner() -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
    } else {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    pb
}

/// Install the dictionary if missing, showing progress; used by every
/// command that needs Korean.
pub fn ensure_dictionary(
    config: &Config,
    from: Option<PathBuf>,
    force: bool,
) -> Result<dict::Outcome> {
    let opts = dict::InstallOptions {
        root: config.dict_root.clone(),
        from,
        force,
    };
    Ok(with_steps(|step| dict::install(&opts, step))?)
}

/// Run an install, its steps shown on a spinner (and logged).
pub fn with_steps<T>(work: impl FnOnce(&dyn Progress) -> T) -> T {
    let bar = Bar::new();
    let out = work(&bar);
    bar.0.finish_and_clear();
    out
}

pub fn dict_install(config: &Config, from: Option<PathBuf>, force: bool) -> Result<()> {
    match ensure_dictionary(config, from, force)? {
        dict::Outcome::AlreadyInstalled(path, m) => println!(
            "already installed: {} ({} entries, from {}); nothing to do (--force rebuilds)",
            path.display(),
            m.entries,
            m.source
        ),
        dict::Outcome::Installed(path, m) => println!(
            "installed {} at {}: {} entries, {} unknown-word entries, matrix {} x {}, {} character categories, from {} in {:.1} s",
            m.dictionary,
            path.display(),
            m.entries,
            m.unknown_entries,
            m.matrix[0],
            m.matrix[1],
            m.character_categories,
            m.source,
            m.build_seconds
        ),
    }
    Ok(())
}

pub fn dict_status(config: &Config) -> Result<()> {
    let path = dict::installed_path(&config.dict_root);
    match dict::installed_manifest(&config.dict_root) {
        Some(m) => println!(
            "installed: {} ({}, {} entries, from {})",
            path.display(),
            m.dictionary,
            m.entries,
            m.source
        ),
        None => println!(
            "not installed: {} (run `egovkb dict install`)",
            path.display()
        ),
    }
    Ok(())
}

/// The embedding model for `serve`: installed when missing, unless
/// `EGOVKB_NO_MODEL=1`; a failure is a warning, since search works without it.
pub fn serve_model(config: &Config) -> Option<PathBuf> {
    if model_off() {
        eprintln!("semantic search off: EGOVKB_NO_MODEL=1");
        return None;
    }
    match ensure_model(config, None, false) {
        Ok(model::Outcome::AlreadyInstalled(..)) => model::installed_model_file(&config.model_root),
        Ok(model::Outcome::Installed(path, m)) => {
            eprintln!(
                "installed the embedding model at {} (from {}, {:.1} s)",
                path.display(),
                m.source,
                m.install_seconds
            );
            model::installed_model_file(&config.model_root)
        }
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("semantic search off: {msg}");
            None
        }
    }
}

/// Install the embedding model if missing, showing progress.
pub fn ensure_model(config: &Config, from: Option<PathBuf>, force: bool) -> Result<model::Outcome> {
    let opts = model::InstallOptions {
        root: config.model_root.clone(),
        from,
        force,
    };
    Ok(with_steps(|step| model::install(&opts, step))?)
}

pub fn model_install(config: &Config, from: Option<PathBuf>, force: bool) -> Result<()> {
    match ensure_model(config, from, force)? {
        model::Outcome::AlreadyInstalled(path, m) => println!(
            "already installed: {} ({}, from {}); nothing to do (--force installs again)",
            path.display(),
            m.model,
            m.source
        ),
        model::Outcome::Installed(path, m) => println!(
            "installed {} at {}: {} ({} bytes, SHA-256 {}), from {} in {:.1} s",
            m.model,
            path.display(),
            m.file,
            m.bytes,
            m.model_sha256,
            m.source,
            m.install_seconds
        ),
    }
    Ok(())
}

pub fn model_status(config: &Config) -> Result<()> {
    let path = model::installed_path(&config.model_root);
    match (
        model::installed_manifest(&config.model_root),
        model::installed_model_file(&config.model_root),
    ) {
        (Some(m), Some(file)) => println!(
            "installed: {} ({}, {} bytes, from {})",
            file.display(),
            m.model,
            m.bytes,
            m.source
        ),
        (Some(_), None) => println!(
            "damaged: {} (its model file is missing or of the wrong size; run `egovkb model install --force`)",
            path.display()
        ),
        _ => println!(
            "not installed: {} (run `egovkb model install`)",
            path.display()
        ),
    }
    Ok(())
}
