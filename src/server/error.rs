//! The API's errors: one JSON shape (`{"error": {"code", "message"}}`),
//! from the engine's errors and the server's own refusals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::index::search::SearchError;

use super::*;

/// An error as the API reports it: `{"error": {"code", "message"}}`.
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl ApiError {
    /// A client's mistake. The message may quote what the client sent: it
    /// is cut to `MAX_MESSAGE` characters, control characters replaced.
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: echo(&message.into(), MAX_MESSAGE),
        }
    }
}

/// The longest error message, in characters.
pub(super) const MAX_MESSAGE: usize = 300;

/// `s` as an answer may quote it: at most `max` characters (then "…"),
/// control characters as U+FFFD, so that nothing a client sent reaches a
/// page raw or makes an answer large.
pub(super) fn echo(s: &str, max: usize) -> String {
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
    pub(super) fn page(self, q: &page::PageQuery) -> Response {
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

pub(super) fn failed() -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "the search could not be completed; try again".into(),
    }
}
