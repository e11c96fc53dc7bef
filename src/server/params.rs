//! Query strings into search requests: the API's and the page's
//! parameters, with the engine's normal forms and checks.

use crate::core::facet::Facet;
use crate::enrich::UiLang;
use crate::index::search::{SearchMode, SearchRequest, Sort};

/// A request from `name=value` pairs (an HTTP query string: a repeated
/// name gives several values). Unknown names are refused, so that a typo
/// does not silently search for something else.
pub fn search_request(params: &[(String, String)]) -> Result<SearchRequest, String> {
    let mut req = SearchRequest::default();
    for (name, value) in params {
        let value = value.trim();
        let number = |what: &str| -> Result<usize, String> {
            value
                .parse::<usize>()
                .map_err(|_| format!("{what} must be a whole number, not `{value}`"))
        };
        match name.as_str() {
            "q" => req.q = value.to_string(),
            "sort" => {
                req.sort =
                    Some(Sort::parse(value).ok_or_else(|| {
                        format!("sort must be `relevance` or `date`, not `{value}`")
                    })?)
            }
            "mode" => {
                req.mode = Some(SearchMode::parse(value).ok_or_else(|| {
                    format!("mode must be `hybrid`, `lexical` or `semantic`, not `{value}`")
                })?)
            }
            "limit" => req.limit = number("limit")?,
            "offset" => req.offset = number("offset")?,
            "ui_lang" | "ui" => {
                req.ui = UiLang::parse(value)
                    .ok_or_else(|| format!("ui_lang must be en, es or ko, not `{value}`"))?
            }
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
    fn a_bad_value_or_an_unknown_name_is_refused_with_what_is_wanted() {
        let err = |pairs: &[(&str, &str)]| parse(pairs).err().unwrap();
        assert!(err(&[("country", "Paraguay")]).contains("ISO 3166-1"));
        assert!(err(&[("type", "memo")]).contains("press_release"));
        assert!(err(&[("year", "2019..2015")]).contains("ends before it starts"));
        assert!(err(&[("limit", "ten")]).contains("whole number"));
        assert!(err(&[("mode", "fuzzy")]).contains("mode must be"));
        assert_eq!(err(&[("contry", "PY")]), "unknown parameter `contry`");
    }
}
