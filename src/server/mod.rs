//! The HTTP server: a thin axum shell over the engine. JSON API routes of
//! the contract and the web page, JSON errors (4xx for anything a client
//! can send), a cap on concurrent searches, request logs, security headers,
//! and an index that is swapped without a restart when a reindex puts a new
//! generation in service.

mod caching;
mod conn;
pub mod export;
mod limit;
mod metrics;
mod openapi;
mod page;
mod params;
mod text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Connections;
use crate::enrich::UiLang;
use crate::index::IndexDir;
use crate::index::search::{
    Backend, SearchError, SearchRequest, SearchResponse, Stats, TantivySearcher,
};

/// How often the server looks for a new index generation.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);
/// Searches are CPU-bound: running more at once than there are cores only
/// makes every one of them slower. One serving thread per core.
fn serving_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
/// A search that takes longer than this stops and is answered with 503.
const SEARCH_TIME_LIMIT: Duration = Duration::from_secs(10);

/// What every request shares.
pub struct AppState {
    served: Served,
    metrics: Arc<metrics::Metrics>,
    corpus: PathBuf,
    /// The corpus directory, resolved: files inside it are served.
    originals: Option<PathBuf>,
}

/// The engine that answers.
enum Served {
    /// The embedded index: its generation in service, swapped when a new
    /// one is put in service.
    Index {
        searcher: ArcSwap<TantivySearcher>,
        dir: IndexDir,
        /// The generation (and its update) that could not be opened: tried
        /// again, and reported again, only once it changes.
        failed: std::sync::Mutex<Option<(String, String)>>,
    },
    /// Another engine (a SolrCloud collection).
    Other(Arc<dyn Backend>),
}

impl AppState {
    pub fn new(searcher: TantivySearcher, dir: IndexDir, corpus: PathBuf) -> Self {
        Self {
            served: Served::Index {
                searcher: ArcSwap::from_pointee(searcher),
                dir,
                failed: Default::default(),
            },
            metrics: Default::default(),
            originals: corpus.canonicalize().ok(),
            corpus,
        }
    }

    /// Serve `backend` (a SolrCloud collection) instead of an index.
    pub fn with_backend(backend: Arc<dyn Backend>, corpus: PathBuf) -> Self {
        Self {
            served: Served::Other(backend),
            metrics: Default::default(),
            originals: corpus.canonicalize().ok(),
            corpus,
        }
    }

    /// Hits' `url` as a reader may see it, with the link to a corpus
    /// file: no server folder leaves the server.
    fn locate(&self, hits: &mut [crate::index::search::Hit]) {
        for h in hits {
            let (url, original) = page::public_location(&h.id, &h.url, self.originals.as_deref());
            h.url = url;
            h.original = original;
            for v in h.versions.iter_mut().chain(&mut h.languages) {
                v.url = page::public_location(&v.id, &v.url, self.originals.as_deref()).0;
            }
        }
    }

    /// What the answers of the index in service depend on: its generation
    /// and when it was last updated (none for SolrCloud, whose changes the
    /// server does not see).
    fn generation_tag(&self) -> Option<String> {
        match &self.served {
            Served::Index { searcher, .. } => {
                let searcher = searcher.load();
                let meta = searcher.meta();
                Some(format!("{}\u{0}{}", meta.generation, meta.updated))
            }
            Served::Other(_) => None,
        }
    }

    /// How long ago the index in service was last updated (embedded only).
    fn index_age(&self) -> Option<Duration> {
        let Served::Index { searcher, .. } = &self.served else {
            return None;
        };
        let updated = chrono::DateTime::parse_from_rfc3339(&searcher.load().meta().updated).ok()?;
        (chrono::Utc::now() - updated.with_timezone(&chrono::Utc))
            .to_std()
            .ok()
    }

    /// The engine now in service.
    pub fn backend(&self) -> Arc<dyn Backend> {
        match &self.served {
            Served::Index { searcher, .. } => searcher.load_full(),
            Served::Other(b) => b.clone(),
        }
    }

    /// Open the generation in service if it is not the one being served, or
    /// if it was updated in place since (`egovkb index` adds to it). A
    /// generation built with edited vocabularies (`egovkb reindex` after a
    /// change to the corpus's gazetteer or taxonomy) is opened with them,
    /// loaded again: query understanding follows the index. Event labels
    /// are read again with every new generation.
    pub fn refresh(&self) -> Option<String> {
        let Served::Index {
            searcher,
            dir,
            failed,
        } = &self.served
        else {
            return None;
        };
        let current = dir.current()?;
        let updated = dir.meta(&current)?.updated;
        let served = searcher.load_full();
        if current == served.meta().generation && updated == served.meta().updated {
            return None;
        }
        let key = (current.clone(), updated);
        if failed.lock().is_ok_and(|f| f.as_ref() == Some(&key)) {
            return None;
        }
        let started = std::time::Instant::now();
        // The corpus's vocabularies and event labels read again: a
        // generation built with edited ones is searched with them, and an
        // edited `events.toml` shows. When the index was built with the
        // vocabularies served (they were edited since), it keeps them.
        let opened = match served
            .engine()
            .with_vocabularies_of(Some(self.corpus.as_path()))
        {
            Ok(engine) => match TantivySearcher::open(dir, engine) {
                Err(crate::index::IndexError::Stale { .. }) => {
                    TantivySearcher::open(dir, served.engine().clone())
                }
                other => other,
            },
            Err(_) => TantivySearcher::open(dir, served.engine().clone()),
        };
        match opened {
            Ok(s) => {
                searcher.store(Arc::new(s));
                let ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
                tracing::info!(generation = %current, ms, "now serving a new index generation");
                Some(current)
            }
            Err(e) => {
                tracing::warn!(error = %e, "a new generation could not be opened; still serving the old one");
                if let Ok(mut f) = failed.lock() {
                    *f = Some(key);
                }
                None
            }
        }
    }
}

/// An error as the API reports it: `{"error": {"code", "message"}}`.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// A client's mistake. The message may quote what the client sent: it
    /// is cut to `MAX_MESSAGE` characters, control characters replaced.
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: echo(&message.into(), MAX_MESSAGE),
        }
    }
}

/// The longest error message, in characters.
const MAX_MESSAGE: usize = 300;

/// `s` as an answer may quote it: at most `max` characters (then "…"),
/// control characters as U+FFFD, so that nothing a client sent reaches a
/// page raw or makes an answer large.
fn echo(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => Self::bad_request(m),
            SearchError::TooSlow(_) => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "timeout",
                message: e.to_string(),
            },
            SearchError::NotFound(_) => Self {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: e.to_string(),
            },
            SearchError::Unavailable(m) => {
                tracing::warn!(error = %m, "search unavailable");
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "unavailable",
                    message: m,
                }
            }
            other => {
                tracing::error!(error = %other, "search failed");
                Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "unavailable",
                    message: "the search could not be completed; try again".into(),
                }
            }
        }
    }
}

impl ApiError {
    /// The same error as a web page.
    fn page(self, q: &page::PageQuery) -> Response {
        let body = page::error(q, self.status.as_u16(), &self.message);
        (self.status, Html(body.into_string())).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(openapi::ErrorBody {
                error: openapi::ErrorDetail {
                    code: self.code.into(),
                    message: self.message,
                },
            }),
        )
            .into_response()
    }
}

/// Run search work for a request. On the embedded index a search is a
/// millisecond or so of CPU (about 0.1 s at worst, with the longest query
/// and the deepest page the limits allow), so it runs in place, on the
/// thread that serves the request: handing it to a blocking thread and
/// back cost a quarter of the server's throughput (measured;
/// BENCHMARKS.md). Each serving thread runs one search at a time and there
/// is one per core (`serve`): that is the cap on concurrent searches. A
/// backend that waits on the network (SolrCloud) runs on the blocking
/// pool instead, so that a serving thread is not idle while a cluster
/// answers: many searches are then in flight at once.
async fn searching<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(Arc<dyn Backend>) -> Result<T, SearchError> + Send + 'static,
) -> Result<T, ApiError> {
    let backend = state.backend();
    if backend.waits_on_network() {
        match tokio::task::spawn_blocking(move || guarded(backend, work)).await {
            Ok(result) => result,
            Err(_) => Err(failed()),
        }
    } else {
        guarded(backend, work)
    }
}

/// `work`, a bug that panics failing this request with a 503, not the
/// connection.
fn guarded<T>(
    backend: Arc<dyn Backend>,
    work: impl FnOnce(Arc<dyn Backend>) -> Result<T, SearchError>,
) -> Result<T, ApiError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(backend))) {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => {
            tracing::error!("a search failed: it panicked");
            Err(failed())
        }
    }
}

fn failed() -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "the search could not be completed; try again".into(),
    }
}

#[utoipa::path(get, path = "/api/search", tag = "search", params(openapi::SearchParams),
    responses(
        (status = 200, description = "Ranked hits, what the query was understood as, and disjunctive facet counts", body = SearchResponse),
        (status = 304, description = "Not modified: the `ETag` sent in `If-None-Match` is this answer's"),
        (status = 400, description = "A bad parameter; the message says which", body = openapi::ErrorBody),
        (status = 429, description = "Too many searches from this address (when a rate is set); `Retry-After` says when to try again", body = openapi::ErrorBody),
        (status = 503, description = "The search took too long (`timeout`) or failed (`unavailable`); try again", body = openapi::ErrorBody)))]
async fn search(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut req = params::search_request(&params).map_err(ApiError::bad_request)?;
    req.time_limit = Some(SEARCH_TIME_LIMIT);
    let mut response = searching(&state, move |s| s.search(&req)).await?;
    state.metrics.search(&response);
    state.locate(&mut response.hits);
    Ok(Json(response).into_response())
}

/// The server's address as the client asked for it (for links in feeds
/// and exports): the `Host` header when it is a host name and port, the
/// scheme `https` when a proxy says so.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes() == b"https");
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// A search request from a route's parameters (`params.rs`).
fn request_of(
    route: &[params::Param],
    params: &[(String, String)],
) -> Result<SearchRequest, ApiError> {
    params::check(route, params).map_err(ApiError::bad_request)?;
    let search: Vec<(String, String)> = params
        .iter()
        .filter(|(n, _)| n != "format")
        .cloned()
        .collect();
    let mut req = params::build(&search).map_err(ApiError::bad_request)?;
    req.time_limit = Some(SEARCH_TIME_LIMIT);
    Ok(req)
}

#[utoipa::path(get, path = "/api/feed", tag = "search", params(openapi::FeedParams),
    responses(
        (status = 200, description = "An Atom feed of the search's newest documents (at most 50, by date): what the search counts, each entry's id its permalink", content_type = "application/atom+xml"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody),
        (status = 503, description = "The search failed; try again", body = openapi::ErrorBody)))]
async fn feed(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let req = request_of(&params::feed(), &params)?;
    let base = base_url(&headers);
    let self_path = uri
        .path_and_query()
        .map_or("/api/feed", |p| p.as_str())
        .to_string();
    let xml = searching(&state, move |s| {
        export::atom(s.as_ref(), req, &base, &self_path)
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/export", tag = "search", params(openapi::ExportParams),
    responses(
        (status = 200, description = "Every hit the search counts (at most 10,000), written as it is read: title, date, type, language, countries, topics, URL, permalink, page or slide, id",
            content((String = "text/csv"), (String = "application/jsonl"), (String = "application/x-research-info-systems"), (String = "application/x-bibtex"))),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody),
        (status = 503, description = "The search failed; try again", body = openapi::ErrorBody)))]
async fn export(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let req = request_of(&params::export(), &params)?;
    let format = params
        .iter()
        .rev()
        .find(|(n, _)| n == "format")
        .and_then(|(_, v)| export::Format::parse(v))
        .unwrap_or(export::Format::Csv);
    // The first part is made here, so that a search that fails is an error
    // answer, not a cut file.
    let mut stream = export::Export::new(state.backend(), req, format, base_url(&headers));
    let first = searching(&state, move |_| {
        let first = stream.next_chunk().transpose()?;
        Ok((first, stream))
    })
    .await?;
    let (first, rest) = first;
    let body = axum::body::Body::from_stream(FirstThen {
        first: first.map(Ok),
        rest,
    });
    let disposition = format!(
        "attachment; filename=\"egovkb-export.{}\"",
        format.extension()
    );
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A stream's first item, then the rest of it.
struct FirstThen<S> {
    first: Option<Result<String, SearchError>>,
    rest: S,
}

impl<S: futures_core::Stream<Item = Result<String, SearchError>> + Unpin> futures_core::Stream
    for FirstThen<S>
{
    type Item = Result<String, SearchError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.first.take() {
            Some(first) => std::task::Poll::Ready(Some(first)),
            None => std::pin::Pin::new(&mut this.rest).poll_next(cx),
        }
    }
}

#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The whole document; `url` as in a hit (no server folder), `original` the link to its file when it is one of the corpus", body = openapi::DocumentView),
        (status = 304, description = "Not modified"),
        (status = 400, description = "The id is not UTF-8 once percent-decoded", body = openapi::ErrorBody),
        (status = 404, description = "No document with this id", body = openapi::ErrorBody),
        (status = 503, description = "The search engine failed; try again", body = openapi::ErrorBody)))]
async fn document(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (mut document, (mut versions, mut languages)) =
        searching(&state, move |s| Ok((s.document(&id)?, s.versions(&id)))).await?;
    let (url, original) =
        page::public_location(&document.id, &document.url, state.originals.as_deref());
    document.url = url;
    for v in versions.iter_mut().chain(&mut languages) {
        v.url = page::public_location(&v.id, &v.url, state.originals.as_deref()).0;
    }
    Ok(Json(openapi::DocumentView {
        document,
        original,
        versions,
        languages,
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/documents/{id}/related", tag = "documents",
    params(("id" = String, Path, description = "Document id"), openapi::RelatedParams),
    responses(
        (status = 200, description = "Documents like this one: shared topics, countries and terms", body = openapi::Related),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody),
        (status = 404, description = "No document with this id", body = openapi::ErrorBody),
        (status = 503, description = "The search engine failed; try again", body = openapi::ErrorBody)))]
async fn related(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    params::check(&params::related(), &params).map_err(ApiError::bad_request)?;
    let limit = params
        .iter()
        .rev()
        .find_map(|(_, v)| v.parse().ok())
        .unwrap_or(10);
    let mut hits = searching(&state, move |s| s.related(&id, limit)).await?;
    state.locate(&mut hits);
    Ok(Json(openapi::Related { hits }).into_response())
}

#[utoipa::path(get, path = "/api/stats", tag = "search",
    params(openapi::StatsParams),
    responses(
        (status = 200, description = "Counts per facet, index generation, corpus size", body = Stats),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody),
        (status = 503, description = "The search engine failed; try again", body = openapi::ErrorBody)))]
async fn stats(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    params::check(&params::stats(), &params).map_err(ApiError::bad_request)?;
    let ui = params
        .iter()
        .rev()
        .find_map(|(_, v)| UiLang::parse(v))
        .unwrap_or(UiLang::En);
    let stats = searching(&state, move |s| s.stats(ui)).await?;
    Ok(Json(stats).into_response())
}

/// The interface language: `?ui=` first, then the browser's Accept-Language.
fn default_ui(headers: &HeaderMap) -> UiLang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(UiLang::En, text::from_accept_language)
}

#[utoipa::path(get, path = "/", tag = "page", params(openapi::PageParams),
    responses(
        (status = 200, description = "The search page", content_type = "text/html"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "The page with what was wrong", content_type = "text/html"),
        (status = 429, description = "Too many searches from this address (when a rate is set)", content_type = "text/html"),
        (status = 503, description = "The search took too long or failed; try again", content_type = "text/html")))]
/// `GET /`: the search page (an empty query browses, newest first).
async fn home(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let raw = params.map(|Query(p)| p);
    let (q, req) = page::PageQuery::parse(raw.as_deref().unwrap_or(&[]), default_ui(&headers));
    let req = match (raw, req) {
        (Err(e), _) => return ApiError::bad_request(e.body_text()).page(&q),
        (_, Err(e)) => return ApiError::bad_request(e).page(&q),
        (_, Ok(req)) => SearchRequest {
            time_limit: Some(SEARCH_TIME_LIMIT),
            ..req
        },
    };
    match searching(&state, move |s| Ok((s.search(&req)?, s))).await {
        Ok((r, s)) => {
            state.metrics.search(&r);
            let site = page::Site {
                engine: s.engine(),
                originals: state.originals.as_deref(),
            };
            Html(page::results(&q, &r, &site).into_string()).into_response()
        }
        Err(e) => e.page(&q),
    }
}

#[utoipa::path(get, path = "/doc/{id}", tag = "page",
    params(("id" = String, Path, description = "Document id"), openapi::DocumentPageParams),
    responses(
        (status = 200, description = "The document page", content_type = "text/html"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad parameter", content_type = "text/html"),
        (status = 404, description = "No document with this id", content_type = "text/html"),
        (status = 503, description = "The search engine failed; try again", content_type = "text/html")))]
/// `GET /doc/{id}`: one document with its related documents.
async fn document_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let raw: Vec<(String, String)> = match params {
        Ok(Query(p)) => p.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        Err(e) => {
            let q = page::PageQuery::parse(&[], default_ui(&headers)).0;
            return ApiError::bad_request(e.body_text()).page(&q);
        }
    };
    let ui = raw
        .iter()
        .filter(|(n, _)| n == "ui")
        .find_map(|(_, v)| UiLang::parse(v))
        .unwrap_or_else(|| default_ui(&headers));
    let query = raw
        .iter()
        .find(|(n, _)| n == "q")
        .map(|(_, v)| echo(v.trim(), MAX_MESSAGE).replace('\u{FFFD}', " "))
        .unwrap_or_default();
    let (q, _) = page::PageQuery::parse(&[], ui);
    if let Err(e) = params::check(&params::document_page(), &raw) {
        return ApiError::bad_request(e).page(&q);
    }
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return ApiError::bad_request(e.body_text()).page(&q),
    };
    let asked = query.clone();
    let found = searching(&state, move |s| {
        let doc = s.document(&id)?;
        let related = s.related(&id, 5)?;
        let versions = (s.versions(&id), s.nearest_passage(&id, &asked));
        let parent = doc
            .parent
            .as_deref()
            .and_then(|p| s.document(p).ok())
            .map(|p| (p.id, p.title));
        Ok((doc, (related, versions), parent, s))
    })
    .await;
    match found {
        Ok((doc, (related, (versions, meaning)), parent, s)) => {
            let around = page::Around {
                related: &related,
                versions: &versions.0,
                languages: &versions.1,
                meaning,
                event_label: doc
                    .event
                    .as_deref()
                    .map(|e| s.engine().enricher.events.label(e, ui)),
                parent,
                base: base_url(&headers),
                query,
            };
            let site = page::Site {
                engine: s.engine(),
                originals: state.originals.as_deref(),
            };
            Html(page::document(ui, &doc, &around, &site).into_string()).into_response()
        }
        Err(e) => e.page(&q),
    }
}

#[utoipa::path(get, path = "/original/{id}", tag = "page",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The file a document was imported from, when it is inside the corpus directory (a PDF shown, other files downloaded)"),
        (status = 400, description = "The id is not UTF-8 once percent-decoded", content_type = "text/html"),
        (status = 404, description = "No such document, or its original is not a file of the corpus", content_type = "text/html"),
        (status = 503, description = "The search engine failed; try again", content_type = "text/html")))]
/// `GET /original/{id}`: the corpus's own file a document was imported
/// from (a country's slides, say). Files outside the corpus directory are
/// never served, whatever a document's `url` says.
async fn original(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let q = page::PageQuery::parse(&[], UiLang::En).0;
    let not_here = |message: &str| {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.to_string(),
        }
        .page(&q)
    };
    let Ok(Path(id)) = id else {
        return not_here("no such document");
    };
    let doc = match searching(&state, move |s| s.document(&id)).await {
        Ok(d) => d,
        Err(e) => return e.page(&q),
    };
    let inside = |root: &std::path::Path| {
        std::path::Path::new(&doc.url)
            .canonicalize()
            .ok()
            .filter(|p| p.starts_with(root) && p.is_file())
    };
    let Some(path) = state.originals.as_deref().and_then(inside) else {
        return not_here("this document's original is not a file of the corpus");
    };
    // Read in place, as searches run: a file of the corpus is megabytes.
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(_) => return not_here("this document's original could not be read"),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (kind, shown) = original_type(&name);
    let encoded = page::urlencode_path(&name);
    let disposition = format!(
        "{}; filename*=UTF-8''{encoded}",
        if shown { "inline" } else { "attachment" }
    );
    let mut response = ([(header::CONTENT_TYPE, kind)], bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    // An original page is shown as it is, but never runs anything here.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        ),
    );
    response
}

/// The content type of an original file by its name, and whether a browser
/// shows it (else it is downloaded).
fn original_type(name: &str) -> (&'static str, bool) {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => ("application/pdf", true),
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "txt" | "md" => ("text/plain; charset=utf-8", true),
        "pptx" => (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            false,
        ),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            false,
        ),
        "hwp" => ("application/x-hwp", false),
        "hwpx" => ("application/hwp+zip", false),
        _ => ("application/octet-stream", false),
    }
}

#[utoipa::path(get, path = "/assets/{name}", tag = "page",
    params(("name" = String, Path, description = "`style.css` or `app.js`")),
    responses(
        (status = 200, description = "The page's stylesheet or script"),
        (status = 304, description = "Not modified"),
        (status = 400, description = "The name is not UTF-8 once percent-decoded", content_type = "text/html"),
        (status = 404, description = "No such asset", content_type = "text/html")))]
/// The page's stylesheet and script, compiled into the binary. The page
/// asks for them by a URL that names their version (`?v=`): such an answer
/// never changes and is cached for a year; without it, caches check.
async fn asset(
    Path(name): Path<String>,
    query: axum::extract::RawQuery,
    headers: HeaderMap,
) -> Response {
    let (body, kind) = match name.as_str() {
        "style.css" => (page::STYLE, "text/css; charset=utf-8"),
        "app.js" => (page::SCRIPT, "text/javascript; charset=utf-8"),
        _ => return not_found_response("/assets/"),
    };
    let version = page::assets_version();
    let versioned = query
        .0
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == format!("v={version}")));
    let tag = format!("\"{version}\"");
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let validators = [(header::CACHE_CONTROL, cache), (header::ETAG, tag.as_str())];
    if caching::none_match(&headers, &tag) {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (validators, [(header::CONTENT_TYPE, kind)], body).into_response()
}

#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses(
        (status = 200, description = "An index generation (or a SolrCloud collection, `solr:<name>`) is served", body = openapi::Health),
        (status = 503, description = "The SolrCloud cluster served from does not answer (`unavailable`)", body = openapi::ErrorBody)))]
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match searching(&state, |s| s.health()).await {
        Ok(h) => Json(openapi::Health {
            status: "ok".into(),
            generation: h.generation,
            documents: h.documents,
            semantic: h.semantic,
        })
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /metrics`: Prometheus's text format (src/server/metrics.rs).
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Counters and gauges in Prometheus's text format 0.0.4 (docs/operating.md)", content_type = "text/plain")))]
async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let health = searching(&state, |s| s.health()).await.ok();
    let text = state.metrics.render(health.as_ref(), state.index_age());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

fn not_found_response(path: &str) -> Response {
    let e = ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no such route: {}", echo(path, 100)),
    };
    if is_api(path) {
        e.into_response()
    } else {
        e.page(&page::PageQuery::parse(&[], UiLang::En).0)
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    not_found_response(uri.path())
}

/// A route asked with another method than GET (or HEAD): 405, with the
/// API's JSON error under `/api/`.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let e = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!(
            "{} is not allowed on {}: use GET",
            echo(method.as_str(), 20),
            echo(uri.path(), 100)
        ),
    };
    let mut response = if is_api(uri.path()) {
        e.into_response()
    } else {
        e.page(&page::PageQuery::parse(&[], UiLang::En).0)
    };
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// What every request passes before its route, in one layer: a path whose
/// percent-encoded bytes are not UTF-8 is refused the same way on every
/// route (400: the API's JSON error, or the page) before any route's own
/// parsing sees it; a search over its client's rate is refused
/// (`limit.rs`); an answer the client has already is `304` (`caching.rs`).
async fn front(
    State(front): State<Front>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !decoded_utf8(path) {
        let e = ApiError::bad_request("the path is not UTF-8 once percent-decoded");
        return if is_api(path) {
            e.into_response()
        } else {
            e.page(&page::PageQuery::parse(&[], UiLang::En).0)
        };
    }
    if let Some(refused) = front
        .limiter
        .as_deref()
        .and_then(|l| limit::refuse(l, peer.ip(), path))
    {
        return refused;
    }
    caching::conditional(&front.state, req, next).await
}

/// The state of [`front`].
#[derive(Clone)]
struct Front {
    state: Arc<AppState>,
    limiter: Option<Arc<limit::Limiter>>,
}

/// Whether `path`, percent-decoded, is UTF-8.
fn decoded_utf8(path: &str) -> bool {
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .is_ok()
}

/// One log line per request: method, path and query, status, time taken;
/// and the request counted in the metrics.
async fn access_log(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = next.run(req).await;
    state.metrics.request(
        uri.path(),
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    tracing::info!(
        target: "egovkb::server::access",
        %method,
        uri = %conn::loggable(uri.path_and_query().map_or("", |p| p.as_str())),
        status = response.status().as_u16(),
        ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1e3),
        "request"
    );
    response
}

/// Whether `path` is one of the API's (answered in JSON) rather than the
/// page's (answered in HTML).
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path == "/metrics"
}

/// The raw HTTP answer to a request refused before routing: the API's JSON
/// error, or the page's error page on the page's routes, with the headers
/// every answer has; the connection closes after it.
fn edge_response(r: &conn::Rejection) -> Vec<u8> {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
    let page_route = r
        .path
        .as_deref()
        .is_some_and(|p| p.starts_with('/') && !is_api(p));
    let (kind, body) = if page_route {
        let q = page::PageQuery::parse(&[], UiLang::En).0;
        let page = page::error(&q, status.as_u16(), &r.message).into_string();
        ("text/html; charset=utf-8", page)
    } else {
        let body = openapi::ErrorBody {
            error: openapi::ErrorDetail {
                code: r.code.into(),
                message: r.message.clone(),
            },
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        ("application/json", json)
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\
         cache-control: no-store\r\ncontent-security-policy: {CONTENT_SECURITY_POLICY}\r\n\
         x-content-type-options: nosniff\r\nreferrer-policy: same-origin\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        head.push_str(&format!("retry-after: {}\r\n", conn::retry_after()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// What the browser may load: only this server's own stylesheet and script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The routes.
fn router(state: Arc<AppState>, limiter: Option<Arc<limit::Limiter>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/api/search", get(search))
        .route("/api/documents/{id}", get(document))
        .route("/api/documents/{id}/related", get(related))
        .route("/api/stats", get(stats))
        .route("/api/feed", get(feed))
        .route("/api/export", get(export))
        .route("/api/openapi.json", get(openapi::spec))
        .route("/", get(home))
        .route("/doc/{id}", get(document_page))
        .route("/assets/{name}", get(asset))
        .route("/original/{id}", get(original))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Front {
                state: state.clone(),
                limiter,
            },
            front,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log,
        ))
        .with_state(state)
}

/// Serve on `listener` until Ctrl-C or SIGTERM, and swap in new index
/// generations as they appear. Blocks the calling thread.
///
/// One thread per core serves HTTP and runs searches, each with a
/// single-threaded runtime of its own and the connections it is given; an
/// acceptor hands each new connection to the next of them in turn. A
/// request is then read, searched and answered on one thread, without a
/// hand-over between threads, and each thread answers its connections in
/// the order their requests came. A work-stealing runtime was measured
/// slower and less even (BENCHMARKS.md): its threads took requests in
/// batches, in no particular order, so some waited twice as long as
/// others.
pub fn serve(listener: std::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    serve_with(listener, state, Connections::default())
}

/// `serve` with what a connection may hold.
pub fn serve_with(
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    connections: Connections,
) -> std::io::Result<()> {
    serve_until(listener, state, connections, shutdown_signal())
}

/// `serve_with`, until `stop` completes: requests in flight are answered,
/// then the threads end.
pub fn serve_until(
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    mut connections: Connections,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let room = conn::connection_room();
    if connections.max_connections > room {
        tracing::warn!(
            configured = connections.max_connections,
            room,
            "this process may not open that many files: fewer connections are taken"
        );
        connections.max_connections = room;
    }
    let limiter = limit::Limiter::new(connections.search_rate, connections.search_burst);
    let gate = conn::Gate::new(connections, state.metrics.clone());
    conn::widen_backlog(&listener);
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let (stopping, stop_rx) = tokio::sync::watch::channel(false);
    let mut handoffs = Vec::new();
    let mut threads = Vec::new();
    for i in 0..serving_threads() {
        let (tx, rx) = tokio::sync::mpsc::channel(CONNECTION_QUEUE);
        handoffs.push(tx);
        let state = state.clone();
        let mut stop = stop_rx.clone();
        let limits = gate.limits().clone();
        let limiter = limiter.clone();
        let thread = std::thread::Builder::new()
            .name(format!("egovkb-http-{i}"))
            .spawn(move || {
                runtime()?.block_on(async move {
                    let app = router(state, limiter).into_make_service_with_connect_info::<Peer>();
                    axum::serve(Assigned { rx, local, limits }, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop.wait_for(|&s| s).await;
                        })
                        .await
                })
            })?;
        threads.push(thread);
    }
    let accepted = runtime()?.block_on(accept(listener, state, gate, handoffs, stop));
    let _ = stopping.send(true);
    for thread in threads {
        match thread.join() {
            Ok(result) => result?,
            Err(_) => return Err(std::io::Error::other("a server thread panicked")),
        }
    }
    accepted
}

/// How many new connections may wait for their thread.
const CONNECTION_QUEUE: usize = 1024;
/// How many refused connections may be answered at once; beyond, they are
/// closed without an answer.
const SHEDDING: usize = 256;

/// A connection on its way to its serving thread.
type Handoff = (std::net::TcpStream, SocketAddr, conn::Slot);

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Accept connections and hand them to the serving threads in turn, until
/// `stop`; meanwhile, look for new index generations.
async fn accept(
    listener: std::net::TcpListener,
    state: Arc<AppState>,
    gate: Arc<conn::Gate>,
    handoffs: Vec<tokio::sync::mpsc::Sender<Handoff>>,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shedding = Arc::new(tokio::sync::Semaphore::new(SHEDDING));
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let watcher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let s = state.clone();
            let _ = tokio::task::spawn_blocking(move || s.refresh()).await;
        }
    });
    tokio::pin!(stop);
    let mut next = 0;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = match gate.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(why) => {
                if let Ok(permit) = shedding.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        conn::shed(stream, peer, why).await;
                        drop(permit);
                    });
                }
                continue;
            }
        };
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "taking a connection");
                continue;
            }
        };
        let Some(handoff) = handoffs.get(next) else {
            break;
        };
        if handoff.send((stream, peer, slot)).await.is_err() {
            return Err(std::io::Error::other("a server thread stopped"));
        }
        next = (next + 1) % handoffs.len();
    }
    watcher.abort();
    Ok(())
}

/// The client's address, as handlers see it (`ConnectInfo<Peer>`).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Assigned>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Assigned>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The connections handed to one serving thread.
struct Assigned {
    rx: tokio::sync::mpsc::Receiver<Handoff>,
    local: SocketAddr,
    limits: Connections,
}

impl axum::serve::Listener for Assigned {
    type Io = conn::Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Some((stream, peer, slot)) = self.rx.recv().await else {
                // The acceptor has stopped: no more connections; the
                // shutdown signal ends the serving.
                return std::future::pending().await;
            };
            match tokio::net::TcpStream::from_std(stream) {
                Ok(io) => return (conn::Guarded::new(io, peer, slot, &self.limits), peer),
                Err(e) => tracing::warn!(error = %e, "taking a connection"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
