//! Source profiles (`corpus/sources.toml`): how to crawl one board without
//! writing code. A list-URL template with a page parameter (or start
//! URLs), the selector and pattern of item links (and how to turn
//! `javascript:` links into URLs), selectors for the detail page, what the
//! source's documents are (language, type, countries, event), its hosts and
//! its rate limit.

use std::path::Path;

use serde::Deserialize;

use crate::document::DocType;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    #[serde(default, rename = "source")]
    pub sources: Vec<Profile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// ISO 639-1 language of the source's pages (detected when absent).
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub doc_type: Option<DocType>,
    /// Countries every document of the source concerns (ISO codes).
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub event: Option<String>,
    /// Hosts that may be fetched; by default the hosts of the list and
    /// start URLs.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Requests per second to one host (robots.txt's crawl-delay may slow
    /// it further).
    #[serde(default = "default_rate")]
    pub requests_per_second: f64,
    #[serde(default)]
    pub start_urls: Vec<String>,
    #[serde(default)]
    pub list: Option<ListSpec>,
    pub items: ItemSpec,
    #[serde(default)]
    pub detail: DetailSpec,
    /// Query parameters that do not change a page (paging, sessions).
    #[serde(default)]
    pub drop_params: Vec<String>,
    /// chrono formats of the detail page's date (`%Y.%m.%d`).
    #[serde(default)]
    pub date_formats: Vec<String>,
    /// An RSS or Atom feed, read first at every crawl: its new items are
    /// crawled even when they are past the list pages read.
    #[serde(default)]
    pub feed: Option<String>,
}

fn default_rate() -> f64 {
    1.0
}

fn default_first_page() -> u32 {
    1
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The list URL with `{page}` where the page number goes.
    pub url: String,
    #[serde(default = "default_first_page")]
    pub first_page: u32,
    #[serde(default)]
    pub last_page: Option<u32>,
    /// Stop paging at a page whose items are all known (a recrawl).
    #[serde(default = "default_true")]
    pub stop_when_known: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// CSS selector of the item links on a list page.
    pub selector: String,
    /// Keep only links whose absolute URL matches this regex.
    #[serde(default)]
    pub pattern: Option<String>,
    /// For `javascript:` links (or `onclick`): a regex whose captures...
    #[serde(default)]
    pub js_capture: Option<String>,
    /// ...fill `{1}`, `{2}`... of this URL template.
    #[serde(default)]
    pub js_template: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailSpec {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// CSS selector of attachment links.
    #[serde(default)]
    pub attachments: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
    #[error("profile `{name}`: {reason}")]
    Invalid { name: String, reason: String },
}

impl Profile {
    /// The URLs a crawl of this profile starts from: its start pages, its
    /// numbered list and its feed.
    pub fn entry_urls(&self) -> impl Iterator<Item = &String> {
        self.start_urls
            .iter()
            .chain(self.list.as_ref().map(|l| &l.url))
            .chain(self.feed.as_ref())
    }

    /// The spacing of its requests to one host.
    pub fn interval(&self) -> std::time::Duration {
        // A rate `validate` refuses (0, negative, not a number) is one a
        // second meanwhile.
        std::time::Duration::try_from_secs_f64(1.0 / self.requests_per_second)
            .unwrap_or(std::time::Duration::from_secs(1))
    }

    /// Check what parsing cannot: URLs, regexes, selectors.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |reason: String| ProfileError::Invalid {
            name: self.name.clone(),
            reason,
        };
        if self.list.is_none() && self.start_urls.is_empty() {
            return Err(bad("give `list.url` or `start_urls`".into()));
        }
        if let Some(l) = &self.list
            && !l.url.contains("{page}")
        {
            return Err(bad(
                "`list.url` needs `{page}` where the page number goes".into()
            ));
        }
        for re in [&self.items.pattern, &self.items.js_capture]
            .into_iter()
            .flatten()
        {
            regex::Regex::new(re).map_err(|e| bad(format!("regex `{re}`: {e}")))?;
        }
        if self.items.js_capture.is_some() != self.items.js_template.is_some() {
            return Err(bad("`js_capture` and `js_template` go together".into()));
        }
        let selectors = [
            Some(&self.items.selector),
            self.detail.title.as_ref(),
            self.detail.date.as_ref(),
            self.detail.body.as_ref(),
            self.detail.attachments.as_ref(),
        ];
        for css in selectors.into_iter().flatten() {
            scraper::Selector::parse(css).map_err(|e| bad(format!("selector `{css}`: {e}")))?;
        }
        // At least one request in 1,000 s: a smaller rate is a typo, and
        // its interval would not fit a timer.
        if !self.requests_per_second.is_finite() || self.requests_per_second < 0.001 {
            return Err(bad("`requests_per_second` must be at least 0.001".into()));
        }
        Ok(())
    }

    /// The hosts this source may fetch from.
    pub fn hosts(&self) -> Vec<String> {
        if !self.allowed_hosts.is_empty() {
            return self
                .allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect();
        }
        self.list
            .iter()
            .map(|l| l.url.replace("{page}", "1"))
            .chain(self.start_urls.iter().cloned())
            .filter_map(|u| url::Url::parse(&u).ok())
            .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
            .collect()
    }
}

/// Read and check a sources file.
pub fn load(path: &Path) -> Result<Vec<Profile>, ProfileError> {
    let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let file: SourcesFile = toml::from_str(&text).map_err(|e| ProfileError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    for p in &file.sources {
        p.validate()?;
    }
    Ok(file.sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_profiles_are_valid() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/sources.toml");
        let profiles = load(&path).unwrap();
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"mois-en-notices"), "{names:?}");
        assert!(names.contains(&"mois-ko-press"), "{names:?}");
        assert!(profiles.len() >= 3);
    }

    #[test]
    fn mistakes_are_named() {
        let bad = r#"
            [[source]]
            name = "x"
            list = { url = "https://example.org/list?page=1" }
            items = { selector = "a" }
        "#;
        let f: SourcesFile = toml::from_str(bad).unwrap();
        let e = f.sources[0].validate().unwrap_err().to_string();
        assert!(e.contains("{page}"), "{e}");
        let slow = bad
            .replace("page=1", "page={page}")
            .replace("name = \"x\"", "name = \"x\"\nrequests_per_second = 1e-30");
        let f: SourcesFile = toml::from_str(&slow).unwrap();
        let e = f.sources[0].validate().unwrap_err().to_string();
        assert!(e.contains("requests_per_second"), "{e}");
        let typo = "[[source]]\nname = \"x\"\nstart_url = []\nitems = { selector = \"a\" }\n";
        assert!(toml::from_str::<SourcesFile>(typo).is_err());
    }
}
