//! One crawl of one source profile: list pages (a page-number template or
//! start URLs), item links (`javascript:` ones turned into URLs), detail
//! pages and their attachments, each fetched once per canonical URL and
//! stored as a document. Crawl state is an append-only log on disk, written
//! after the document, so a crawl killed at any moment resumes without
//! refetching what it stored and without duplicates; raw responses are kept
//! so that extraction can run again offline (`reextract`). What failed is
//! logged too, with its reason, and asked again only after a backoff (long
//! for what will not change by itself: a 404, a page over the cap) or when
//! the run says `retry_failed`.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::canonical::canonical;
use super::fetch::{FetchConfig, FetchError, Fetched, Fetcher, Pace};
use super::profile::{Profile, ProfileError};
use crate::document::{DocType, Document, Lang};
use crate::enrich::Enricher;
use crate::extract::{self, Format, html};
use crate::store::{PutOutcome, Store};

/// What a crawl did.
#[derive(Debug, Default)]
pub struct CrawlReport {
    pub fetched: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Known from an earlier (or interrupted) crawl: not fetched again.
    pub known: usize,
    /// Asked again with `refresh`, answered 304 Not Modified.
    pub not_modified: usize,
    /// (URL, reason) for everything skipped.
    pub skipped: Vec<(String, String)>,
    /// (URL, reason) for what failed in an earlier crawl and is not due
    /// to be asked again yet: not fetched.
    pub deferred: Vec<(String, String)>,
    /// Problems with the profile itself (selectors that match nothing on
    /// a page that answered 200: the site changed).
    pub health: Vec<String>,
}

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
    fn backoff(permanent: bool, attempts: u32) -> i64 {
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

/// Options of a crawl run.
#[derive(Clone, Default)]
pub struct CrawlOptions {
    /// At most this many list pages (all the profile allows when `None`).
    pub max_pages: Option<u32>,
    /// Ask again for items already stored, with their ETag and
    /// Last-Modified (a conditional request: 304 when unchanged), and read
    /// every list page instead of stopping at the first known one.
    pub refresh: bool,
    /// Ask again for what failed before, due or not.
    pub retry_failed: bool,
    pub fetch: FetchConfig,
    /// The hosts' pace, shared by the crawls given the same one (a clone
    /// shares it).
    pub pace: Pace,
    /// The gazetteer, to tell the countries an attachment names (then the
    /// profile's `countries` do not apply to it). Without it, every
    /// attachment takes the profile's.
    pub enricher: Option<Arc<Enricher>>,
}

impl std::fmt::Debug for CrawlOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrawlOptions")
            .field("max_pages", &self.max_pages)
            .field("refresh", &self.refresh)
            .field("retry_failed", &self.retry_failed)
            .field("fetch", &self.fetch)
            .field("pace", &self.pace)
            .field("enricher", &self.enricher.is_some())
            .finish()
    }
}

/// Lines of page text that change on every visit ("Read : 16466",
/// "조회수 123"), left out of the document so its hash stays put.
fn volatile() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)\b(read|views?|hits?|visitas|vistas|lecturas)\s*[:：]?\s*[\d,.]+|(조회수|조회)\s*[:：]?\s*[\d,]+",
        )
        .ok()
    })
    .as_ref()
}

struct State {
    dir: PathBuf,
    seen: HashMap<String, Seen>,
    /// URLs whose last try failed, never stored.
    failed: HashMap<String, Seen>,
    log: std::fs::File,
}

const FAILED: &str = "failed";

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

impl State {
    fn open(dir: &Path) -> std::io::Result<Self> {
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
    fn remember(&mut self, s: Seen) {
        if s.kind == FAILED {
            self.failed.insert(s.url.clone(), s);
        } else {
            self.failed.remove(&s.url);
            self.seen.insert(s.url.clone(), s);
        }
    }

    fn record(&mut self, s: Seen) -> std::io::Result<()> {
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
    fn fail(&mut self, url: &str, parent: Option<&str>, reason: &str, permanent: bool) {
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
    fn deferral(&self, url: &str, retry_failed: bool) -> Option<String> {
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
    fn keep_raw(&self, url: &str, body: &[u8]) -> std::io::Result<String> {
        let name = format!("{}.body", Document::id_for(url));
        let tmp = self.dir.join("raw").join(format!("{name}.partial"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, self.dir.join("raw").join(&name))?;
        Ok(name)
    }
}

impl CrawlReport {
    /// Store `doc`, counting the outcome; false (and the reason reported)
    /// when it could not be written.
    fn store(&mut self, store: &Store, doc: &Document) -> bool {
        match store.put(doc) {
            Ok(PutOutcome::Added) => self.new += 1,
            Ok(PutOutcome::Updated) => self.updated += 1,
            Ok(PutOutcome::Unchanged) => self.unchanged += 1,
            Err(e) => {
                self.skipped.push((doc.url.clone(), e.to_string()));
                return false;
            }
        }
        true
    }
}

impl Seen {
    /// The log line of a fetched URL.
    fn of(
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

/// Links selected on a list page, as canonical item URLs.
fn item_urls(p: &Profile, page_url: &str, text: &str) -> Option<Vec<String>> {
    let links = html::links(text, &p.items.selector)?;
    let base = url::Url::parse(page_url).ok()?;
    let keep = p
        .items
        .pattern
        .as_deref()
        .and_then(|r| regex::Regex::new(r).ok());
    let js = p
        .items
        .js_capture
        .as_deref()
        .and_then(|r| regex::Regex::new(r).ok());
    let mut out = Vec::new();
    for link in links {
        let href = link.href.unwrap_or_default();
        let href = href.trim();
        let is_script = href.to_ascii_lowercase().starts_with("javascript:");
        let absolute = if is_script || href.is_empty() || href.starts_with('#') {
            // `javascript:fn_view('123')` or an onclick (also beside a
            // `javascript:void(0)` href): capture, fill the template.
            let script = is_script.then(|| href.to_string());
            let codes: Vec<String> = script.into_iter().chain(link.onclick.clone()).collect();
            match (&js, &p.items.js_template) {
                (Some(re), Some(template)) => codes.iter().find_map(|code| {
                    re.captures(code).map(|c| {
                        let mut u = template.clone();
                        for i in 1..c.len() {
                            u = u.replace(&format!("{{{i}}}"), c.get(i).map_or("", |m| m.as_str()));
                        }
                        u
                    })
                }),
                _ => None,
            }
        } else {
            base.join(href).ok().map(|u| u.to_string())
        };
        let Some(absolute) = absolute else { continue };
        if keep.as_ref().is_some_and(|re| !re.is_match(&absolute)) {
            continue;
        }
        if let Some(c) = canonical(&absolute, &p.drop_params)
            && !out.contains(&c)
        {
            out.push(c);
        }
    }
    Some(out)
}

/// Whether `url`'s host is one of `hosts`: a host alone (`example.org`,
/// any port) or with its port (`example.org:8080`, that port only).
fn host_allowed(hosts: &[String], url: &str) -> bool {
    let Some(u) = url::Url::parse(url).ok() else {
        return false;
    };
    let Some(host) = u.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    let with_port = u.port_or_known_default().map(|p| format!("{host}:{p}"));
    hosts.iter().any(|h| {
        let h = h.trim().to_ascii_lowercase();
        h == host || with_port.as_deref() == Some(h.as_str())
    })
}

/// The detail page as a document.
fn item_document(p: &Profile, url: &str, f: &Fetched) -> Result<(Document, bool), String> {
    let format = extract::detect(&f.body, url).ok_or("unsupported type")?;
    if format != Format::Html {
        return Err(format!("a {} where a page was expected", format.name()));
    }
    let (text, _) = extract::encoding::decode(&f.body, f.charset.as_deref(), true);
    let sel = html::Selectors {
        title: p.detail.title.as_deref(),
        date: p.detail.date.as_deref(),
        body: p.detail.body.as_deref(),
    };
    let (x, matched) = html::extract_with(&text, &sel, &p.date_formats);
    let mut doc = Document::new(url, p.name.clone(), x.title);
    doc.id = Document::id_for(url);
    doc.body = match volatile() {
        Some(re) => re.replace_all(&x.body, "").into_owned(),
        None => x.body,
    };
    if doc.title.trim().is_empty() {
        return Err("no title found".into());
    }
    apply_profile(p, &mut doc, x.lang.as_deref());
    doc.published = x.published;
    Ok((doc, matched))
}

fn apply_profile(p: &Profile, doc: &mut Document, declared: Option<&str>) {
    doc.lang = p.lang.as_deref().or(declared).and_then(Lang::parse);
    if let Some(t) = p.doc_type {
        doc.doc_type = t;
    }
    doc.countries = p.countries.clone();
    doc.event = p.event.clone();
}

/// An attachment as a document of its own, `parent` set.
fn attachment_document(
    p: &Profile,
    url: &str,
    f: &Fetched,
    parent: &Document,
    enricher: Option<&Enricher>,
) -> Result<Document, String> {
    let name = f
        .filename
        .clone()
        .unwrap_or_else(|| url.rsplit('/').next().unwrap_or(url).to_string());
    let format = extract::detect(&f.body, &name).ok_or_else(|| {
        format!(
            "unsupported type ({})",
            f.content_type.as_deref().unwrap_or("no content type")
        )
    })?;
    // A server that says PDF but sends an error page: not the file.
    let says_pdf = f.content_type.as_deref().is_some_and(|t| t.contains("pdf"))
        || name.to_ascii_lowercase().ends_with(".pdf");
    if says_pdf && format != Format::Pdf {
        return Err("announced as a PDF, but it is not one".into());
    }
    let x = extract::extract(&f.body, format, f.charset.as_deref())
        .map_err(|e| format!("extraction failed: {e}"))?;
    if x.body.trim().is_empty() {
        return Err("no text in the file".into());
    }
    let title = if x.title.trim().is_empty() {
        name.clone()
    } else {
        x.title
    };
    let mut doc = Document::new(url, p.name.clone(), title);
    doc.id = Document::id_for(url);
    // What the file says about itself wins over the profile: the language
    // it declares, else the one its text is in (a Spanish PDF attached to
    // an English notice is Spanish), else the profile's.
    let own_lang = x
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .or_else(|| crate::enrich::lang::detect(&x.body));
    doc.body = x.body;
    doc.pages = x.pages;
    apply_profile(p, &mut doc, None);
    if own_lang.is_some() {
        doc.lang = own_lang;
    }
    // The countries the file names, else the profile's.
    if let Some(e) = enricher {
        let named = e.countries_named(&doc.title, &crate::enrich::searchable_text(&doc));
        if !named.is_empty() {
            doc.countries = named;
        }
    }
    doc.doc_type = if format == Format::Pptx {
        DocType::Presentation
    } else {
        p.doc_type.unwrap_or_default()
    };
    doc.published = x.published.or(parent.published);
    doc.parent = Some(parent.id.clone());
    doc.file_name = f.filename.clone();
    Ok(doc)
}

/// The file name without its extension: HWP, HWPX and PDF twins of one
/// release share it.
fn stem(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.')
        .map_or(base, |(s, _)| s)
        .trim()
        .to_lowercase()
}

/// What twins share: the stem of their file name. A download URL without
/// a file name (`FileDown.do?atchFileId=…&fileSn=2`, the name in a header
/// we could not read) is its own group: its path is every attachment's.
fn twin_key(url: &str, f: &Fetched) -> String {
    match &f.filename {
        Some(name) => stem(name),
        None if url.contains('?') => url.to_string(),
        None => stem(url.split('#').next().unwrap_or(url)),
    }
}

/// Preference among twins: the one whose text comes out best.
fn twin_rank(format: Option<Format>) -> u8 {
    match format {
        Some(Format::Hwpx) => 0,
        Some(Format::Pdf) => 1,
        Some(Format::Docx) => 2,
        Some(Format::Hwp) => 3,
        _ => 4,
    }
}

/// Why a profile was not crawled at all. (A page or a file that fails is
/// not an error of the crawl: its report lists it with the reason.)
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("crawl state in {dir}: {source}")]
    State {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn open_state(corpus: &Path, profile: &str) -> Result<State, CrawlError> {
    let dir = state_dir(corpus, profile);
    State::open(&dir).map_err(|source| CrawlError::State { dir, source })
}

/// Crawl one profile into the store: its feed first (the newest items,
/// even those past the list pages read), then its list pages in order.
pub fn crawl(
    p: &Profile,
    store: &Store,
    corpus: &Path,
    opts: &CrawlOptions,
) -> Result<CrawlReport, CrawlError> {
    p.validate()?;
    let mut crawl = Crawl::new(p, store, corpus, opts)?;
    if let Some(feed) = &p.feed {
        crawl.feed(feed);
    }
    crawl.lists();
    Ok(crawl.report)
}

/// One profile's crawl under way: what it fetches with, what it knows
/// from earlier crawls, and what it reports.
struct Crawl<'a> {
    p: &'a Profile,
    store: &'a Store,
    opts: &'a CrawlOptions,
    fetcher: Fetcher,
    /// The hosts the profile may fetch from (redirected or not).
    hosts: Vec<String>,
    state: State,
    report: CrawlReport,
    /// Every URL taken in hand in this crawl (an item listed twice, a
    /// file linked from two items: once).
    done: HashSet<String>,
}

impl<'a> Crawl<'a> {
    fn new(
        p: &'a Profile,
        store: &'a Store,
        corpus: &Path,
        opts: &'a CrawlOptions,
    ) -> Result<Self, CrawlError> {
        let hosts = p.hosts();
        let mut cfg = opts.fetch.clone();
        cfg.min_interval = p.interval();
        for url in p.entry_urls() {
            opts.pace.slow_down(url, cfg.min_interval);
        }
        cfg.redirect_hosts = Some(hosts.clone());
        Ok(Self {
            p,
            store,
            opts,
            fetcher: Fetcher::with_pace(cfg, opts.pace.clone()),
            hosts,
            state: open_state(corpus, &p.name)?,
            report: CrawlReport::default(),
            done: HashSet::new(),
        })
    }

    /// Whether `url` is on the profile's hosts; reported when not.
    fn allowed(&mut self, url: &str) -> bool {
        let ok = host_allowed(&self.hosts, url);
        if !ok {
            self.report
                .skipped
                .push((url.to_string(), "host not allowed by the profile".into()));
        }
        ok
    }

    /// `url` fetched (`from`: the page that links it), counted; a failure
    /// reported, and for an item or a file (`remember`) also remembered
    /// when it should wait before it is asked again; `None`.
    fn fetch(
        &mut self,
        url: &str,
        (from, remember): (Option<&str>, bool),
        (etag, last_modified): (Option<&str>, Option<&str>),
    ) -> Option<Fetched> {
        match self.fetcher.get(url, from, (etag, last_modified)) {
            Ok(f) => {
                self.report.fetched += 1;
                Some(f)
            }
            Err(FetchError::NotModified) => {
                self.report.not_modified += 1;
                None
            }
            Err(e) => {
                if remember && e.is_remembered() {
                    self.state.fail(url, from, &e.to_string(), e.is_permanent());
                }
                self.report.skipped.push((url.to_string(), e.to_string()));
                None
            }
        }
    }

    /// The list pages: the profile's start URLs, then its numbered pages
    /// until one lists nothing new, the last page, `--max-pages`, or (with
    /// `stop_when_known`) a page of items all known.
    fn lists(&mut self) {
        let p = self.p;
        let mut lists: std::collections::VecDeque<String> = p.start_urls.iter().cloned().collect();
        let paged = p.list.as_ref();
        let first_page = paged.map_or(0, |l| l.first_page);
        let mut page = first_page;
        let mut pages_read = 0u32;
        // Every item URL the numbered pages listed so far in this run: a
        // board that answers any page number past its last with its last
        // page (or that ignores the number) lists nothing new, and the
        // paging ends.
        let mut listed: HashSet<String> = HashSet::new();
        loop {
            let (list_url, numbered) = if let Some(u) = lists.pop_front() {
                (u, false)
            } else if let Some(l) = paged {
                if l.last_page.is_some_and(|last| page > last) {
                    break;
                }
                let u = l.url.replace("{page}", &page.to_string());
                page += 1;
                (u, true)
            } else {
                break;
            };
            if self.opts.max_pages.is_some_and(|m| pages_read >= m) {
                break;
            }
            pages_read += 1;
            if !self.allowed(&list_url) {
                continue;
            }
            let Some(fetched) = self.fetch(&list_url, (None, false), (None, None)) else {
                // A list page that fails ends the paging.
                if paged.is_some() && p.start_urls.is_empty() {
                    break;
                }
                continue;
            };
            let (text, _) =
                extract::encoding::decode(&fetched.body, fetched.charset.as_deref(), true);
            let items = item_urls(p, &fetched.url, &text).unwrap_or_default();
            if items.is_empty() {
                if page <= first_page + 1 {
                    self.report.health.push(format!(
                        "{}: the item selector `{}` matched nothing on {list_url} (status {}): has the site changed?",
                        p.name, p.items.selector, fetched.status
                    ));
                }
                break;
            }
            let all_known = items.iter().all(|u| {
                self.state.seen.contains_key(u)
                    || self.state.deferral(u, self.opts.retry_failed).is_some()
            });
            if numbered {
                let before = listed.len();
                listed.extend(items.iter().cloned());
                if listed.len() == before {
                    break;
                }
            }
            for item in items {
                self.take(item);
            }
            if all_known && !self.opts.refresh && paged.is_some_and(|l| l.stop_when_known) {
                break;
            }
        }
    }

    /// The items a feed lists, each taken in hand.
    fn feed(&mut self, feed: &str) {
        let p = self.p;
        if !self.allowed(feed) {
            return;
        }
        let Some(f) = self.fetch(feed, (None, false), (None, None)) else {
            return;
        };
        let (text, _) = extract::encoding::decode(&f.body, f.charset.as_deref(), false);
        let keep = p
            .items
            .pattern
            .as_deref()
            .and_then(|r| regex::Regex::new(r).ok());
        let base = url::Url::parse(&f.url).ok();
        let links = super::feed::links(&text);
        if links.is_empty() {
            self.report.health.push(format!(
                "{}: the feed {feed} lists no items: has it moved?",
                p.name
            ));
        }
        for link in links {
            let Some(abs) = base.as_ref().and_then(|b| b.join(link.trim()).ok()) else {
                continue;
            };
            if keep.as_ref().is_some_and(|re| !re.is_match(abs.as_str())) {
                continue;
            }
            if let Some(item) = canonical(abs.as_str(), &p.drop_params) {
                self.take(item);
            }
        }
    }

    /// An item listed: crawled unless this crawl had it already, it is
    /// stored and not refreshed, or it failed before and is not due.
    fn take(&mut self, item: String) {
        if !self.done.insert(item.clone()) {
            return;
        }
        if let Some(conditional) = validators(&self.state, &mut self.report, &item, self.opts) {
            self.item(&item, conditional);
        }
    }

    /// An item's page: fetched, extracted, its attachments crawled, then
    /// stored (a kill between them and the page's log line fetches the
    /// page again, not them).
    fn item(&mut self, item: &str, (etag, last_modified): (Option<String>, Option<String>)) {
        let p = self.p;
        if !self.allowed(item) {
            return;
        }
        let conditional = (etag.as_deref(), last_modified.as_deref());
        let Some(f) = self.fetch(item, (None, true), conditional) else {
            return;
        };
        let raw = self.state.keep_raw(item, &f.body).ok();
        let (doc, matched) = match item_document(p, item, &f) {
            Ok(d) => d,
            Err(reason) => {
                // The same page extracts the same way: not asked for soon.
                self.state.fail(item, None, &reason, true);
                self.report.skipped.push((item.to_string(), reason));
                return;
            }
        };
        if !matched {
            self.report.health.push(format!(
                "{}: the body selector `{}` matched nothing on {item}: has the site changed?",
                p.name,
                p.detail.body.as_deref().unwrap_or("")
            ));
        }
        let wanted = self.attachment_links(item, &f);
        let files = self.fetch_files(item, wanted);
        self.keep_twins(item, &doc, &files);
        if self.report.store(self.store, &doc) {
            let _ = self
                .state
                .record(Seen::of(item, &doc.id, "item", None, &f, raw));
        }
    }

    /// The files an item's page links: by the profile's selector where it
    /// matches, else found without one (as for title, date and body), each
    /// once, canonical.
    fn attachment_links(&mut self, item: &str, f: &Fetched) -> Vec<String> {
        let p = self.p;
        let (text, _) = extract::encoding::decode(&f.body, f.charset.as_deref(), true);
        let base = url::Url::parse(&f.url).ok();
        let links = match &p.detail.attachments {
            Some(css) => {
                let chosen = html::links(&text, css).unwrap_or_default();
                if chosen.is_empty() {
                    let found = html::file_links(&text);
                    if !found.is_empty() {
                        self.report.health.push(format!(
                            "{}: the attachments selector `{css}` matched nothing on {item}, which links {} files: has the site changed?",
                            p.name,
                            found.len()
                        ));
                    }
                    found
                } else {
                    chosen
                }
            }
            None => html::file_links(&text),
        };
        let mut wanted: Vec<String> = Vec::new();
        for link in links {
            let Some(href) = link.href else { continue };
            let Some(abs) = base.as_ref().and_then(|b| b.join(href.trim()).ok()) else {
                continue;
            };
            if let Some(c) = canonical(abs.as_str(), &[])
                && !wanted.contains(&c)
            {
                wanted.push(c);
            }
        }
        wanted
    }

    /// The files not known yet, fetched (a file that fails is reported
    /// and remembered with the item that links it).
    fn fetch_files(&mut self, item: &str, wanted: Vec<String>) -> Vec<(String, Fetched)> {
        let mut files = Vec::new();
        for a in wanted {
            if self.state.seen.contains_key(&a) || !self.done.insert(a.clone()) {
                self.report.known += 1;
                continue;
            }
            if let Some(why) = self.state.deferral(&a, self.opts.retry_failed) {
                self.report.deferred.push((a, why));
                continue;
            }
            if !self.allowed(&a) {
                continue;
            }
            if let Some(af) = self.fetch(&a, (Some(item), true), (None, None)) {
                files.push((a, af));
            }
        }
        files
    }

    /// Twins: the same release as HWP, HWPX and PDF is one document. The
    /// best of each group that extracts is stored; the others are known
    /// as its twins only once it is.
    fn keep_twins(&mut self, item: &str, doc: &Document, files: &[(String, Fetched)]) {
        let mut groups: Vec<(String, Vec<&(String, Fetched)>)> = Vec::new();
        for file in files {
            let key = twin_key(&file.0, &file.1);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(file),
                None => groups.push((key, vec![file])),
            }
        }
        for (_, mut members) in groups {
            members.sort_by_key(|(u, af)| {
                twin_rank(extract::detect(
                    &af.body,
                    af.filename.as_deref().unwrap_or(u),
                ))
            });
            let mut kept: Option<&str> = None;
            for (u, af) in members {
                match kept {
                    Some(k) => self.twin(u, af, k, doc),
                    None if self.attachment(item, u, af, doc) => kept = Some(u),
                    None => {}
                }
            }
        }
    }

    /// A file stored as a document of its own; whether it was.
    fn attachment(&mut self, item: &str, u: &str, af: &Fetched, doc: &Document) -> bool {
        let raw = self.state.keep_raw(u, &af.body).ok();
        match attachment_document(self.p, u, af, doc, self.opts.enricher.as_deref()) {
            Ok(ad) => {
                let stored = self.report.store(self.store, &ad);
                if stored {
                    let seen = Seen::of(u, &ad.id, "attachment", Some(&doc.id), af, raw);
                    let _ = self.state.record(seen);
                }
                stored
            }
            Err(reason) => {
                self.state.fail(u, Some(item), &reason, true);
                self.report.skipped.push((u.to_string(), reason));
                false
            }
        }
    }

    /// A twin of the file `kept`: known from now on (a later crawl does
    /// not fetch it again), not stored.
    fn twin(&mut self, u: &str, af: &Fetched, kept: &str, doc: &Document) {
        self.report
            .skipped
            .push((u.to_string(), format!("a twin of {kept}")));
        let kept_id = Document::id_for(kept);
        let _ = self
            .state
            .record(Seen::of(u, &kept_id, "twin", Some(&doc.id), af, None));
    }
}

/// What to send with a request for `item`: its stored ETag and
/// Last-Modified when refreshing; `None` when it is stored and not
/// refreshed (counted as known), or failed before and not due (deferred).
fn validators(
    state: &State,
    report: &mut CrawlReport,
    item: &str,
    opts: &CrawlOptions,
) -> Option<(Option<String>, Option<String>)> {
    if let Some(why) = state.deferral(item, opts.retry_failed) {
        report.deferred.push((item.to_string(), why));
        return None;
    }
    match state.seen.get(item) {
        Some(_) if !opts.refresh => {
            report.known += 1;
            None
        }
        Some(s) => Some((s.etag.clone(), s.last_modified.clone())),
        None => Some((None, None)),
    }
}

/// Extract again, offline, from the kept raw responses (after a fix to
/// extraction or to a profile's selectors). Of `opts`, only the enricher
/// counts.
pub fn reextract(
    p: &Profile,
    store: &Store,
    corpus: &Path,
    opts: &CrawlOptions,
) -> Result<CrawlReport, CrawlError> {
    let dir = state_dir(corpus, &p.name);
    let state = open_state(corpus, &p.name)?;
    let mut report = CrawlReport::default();
    let mut items: Vec<&Seen> = state.seen.values().filter(|s| s.kind == "item").collect();
    items.sort_by(|a, b| a.url.cmp(&b.url));
    let fetched_of = |s: &Seen| -> Option<Fetched> {
        let body = std::fs::read(dir.join("raw").join(s.raw.as_deref()?)).ok()?;
        Some(Fetched {
            url: s.url.clone(),
            status: 200,
            content_type: s.content_type.clone(),
            charset: s.charset.clone(),
            filename: s.filename.clone(),
            etag: s.etag.clone(),
            last_modified: s.last_modified.clone(),
            body,
        })
    };

    for s in items {
        let Some(f) = fetched_of(s) else {
            report
                .skipped
                .push((s.url.clone(), "no raw response kept".into()));
            continue;
        };
        let doc = match item_document(p, &s.url, &f) {
            Ok((d, _)) => d,
            Err(reason) => {
                report.skipped.push((s.url.clone(), reason));
                continue;
            }
        };
        report.store(store, &doc);
        for a in state
            .seen
            .values()
            .filter(|a| a.kind == "attachment" && a.parent.as_deref() == Some(doc.id.as_str()))
        {
            match fetched_of(a)
                .ok_or_else(|| "no raw response kept".to_string())
                .and_then(|af| attachment_document(p, &a.url, &af, &doc, opts.enricher.as_deref()))
            {
                Ok(ad) => {
                    report.store(store, &ad);
                }
                Err(reason) => report.skipped.push((a.url.clone(), reason)),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_counts_are_removed() {
        let re = volatile().unwrap();
        assert_eq!(
            re.replace_all("Date : 2018.06.26 Read : 16466", "").trim(),
            "Date : 2018.06.26"
        );
        assert_eq!(
            re.replace_all("등록일 2019-03-20 조회수 1,234", "").trim(),
            "등록일 2019-03-20"
        );
        assert_eq!(re.replace_all("Visitas: 77 hoy", "").trim(), "hoy");
    }

    #[test]
    fn item_links_in_scripts_and_onclicks_become_urls() {
        let toml = r#"
[[source]]
name = "board"
[source.list]
url = "http://127.0.0.1:9/list.do?page={page}"
[source.items]
selector = "td a"
pattern = "view\\.do"
js_capture = "fn_view\\('(\\d+)'\\)"
js_template = "http://127.0.0.1:9/view.do?id={1}"
"#;
        let file: super::super::profile::SourcesFile = toml::from_str(toml).unwrap();
        let page = r##"<table><tr>
            <td><a href="javascript:fn_view('1')">one</a></td>
            <td><a href="#" onclick="fn_view('2'); return false;">two</a></td>
            <td><a href="javascript:void(0)" onclick="fn_view('3')">three</a></td>
            <td><a href="javascript:void(0)">nothing to capture</a></td>
            <td><a href="/view.do?id=4">four</a></td>
            <td><a href="/elsewhere.do">not an item</a></td>
        </tr></table>"##;
        let urls = item_urls(&file.sources[0], "http://127.0.0.1:9/list.do?page=1", page).unwrap();
        let ids: Vec<&str> = urls.iter().filter_map(|u| u.rsplit('=').next()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"], "{urls:?}");
    }

    #[test]
    fn allowed_hosts_may_name_a_port() {
        let hosts = vec![
            "example.org".to_string(),
            "Board.example.org:8080".to_string(),
        ];
        assert!(host_allowed(&hosts, "https://example.org/a"));
        assert!(host_allowed(&hosts, "http://example.org:9000/a"));
        assert!(host_allowed(&hosts, "http://board.example.org:8080/list"));
        assert!(!host_allowed(&hosts, "http://board.example.org:8081/list"));
        assert!(!host_allowed(&hosts, "http://board.example.org/list"));
        assert!(!host_allowed(&hosts, "http://other.example.org/"));
        assert!(!host_allowed(&hosts, "not a url"));
    }

    #[test]
    fn twins_share_a_stem() {
        assert_eq!(
            stem("보도자료(파라과이).hwp"),
            stem("보도자료(파라과이).PDF")
        );
        assert!(twin_rank(Some(Format::Hwpx)) < twin_rank(Some(Format::Hwp)));
    }
}
