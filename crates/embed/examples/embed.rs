//! Embed the lines of standard input (one text a line, `\n` written as
//! `\\n`) and print each embedding as one line of numbers; the time and
//! token rate go to standard error.
//!
//! `cargo run --release --example embed -- MODEL query|query-one|passage < texts`

use std::io::{BufRead, Write};

use egovkb_embed::{Kind, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(kind)) = (args.get(1), args.get(2)) else {
        return Err("usage: embed MODEL query|query-one|passage < texts".into());
    };
    // `query-one`: queries embedded one at a time, as a search does.
    let one_at_a_time = kind == "query-one";
    let kind = if kind.starts_with("query") {
        Kind::Query
    } else {
        Kind::Passage
    };
    let model = Model::load(std::path::Path::new(path))?;
    let texts: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map(|l| l.map(|l| l.replace("\\n", "\n")))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs.iter().map(|t| model.token_count(t, kind)).sum();
    let started = std::time::Instant::now();
    let out = if one_at_a_time {
        refs.iter().map(|t| model.embed(t, kind)).collect()
    } else {
        model.embed_batch(&refs, kind)
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} texts, {tokens} tokens in {secs:.2} s: {:.0} tokens/s ({})",
        texts.len(),
        tokens as f64 / secs,
        model.kernel_name()
    );
    let mut stdout = std::io::stdout().lock();
    for v in out {
        let line: Vec<String> = v.iter().map(|x| format!("{x:.7}")).collect();
        writeln!(stdout, "{}", line.join(" "))?;
    }
    Ok(())
}
