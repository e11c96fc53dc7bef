//! The HTTP server: a thin axum shell over the engine. JSON API routes of
//! the contract, JSON errors (4xx for anything a client can send), a cap on
//! concurrent searches, and an index that is swapped without a restart when
//! a reindex puts a new generation in service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::engine::Engine;
use crate::enrich::UiLang;
use crate::index::IndexDir;
use crate::index::search::{SearchError, SearchRequest, Searcher};

/// How often the server looks for a new index generation.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);
/// Searches running at once; more wait their turn.
const MAX_CONCURRENT_SEARCHES: usize = 64;
/// A search that takes longer than this is answered with 503.
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
            permits: Semaphore::new(MAX_CONCURRENT_SEARCHES),
        }
    }

    /// The searcher now in service.
    pub fn searcher(&self) -> Arc<Searcher> {
        self.searcher.load_full()
    }

    /// Open the generation in service if it is not the one being served.
    pub fn refresh(&self) -> Option<String> {
        let current = self.dir.current()?;
        if current == self.searcher.load().meta().generation {
            return None;
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// Run blocking search work off the async threads, under the concurrency cap.
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(Arc<Searcher>) -> Result<T, SearchError> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = state.permits.acquire().await.map_err(|_| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "the server is shutting down".into(),
    })?;
    let searcher = state.searcher();
    let task = tokio::task::spawn_blocking(move || work(searcher));
    match tokio::time::timeout(REQUEST_TIMEOUT, task).await {
        Ok(Ok(result)) => result.map_err(ApiError::from),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a search task failed");
            Err(ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "unavailable",
                message: "the search could not be completed; try again".into(),
            })
        }
        Err(_) => Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: "the search took too long".into(),
        }),
    }
}

async fn search(
    State(state): State<Arc<AppState>>,
    params: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let req = SearchRequest::from_params(&params).map_err(ApiError::bad_request)?;
    let response = blocking(&state, move |s| s.search(&req)).await?;
    Ok(Json(response).into_response())
}

async fn document(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let doc = blocking(&state, move |s| s.document(&id)).await?;
    Ok(Json(doc).into_response())
}

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
    let hits = blocking(&state, move |s| s.related(&id, limit)).await?;
    Ok(Json(json!({ "hits": hits })).into_response())
}

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
    let stats = blocking(&state, move |s| s.stats(ui)).await?;
    Ok(Json(stats).into_response())
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let s = state.searcher();
    Json(
        json!({"status": "ok", "generation": s.meta().generation, "documents": s.meta().documents}),
    )
    .into_response()
}

async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: "no such route".into(),
    }
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/search", get(search))
        .route("/api/documents/{id}", get(document))
        .route("/api/documents/{id}/related", get(related))
        .route("/api/stats", get(stats))
        .fallback(not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
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
