//! The corpus and its index: `crawl`, `import`, `export`, `snapshot`,
//! `restore`, `index` and `reindex`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};

use egovkb::config::Config;
use egovkb::index::{IndexDir, build};
use egovkb::store::Store;

use super::*;

/// Crawl the chosen profiles at once, one thread each: profiles on one
/// host share its pace (and robots.txt), profiles on different hosts do not
/// wait for each other. Each report is printed as its crawl ends.
pub fn crawl(
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

pub fn print_crawl_report(name: &str, report: &egovkb::crawl::run::CrawlReport) {
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

pub fn import(config: &Config, paths: &[PathBuf]) -> Result<()> {
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

pub fn export(config: &Config) -> Result<()> {
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
pub fn snapshot(config: &Config, path: &std::path::Path) -> Result<()> {
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
pub fn restore(config: &Config, path: &std::path::Path) -> Result<()> {
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

pub fn index(config: &Config, from_scratch: bool) -> Result<()> {
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
    if let Some(found) = report.versions {
        let mut said = Vec::new();
        if found.stories > 0 {
            said.push(format!(
                "{} documents tell {} {} more than once",
                found.documents,
                found.stories,
                if found.stories == 1 {
                    "story"
                } else {
                    "stories"
                }
            ));
        }
        if found.translations > 0 {
            said.push(format!(
                "{} {} linked to {} translations",
                found.translations,
                if found.translations == 1 {
                    "notice"
                } else {
                    "notices"
                },
                if found.translations == 1 {
                    "its"
                } else {
                    "their"
                }
            ));
        }
        if !said.is_empty() {
            println!("versions: {}", said.join("; "));
        }
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
