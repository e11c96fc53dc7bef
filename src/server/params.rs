//! The query-string parameters of every route, described once: what each
//! value may be ([`Accepts`]), checked here before a request is built and
//! stated in OpenAPI (`openapi.rs` builds each parameter's schema from the
//! same [`Param`]), so that the description is the contract.
//!
//! The API refuses an empty value (but `q`'s: browse) like any other bad
//! one. The page takes what its form sends: an empty field is a parameter
//! left out, and its OpenAPI description says so.

use crate::core::accepts::Accepts;
use crate::core::facet::{Facet, Filters, Kind, MAX_VALUES};
use crate::core::query::MAX_QUERY_CHARS;
use crate::enrich::UiLang;
use crate::index::search::{MAX_LIMIT, MAX_OFFSET, SearchMode, SearchRequest, Sort};

/// One query-string parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub accepts: Accepts,
    /// Whether it may be given several times (its values OR-ed), and how
    /// many times at most.
    pub many: Option<usize>,
    pub help: &'static str,
}

impl Param {
    /// `value` checked: the reason it is refused, quoting it.
    fn check(&self, value: &str) -> Result<(), String> {
        if self.accepts.check(value) {
            return Ok(());
        }
        Err(format!(
            "{} must be {}, not `{value}`",
            self.name,
            self.accepts.describe()
        ))
    }
}

const Q: Param = Param {
    name: "q",
    accepts: Accepts::Text {
        max_chars: MAX_QUERY_CHARS,
    },
    many: None,
    help: "Free text: words, \"quoted phrases\", -exclusions. Empty with filters: browse, newest first.",
};
const SORT: Param = Param {
    name: "sort",
    accepts: Accepts::OneOf(&["relevance", "date"]),
    many: None,
    help: "`relevance` (default with text) or `date` (newest first; default without text).",
};
const MODE: Param = Param {
    name: "mode",
    accepts: Accepts::OneOf(&["hybrid", "lexical", "semantic"]),
    many: None,
    help: "`hybrid` (words and meaning fused; the default when the index has passage vectors), \
           `lexical` (words only; the default without a model) or `semantic` (meaning only). \
           `interpreted.mode` says which ran: a search without words, or without vectors, is lexical.",
};
const LIMIT: Param = Param {
    name: "limit",
    accepts: Accepts::Number {
        min: 1,
        max: MAX_LIMIT as u64,
    },
    many: None,
    help: "Hits per page (default 10).",
};
const OFFSET: Param = Param {
    name: "offset",
    accepts: Accepts::Number {
        min: 0,
        max: MAX_OFFSET as u64,
    },
    many: None,
    help: "Hits to skip.",
};
const UI_LANG: Param = Param {
    name: "ui_lang",
    accepts: Accepts::OneOf(&["en", "es", "ko"]),
    many: None,
    help: "Language of labels: `en` (default), `es` or `ko`.",
};
const UI: Param = Param {
    name: "ui",
    help: "Interface language `en`, `es` or `ko` (default: from Accept-Language).",
    ..UI_LANG
};
const FROM: Param = Param {
    name: "from",
    accepts: Accepts::Pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$"),
    many: None,
    help: "First year of publication (the form's field).",
};
const TO: Param = Param {
    name: "to",
    help: "Last year of publication.",
    ..FROM
};
const PAGE: Param = Param {
    name: "page",
    accepts: Accepts::Pattern("^[1-9][0-9]{0,8}$"),
    many: None,
    help: "Result page, from 1 (pages past the last offset show the last).",
};

/// A facet's filter parameter.
fn facet(f: Facet) -> Param {
    let spec = f.spec();
    Param {
        name: spec.param,
        accepts: spec.accepts,
        many: matches!(spec.kind, Kind::Values(_)).then_some(MAX_VALUES),
        help: spec.help,
    }
}

/// `GET /api/search`: the text, one per facet, then the options.
pub fn search() -> Vec<Param> {
    let mut out = vec![Q];
    out.extend(Facet::ALL.into_iter().map(facet));
    out.extend([SORT, MODE, LIMIT, OFFSET, UI_LANG]);
    out
}

/// `GET /`: the search's (its year links set `year`), the form's two year
/// fields, and paging by page.
pub fn page() -> Vec<Param> {
    let mut out = vec![Q];
    out.extend(Facet::ALL.into_iter().map(facet));
    out.extend([FROM, TO, SORT, MODE, PAGE, UI]);
    out
}

/// The formats of an export (`export::Format`).
pub const EXPORT_FORMATS: &[&str] = &["csv", "jsonl", "ris", "bibtex"];

const FORMAT: Param = Param {
    name: "format",
    accepts: Accepts::OneOf(EXPORT_FORMATS),
    many: None,
    help: "`csv` (UTF-8 with a byte-order mark, for spreadsheets; the default), `jsonl`, `ris` or `bibtex`.",
};

/// `GET /api/feed`: the search's text and filters (newest first, the
/// feed's own length).
pub fn feed() -> Vec<Param> {
    let mut out = vec![Q];
    out.extend(Facet::ALL.into_iter().map(facet));
    out.extend([MODE, UI_LANG]);
    out
}

/// `GET /api/export`: the search's, all its hits, in a format.
pub fn export() -> Vec<Param> {
    let mut out = feed();
    out.extend([SORT, FORMAT]);
    out
}

/// `GET /api/documents/{id}/related`.
pub fn related() -> Vec<Param> {
    vec![Param {
        help: "At most this many (default 10).",
        ..LIMIT
    }]
}

/// `GET /api/stats`.
pub fn stats() -> Vec<Param> {
    vec![UI_LANG]
}

/// `GET /doc/{id}`: the interface language, and the search the reader
/// came from (its terms marked).
pub fn document_page() -> Vec<Param> {
    vec![Q, UI]
}

/// Check `params` against a route's: an unknown name, a bad value, or too
/// many values of one name are refused. `ui` is taken for `ui_lang`.
pub fn check(route: &[Param], params: &[(String, String)]) -> Result<(), String> {
    for (name, value) in params {
        let name = if name == "ui" && !route.iter().any(|p| p.name == "ui") {
            "ui_lang"
        } else {
            name.as_str()
        };
        let param = route
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("unknown parameter `{name}`"))?;
        match Facet::from_param(name) {
            // A facet's own reason (its rule is the parameter's).
            Some(f) => Filters::default().add(f, value)?,
            None => param.check(value)?,
        }
        if let Some(most) = param.many
            && params.iter().filter(|(n, _)| n == name).count() > most
        {
            return Err(format!("{name} may be given {most} times at most"));
        }
    }
    Ok(())
}

/// A request from `name=value` pairs (an HTTP query string: a repeated
/// name gives several values), checked against the search's parameters.
pub fn search_request(params: &[(String, String)]) -> Result<SearchRequest, String> {
    check(&search(), params)?;
    build(params)
}

/// A request from pairs already checked (the page's, once its empty
/// fields are dropped).
pub fn build(params: &[(String, String)]) -> Result<SearchRequest, String> {
    let mut req = SearchRequest::default();
    for (name, value) in params {
        let value = value.as_str();
        let number = |what: &str| -> Result<usize, String> {
            value
                .parse::<usize>()
                .map_err(|_| format!("{what} must be a whole number, not `{value}`"))
        };
        match name.as_str() {
            "q" => req.q = value.trim().to_string(),
            "sort" => req.sort = Sort::parse(value),
            "mode" => req.mode = SearchMode::parse(value),
            "limit" => req.limit = number("limit")?,
            "offset" => req.offset = number("offset")?,
            "ui_lang" | "ui" => req.ui = UiLang::parse(value).unwrap_or(req.ui),
            other => match Facet::from_param(other) {
                Some(facet) => req.filters.add(facet, value)?,
                None => return Err(format!("unknown parameter `{other}`")),
            },
        }
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<SearchRequest, String> {
        let params: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        search_request(&params)
    }

    #[test]
    fn parameters_become_a_request_in_normal_forms() {
        let r = parse(&[
            ("q", " registro civil "),
            ("country", "py"),
            ("country", "BO"),
            ("year", "2015..2019"),
            ("type", "press_release"),
            ("lang", "es"),
            ("mode", "semantic"),
            ("ui", "ko"),
            ("limit", "20"),
        ])
        .unwrap();
        assert_eq!(r.q, "registro civil");
        let f = &r.filters;
        assert_eq!(f.values(Facet::Country), ["PY", "BO"]);
        assert_eq!(f.years(), Some((2015, 2019)));
        assert_eq!(f.values(Facet::DocType), ["press_release"]);
        assert_eq!(f.values(Facet::Lang), ["es"]);
        assert_eq!(r.mode, Some(SearchMode::Semantic));
        assert_eq!((r.ui, r.limit), (UiLang::Ko, 20));
    }

    #[test]
    fn every_pattern_compiles() {
        for route in [search(), page(), related(), stats(), document_page()] {
            for p in route {
                if let Accepts::Pattern(pattern) = p.accepts {
                    assert!(regex::Regex::new(pattern).is_ok(), "{}: {pattern}", p.name);
                }
            }
        }
    }

    #[test]
    fn a_bad_value_or_an_unknown_name_is_refused_with_what_is_wanted() {
        let err = |pairs: &[(&str, &str)]| parse(pairs).err().unwrap();
        assert!(err(&[("country", "Paraguay")]).contains("ISO 3166-1"));
        assert!(err(&[("type", "memo")]).contains("press_release"));
        assert!(err(&[("limit", "ten")]).contains("whole number"));
        assert!(err(&[("limit", "0")]).contains("from 1 to 100"));
        // Empty values are refused but for the text's.
        assert!(parse(&[("q", "")]).is_ok());
        for name in [
            "country", "topic", "year", "type", "lang", "event", "sort", "mode", "limit", "ui_lang",
        ] {
            assert!(parse(&[(name, "")]).is_err(), "{name}=");
        }
        let many: Vec<(&str, &str)> = (0..51).map(|_| ("lang", "es")).collect();
        assert!(err(&many).contains("times at most"));
        assert!(err(&[("mode", "fuzzy")]).contains("mode must be"));
        assert_eq!(err(&[("contry", "PY")]), "unknown parameter `contry`");
    }
}
