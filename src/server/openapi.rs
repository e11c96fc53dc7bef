//! The OpenAPI description at `/api/openapi.json`, generated from the
//! handlers' annotations and the response types themselves, so it cannot
//! drift from what the server does.

use crate::core::relevance::{Matched, MatchedBy, Strength};
use std::borrow::Cow;
use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, OpenApi, PartialSchema, ToSchema};

use super::params::{self, Param};
use crate::core::accepts::Accepts;
use crate::core::facet::Facet;
use crate::document::{DocType, Document, Lang};
use crate::index::search::{
    FacetValue, Facets, Hit, Interpreted, SearchMode, SearchResponse, SemanticStatus, Stats,
    Version,
};

/// A route's query parameters for utoipa, from their one description
/// (`params.rs`): each value's constraint is the one the handler checks;
/// `lenient`: an empty value is taken as left out (the page's forms).
macro_rules! route_params {
    ($($(#[$doc:meta])* $name:ident = $list:path, $lenient:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                parameters(&$list(), $lenient)
            }
        }
    )*};
}

route_params! {
    /// `GET /api/search`: the text, one per facet, then the options.
    SearchParams = params::search, false;
    /// `GET /`: the search's, the form's two year fields, paging by page.
    PageParams = params::page, true;
    /// `GET /api/documents/{id}/related`.
    RelatedParams = params::related, false;
    /// `GET /api/stats`.
    StatsParams = params::stats, false;
    /// `GET /doc/{id}`.
    DocumentPageParams = params::document_page, true;
    /// `GET /api/feed`.
    FeedParams = params::feed, false;
    /// `GET /api/export`.
    ExportParams = params::export, false;
}

/// Query parameters as OpenAPI states them; `lenient`: an empty value is
/// taken (as left out).
fn parameters(list: &[Param], lenient: bool) -> Vec<Parameter> {
    list.iter()
        .map(|p| {
            let one = value_schema(p.accepts, lenient);
            let schema = match p.many {
                Some(most) => RefOr::T(Schema::Array(
                    ArrayBuilder::new().items(one).max_items(Some(most)).build(),
                )),
                None => one,
            };
            ParameterBuilder::new()
                .name(p.name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(p.help))
                .schema(Some(schema))
                .build()
        })
        .collect()
}

/// One value's schema: what `Accepts::check` takes.
fn value_schema(accepts: Accepts, lenient: bool) -> RefOr<Schema> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let object = match accepts {
        Accepts::Text { max_chars } => string().max_length(Some(max_chars)),
        Accepts::Number { min, max } => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min as f64))
            .maximum(Some(max as f64)),
        Accepts::OneOf(words) => {
            let empty = lenient.then_some("");
            string().enum_values(Some(words.iter().copied().chain(empty)))
        }
        Accepts::Pattern(pattern) if lenient => string().pattern(Some(format!("^$|{pattern}"))),
        Accepts::Pattern(pattern) => string().pattern(Some(pattern)),
    };
    RefOr::T(Schema::Object(object.build()))
}

/// The schema of [`Facets`]: one property per facet, each a list of
/// values with their counts.
impl PartialSchema for Facets {
    fn schema() -> RefOr<Schema> {
        let values = || ArrayBuilder::new().items(Ref::from_schema_name(FacetValue::name()));
        let mut object = ObjectBuilder::new()
            .description(Some("Every facet's values with their counts, by facet."));
        for f in Facet::ALL {
            object = object
                .property(f.spec().name, values())
                .required(f.spec().name);
        }
        RefOr::T(Schema::Object(object.build()))
    }
}

impl ToSchema for Facets {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Facets")
    }
}

/// `{"error": {"code", "message"}}`, with a 4xx status for bad input.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `not_found`, `method_not_allowed`, `rate_limited`,
    /// `timeout`, `unavailable`, `overloaded`, or one of a refusal before
    /// routing: `request_timeout`, `length_required`, `payload_too_large`,
    /// `uri_too_long`, `header_too_large`.
    pub code: String,
    pub message: String,
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// The index generation being served.
    pub generation: String,
    pub documents: u64,
    /// Whether searches can rank by meaning (hybrid and semantic modes),
    /// and why not: without it every search is lexical.
    pub semantic: SemanticStatus,
}

/// `GET /api/documents/{id}`: the whole document, its `url` as a reader
/// may see it (see [`Hit::url`]), and the link to its file.
#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    #[serde(flatten)]
    pub document: Document,
    /// `/original/{id}`: the file itself, for a file of the corpus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The other versions of its story (near-duplicates), best first;
    /// absent when it is told once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Version>,
    /// The same notice in other languages; absent when none is known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Version>,
}

/// `GET /api/documents/{id}/related`.
#[derive(Serialize, ToSchema)]
pub struct Related {
    pub hits: Vec<Hit>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "egovkb",
        description = "Search over a knowledge base of e-government case studies in Korean, Spanish and English."
    ),
    paths(
        super::search,
        super::document,
        super::related,
        super::stats,
        super::feed,
        super::export,
        super::healthz,
        super::metrics_text,
        super::home,
        super::document_page,
        super::original,
        super::asset,
        spec
    ),
    components(schemas(
        SearchResponse,
        Hit,
        Version,
        Facets,
        FacetValue,
        Interpreted,
        SearchMode,
        SemanticStatus,
        Stats,
        Document,
        DocumentView,
        DocType,
        Lang,
        ErrorBody,
        ErrorDetail,
        Health,
        Related,
        Matched,
        MatchedBy,
        Strength
    ))
)]
pub struct ApiDoc;

/// The description as JSON, built once.
pub fn json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        with_edge_refusals(&mut doc);
        doc.to_json().unwrap_or_else(|_| "{}".into())
    })
}

/// The refusals any request may get before routing (`conn.rs`), on every
/// operation: the API's JSON error, the page's HTML on page routes.
fn with_edge_refusals(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    let refusals = [
        ("414", "The request line is longer than 16 KiB"),
        ("431", "The request head is too large"),
    ];
    for (path, item) in doc.paths.paths.iter_mut() {
        let page = !super::is_api(path);
        if let Some(op) = item.get.as_mut() {
            for (status, description) in refusals {
                let content = if page {
                    ContentBuilder::new().build()
                } else {
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build()
                };
                let kind = if page {
                    "text/html"
                } else {
                    "application/json"
                };
                let response = ResponseBuilder::new()
                    .description(description)
                    .content(kind, content)
                    .build();
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert(RefOr::T(response));
            }
        }
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "This description", content_type = "application/json")))]
pub async fn spec() -> Response {
    let value: serde_json::Value = serde_json::from_str(json()).unwrap_or_default();
    Json(value).into_response()
}
