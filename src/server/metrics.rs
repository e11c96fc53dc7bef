//! `GET /metrics`: what an operator graphs, in Prometheus's text format
//! (version 0.0.4). Every label takes a bounded set of values: routes are
//! the server's route templates (anything else is `other`), methods
//! `GET`/`HEAD`/`other`, statuses the HTTP codes the server answers.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::core::relevance::MatchedBy;
use crate::index::search::{Health, SearchMode, SearchResponse};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The route template of a request path.
pub fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        "/api/search" => "/api/search",
        "/api/stats" => "/api/stats",
        "/api/openapi.json" => "/api/openapi.json",
        "/api/feed" => "/api/feed",
        "/api/export" => "/api/export",
        _ => {
            let one_segment = |prefix: &str| {
                path.strip_prefix(prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            };
            if let Some(rest) = path.strip_prefix("/api/documents/") {
                match rest.split_once('/') {
                    None if !rest.is_empty() => "/api/documents/{id}",
                    Some((id, "related")) if !id.is_empty() => "/api/documents/{id}/related",
                    _ => "other",
                }
            } else if one_segment("/doc/") {
                "/doc/{id}"
            } else if one_segment("/assets/") {
                "/assets/{name}"
            } else if one_segment("/original/") {
                "/original/{id}"
            } else {
                "other"
            }
        }
    }
}

fn method_of(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        _ => "other",
    }
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    /// (route, method, status) → requests.
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Mode → searches; how hits matched → hits.
    searches: Mutex<BTreeMap<&'static str, u64>>,
    matched: Mutex<BTreeMap<&'static str, u64>>,
    /// Status → requests refused before routing; connections refused.
    refused: Mutex<BTreeMap<u16, u64>>,
    shed: AtomicU64,
    /// Connections open now: the one count, which the connection cap
    /// (`conn::Gate`) also checks and moves.
    open: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    /// A request answered by the application.
    pub fn request(&self, path: &str, method: &axum::http::Method, status: u16, took: Duration) {
        let route = route_of(path);
        *lock(&self.requests)
            .entry((route, method_of(method), status))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let mut latency = lock(&self.latency);
        let h = latency.entry(route).or_default();
        for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// A search answered: its mode, and how its hits matched.
    pub fn search(&self, response: &SearchResponse) {
        let mode = match response.interpreted.mode {
            SearchMode::Lexical => "lexical",
            SearchMode::Semantic => "semantic",
            SearchMode::Hybrid => "hybrid",
        };
        *lock(&self.searches).entry(mode).or_default() += 1;
        let mut matched = lock(&self.matched);
        for hit in &response.hits {
            let by = match hit.matched.as_ref().map(|m| m.by) {
                Some(MatchedBy::Words) => "words",
                Some(MatchedBy::Concept) => "concept",
                Some(MatchedBy::Meaning) => "meaning",
                Some(MatchedBy::Both) => "both",
                None => "unsaid",
            };
            *matched.entry(by).or_default() += 1;
        }
    }

    /// A request refused before routing.
    pub fn refused(&self, status: u16) {
        *lock(&self.refused).entry(status).or_default() += 1;
    }

    /// A connection refused at the door (the cap).
    pub fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// The count of open connections.
    pub fn open_connections(&self) -> &AtomicUsize {
        &self.open
    }

    /// The text a scrape gets; `health` describes the index in service
    /// (none when it does not answer), `age` how long ago it was updated.
    pub fn render(&self, health: Option<&Health>, age: Option<Duration>) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        family(
            &mut out,
            "egovkb_searches_total",
            "counter",
            "Searches answered, by mode.",
        );
        for (mode, n) in lock(&self.searches).iter() {
            let _ = writeln!(out, "egovkb_searches_total{{mode=\"{mode}\"}} {n}");
        }
        family(
            &mut out,
            "egovkb_hits_total",
            "counter",
            "Hits returned, by how they matched the query.",
        );
        for (by, n) in lock(&self.matched).iter() {
            let _ = writeln!(out, "egovkb_hits_total{{matched=\"{by}\"}} {n}");
        }
        family(
            &mut out,
            "egovkb_refused_requests_total",
            "counter",
            "Requests refused before routing (408, 411, 413, 414, 431, 400).",
        );
        for (status, n) in lock(&self.refused).iter() {
            let _ = writeln!(
                out,
                "egovkb_refused_requests_total{{status=\"{status}\"}} {n}"
            );
        }
        family(
            &mut out,
            "egovkb_shed_connections_total",
            "counter",
            "Connections refused with 503 at the connection cap.",
        );
        let _ = writeln!(
            out,
            "egovkb_shed_connections_total {}",
            self.shed.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "egovkb_open_connections",
            "gauge",
            "Connections open now.",
        );
        let _ = writeln!(
            out,
            "egovkb_open_connections {}",
            self.open.load(Ordering::Relaxed)
        );
        if let Some(h) = health {
            render_index(&mut out, h, age);
        }
        out
    }

    fn render_requests(&self, out: &mut String) {
        family(
            out,
            "egovkb_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status.",
        );
        for ((route, method, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "egovkb_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        family(
            out,
            "egovkb_http_request_duration_seconds",
            "histogram",
            "Time from a request's head to its answer, by route template.",
        );
        for (route, h) in lock(&self.latency).iter() {
            let name = "egovkb_http_request_duration_seconds";
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", h.count);
        }
    }
}

fn render_index(out: &mut String, h: &Health, age: Option<Duration>) {
    family(
        out,
        "egovkb_index_info",
        "gauge",
        "The index generation in service.",
    );
    let generation: String = h
        .generation
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
        .collect();
    let _ = writeln!(out, "egovkb_index_info{{generation=\"{generation}\"}} 1");
    family(
        out,
        "egovkb_documents",
        "gauge",
        "Documents in the index in service.",
    );
    let _ = writeln!(out, "egovkb_documents {}", h.documents);
    family(
        out,
        "egovkb_passages",
        "gauge",
        "Passages searched by meaning.",
    );
    let _ = writeln!(out, "egovkb_passages {}", h.semantic.passages);
    if let Some(age) = age {
        family(
            out,
            "egovkb_index_age_seconds",
            "gauge",
            "Seconds since the index in service was last updated.",
        );
        let _ = writeln!(out, "egovkb_index_age_seconds {}", age.as_secs());
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates_and_anything_else_is_other() {
        assert_eq!(route_of("/api/documents/x"), "/api/documents/{id}");
        assert_eq!(
            route_of("/api/documents/x/related"),
            "/api/documents/{id}/related"
        );
        assert_eq!(route_of("/api/documents/x/y"), "other");
        assert_eq!(route_of("/doc/abc"), "/doc/{id}");
        assert_eq!(route_of("/assets/app.js"), "/assets/{name}");
        assert_eq!(route_of("/wp-login.php"), "other");
        assert_eq!(route_of("/doc/"), "other");
    }

    #[test]
    fn the_histogram_counts_each_request_in_every_bucket_above_it() {
        let m = Metrics::default();
        let get = axum::http::Method::GET;
        m.request("/healthz", &get, 200, Duration::from_millis(3));
        m.request("/healthz", &get, 200, Duration::from_millis(30));
        let text = m.render(None, None);
        let bucket = |le: &str| {
            text.lines()
                .find(|l| l.contains(&format!("le=\"{le}\"")))
                .and_then(|l| l.rsplit(' ').next())
                .map(str::to_string)
        };
        assert_eq!(bucket("0.001").as_deref(), Some("0"));
        assert_eq!(bucket("0.005").as_deref(), Some("1"));
        assert_eq!(bucket("0.05").as_deref(), Some("2"));
        assert_eq!(bucket("+Inf").as_deref(), Some("2"));
        assert!(text.contains(
            "egovkb_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
    }
}
