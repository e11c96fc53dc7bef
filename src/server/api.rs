//! The JSON API's routes: search, its feed and export, a document and
//! its related ones, stats.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::enrich::UiLang;
use crate::index::search::{SearchError, SearchRequest, SearchResponse, Stats};

use super::*;

#[utoipa::path(get, path = "/api/search", tag = "search", params(openapi::SearchParams),
    responses(
        (status = 200, description = "Ranked hits, what the query was understood as, and disjunctive facet counts", body = SearchResponse),
        (status = 304, description = "Not modified: the `ETag` sent in `If-None-Match` is this answer's"),
        (status = 400, description = "A bad parameter; the message says which", body = openapi::ErrorBody),
        (status = 429, description = "Too many searches from this address (when a rate is set); `Retry-After` says when to try again", body = openapi::ErrorBody),
        (status = 503, description = "The search took too long (`timeout`) or failed (`unavailable`); try again", body = openapi::ErrorBody)))]
pub(super) async fn search(
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
pub(super) fn base_url(headers: &HeaderMap) -> String {
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
pub(super) fn request_of(
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
pub(super) async fn feed(
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
pub(super) async fn export(
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
pub(super) struct FirstThen<S> {
    pub(super) first: Option<Result<String, SearchError>>,
    pub(super) rest: S,
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
pub(super) async fn document(
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
pub(super) async fn related(
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
pub(super) async fn stats(
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
