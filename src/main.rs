//! The `egovkb` command line: parses arguments, calls the library, prints.
//! The commands are in `cli/`, one module each.

mod cli;

use std::io::IsTerminal;

use anyhow::Result;
use clap::Parser;

use egovkb::config::Config;

use cli::*;

/// mimalloc for the binary (the library leaves the allocator to the
/// program that embeds it): indexing makes and drops many small strings,
/// and glibc's allocator took a sixth of a reindex (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
