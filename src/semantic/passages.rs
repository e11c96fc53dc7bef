//! Documents cut into the passages that are embedded: each page or slide
//! of a presentation is one (or more, when long), and a body is cut at
//! paragraph, then sentence ends into windows of at most [`BUDGET`] model
//! tokens. Every passage's text starts with the document's title, so a
//! passage is understood in its document's context.

use egovkb_embed::Tokenizer;

use crate::document::Document;

/// Model tokens per passage, title included (the model reads up to 510;
/// a title longer than three quarters of it leaves the body a quarter).
/// A passage of a few sentences says one thing, and a question about it
/// finds it: with 100 rather than 500, MRR@10 rose on every set this was
/// chosen on (clir/en2es-hard 0.790 to 0.839, clir/es2en 0.954 to 0.966,
/// the development set 0.868 to 0.875; BENCHMARKS.md, "Fusion choices").
pub const BUDGET: usize = 100;
/// The cut's version, in what a generation's vectors are known by: raised
/// whenever documents are cut otherwise, so that `egovkb index` makes the
/// vectors again.
pub const CUT: u32 = 2;
/// Passages embedded per document at most (a long report is searched by
/// meaning in its first 256 passages, some 25,000 tokens, and by its words
/// throughout).
pub const MAX_PASSAGES: usize = 256;

/// Where a passage lies in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The page or slide (from 1), or `None` for the body.
    pub page: Option<u32>,
    /// Byte range in that page's text or in the body.
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The passage's text in `doc` (without the title).
    pub fn text<'d>(&self, doc: &'d Document) -> &'d str {
        let source = match self.page {
            Some(p) => doc
                .pages
                .get(p as usize - 1)
                .map(String::as_str)
                .unwrap_or(""),
            None => doc.body.as_str(),
        };
        source
            .get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

/// A passage: where it is and the text to embed.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub span: Span,
    pub text: String,
}

/// Cut `doc` into passages.
pub fn cut(doc: &Document, tokenizer: &Tokenizer) -> Vec<Passage> {
    let title = doc.title.trim();
    let title_tokens = if title.is_empty() {
        0
    } else {
        tokenizer.encode(title).len()
    };
    let budget = BUDGET.saturating_sub(title_tokens).max(BUDGET / 4);
    let mut out = Vec::new();
    let mut add = |page: Option<u32>, source: &str| {
        for (start, end) in windows(source, tokenizer, budget) {
            if out.len() >= MAX_PASSAGES {
                return;
            }
            let part = &source[start..end];
            let text = if title.is_empty() {
                part.to_string()
            } else {
                format!("{title}\n{part}")
            };
            out.push(Passage {
                span: Span {
                    page,
                    start: start as u32,
                    end: end as u32,
                },
                text,
            });
        }
    };
    if doc.pages.iter().any(|p| !p.trim().is_empty()) {
        for (i, page) in doc.pages.iter().enumerate() {
            add(Some(i as u32 + 1), page);
        }
    } else {
        add(None, &doc.body);
    }
    if out.is_empty() && !title.is_empty() {
        out.push(Passage {
            span: Span {
                page: None,
                start: 0,
                end: 0,
            },
            text: title.to_string(),
        });
    }
    out
}

/// Byte ranges of `text` of at most `budget` tokens each, cut at paragraph
/// ends, else sentence ends, else word ends; blank text gives none.
fn windows(text: &str, tokenizer: &Tokenizer, budget: usize) -> Vec<(usize, usize)> {
    let mut units = Vec::new();
    for (start, end) in split(text, 0, text.len(), &["\n\n"]) {
        let n = tokenizer.encode(&text[start..end]).len();
        if n <= budget {
            units.push((start, end, n));
            continue;
        }
        for (s, e) in split(text, start, end, &[". ", "? ", "! ", "。", "\n", "; "]) {
            let n = tokenizer.encode(&text[s..e]).len();
            if n <= budget {
                units.push((s, e, n));
            } else {
                units.extend(by_words(text, s, e, tokenizer, budget));
            }
        }
    }
    // Pack consecutive units into windows.
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut current: Option<(usize, usize, usize)> = None;
    for (s, e, n) in units {
        current = match current {
            Some((cs, _, cn)) if cn + n <= budget => Some((cs, e, cn + n)),
            Some((cs, ce, _)) => {
                out.push((cs, ce));
                Some((s, e, n))
            }
            None => Some((s, e, n)),
        };
    }
    out.extend(current.map(|(s, e, _)| (s, e)));
    out
}

/// `text[start..end]` split after each separator, trimmed, blank parts
/// dropped.
fn split(text: &str, start: usize, end: usize, separators: &[&str]) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut from = start;
    let slice = &text[start..end];
    let mut i = 0;
    while i < slice.len() {
        let rest = &slice[i..];
        if let Some(sep) = separators.iter().find(|s| rest.starts_with(**s)) {
            parts.push((from, start + i + sep.len()));
            i += sep.len();
            from = start + i;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    parts.push((from, end));
    parts
        .into_iter()
        .filter_map(|(s, e)| trim(text, s, e))
        .collect()
}

fn trim(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let part = &text[s..e];
    let lead = part.len() - part.trim_start().len();
    let trail = part.len() - part.trim_end().len();
    (lead < part.len()).then_some((s + lead, e - trail))
}

/// A sentence too long for one window, cut between words.
fn by_words(
    text: &str,
    start: usize,
    end: usize,
    tokenizer: &Tokenizer,
    budget: usize,
) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut from = start;
    let mut last_fit = None;
    let mut pos = start;
    for (i, c) in text[start..end].char_indices() {
        pos = start + i + c.len_utf8();
        if !c.is_whitespace() && pos < end {
            continue;
        }
        let n = tokenizer.encode(&text[from..pos]).len();
        if n <= budget {
            last_fit = Some((pos, n));
            continue;
        }
        // Cut at the last end that fit; a single word over budget alone.
        let (cut, n) = last_fit.unwrap_or((pos, n));
        out.extend(trim(text, from, cut).map(|(s, e)| (s, e, n)));
        from = cut;
        last_fit = None;
    }
    if from < pos {
        let n = tokenizer.encode(&text[from..end]).len();
        out.extend(trim(text, from, end).map(|(s, e)| (s, e, n)));
    }
    out
}
