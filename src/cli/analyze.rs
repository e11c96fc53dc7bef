//! `egovkb analyze`: the terms a text is indexed or searched as.

use std::io::{Read, Write};

use anyhow::{Context, Result, bail};

use egovkb::analysis::{self, AnalyzerName, Analyzers, Mode};
use egovkb::config::Config;

use super::*;

pub fn analyze(
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
