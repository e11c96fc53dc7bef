//! The HTTP server: a thin axum shell over the engine. JSON API routes of
//! the contract and the web page, JSON errors (4xx for anything a client
//! can send), a cap on concurrent searches, request logs, security headers,
//! and an index that is swapped without a restart when a reindex puts a new
//! generation in service.

mod api;
mod caching;
mod conn;
mod error;
pub mod export;
mod limit;
mod metrics;
mod openapi;
mod page;
mod params;
mod site;
mod text;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::Connections;
use crate::enrich::UiLang;
use crate::index::IndexDir;
use crate::index::search::{Backend, SearchError, TantivySearcher};

use api::*;
use error::*;
use site::*;

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
