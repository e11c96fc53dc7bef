//! The HTTP server: a thin axum shell over the engine. JSON API routes of
//! the contract and the web page, JSON errors (4xx for anything a client
//! can send), a cap on concurrent searches, request logs, security headers,
//! and an index that is swapped without a restart when a reindex puts a new
//! generation in service.

mod openapi;
mod page;
mod text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::Semaphore;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::document::Document;
use crate::engine::Engine;
use crate::enrich::UiLang;
use crate::index::IndexDir;
use crate::index::search::{SearchError, SearchRequest, SearchResponse, Searcher, Stats};

/// How often the server looks for a new index generation.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);
/// Searches are CPU-bound: running more at once than there are cores only
/// makes every one of them slower. The rest wait their turn, first come
/// first served, which keeps the slowest answers close to the typical one.
fn max_concurrent_searches() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
/// A search that waits longer than this for its turn is answered with 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every request shares.
pub struct AppState {
    searcher: ArcSwap<Searcher>,
    dir: IndexDir,
    engine: Engine,
    corpus: PathBuf,
    permits: Semaphore,
}

impl AppState {
    pub fn new(searcher: Searcher, dir: IndexDir, engine: Engine, corpus: PathBuf) -> Self {
        Self {
            searcher: ArcSwap::from_pointee(searcher),
            dir,
            engine,
            corpus,
            permits: Semaphore::new(max_concurrent_searches()),
        }
    }

    /// The searcher now in service.
    pub fn searcher(&self) -> Arc<Searcher> {
        self.searcher.load_full()
    }

    /// Open the generation in service if it is not the one being served, or
    /// if it was updated in place since (`egovkb index` adds to it).
    pub fn refresh(&self) -> Option<String> {
        let current = self.dir.current()?;
        let served = self.searcher.load();
        if current == served.meta().generation {
            let updated = self.dir.meta(&current)?.updated;
            if updated == served.meta().updated {
                return None;
            }
        }
        match Searcher::open(&self.dir, self.engine.clone(), Some(&self.corpus)) {
            Ok(s) => {
                self.searcher.store(Arc::new(s));
                tracing::info!(generation = %current, "now serving a new index generation");
                Some(current)
            }
            Err(e) => {
                tracing::warn!(error = %e, "a new generation could not be opened; still serving the old one");
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
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => Self::bad_request(m),
            SearchError::NotFound(_) => Self {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: e.to_string(),
            },
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

/// Run search work under the concurrency cap, on the thread that serves the
/// request. A search is a millisecond or so of CPU (about 0.1 s at worst,
/// with the longest query and the deepest page the limits allow), so it
/// runs in place: handing it to a blocking thread and back cost a quarter
/// of the server's throughput (measured; BENCHMARKS.md). The cap, one
/// search per core, keeps the runtime's threads from all being busy with
/// searches beyond what the cores can run; the rest wait their turn, first
/// come first served, at most `REQUEST_TIMEOUT`.
async fn searching<T>(
    state: &Arc<AppState>,
    work: impl FnOnce(Arc<Searcher>) -> Result<T, SearchError>,
) -> Result<T, ApiError> {
    let permit = match tokio::time::timeout(REQUEST_TIMEOUT, state.permits.acquire()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_)) => {
            return Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "unavailable",
                message: "the server is shutting down".into(),
            });
        }
        Err(_) => {
            return Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "timeout",
                message: "the server is too busy; try again".into(),
            });
        }
    };
    let searcher = state.searcher();
    // A bug that panics fails this request with a 503, not the connection.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(searcher)));
    drop(permit);
    match result {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => {
            tracing::error!("a search failed: it panicked");
            Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "unavailable",
                message: "the search could not be completed; try again".into(),
            })
        }
    }
}

#[utoipa::path(get, path = "/api/search", tag = "search", params(openapi::SearchParams),
    responses(
        (status = 200, description = "Ranked hits, what the query was understood as, and disjunctive facet counts", body = SearchResponse),
        (status = 400, description = "A bad parameter; the message says which", body = openapi::ErrorBody),
        (status = 503, description = "Too busy or too slow; try again", body = openapi::ErrorBody)))]
async fn search(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let req = SearchRequest::from_params(&params).map_err(ApiError::bad_request)?;
    let response = searching(&state, move |s| s.search(&req)).await?;
    Ok(Json(response).into_response())
}

#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The whole document", body = Document),
        (status = 404, description = "No document with this id", body = openapi::ErrorBody)))]
async fn document(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let doc = searching(&state, move |s| s.document(&id)).await?;
    Ok(Json(doc).into_response())
}

#[utoipa::path(get, path = "/api/documents/{id}/related", tag = "documents",
    params(("id" = String, Path, description = "Document id"),
           ("limit" = Option<usize>, Query, description = "At most this many (default 10, at most 100)")),
    responses(
        (status = 200, description = "Documents like this one: shared topics, countries and terms", body = openapi::Related),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody),
        (status = 404, description = "No document with this id", body = openapi::ErrorBody)))]
async fn related(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut limit = 10;
    for (k, v) in &params {
        match k.as_str() {
            "limit" => {
                limit = v.parse().map_err(|_| {
                    ApiError::bad_request(format!("limit must be a whole number, not `{v}`"))
                })?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter `{other}`"
                )));
            }
        }
    }
    let hits = searching(&state, move |s| s.related(&id, limit)).await?;
    Ok(Json(openapi::Related { hits }).into_response())
}

#[utoipa::path(get, path = "/api/stats", tag = "search",
    params(("ui_lang" = Option<String>, Query, description = "Language of labels: en, es or ko")),
    responses(
        (status = 200, description = "Counts per facet, index generation, corpus size", body = Stats),
        (status = 400, description = "A bad parameter", body = openapi::ErrorBody)))]
async fn stats(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut ui = UiLang::En;
    for (k, v) in &params {
        match k.as_str() {
            "ui_lang" | "ui" => {
                ui = UiLang::parse(v)
                    .ok_or_else(|| ApiError::bad_request("ui_lang must be en, es or ko"))?
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter `{other}`"
                )));
            }
        }
    }
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
        (status = 400, description = "The page with what was wrong", content_type = "text/html")))]
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
        (_, Ok(req)) => req,
    };
    match searching(&state, move |s| s.search(&req)).await {
        Ok(r) => Html(page::results(&q, &r, &state.engine).into_string()).into_response(),
        Err(e) => e.page(&q),
    }
}

#[utoipa::path(get, path = "/doc/{id}", tag = "page",
    params(("id" = String, Path, description = "Document id"),
           ("ui" = Option<String>, Query, description = "Interface language: en, es or ko")),
    responses(
        (status = 200, description = "The document page", content_type = "text/html"),
        (status = 404, description = "No document with this id", content_type = "text/html")))]
/// `GET /doc/{id}`: one document with its related documents.
async fn document_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let raw = params.map(|Query(p)| p).unwrap_or_default();
    let ui = raw
        .iter()
        .find(|(k, _)| k == "ui" || k == "ui_lang")
        .and_then(|(_, v)| UiLang::parse(v))
        .unwrap_or_else(|| default_ui(&headers));
    let (q, _) = page::PageQuery::parse(&[], ui);
    let found = searching(&state, move |s| {
        let doc = s.document(&id)?;
        let related = s.related(&id, 5)?;
        Ok((doc, related))
    })
    .await;
    match found {
        Ok((doc, related)) => {
            Html(page::document(ui, &doc, &related, &state.engine).into_string()).into_response()
        }
        Err(e) => e.page(&q),
    }
}

#[utoipa::path(get, path = "/assets/{name}", tag = "page",
    params(("name" = String, Path, description = "`style.css` or `app.js`")),
    responses(
        (status = 200, description = "The page's stylesheet or script"),
        (status = 404, description = "No such asset", content_type = "text/html")))]
/// The page's stylesheet and script, compiled into the binary.
async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "style.css" => (include_str!("assets/style.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return not_found_response("/assets/"),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "An index is open", body = openapi::Health)))]
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let s = state.searcher();
    Json(openapi::Health {
        status: "ok".into(),
        generation: s.meta().generation.clone(),
        documents: s.meta().documents,
    })
    .into_response()
}

fn not_found_response(path: &str) -> Response {
    let e = ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: format!("no such route: {path}"),
    };
    if path.starts_with("/api/") || path == "/healthz" {
        e.into_response()
    } else {
        e.page(&page::PageQuery::parse(&[], UiLang::En).0)
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    not_found_response(uri.path())
}

/// One log line per request: method, path and query, status, time taken.
async fn access_log(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = next.run(req).await;
    tracing::info!(
        target: "egovkb::server::access",
        %method,
        %uri,
        status = response.status().as_u16(),
        ms = format!("{:.2}", started.elapsed().as_secs_f64() * 1e3),
        "request"
    );
    response
}

/// What the browser may load: only this server's own stylesheet and script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/search", get(search))
        .route("/api/documents/{id}", get(document))
        .route("/api/documents/{id}/related", get(related))
        .route("/api/stats", get(stats))
        .route("/api/openapi.json", get(openapi::spec))
        .route("/", get(home))
        .route("/doc/{id}", get(document_page))
        .route("/assets/{name}", get(asset))
        .fallback(not_found)
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
        .layer(axum::middleware::from_fn(access_log))
        .with_state(state)
}

/// Serve until Ctrl-C or SIGTERM; swap in new index generations as they appear.
pub async fn serve(addr: SocketAddr, state: Arc<AppState>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, state).await
}

/// Serve on a listener already bound (tests bind 127.0.0.1:0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    let watcher = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let s = watcher.clone();
            let _ = tokio::task::spawn_blocking(move || s.refresh()).await;
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
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
