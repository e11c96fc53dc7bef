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
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, OpenApi, PartialSchema, ToSchema};

use crate::core::facet::{Facet, Kind};
use crate::document::{DocType, Document, Lang};
use crate::index::search::{
    FacetValue, Facets, Hit, Interpreted, SearchMode, SearchResponse, SemanticStatus, Stats,
};

/// The parameters of `GET /api/search` (described here; the handler reads
/// them as name/value pairs so that repeated names give several values and
/// unknown names are refused): the text, one per facet, then the options.
pub struct SearchParams;

impl IntoParams for SearchParams {
    fn into_params(place: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = QueryText::into_params(&place);
        params.extend(Facet::ALL.into_iter().map(facet_param));
        params.extend(SearchOptions::into_params(&place));
        params
    }
}

/// The parameters of the web page: those of the search, but years as the
/// form's two fields, and paging by page.
pub struct PageParams;

impl IntoParams for PageParams {
    fn into_params(place: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = QueryText::into_params(&place);
        params.extend(
            Facet::ALL
                .into_iter()
                .filter(|f| matches!(f.spec().kind, Kind::Values(_)))
                .map(facet_param),
        );
        params.extend(PageOptions::into_params(&place));
        params
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct QueryText {
    /// Free text: words, "quoted phrases", -exclusions. Empty with filters: browse, newest first.
    q: Option<String>,
}

/// A facet's filter parameter, from its spec: several values, or one
/// range of years.
fn facet_param(facet: Facet) -> Parameter {
    let spec = facet.spec();
    let schema = match spec.kind {
        Kind::Values(_) => Vec::<String>::schema(),
        Kind::Years => String::schema(),
    };
    ParameterBuilder::new()
        .name(spec.param)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(spec.help))
        .schema(Some(schema))
        .build()
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SearchOptions {
    /// `relevance` (default with text) or `date` (newest first; default without text).
    sort: Option<String>,
    /// `hybrid` (words and meaning fused; the default when the index has
    /// passage vectors), `lexical` (words only; the default without a
    /// model) or `semantic` (meaning only). `interpreted.mode` says which
    /// ran: a search without words, or without vectors, is lexical.
    mode: Option<String>,
    /// Hits per page, at most 100 (default 10).
    limit: Option<usize>,
    /// Hits to skip, at most 10,000.
    offset: Option<usize>,
    /// Language of facet labels: `en` (default), `es` or `ko`.
    ui_lang: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PageOptions {
    /// Year range start (the form's field).
    from: Option<u32>,
    /// Year range end.
    to: Option<u32>,
    sort: Option<String>,
    /// Result page, from 1.
    page: Option<usize>,
    /// Interface language `en`, `es` or `ko` (default: from Accept-Language).
    ui: Option<String>,
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
    /// `bad_request`, `not_found`, `timeout` or `unavailable`.
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
        super::healthz,
        super::home,
        super::document_page,
        super::original,
        super::asset,
        spec
    ),
    components(schemas(
        SearchResponse,
        Hit,
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
    SPEC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "This description", content_type = "application/json")))]
pub async fn spec() -> Response {
    let value: serde_json::Value = serde_json::from_str(json()).unwrap_or_default();
    Json(value).into_response()
}
