//! The `Document`, the one record that flows through every stage (crawl or
//! import, extract, store, then enrich at index time, search), and its
//! small types.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What kind of document this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    Notice,
    PressRelease,
    Presentation,
    Report,
    CourseMaterial,
    #[default]
    Other,
}

impl DocType {
    pub const ALL: [DocType; 6] = [
        Self::Notice,
        Self::PressRelease,
        Self::Presentation,
        Self::Report,
        Self::CourseMaterial,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::PressRelease => "press_release",
            Self::Presentation => "presentation",
            Self::Report => "report",
            Self::CourseMaterial => "course_material",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 639-1 language code, lower case (`ko`, `es`, `en`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Lang(String);

impl Lang {
    pub fn ko() -> Self {
        Self("ko".into())
    }
    pub fn es() -> Self {
        Self("es".into())
    }
    pub fn en() -> Self {
        Self("en".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Accepts two or three ASCII letters, any case.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (matches!(s.len(), 2 | 3) && s.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Self(s.to_ascii_lowercase()))
    }
}

impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("`{s}` is not an ISO 639-1 language code"))
    }
}

impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One document of the knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Document {
    /// Stable: a hash of the canonical URL (or of the path, for local files),
    /// or the id a JSON record carried.
    pub id: String,
    /// Canonical source URL; for a file, its absolute path in the store
    /// (the HTTP API shows it relative to the corpus directory, or the
    /// file's name alone when it lies elsewhere: never a server folder).
    pub url: String,
    /// Name of the source profile, or `local`.
    pub source: String,
    #[serde(default)]
    pub doc_type: DocType,
    pub title: String,
    /// Plain text; paragraphs separated by blank lines.
    #[serde(default)]
    pub body: String,
    pub lang: Option<Lang>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2 codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Taxonomy slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// The course or meeting it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// For an attachment, the id of the page it was attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// For PDF and PPTX, the text of each page or slide (page 1 first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<String>,
    /// For a downloaded file, its name as the server gave it
    /// (`Content-Disposition`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl Document {
    /// A document with the required fields; the rest empty.
    pub fn new(
        url: impl Into<String>,
        source: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        let url = url.into();
        Self {
            id: Self::id_for(&url),
            url,
            source: source.into(),
            doc_type: DocType::Other,
            title: title.into(),
            body: String::new(),
            lang: None,
            published: None,
            countries: Vec::new(),
            topics: Vec::new(),
            event: None,
            parent: None,
            pages: Vec::new(),
            file_name: None,
        }
    }

    /// Whether its pages are slides (a PPTX, by its name or its URL).
    pub fn has_slides(&self) -> bool {
        crate::extract::has_slides(self.file_name.as_deref(), &self.url)
    }

    /// The stable id of a canonical URL or path: 16 hex digits of its SHA-256.
    pub fn id_for(canonical: &str) -> String {
        let digest = Sha256::digest(canonical.as_bytes());
        hex::encode(&digest[..8])
    }

    /// A hash of everything the index sees, to tell a changed document from
    /// an unchanged one.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(&Sha256::digest(&json)[..16])
    }

    /// Check the fields a record must have to be stored and indexed.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("empty id".into());
        }
        if self.id.len() > 256 {
            return Err("id longer than 256 bytes".into());
        }
        if self.title.trim().is_empty() && self.body.trim().is_empty() && self.pages.is_empty() {
            return Err("no title and no text".into());
        }
        for c in &self.countries {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!("country `{c}` is not an ISO 3166-1 alpha-2 code"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_stable_and_short() {
        let a = Document::id_for("https://www.mois.go.kr/eng/a.do?id=1");
        assert_eq!(a, Document::id_for("https://www.mois.go.kr/eng/a.do?id=1"));
        assert_ne!(a, Document::id_for("https://www.mois.go.kr/eng/a.do?id=2"));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn json_round_trip_uses_the_contract_names() {
        let mut d = Document::new("https://example.org/n/1", "mois-en", "Course");
        d.doc_type = DocType::PressRelease;
        d.lang = Some(Lang::ko());
        d.published = NaiveDate::from_ymd_opt(2018, 6, 26);
        d.countries = vec!["PY".into()];
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains(r#""doc_type":"press_release""#), "{json}");
        assert!(json.contains(r#""published":"2018-06-26""#), "{json}");
        assert!(json.contains(r#""lang":"ko""#), "{json}");
        let back: Document = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn rejects_bad_records() {
        assert!(
            serde_json::from_str::<Document>(
                r#"{"id":"x","url":"u","source":"s","title":"t","lang":"espanol"}"#
            )
            .is_err()
        );
        let mut d = Document::new("u", "s", "t");
        d.countries = vec!["Paraguay".into()];
        assert!(d.validate().is_err());
        let empty = Document::new("u", "s", " ");
        assert!(empty.validate().is_err());
    }

    #[test]
    fn content_hash_follows_content() {
        let a = Document::new("u", "s", "t");
        let mut b = a.clone();
        assert_eq!(a.content_hash(), b.content_hash());
        b.body = "more".into();
        assert_ne!(a.content_hash(), b.content_hash());
    }
}
