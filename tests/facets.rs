//! The facets are described once (`egovkb::index::facet`): every facet of
//! that table reaches every place that lists facets, with no code path per
//! facet here. A facet added to the table and missing from one of them
//! (the API's responses and filters, the command line, the page, OpenAPI,
//! Solr's schema) fails this test.

mod common;

use std::process::Command;
use std::sync::OnceLock;

use egovkb::document::{DocType, Lang};
use egovkb::index::facet::{Facet, Filters};
use serde_json::Value;

fn server() -> &'static common::TestServer {
    static S: OnceLock<common::TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let mut course = common::doc(
            "es-py",
            Lang::es(),
            DocType::Presentation,
            "2018-06-27",
            "Paraguay: registro civil",
            "Paraguay presentó su registro civil y el registro de residentes.",
        );
        course.event = Some("2018-06-course".into());
        let notice = common::doc(
            "en-kr",
            Lang::en(),
            DocType::Notice,
            "2019-03-20",
            "Korea and e-procurement",
            "Korea's e-procurement system for public purchases.",
        );
        common::TestServer::start(vec![course, notice])
    })
}

fn get(path: &str) -> (u16, String) {
    common::http_get(server().addr, path)
}

fn json(path: &str) -> Value {
    let (status, body) = get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn names() -> Vec<&'static str> {
    Facet::ALL.iter().map(|f| f.spec().name).collect()
}

#[test]
fn every_facet_is_in_the_api_and_filters_it() {
    let (status, body) = get("/api/search?q=&limit=100");
    assert_eq!(status, 200, "{body}");
    let all: Value = serde_json::from_str(&body).unwrap();
    let facets = all["facets"].as_object().unwrap();
    let mut sorted = names();
    sorted.sort_unstable();
    assert_eq!(
        facets.keys().map(String::as_str).collect::<Vec<_>>(),
        sorted
    );
    // In display order in the response as sent.
    let at = body.find("\"facets\":{").unwrap();
    let positions: Vec<usize> = names()
        .iter()
        .map(|n| body[at..].find(&format!("\"{n}\":[")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "{}", &body[at..]);
    for facet in Facet::ALL {
        let spec = facet.spec();
        let values = facets[spec.name].as_array().unwrap();
        let first = values
            .first()
            .unwrap_or_else(|| panic!("facet {} has no value: {all}", spec.name));
        let (value, count) = (first["value"].as_str().unwrap(), first["count"].as_u64());
        // Its parameter filters by it: as many hits as the value counted.
        let narrowed = json(&format!("/api/search?q=&{}={value}", spec.param));
        assert_eq!(narrowed["total"].as_u64(), count, "{}={value}", spec.param);
        assert!(
            count < all["total"].as_u64(),
            "{}: filters nothing",
            spec.name
        );
        // A value that is not one is refused with the facet's reason.
        let bad = "zz-not-a-value";
        if let Err(reason) = Filters::default().add(facet, bad) {
            let (status, body) = get(&format!("/api/search?{}={bad}", spec.param));
            assert_eq!(status, 400, "{}: {body}", spec.param);
            let message: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                message["error"]["message"],
                reason.as_str(),
                "{}",
                spec.param
            );
        }
    }
}

#[test]
fn every_facet_is_a_group_of_the_page() {
    let (status, html) = get("/?q=");
    assert_eq!(status, 200);
    for facet in Facet::ALL {
        let group = format!("data-facet=\"{}\"", facet.spec().param);
        assert!(html.contains(&group), "no {group} on the page");
        assert!(html.contains(facet.title(egovkb::enrich::UiLang::En)));
    }
}

#[test]
fn every_facet_is_in_openapi() {
    let spec = json("/api/openapi.json");
    let schema = &spec["components"]["schemas"]["Facets"];
    let properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = names();
    sorted.sort_unstable();
    assert_eq!(properties, sorted, "serde_json sorts the keys");
    assert_eq!(schema["required"].as_array().unwrap().len(), Facet::COUNT);
    let params = |path: &str| -> Vec<String> {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (api, page) = (params("/api/search"), params("/"));
    for facet in Facet::ALL {
        let param = facet.spec().param.to_string();
        assert!(api.contains(&param), "/api/search has no {param}");
        // The page's year links set `year` too.
        assert!(page.contains(&param), "/ has no {param}");
    }
    // And its form's two year fields.
    assert!(page.contains(&"from".to_string()) && page.contains(&"to".to_string()));
}

#[test]
fn every_facet_is_an_option_of_the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["search", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for facet in Facet::ALL {
        let option = format!("--{} <", facet.spec().param);
        assert!(help.contains(&option), "no {option} in:\n{help}");
    }
    // And a bad value is refused before any index is opened.
    let out = Command::new(env!("CARGO_BIN_EXE_egovkb"))
        .args(["search", "--country", "Paraguay", "--index", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ISO 3166-1"), "{err}");
}

#[test]
fn every_facet_is_a_field_of_solrs_schema() {
    let schema = include_str!("../src/solr/schema.xml");
    for facet in Facet::ALL {
        let field = format!("<field name=\"{}\"", facet.spec().name);
        assert!(schema.contains(&field), "no {field} in schema.xml");
    }
}
