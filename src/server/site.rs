//! The web page's routes: the search page, a document's page, the
//! corpus's original files and the page's assets.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::enrich::UiLang;
use crate::index::search::SearchRequest;

use super::*;

/// The interface language: `?ui=` first, then the browser's Accept-Language.
pub(super) fn default_ui(headers: &HeaderMap) -> UiLang {
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
pub(super) async fn home(
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
pub(super) async fn document_page(
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
pub(super) async fn original(
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
pub(super) fn original_type(name: &str) -> (&'static str, bool) {
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
pub(super) async fn asset(
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
