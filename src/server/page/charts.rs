//! The results page's pictures: a histogram of the results by year and
//! bars of the results by country, server-rendered SVG that works without
//! JavaScript. Every bar is a link that narrows the search to its year or
//! country (or, selected, removes that filter), named for screen readers
//! by its value and count; the counts are the facets' own, so they respect
//! the other filters (disjunctive counts) as the filter list does.

use maud::{Markup, html};

use super::{COUNTRY, PageQuery, YEAR, flag};
use crate::core::facet::Facet;
use crate::index::search::{FacetValue, SearchResponse};
use crate::server::text::Text;

/// Countries drawn (the most frequent).
const COUNTRIES_SHOWN: usize = 8;
/// Height of the year histogram's bars at their tallest, in pixels.
const YEAR_BAR_HEIGHT: f64 = 80.0;
/// Width of a year's slot, in pixels.
const YEAR_SLOT: usize = 28;
/// Height of a country's row, in pixels.
const COUNTRY_ROW: usize = 22;
/// Width of the country names' column and of the longest bar, in pixels.
const COUNTRY_LABEL: usize = 150;
const COUNTRY_BAR: f64 = 220.0;

/// Both charts, when the results span more than one year or name a
/// country.
pub(super) fn charts(t: &Text, q: &PageQuery, r: &SearchResponse) -> Markup {
    let years = years(&r.facets[Facet::Year]);
    let countries = &r.facets[Facet::Country];
    html! {
        @if years.len() > 1 || !countries.is_empty() {
            section.charts aria-label=(format!("{} · {}", t.by_year, t.by_country)) {
                @if years.len() > 1 { (year_chart(t, q, &years)) }
                @if !countries.is_empty() { (country_chart(t, q, countries)) }
            }
        }
    }
}

/// Every year from the first to the last with its count (0 for a year
/// without results), oldest first.
fn years(values: &[FacetValue]) -> Vec<(i32, u64)> {
    let mut found: Vec<(i32, u64)> = values
        .iter()
        .filter_map(|v| Some((v.value.parse().ok()?, v.count)))
        .collect();
    found.sort_unstable();
    let (Some(first), Some(last)) = (found.first(), found.last()) else {
        return Vec::new();
    };
    // A stray date far in the past would stretch the axis into a line.
    let first = first.0.max(last.0 - 40);
    (first..=last.0)
        .map(|y| {
            let count = found.iter().find(|f| f.0 == y).map_or(0, |f| f.1);
            (y, count)
        })
        .collect()
}

/// The years the query's year filter covers (`2019`, `2017..2022`).
fn selected_years(q: &PageQuery) -> Option<(i32, i32)> {
    let v = q.value(YEAR)?;
    let (a, b) = v.split_once("..").unwrap_or((v, v));
    Some((a.parse().unwrap_or(i32::MIN), b.parse().unwrap_or(i32::MAX)))
}

fn year_chart(t: &Text, q: &PageQuery, years: &[(i32, u64)]) -> Markup {
    let most = years.iter().map(|y| y.1).max().unwrap_or(1).max(1) as f64;
    let width = years.len() * YEAR_SLOT;
    let height = YEAR_BAR_HEIGHT as usize + 34;
    // A label every `step` years when they would crowd.
    let step = years.len().div_ceil(14).max(1);
    let selected = selected_years(q);
    let single = q.value(YEAR).filter(|v| !v.contains(".."));
    html! {
        figure.chart.years {
            figcaption #chart-years { (t.by_year) }
            svg role="group" aria-labelledby="chart-years" width=(width) height=(height)
                viewBox=(format!("0 0 {width} {height}")) {
                @for (i, &(year, count)) in years.iter().enumerate() {
                    @let x = i * YEAR_SLOT;
                    @let h = (count as f64 / most * YEAR_BAR_HEIGHT).round().max(if count > 0 { 2.0 } else { 0.0 });
                    @let top = 14.0 + YEAR_BAR_HEIGHT - h;
                    @let on = selected.is_some_and(|(a, b)| (a..=b).contains(&year));
                    @let name = format!("{year}: {count} {}", t.results);
                    @if count > 0 {
                        @let href = if single == Some(year.to_string().as_str()) {
                            q.without(YEAR, &year.to_string())
                        } else {
                            q.with(YEAR, &year.to_string())
                        };
                        a.bar.on[on] href=(href) aria-label=(name) data-year=(year) data-count=(count) {
                            title { (name) }
                            // The whole slot takes the click, not only the bar.
                            rect.hit x=(x) y="0" width=(YEAR_SLOT) height=(14.0 + YEAR_BAR_HEIGHT) {}
                            rect x=(x + 3) y=(top) width=(YEAR_SLOT - 6) height=(h) {}
                            text.count x=(x + YEAR_SLOT / 2) y=(top - 3.0) text-anchor="middle" { (count) }
                        }
                    }
                    @if i % step == 0 || i + 1 == years.len() {
                        text.axis x=(x + YEAR_SLOT / 2) y=(height - 6) text-anchor="middle" aria-hidden="true" {
                            (format!("’{:02}", year.rem_euclid(100)))
                        }
                    }
                }
            }
        }
    }
}

fn country_chart(t: &Text, q: &PageQuery, values: &[FacetValue]) -> Markup {
    let shown: Vec<&FacetValue> = values.iter().take(COUNTRIES_SHOWN).collect();
    let most = shown.iter().map(|v| v.count).max().unwrap_or(1).max(1) as f64;
    let width = COUNTRY_LABEL + COUNTRY_BAR as usize + 50;
    let height = shown.len() * COUNTRY_ROW;
    html! {
        figure.chart.countries {
            figcaption #chart-countries { (t.by_country) }
            svg role="group" aria-labelledby="chart-countries" width=(width) height=(height)
                viewBox=(format!("0 0 {width} {height}")) {
                @for (i, v) in shown.iter().enumerate() {
                    @let y = i * COUNTRY_ROW;
                    @let label = v.label.clone().unwrap_or_else(|| v.value.clone());
                    @let short = shorten(&label, 20);
                    @let w = (v.count as f64 / most * COUNTRY_BAR).round().max(2.0);
                    @let on = q.has(COUNTRY, &v.value);
                    @let name = format!("{label}: {} {}", v.count, t.results);
                    @let href = if on { q.without(COUNTRY, &v.value) } else { q.with(COUNTRY, &v.value) };
                    a.bar.on[on] href=(href) aria-label=(name) data-country=(v.value) data-count=(v.count) {
                        title { (name) }
                        rect.hit x="0" y=(y) width=(width) height=(COUNTRY_ROW) {}
                        text.name x="0" y=(y + 15) { (flag(&v.value)) " " (short) }
                        rect x=(COUNTRY_LABEL) y=(y + 4) width=(w) height=(COUNTRY_ROW - 8) {}
                        text.count x=(COUNTRY_LABEL as f64 + w + 5.0) y=(y + 15) { (v.count) }
                    }
                }
            }
        }
    }
}

/// At most `n` characters, with an ellipsis when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: &str, count: u64) -> FacetValue {
        FacetValue {
            value: v.into(),
            label: None,
            count,
        }
    }

    #[test]
    fn the_year_axis_has_every_year_between_the_first_and_the_last() {
        let got = years(&[value("2021", 3), value("2018", 1), value("x", 9)]);
        assert_eq!(got, vec![(2018, 1), (2019, 0), (2020, 0), (2021, 3)]);
        assert!(years(&[]).is_empty());
        // A stray old date does not stretch the axis over a century.
        let got = years(&[value("1905", 1), value("2020", 4)]);
        assert_eq!(got.first(), Some(&(1980, 0)));
        assert_eq!(shorten("República Dominicana", 10), "República…");
        assert_eq!(shorten("Perú", 10), "Perú");
    }
}
