//! The labels of the courses and meetings documents belong to, from
//! `<corpus>/events.toml`: `[events."slug"] en = "…" es = "…" ko = "…"`
//! (a language missing falls back to English, English to the slug).

use std::collections::HashMap;
use std::path::Path;

use super::UiLang;

/// Event labels by slug, in English, Spanish and Korean.
#[derive(Debug, Clone, Default)]
pub struct Events(HashMap<String, [String; 3]>);

impl Events {
    /// The labels of `corpus`'s `events.toml`; none when it has none, or a
    /// warning and none when it is not valid TOML.
    pub fn load(corpus: &Path) -> Self {
        let Ok(text) = std::fs::read_to_string(corpus.join("events.toml")) else {
            return Self::default();
        };
        let Ok(table) = toml::from_str::<toml::Table>(&text) else {
            tracing::warn!("events.toml is not valid TOML; event labels fall back to their ids");
            return Self::default();
        };
        let mut out = HashMap::new();
        if let Some(events) = table.get("events").and_then(|e| e.as_table()) {
            for (slug, labels) in events {
                let get = |l: &str| labels.get(l).and_then(|v| v.as_str()).map(str::to_string);
                let en = get("en").unwrap_or_else(|| slug.clone());
                let es = get("es").unwrap_or_else(|| en.clone());
                let ko = get("ko").unwrap_or_else(|| en.clone());
                out.insert(slug.clone(), [en, es, ko]);
            }
        }
        Self(out)
    }

    /// An event's label in `ui`'s language; its slug when it has none.
    pub fn label(&self, slug: &str, ui: UiLang) -> String {
        match self.0.get(slug) {
            Some(labels) => labels[match ui {
                UiLang::En => 0,
                UiLang::Es => 1,
                UiLang::Ko => 2,
            }]
            .clone(),
            None => slug.to_string(),
        }
    }
}
