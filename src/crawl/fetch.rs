//! Fetching politely: robots.txt per host (cached), one request at a time
//! per host spaced by the rate limit or the host's crawl-delay, a real
//! User-Agent, timeouts, retries with backoff on 429 and 5xx honouring
//! Retry-After, redirects followed by hand (capped, loops detected, robots
//! checked at every hop), a cap on body size, cookies kept within a crawl,
//! conditional requests (ETag, Last-Modified), and the file name from
//! Content-Disposition (RFC 6266 / 5987, Korean names included). The pace
//! and the robots rules of a host are shared by every fetcher made with the
//! same [`Pace`], so that profiles crawling one host keep one pace.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::robots::Robots;

/// The product token robots.txt rules name.
pub const AGENT_TOKEN: &str = "egovkb";

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub timeout: Duration,
    /// Largest body of a file (PDF, office, HWP); a download stops there.
    pub max_bytes: u64,
    /// Largest body of a page (HTML, XML, text): far lower, a page that
    /// big is not an article.
    pub max_page_bytes: u64,
    pub max_redirects: usize,
    /// Retries after the first attempt, on 429, 5xx and network errors.
    pub retries: u32,
    /// First backoff; doubled at each retry.
    pub backoff: Duration,
    /// Longest Retry-After honoured (longer: give up on the URL).
    pub max_retry_after: Duration,
    /// Default spacing of requests to one host.
    pub min_interval: Duration,
    /// Hosts a redirect may lead to (lower case); any when `None`.
    pub redirect_hosts: Option<Vec<String>>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            user_agent: format!(
                "{AGENT_TOKEN}/{} (e-government knowledge base crawler; polite: robots.txt, one request a second)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: Duration::from_secs(30),
            max_bytes: 50 * 1024 * 1024,
            max_page_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            retries: 3,
            backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(120),
            min_interval: Duration::from_secs(1),
            redirect_hosts: None,
        }
    }
}

/// A response worth keeping.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// After redirects.
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub filename: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Vec<u8>,
}

/// Why a URL was not fetched: the crawl reports it and goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("disallowed by robots.txt")]
    Robots,
    /// Over the cap of its kind: the size when the server said it, and the
    /// cap, in bytes. Nothing of it is kept.
    #[error("too large ({}, cap {})", .size.map_or_else(|| format!("over {}", mb(*.cap)), mb), mb(*.cap))]
    TooLarge { size: Option<u64>, cap: u64 },
    /// The connection closed before the body the server announced was
    /// all there: what came, and what was announced (when it was).
    #[error("truncated (got {got} bytes{})", .expected.map_or_else(String::new, |e| format!(" of {e}")))]
    Truncated { got: u64, expected: Option<u64> },
    #[error("redirect loop")]
    RedirectLoop,
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("HTTP {0}")]
    Http(u16),
    #[error("network: {0}")]
    Network(String),
    #[error("not modified")]
    NotModified,
    #[error("not a web address: {0}")]
    BadUrl(String),
    #[error("redirected to {0}, on a host the profile does not allow")]
    OffHost(String),
}

impl FetchError {
    /// Whether asking again soon would most likely fail the same way: the
    /// page is too large, gone or forbidden (4xx), or redirects in circles
    /// or off the site. A 5xx after retries, a 408 or 429, a network error
    /// or a truncated body may pass; robots.txt and a bad address are
    /// decided before any request, and neither kind applies.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::TooLarge { .. }
            | Self::RedirectLoop
            | Self::TooManyRedirects(_)
            | Self::OffHost(_) => true,
            Self::Http(code) => (400..500).contains(code) && !matches!(code, 408 | 429),
            _ => false,
        }
    }

    /// Whether the failure is worth remembering (it cost a request).
    pub fn is_remembered(&self) -> bool {
        !matches!(self, Self::Robots | Self::BadUrl(_) | Self::NotModified)
    }
}

/// Bytes in megabytes, as a report says them.
fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Per host: when the next request may go, the slowest spacing any
/// fetcher asked of it, and the rules.
#[derive(Default)]
struct Host {
    next_at: Option<Instant>,
    interval: Duration,
    robots: Arc<std::sync::OnceLock<Robots>>,
}

/// The hosts' pace and robots rules, shared by the fetchers made with it
/// (a clone shares): two profiles that crawl one host, one after the other
/// or at once, keep the slower one's spacing between any two requests and
/// read its robots.txt once.
#[derive(Clone, Default)]
pub struct Pace(Arc<Mutex<HashMap<String, Host>>>);

impl Pace {
    /// Keep at least `interval` between two requests to `url`'s host,
    /// from the first request on: given for every profile before any
    /// crawls, the host keeps the slowest pace from its first request.
    pub fn slow_down(&self, url: &str, interval: Duration) {
        if let Ok(u) = Url::parse(url)
            && let Ok(mut hosts) = self.0.lock()
        {
            let h = hosts.entry(Fetcher::host_key(&u)).or_default();
            h.interval = h.interval.max(interval);
        }
    }
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts = self.0.lock().map(|h| h.len()).unwrap_or(0);
        write!(f, "Pace({hosts} hosts)")
    }
}

pub struct Fetcher {
    agent: ureq::Agent,
    cfg: FetchConfig,
    hosts: Pace,
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Bytes of a file name in whatever charset the server used (UTF-8, else
/// detected: Korean servers send EUC-KR).
fn name_from_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => crate::extract::encoding::decode(bytes, None, false).0,
    }
}

/// The file name of a `Content-Disposition` header: `filename*` (RFC 5987,
/// `UTF-8''%ED%96%89…`) first, then `filename` (quoted or not, possibly
/// percent-encoded). Only the last path segment is kept.
pub fn content_disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for part in header.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim();
        if k == "filename*" {
            // charset'language'value
            let mut it = v.splitn(3, '\'');
            let charset = it.next().unwrap_or("");
            let _lang = it.next();
            let value = it.next().unwrap_or(v).trim_matches('"');
            let bytes = percent_decode(value);
            let name = encoding_rs::Encoding::for_label(charset.as_bytes())
                .map(|e| e.decode(&bytes).0.into_owned())
                .unwrap_or_else(|| name_from_bytes(&bytes));
            extended = Some(name);
        } else if k == "filename" {
            let v = v.trim_matches('"');
            plain = Some(if v.contains('%') {
                name_from_bytes(&percent_decode(v))
            } else {
                v.to_string()
            });
        }
    }
    let name = extended.or(plain)?;
    let name = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    (!name.is_empty()).then_some(name)
}

impl Fetcher {
    pub fn new(cfg: FetchConfig) -> Self {
        Self::with_pace(cfg, Pace::default())
    }

    /// A fetcher that keeps `pace` with every other fetcher sharing it.
    pub fn with_pace(cfg: FetchConfig, pace: Pace) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(cfg.timeout)
            .timeout(cfg.timeout)
            .redirects(0)
            .user_agent(&cfg.user_agent)
            .build();
        Self {
            agent,
            cfg,
            hosts: pace,
        }
    }

    pub fn config(&self) -> &FetchConfig {
        &self.cfg
    }

    fn host_key(u: &Url) -> String {
        format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        )
    }

    /// The robots rules of `u`'s host, fetched once.
    fn robots(&self, u: &Url) -> Robots {
        let key = Self::host_key(u);
        // The rules' cell of the host, filled once: a fetcher that asks
        // while another reads the file waits for it instead of reading it
        // again.
        let cell = match self.hosts.0.lock() {
            Ok(mut hosts) => hosts.entry(key).or_default().robots.clone(),
            Err(_) => Arc::default(),
        };
        cell.get_or_init(|| {
            let mut robots_url = u.clone();
            robots_url.set_path("/robots.txt");
            robots_url.set_query(None);
            robots_url.set_fragment(None);
            self.fetch_robots(robots_url)
        })
        .clone()
    }

    /// Fetch and parse a robots.txt, following up to five redirects (RFC
    /// 9309 2.3.1.2: an `http` host's rules often live at `https`, or at
    /// `www.`); more than five: no rules, as for a missing file.
    fn fetch_robots(&self, mut url: Url) -> Robots {
        const MAX_ROBOTS_REDIRECTS: usize = 5;
        for _ in 0..=MAX_ROBOTS_REDIRECTS {
            self.wait_turn(&url, None);
            let r = match self.agent.get(url.as_str()).call() {
                Ok(r) => r,
                Err(ureq::Error::Status(code, _)) => {
                    return Robots::from_fetch(Some(code), None, b"", AGENT_TOKEN);
                }
                Err(ureq::Error::Transport(_)) => {
                    return Robots::from_fetch(None, None, b"", AGENT_TOKEN);
                }
            };
            let status = r.status();
            if (300..400).contains(&status) {
                match r
                    .header("Location")
                    .and_then(|l| url.join(l).ok())
                    .filter(|next| matches!(next.scheme(), "http" | "https"))
                {
                    Some(next) => {
                        url = next;
                        continue;
                    }
                    None => return Robots::from_fetch(Some(404), None, b"", AGENT_TOKEN),
                }
            }
            let ct = r.header("Content-Type").map(str::to_string);
            let mut body = Vec::new();
            let read = r
                .into_reader()
                .take(super::robots::MAX_ROBOTS_BYTES as u64)
                .read_to_end(&mut body);
            return match read {
                Ok(_) => Robots::from_fetch(Some(status), ct.as_deref(), &body, AGENT_TOKEN),
                Err(_) => Robots::disallow_all(),
            };
        }
        Robots::from_fetch(Some(404), None, b"", AGENT_TOKEN)
    }

    /// Sleep until this host may be asked again, then book the next slot:
    /// the slowest spacing asked of the host so far (by this fetcher, by
    /// another sharing the pace, or by robots.txt's crawl-delay).
    fn wait_turn(&self, u: &Url, crawl_delay: Option<Duration>) {
        let asked = crawl_delay.map_or(self.cfg.min_interval, |d| d.max(self.cfg.min_interval));
        let key = Self::host_key(u);
        let wait = {
            let Ok(mut hosts) = self.hosts.0.lock() else {
                return;
            };
            let h = hosts.entry(key).or_default();
            h.interval = h.interval.max(asked);
            let now = Instant::now();
            let at = h.next_at.map_or(now, |t| t.max(now));
            h.next_at = Some(at + h.interval);
            at.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// Whether robots.txt lets us fetch `url`.
    pub fn allowed(&self, url: &str) -> bool {
        match Url::parse(url) {
            Ok(u) => {
                let path = match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_string(),
                };
                self.robots(&u).allowed(&path)
            }
            Err(_) => false,
        }
    }

    /// GET `url`, politely. `conditional`: the ETag and Last-Modified of the
    /// copy we have. A body cut short is asked for again, as a network
    /// error is.
    pub fn get(
        &self,
        url: &str,
        referer: Option<&str>,
        conditional: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, FetchError> {
        let mut backoff = self.cfg.backoff;
        let mut attempt = 0;
        loop {
            match self.follow(url, referer, conditional) {
                Err(FetchError::Truncated { .. }) if attempt < self.cfg.retries => {
                    tracing::debug!(url, "truncated body, asking again");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// One GET of `url`, redirects followed.
    fn follow(
        &self,
        url: &str,
        referer: Option<&str>,
        conditional: (Option<&str>, Option<&str>),
    ) -> Result<Fetched, FetchError> {
        let mut current = Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_string()))?;
        let mut seen = vec![current.to_string()];
        for _hop in 0..=self.cfg.max_redirects {
            if !matches!(current.scheme(), "http" | "https") {
                return Err(FetchError::BadUrl(current.to_string()));
            }
            if !self.allowed(current.as_str()) {
                return Err(FetchError::Robots);
            }
            let response = self.request(&current, referer, conditional)?;
            let status = response.status();
            if (300..400).contains(&status) && status != 304 {
                let location = response
                    .header("Location")
                    .ok_or(FetchError::Http(status))?
                    .to_string();
                let next = current
                    .join(&location)
                    .map_err(|_| FetchError::BadUrl(location.clone()))?;
                if seen.contains(&next.to_string()) {
                    return Err(FetchError::RedirectLoop);
                }
                if let Some(hosts) = &self.cfg.redirect_hosts
                    && !next
                        .host_str()
                        .is_some_and(|h| hosts.contains(&h.to_ascii_lowercase()))
                {
                    return Err(FetchError::OffHost(next.to_string()));
                }
                seen.push(next.to_string());
                current = next;
                continue;
            }
            if status == 304 {
                return Err(FetchError::NotModified);
            }
            return self.read(current, response);
        }
        Err(FetchError::TooManyRedirects(self.cfg.max_redirects))
    }

    /// One request with retries on 429, 5xx and network errors.
    fn request(
        &self,
        u: &Url,
        referer: Option<&str>,
        (etag, last_modified): (Option<&str>, Option<&str>),
    ) -> Result<ureq::Response, FetchError> {
        let delay = self.robots(u).crawl_delay;
        let mut backoff = self.cfg.backoff;
        let mut attempt = 0;
        loop {
            self.wait_turn(u, delay);
            let mut req = self.agent.get(u.as_str());
            if let Some(r) = referer {
                req = req.set("Referer", r);
            }
            if let Some(e) = etag {
                req = req.set("If-None-Match", e);
            }
            if let Some(lm) = last_modified {
                req = req.set("If-Modified-Since", lm);
            }
            let (error, wait) = match req.call() {
                Ok(r) => return Ok(r),
                Err(ureq::Error::Status(code, r)) if code == 429 || code >= 500 => {
                    let wait = r.header("Retry-After").and_then(retry_after);
                    (FetchError::Http(code), wait)
                }
                Err(ureq::Error::Status(code, _)) => return Err(FetchError::Http(code)),
                Err(ureq::Error::Transport(t)) => (FetchError::Network(t.to_string()), None),
            };
            if attempt >= self.cfg.retries {
                return Err(error);
            }
            let wait = match wait {
                Some(w) if w > self.cfg.max_retry_after => return Err(error),
                Some(w) => w,
                None => backoff,
            };
            tracing::debug!(url = %u, %error, wait_ms = wait.as_millis() as u64, "retrying");
            std::thread::sleep(wait);
            backoff *= 2;
            attempt += 1;
        }
    }

    fn read(&self, u: Url, r: ureq::Response) -> Result<Fetched, FetchError> {
        let content_type = r.header("Content-Type").map(str::to_string);
        let page = content_type.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("html") || t.contains("xml") || t.starts_with("text/")
        });
        let cap = if page {
            self.cfg.max_page_bytes
        } else {
            self.cfg.max_bytes
        };
        let announced = r
            .header("Content-Length")
            .and_then(|l| l.trim().parse::<u64>().ok());
        if let Some(len) = announced
            && len > cap
        {
            return Err(FetchError::TooLarge {
                size: Some(len),
                cap,
            });
        }
        let charset = content_type.as_deref().and_then(|ct| {
            ct.split(';')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, c)| c.trim().trim_matches('"').to_string())
        });
        let filename = r
            .header("Content-Disposition")
            .and_then(content_disposition_filename);
        let etag = r.header("ETag").map(str::to_string);
        let last_modified = r.header("Last-Modified").map(str::to_string);
        let status = r.status();
        let mut body = Vec::new();
        // Read up to the cap and one byte: the download stops there. A
        // connection closed early (before the announced length, or inside
        // a chunk) leaves a body cut short: nothing of it is kept. A server
        // that stops sending is a timeout, not a cut.
        if let Err(e) = r.into_reader().take(cap + 1).read_to_end(&mut body) {
            return Err(match e.kind() {
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    FetchError::Network(format!("reading the body: {e}"))
                }
                _ => FetchError::Truncated {
                    got: body.len() as u64,
                    expected: announced,
                },
            });
        }
        if body.len() as u64 > cap {
            return Err(FetchError::TooLarge { size: None, cap });
        }
        if let Some(expected) = announced
            && (body.len() as u64) < expected
        {
            return Err(FetchError::Truncated {
                got: body.len() as u64,
                expected: Some(expected),
            });
        }
        Ok(Fetched {
            url: u.to_string(),
            status,
            content_type,
            charset,
            filename,
            etag,
            last_modified,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_content_disposition() {
        let f = content_disposition_filename;
        assert_eq!(
            f("attachment; filename*=UTF-8''%ED%96%89%EC%A0%95%EC%95%88%EC%A0%84%EB%B6%80.hwp")
                .as_deref(),
            Some("행정안전부.hwp")
        );
        assert_eq!(
            f(r#"attachment; filename="report.pdf"; filename*=UTF-8''informe%20a%C3%B1o.pdf"#)
                .as_deref(),
            Some("informe año.pdf")
        );
        // EUC-KR bytes, percent-encoded, as Korean boards send them.
        let (euc, _, _) = encoding_rs::EUC_KR.encode("보도자료 전자정부.hwp");
        let encoded: String = euc.iter().map(|b| format!("%{b:02X}")).collect();
        assert_eq!(
            f(&format!("attachment; filename=\"{encoded}\"")).as_deref(),
            Some("보도자료 전자정부.hwp")
        );
        assert_eq!(
            f("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(f("inline").as_deref(), None);
    }

    #[test]
    fn retry_after_in_seconds_or_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
