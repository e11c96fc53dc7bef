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

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::canonical::canonical;
use super::documents::*;
use super::fetch::{FetchConfig, FetchError, Fetched, Fetcher, Pace};
use super::profile::{Profile, ProfileError};
use super::state::*;
use crate::document::Document;
use crate::enrich::Enricher;
use crate::extract::{self, html};
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
