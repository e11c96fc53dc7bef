//! Conditional answers. Every successful `GET` of a search, a document,
//! the statistics, the API description and the page carries an `ETag` made
//! from the index generation it was answered from and the request (not from
//! the body: a search's body holds the time it took). A client that sends
//! it back with `If-None-Match` gets `304 Not Modified` before anything is
//! searched. `Cache-Control: no-cache` asks caches to check each time, so a
//! new generation shows at once; errors are `no-store`.

use std::sync::OnceLock;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, is_api};

/// Whether answers on `path` depend only on the index and the request.
fn cacheable(path: &str) -> bool {
    matches!(
        path,
        "/" | "/api/search" | "/api/stats" | "/api/openapi.json"
    ) || path.starts_with("/api/documents/")
        || path.starts_with("/doc/")
}

/// This process: a restart may serve the same generation with other
/// settings (ranking, calibration), so its tags are new.
fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{now}-{}", std::process::id())
    })
}

/// The tag of an answer to `request` from `generation`.
fn etag(generation: &str, request: &Request) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new()
        .chain_update(env!("CARGO_PKG_VERSION"))
        .chain_update(process_token())
        .chain_update(generation)
        .chain_update([0])
        .chain_update(request.uri().to_string());
    if !is_api(request.uri().path()) {
        // The page's language follows the browser's when `?ui=` is absent.
        if let Some(v) = request.headers().get(header::ACCEPT_LANGUAGE) {
            h.update([0]);
            h.update(v.as_bytes());
        }
    }
    format!("W/\"{}\"", hex::encode(&h.finalize()[..12]))
}

/// Whether `If-None-Match` names `tag` (weak comparison, RFC 9110 13.1.2).
pub fn none_match(headers: &HeaderMap, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == bare(tag))
}

/// Answer `304` when the client has this answer already; tag the others.
pub(super) async fn conditional(state: &AppState, req: Request, next: Next) -> Response {
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let generation = (get && cacheable(req.uri().path()))
        .then(|| state.generation_tag())
        .flatten();
    let Some(generation) = generation else {
        let mut response = next.run(req).await;
        no_store_unless_set(&mut response);
        return response;
    };
    let tag = etag(&generation, &req);
    let page = !is_api(req.uri().path());
    if none_match(req.headers(), &tag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        validators(response.headers_mut(), &tag, page);
        return response;
    }
    let mut response = next.run(req).await;
    if response.status() == StatusCode::OK {
        validators(response.headers_mut(), &tag, page);
    } else {
        no_store_unless_set(&mut response);
    }
    response
}

fn validators(headers: &mut HeaderMap, tag: &str, page: bool) {
    if let Ok(v) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if page {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
}

fn no_store_unless_set(response: &mut Response) {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        let mut h = HeaderMap::new();
        let tag = "W/\"abc\"";
        assert!(!none_match(&h, tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", \"abc\""),
        );
        assert!(none_match(&h, tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abd\""));
        assert!(!none_match(&h, tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&h, tag));
    }
}
