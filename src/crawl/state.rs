//! What a crawl remembers between runs: the append-only `state.jsonl` of
//! every URL seen (its validators, its document, its failures and when to
//! try again) and the raw responses kept for `--reextract`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fetch::Fetched;
use crate::document::Document;

/// One line of the crawl log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seen {
    pub url: String,
    pub id: String,
    /// `item`, `attachment`, or `twin` (an attachment kept as another
    /// file of the same release).
    pub kind: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// The raw response, under `raw/`.
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub charset: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    /// Why a `failed` URL failed, and when it may be asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// A URL that failed: the reason, how many crawls in a row it failed, and
/// when (Unix seconds) the next may ask for it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    pub permanent: bool,
    pub attempts: u32,
    pub at: i64,
    pub retry_at: i64,
}

impl Failure {
    /// Time to wait after `attempts` failures in a row: a week, doubling
    /// up to 90 days, for what will not change by itself (4xx, too large,
    /// a redirect loop, a page with nothing to extract); an hour, doubling
    /// up to a week, for what may pass (5xx, network, a cut body).
    pub(crate) fn backoff(permanent: bool, attempts: u32) -> i64 {
        const HOUR: i64 = 3600;
        const DAY: i64 = 24 * HOUR;
        let (first, cap) = if permanent {
            (7 * DAY, 90 * DAY)
        } else {
            (HOUR, 7 * DAY)
        };
        let doublings = attempts.saturating_sub(1).min(20);
        first.saturating_mul(1 << doublings).min(cap)
    }
}

pub(crate) struct State {
    pub(crate) dir: PathBuf,
    pub(crate) seen: HashMap<String, Seen>,
    /// URLs whose last try failed, never stored.
    pub(crate) failed: HashMap<String, Seen>,
    pub(crate) log: std::fs::File,
}

pub(crate) const FAILED: &str = "failed";

pub(crate) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl State {
    pub(crate) fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.join("raw"))?;
        let path = dir.join("state.jsonl");
        let bytes = std::fs::read(&path).unwrap_or_default();
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        // After a cut line, the next record starts on a line of its own.
        if bytes.last().is_some_and(|&c| c != b'\n') {
            log.write_all(b"\n")?;
        }
        let mut state = Self {
            dir: dir.to_path_buf(),
            seen: HashMap::new(),
            failed: HashMap::new(),
            log,
        };
        // A line cut by a kill is ignored: its document is fetched again.
        for line in String::from_utf8_lossy(&bytes).lines() {
            if let Ok(s) = serde_json::from_str::<Seen>(line) {
                state.remember(s);
            }
        }
        Ok(state)
    }

    /// A log line's news: stored (or a twin), or failed.
    pub(crate) fn remember(&mut self, s: Seen) {
        if s.kind == FAILED {
            self.failed.insert(s.url.clone(), s);
        } else {
            self.failed.remove(&s.url);
            self.seen.insert(s.url.clone(), s);
        }
    }

    pub(crate) fn record(&mut self, s: Seen) -> std::io::Result<()> {
        let mut line = serde_json::to_string(&s).map_err(std::io::Error::other)?;
        line.push('\n');
        self.log.write_all(line.as_bytes())?;
        self.log.sync_data()?;
        self.remember(s);
        Ok(())
    }

    /// Log that `url`, never stored, failed for `reason`: the next try
    /// waits the backoff of its run of failures. A URL stored before (a
    /// refresh that failed) keeps its document and its place.
    pub(crate) fn fail(&mut self, url: &str, parent: Option<&str>, reason: &str, permanent: bool) {
        if self.seen.contains_key(url) {
            return;
        }
        let attempts = self
            .failed
            .get(url)
            .and_then(|s| s.failure.as_ref())
            .map_or(0, |f| f.attempts)
            + 1;
        let at = now_secs();
        let failure = Failure {
            reason: reason.to_string(),
            permanent,
            attempts,
            at,
            retry_at: at + Failure::backoff(permanent, attempts),
        };
        let line = Seen {
            url: url.to_string(),
            id: Document::id_for(url),
            kind: FAILED.into(),
            parent: parent.map(str::to_string),
            etag: None,
            last_modified: None,
            raw: None,
            content_type: None,
            charset: None,
            filename: None,
            failure: Some(failure),
        };
        if let Err(e) = self.record(line) {
            tracing::warn!(url, error = %e, "could not log the failure");
        }
    }

    /// Why `url` is not asked for in this run: it failed before and its
    /// next try is not due (and the run does not retry failures).
    pub(crate) fn deferral(&self, url: &str, retry_failed: bool) -> Option<String> {
        if retry_failed {
            return None;
        }
        let f = self.failed.get(url)?.failure.as_ref()?;
        (now_secs() < f.retry_at).then(|| {
            let when = chrono::DateTime::from_timestamp(f.retry_at, 0)
                .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
            format!(
                "failed before ({}, {} time{}); next try after {when}",
                f.reason,
                f.attempts,
                if f.attempts == 1 { "" } else { "s" }
            )
        })
    }

    /// Keep a raw response; its file name.
    pub(crate) fn keep_raw(&self, url: &str, body: &[u8]) -> std::io::Result<String> {
        let name = format!("{}.body", Document::id_for(url));
        let tmp = self.dir.join("raw").join(format!("{name}.partial"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, self.dir.join("raw").join(&name))?;
        Ok(name)
    }
}

impl Seen {
    /// The log line of a fetched URL.
    pub(crate) fn of(
        url: &str,
        id: &str,
        kind: &str,
        parent: Option<&str>,
        f: &Fetched,
        raw: Option<String>,
    ) -> Self {
        Self {
            url: url.to_string(),
            id: id.to_string(),
            kind: kind.to_string(),
            parent: parent.map(str::to_string),
            etag: f.etag.clone(),
            last_modified: f.last_modified.clone(),
            raw,
            content_type: f.content_type.clone(),
            charset: f.charset.clone(),
            filename: f.filename.clone(),
            failure: None,
        }
    }
}

/// The crawl state folder of a profile.
pub fn state_dir(corpus: &Path, profile: &str) -> PathBuf {
    corpus.join("crawl").join(profile)
}
