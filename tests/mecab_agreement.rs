//! lindera with the converted dictionary segments like MeCab with the
//! original compiled one: the same morphemes on at least 99.9% of a few
//! thousand unspaced Hangul lines (from the KorQuAD passages in
//! `../shared/eval`). Needs Debian's `mecab`; `.ci/run` installs it and sets
//! EGOVKB_REQUIRE_MECAB=1, so that in CI a missing tool fails the test.

mod common;

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use egovkb::analysis::dict;
use egovkb::analysis::korean::{KoreanAnalyzer, KoreanOptions, is_hangul};

const LINES: usize = 10_000;

fn required() -> bool {
    std::env::var("EGOVKB_REQUIRE_MECAB").is_ok_and(|v| v == "1")
}

/// Unspaced lines of Hangul only, cut from the passages.
/// (Lines with punctuation also differ where lindera groups a run of
/// symbols, such as `."`, into one unknown token and MeCab does not; the
/// analyzer drops symbols, so that difference never reaches the index.)
fn hangul_lines() -> Option<Vec<String>> {
    let path = common::shared_eval()?.join("korquad1-dev/passages.jsonl");
    let file = std::fs::File::open(path).ok()?;
    let mut lines = Vec::new();
    for record in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&record).ok()?;
        let text = v.get("text")?.as_str()?;
        // Runs of Hangul and spaces between any other characters.
        for run in text.split(|c: char| !(is_hangul(c) || c == ' ')) {
            let unspaced: String = run.chars().filter(|c| !c.is_whitespace()).collect();
            if (10..=200).contains(&unspaced.chars().count()) {
                lines.push(unspaced);
            }
            if lines.len() == LINES {
                return Some(lines);
            }
        }
    }
    Some(lines)
}

#[test]
fn lindera_segments_like_mecab() {
    let mecab_found = Command::new("mecab").arg("--version").output().is_ok();
    let lines = hangul_lines();
    let (true, Some(lines)) = (mecab_found, lines) else {
        assert!(
            !required(),
            "mecab or ../shared/eval is missing, and EGOVKB_REQUIRE_MECAB=1"
        );
        eprintln!("skipped: needs Debian's mecab and ../shared/eval");
        return;
    };
    assert!(lines.len() >= 3000, "only {} lines", lines.len());

    // MeCab reads the original compiled dictionary; it needs a dicrc.
    let work = tempfile::tempdir().unwrap();
    dict::unpack_package(&common::dict_package(), work.path()).unwrap();
    std::fs::write(
        work.path().join("dicrc"),
        "cost-factor = 800\nbos-feature = BOS/EOS,*,*,*,*,*,*,*\neval-size = 4\n\
         unk-eval-size = 2\nconfig-charset = UTF-8\n",
    )
    .unwrap();
    let mut child = Command::new("mecab")
        .arg("-d")
        .arg(work.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = lines.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    let mut mecab: Vec<Vec<String>> = vec![Vec::new()];
    for l in String::from_utf8(output.stdout).unwrap().lines() {
        if l == "EOS" {
            mecab.push(Vec::new());
        } else if let Some((surface, _)) = l.split_once('\t') {
            mecab.last_mut().unwrap().push(surface.to_string());
        }
    }
    mecab.pop();
    assert_eq!(mecab.len(), lines.len());

    // The converted dictionary alone, without egovkb's added terms.
    let options = KoreanOptions {
        user_terms: false,
        ..KoreanOptions::default()
    };
    let korean = KoreanAnalyzer::load_with(&common::dict_root(), options).unwrap();
    let mut same = 0;
    let mut differ = Vec::new();
    for (line, theirs) in lines.iter().zip(&mecab) {
        let ours: Vec<String> = korean.morphemes(line).into_iter().map(|m| m.0).collect();
        if &ours == theirs {
            same += 1;
        } else if differ.len() < 5 {
            differ.push(format!(
                "{line}\n  lindera: {ours:?}\n  mecab:   {theirs:?}"
            ));
        }
    }
    let rate = same as f64 / lines.len() as f64;
    eprintln!(
        "lindera = MeCab on {same} of {} lines ({:.2}%)",
        lines.len(),
        rate * 100.0
    );
    assert!(
        rate >= 0.999,
        "only {:.3}% agree; first differences:\n{}",
        rate * 100.0,
        differ.join("\n")
    );
}
