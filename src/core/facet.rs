//! The facets, described once. Each facet is a [`Facet`] with one
//! [`Spec`]: its name in responses, its parameter on the query string and
//! the command line, the index field holding its values, what its values
//! are, its heading and how a value is labelled. Everything that lists the
//! facets (the bitset pass, Solr's requests, the API's responses and
//! parameters, the command line, the page and OpenAPI) reads this table, and
//! keeps per-facet data in a [`PerFacet`] map keyed by it.
//!
//! A new facet of values is a document field, its index field (and
//! Solr's), one variant here and its spec. Years are one facet, the year of
//! publication: a filter holds one range of them, which the page's
//! `from`/`to` fields set.

use std::ops::{Index, IndexMut};

use serde::Serialize;
use serde::ser::SerializeMap;

use super::accepts::Accepts;
use crate::document::{DocType, Lang};
use crate::enrich::{Enricher, UiLang};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Country,
    Topic,
    Year,
    DocType,
    Lang,
    Event,
}

/// What a facet's values are, and so how it filters.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Words (a country code, a topic's slug…): a filter keeps the
    /// documents having any of the values asked, each value first put in
    /// its normal form or refused with the reason.
    Values(fn(&str) -> Result<String, String>),
    /// Years (the year of publication; only [`Facet::Year`] is of this
    /// kind): a filter is one range (`2018`, `2015..2019`); values are
    /// listed newest first.
    Years,
}

/// Everything about one facet.
#[derive(Debug)]
pub struct Spec {
    /// Its key in a response's facets, and its field in Solr.
    pub name: &'static str,
    /// Its query-string parameter and command-line option (`--type`).
    pub param: &'static str,
    /// The index's fast field holding its values.
    pub field: &'static str,
    pub kind: Kind,
    /// What one value of its filter may be: checked before the value is
    /// put in its normal form, and stated in OpenAPI.
    pub accepts: Accepts,
    /// Its heading, in English, Spanish and Korean.
    pub title: [&'static str; 3],
    /// What a filter by it takes, for `--help` and OpenAPI.
    pub help: &'static str,
    /// A value's label in an interface language (`None`: the value is its
    /// own label).
    pub label: fn(&Enricher, &str, UiLang) -> Option<String>,
}

/// A topic's slug or an event's id.
const WORD: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$";
/// A year, or a range of them with either end open.
const YEARS: &str = "^((19[0-9]{2}|20[0-9]{2}|2100)|(19[0-9]{2}|20[0-9]{2}|2100)?\\.\\.(19[0-9]{2}|20[0-9]{2}|2100)?)$";
/// The document types (`DocType::ALL`, as a test checks).
const DOC_TYPES: &[&str] = &[
    "notice",
    "press_release",
    "presentation",
    "report",
    "course_material",
    "other",
];

static COUNTRY: Spec = Spec {
    name: "country",
    param: "country",
    field: "countries",
    kind: Kind::Values(country_code),
    accepts: Accepts::Pattern("^[A-Za-z]{2}$"),
    title: ["Country", "País", "국가"],
    help: "ISO 3166-1 alpha-2 country codes (`PY`); several are OR-ed.",
    label: |e, v, ui| Some(e.countries.label(v, ui).to_string()),
};

static TOPIC: Spec = Spec {
    name: "topic",
    param: "topic",
    field: "topics",
    kind: Kind::Values(word),
    accepts: Accepts::Pattern(WORD),
    title: ["Topic", "Tema", "주제"],
    help: "Topic slugs (`resident-registration`); several are OR-ed.",
    label: |e, v, ui| Some(e.topics.label(v, ui).to_string()),
};

static YEAR: Spec = Spec {
    name: "year",
    param: "year",
    field: "year",
    kind: Kind::Years,
    accepts: Accepts::Pattern(YEARS),
    title: ["Year", "Año", "연도"],
    help: "A year (`2018`) or an inclusive range (`2015..2019`, `2015..`, `..2019`).",
    label: |_, _, _| None,
};

static DOC_TYPE: Spec = Spec {
    name: "doc_type",
    param: "type",
    field: "doc_type",
    kind: Kind::Values(doc_type),
    accepts: Accepts::OneOf(DOC_TYPES),
    title: ["Document type", "Tipo de documento", "문서 유형"],
    help: "Document types (`notice`, `press_release`, `presentation`, `report`, `course_material`, `other`); several are OR-ed.",
    label: |_, v, ui| Some(doc_type_label(v, ui)),
};

static LANG: Spec = Spec {
    name: "lang",
    param: "lang",
    field: "lang",
    kind: Kind::Values(lang_code),
    accepts: Accepts::Pattern("^[A-Za-z]{2,3}$"),
    title: ["Language", "Idioma", "언어"],
    help: "Document languages (ISO 639-1: `ko`, `es`, `en`…); several are OR-ed.",
    label: |_, v, ui| Some(lang_label(v, ui)),
};

static EVENT: Spec = Spec {
    name: "event",
    param: "event",
    field: "event",
    kind: Kind::Values(word),
    accepts: Accepts::Pattern(WORD),
    title: ["Event", "Evento", "행사"],
    help: "Events: the courses or meetings documents belong to (ids); several are OR-ed.",
    label: |e, v, ui| Some(e.events.label(v, ui)),
};

impl Facet {
    pub const COUNT: usize = 6;

    /// Every facet, in display order.
    pub const ALL: [Facet; Self::COUNT] = [
        Facet::Country,
        Facet::Topic,
        Facet::Year,
        Facet::DocType,
        Facet::Lang,
        Facet::Event,
    ];

    pub const fn spec(self) -> &'static Spec {
        match self {
            Facet::Country => &COUNTRY,
            Facet::Topic => &TOPIC,
            Facet::Year => &YEAR,
            Facet::DocType => &DOC_TYPE,
            Facet::Lang => &LANG,
            Facet::Event => &EVENT,
        }
    }

    /// The facet a query-string parameter or option names.
    pub fn from_param(param: &str) -> Option<Facet> {
        Self::ALL.into_iter().find(|f| f.spec().param == param)
    }

    /// Its heading in an interface language.
    pub fn title(self, ui: UiLang) -> &'static str {
        let [en, es, ko] = self.spec().title;
        match ui {
            UiLang::En => en,
            UiLang::Es => es,
            UiLang::Ko => ko,
        }
    }
}

/// One `T` per facet: a map keyed by [`Facet`], every facet present.
/// It serializes as a JSON object keyed by the facets' names, in display
/// order.
#[derive(Debug, Clone, PartialEq)]
pub struct PerFacet<T>([T; Facet::COUNT]);

impl<T: Default> Default for PerFacet<T> {
    fn default() -> Self {
        Self(std::array::from_fn(|_| T::default()))
    }
}

impl<T> PerFacet<T> {
    pub fn from_fn(f: impl FnMut(Facet) -> T) -> Self {
        Self(Facet::ALL.map(f))
    }

    /// Each facet with its value, in display order.
    pub fn iter(&self) -> impl Iterator<Item = (Facet, &T)> {
        Facet::ALL.into_iter().zip(&self.0)
    }
}

impl<T> Index<Facet> for PerFacet<T> {
    type Output = T;
    fn index(&self, f: Facet) -> &T {
        &self.0[f as usize]
    }
}

impl<T> IndexMut<Facet> for PerFacet<T> {
    fn index_mut(&mut self, f: Facet) -> &mut T {
        &mut self.0[f as usize]
    }
}

impl<T: Serialize> Serialize for PerFacet<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Facet::COUNT))?;
        for (f, v) in self.iter() {
            map.serialize_entry(f.spec().name, v)?;
        }
        map.end()
    }
}

/// Most values a filter may have, and longest value.
/// Values one facet's filter may have.
pub const MAX_VALUES: usize = 50;
const MAX_VALUE_LEN: usize = 200;

/// The filters of a search, facet by facet: several values of one facet
/// are OR-ed, different facets AND-ed; each value in its normal form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// The values asked, per facet of [`Kind::Values`] (empty: no filter).
    values: PerFacet<Vec<String>>,
    /// The inclusive range of years asked.
    years: Option<(u32, u32)>,
}

impl Filters {
    /// Add a value to a facet's filter, put in its normal form, or say why
    /// it is not one (a year range replaces the one before).
    pub fn add(&mut self, facet: Facet, value: &str) -> Result<(), String> {
        let spec = facet.spec();
        if !spec.accepts.check(value) {
            // The normal form's reason when it has one, else the rule's.
            let normal = match spec.kind {
                Kind::Values(normal) => normal(value).err(),
                Kind::Years => parse_years(value).err(),
            };
            return Err(normal.unwrap_or_else(|| {
                format!(
                    "{} must be {}, not `{value}`",
                    spec.param,
                    spec.accepts.describe()
                )
            }));
        }
        match spec.kind {
            Kind::Values(normal) => self.values[facet].push(normal(value)?),
            Kind::Years => self.years = Some(parse_years(value)?),
        }
        Ok(())
    }

    /// These filters and one more value (for building requests in code).
    pub fn with(mut self, facet: Facet, value: &str) -> Result<Self, String> {
        self.add(facet, value)?;
        Ok(self)
    }

    /// Keep only the years of this inclusive range.
    pub fn with_years(mut self, years: (u32, u32)) -> Self {
        self.years = Some(years);
        self
    }

    /// The values asked of a facet of [`Kind::Values`].
    pub fn values(&self, facet: Facet) -> &[String] {
        &self.values[facet]
    }

    pub fn years(&self) -> Option<(u32, u32)> {
        self.years
    }

    /// Whether the search is filtered by this facet.
    pub fn is_active(&self, facet: Facet) -> bool {
        match facet.spec().kind {
            Kind::Values(_) => !self.values[facet].is_empty(),
            Kind::Years => self.years.is_some(),
        }
    }

    /// Refuse filters past the limits.
    pub fn check(&self) -> Result<(), String> {
        let too_many = self
            .values
            .iter()
            .any(|(_, v)| v.len() > MAX_VALUES || v.iter().any(|s| s.len() > MAX_VALUE_LEN));
        if too_many {
            return Err("too many or too long filter values".into());
        }
        Ok(())
    }
}

/// Parse `2018` or `2015..2019` (either end may be left open: `2015..`).
fn parse_years(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("year `{s}`: give a year (2018) or a range (2015..2019)");
    let year = |y: &str| -> Result<u32, String> {
        let y: u32 = y.trim().parse().map_err(|_| bad())?;
        i32::try_from(y)
            .is_ok_and(crate::dates::plausible)
            .then_some(y)
            .ok_or_else(bad)
    };
    match s.trim().split_once("..") {
        Some((a, b)) => {
            let a = if a.trim().is_empty() { 1900 } else { year(a)? };
            let b = if b.trim().is_empty() { 2100 } else { year(b)? };
            // A range written backwards means the same years.
            Ok((a.min(b), a.max(b)))
        }
        None => {
            let y = year(s)?;
            Ok((y, y))
        }
    }
}

/// A country filter's value in its normal form (upper case), or why it
/// is not an ISO 3166-1 code.
fn country_code(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "country must be an ISO 3166-1 code such as PY, not `{value}`"
        ));
    }
    Ok(value.to_ascii_uppercase())
}

/// A document type filter's value in its normal form, or the types there are.
fn doc_type(value: &str) -> Result<String, String> {
    let value = value.trim();
    match DocType::parse(value) {
        Some(t) => Ok(t.as_str().to_string()),
        None => {
            let known: Vec<&str> = DocType::ALL.iter().map(|t| t.as_str()).collect();
            Err(format!(
                "type must be one of {}, not `{value}`",
                known.join(", ")
            ))
        }
    }
}

/// A language filter's value in its normal form.
fn lang_code(value: &str) -> Result<String, String> {
    let value = value.trim();
    Lang::parse(value)
        .map(|l| l.as_str().to_string())
        .ok_or_else(|| format!("lang must be a language code such as es, not `{value}`"))
}

/// A slug or id, as given (trimmed).
fn word(value: &str) -> Result<String, String> {
    Ok(value.trim().to_string())
}

/// One of three labels, by interface language.
fn by_ui(ui: UiLang, (en, es, ko): (&str, &str, &str)) -> String {
    match ui {
        UiLang::En => en,
        UiLang::Es => es,
        UiLang::Ko => ko,
    }
    .to_string()
}

pub fn doc_type_label(value: &str, ui: UiLang) -> String {
    by_ui(
        ui,
        match value {
            "notice" => ("Notice", "Aviso", "공지"),
            "press_release" => ("Press release", "Comunicado de prensa", "보도자료"),
            "presentation" => ("Presentation", "Presentación", "발표자료"),
            "report" => ("Report", "Informe", "보고서"),
            "course_material" => ("Course material", "Material de curso", "교육자료"),
            "other" => ("Other", "Otro", "기타"),
            v => (v, v, v),
        },
    )
}

pub fn lang_label(value: &str, ui: UiLang) -> String {
    by_ui(
        ui,
        match value {
            "ko" => ("Korean", "Coreano", "한국어"),
            "es" => ("Spanish", "Español", "스페인어"),
            "en" => ("English", "Inglés", "영어"),
            "pt" => ("Portuguese", "Portugués", "포르투갈어"),
            "fr" => ("French", "Francés", "프랑스어"),
            v => (v, v, v),
        },
    )
}

/// Counts per value, per facet.
pub type Counts = PerFacet<std::collections::HashMap<String, u64>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_facets_rule_agrees_with_its_normal_form() {
        assert!(
            YEARS.matches(crate::core::accepts::YEAR).count() == 3,
            "{YEARS}"
        );
        let names: Vec<&str> = DocType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(DOC_TYPES, names.as_slice());
        let mut f = Filters::default();
        for (facet, good, bad) in [
            (Facet::Country, "py", " PY"),
            (Facet::Topic, "resident-registration", "a b"),
            (Facet::Year, "2015..2019", "1800"),
            (Facet::Year, "..2019", "2019-2020"),
            (Facet::DocType, "press_release", "memo"),
            (Facet::Lang, "es", "e"),
            (Facet::Event, "2018-06-advanced-egov-course", ""),
        ] {
            assert!(f.add(facet, good).is_ok(), "{good}");
            assert!(f.add(facet, bad).is_err(), "{bad:?}");
        }
        // A range written backwards is the same years.
        f.add(Facet::Year, "2019..2015").unwrap();
        assert_eq!(f.years(), Some((2015, 2019)));
    }

    #[test]
    fn every_facet_has_its_spec_and_distinct_names() {
        for (i, f) in Facet::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i, "ALL is in declaration order");
            assert_eq!(Facet::from_param(f.spec().param), Some(f));
        }
        let mut names: Vec<&str> = Facet::ALL.iter().map(|f| f.spec().name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Facet::COUNT);
    }

    #[test]
    fn filters_take_values_in_their_normal_form() {
        let f = Filters::default()
            .with(Facet::Country, "py")
            .and_then(|f| f.with(Facet::DocType, "notice"))
            .and_then(|f| f.with(Facet::Year, "2015..2019"))
            .unwrap();
        assert_eq!(f.values(Facet::Country), ["PY"]);
        assert_eq!(f.values(Facet::DocType), ["notice"]);
        assert_eq!(f.years(), Some((2015, 2019)));
        assert!(f.is_active(Facet::Year) && !f.is_active(Facet::Topic));
        assert!(Filters::default().with(Facet::Country, "Paraguay").is_err());
        assert!(Filters::default().with(Facet::Country, " py").is_err());
        assert!(Filters::default().with(Facet::Lang, "xx-yy").is_err());
    }

    #[test]
    fn per_facet_serializes_by_name_in_display_order() {
        let m = PerFacet::from_fn(|f| f as usize);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"country":0,"topic":1,"year":2,"doc_type":3,"lang":4,"event":5}"#
        );
    }
}
