//! The Solr configset egovkb writes: `solrconfig.xml`, `schema.xml` and
//! the files their analyzers read, made from the same vocabularies as the
//! embedded engine's analysis (stop words, accent folding that keeps `ñ`,
//! the Korean e-government terms), so that both engines cut text alike.

use std::io::Write;
use std::path::Path;

use crate::analysis::korean::KO_TERMS_TOML;
use crate::analysis::latin::{STOPWORDS_TOML, fold};

/// The views a document's text is indexed in: its language's analysis,
/// and `other` for every other language.
pub const VIEWS: [&str; 4] = ["ko", "es", "en", "other"];

/// The version of how a document is mapped to the collection's fields
/// (changed by hand with `sync::to_solr`).
pub const SCHEMA_VERSION: &str = "egovkb-solr-2";

/// What the configset makes of a document, as a short hash of the mapping
/// version and of every file but the vectors' (an analyzer, a stop word, a
/// Korean term): a document synced under another fingerprint is sent
/// again, so that the collection's text is analysed as its configset says.
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(SCHEMA_VERSION);
        for f in files(None).unwrap_or_default() {
            h.update(f.path);
            h.update([0]);
            h.update(&f.text);
        }
        hex::encode(&h.finalize()[..6])
    })
}

/// One file of the configset: its path inside it and its text.
pub struct ConfigFile {
    pub path: &'static str,
    pub text: String,
}

/// The configset's files. `vector_dim`: the dimension of the passage
/// vectors (a dense vector field), when a model is installed.
pub fn files(vector_dim: Option<usize>) -> Result<Vec<ConfigFile>, String> {
    Ok(vec![
        ConfigFile {
            path: "solrconfig.xml",
            text: SOLRCONFIG.to_string(),
        },
        ConfigFile {
            path: "schema.xml",
            text: schema(vector_dim, &crate::ranking::Ranking::default()),
        },
        ConfigFile {
            path: "lang/stopwords_es.txt",
            text: stopwords("es")?,
        },
        ConfigFile {
            path: "lang/stopwords_en.txt",
            text: stopwords("en")?,
        },
        ConfigFile {
            path: "lang/fold_es.txt",
            text: folding(),
        },
        ConfigFile {
            path: "lang/userdict_ko.txt",
            text: korean_terms()?,
        },
    ])
}

/// Write the configset into `dir` (created if need be).
pub fn write(dir: &Path, files: &[ConfigFile]) -> std::io::Result<()> {
    for f in files {
        let path = dir.join(f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &f.text)?;
    }
    Ok(())
}

/// The configset as a zip, as Solr's configset API takes it.
pub fn zip(files: &[ConfigFile]) -> std::io::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for f in files {
        out.start_file(f.path, options)
            .map_err(std::io::Error::other)?;
        out.write_all(f.text.as_bytes())?;
    }
    Ok(out.finish().map_err(std::io::Error::other)?.into_inner())
}

const SOLRCONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by `egovkb solr configset`: edit egovkb, not this file. -->
<config>
  <luceneMatchVersion>9.12</luceneMatchVersion>
  <dataDir>${solr.data.dir:}</dataDir>
  <directoryFactory name="DirectoryFactory" class="${solr.directoryFactory:solr.NRTCachingDirectoryFactory}"/>
  <schemaFactory class="ClassicIndexSchemaFactory"/>
  <codecFactory class="solr.SchemaCodecFactory"/>
  <indexConfig>
    <lockType>${solr.lock.type:native}</lockType>
  </indexConfig>
  <updateHandler class="solr.DirectUpdateHandler2">
    <updateLog>
      <str name="dir">${solr.ulog.dir:}</str>
    </updateLog>
    <autoCommit>
      <maxTime>${solr.autoCommit.maxTime:15000}</maxTime>
      <openSearcher>false</openSearcher>
    </autoCommit>
    <autoSoftCommit>
      <maxTime>${solr.autoSoftCommit.maxTime:2000}</maxTime>
    </autoSoftCommit>
  </updateHandler>
  <query>
    <filterCache size="512" initialSize="512" autowarmCount="0"/>
    <queryResultCache size="512" initialSize="512" autowarmCount="0"/>
    <documentCache size="512" initialSize="512" autowarmCount="0"/>
    <enableLazyFieldLoading>true</enableLazyFieldLoading>
  </query>
  <requestDispatcher>
    <requestParsers multipartUploadLimitInKB="65536" formdataUploadLimitInKB="65536"/>
  </requestDispatcher>
  <requestHandler name="/select" class="solr.SearchHandler">
    <lst name="defaults">
      <str name="defType">edismax</str>
      <str name="df">text_all</str>
      <str name="q.op">OR</str>
    </lst>
  </requestHandler>
</config>
"#;

/// The schema: stored fields for display, per-language text fields, the
/// all-languages view, the facet fields, and the passage vectors.
fn schema(vector_dim: Option<usize>, ranking: &crate::ranking::Ranking) -> String {
    // BM25 as the embedded engine weighs: Korean with Lucene's defaults,
    // the other languages with the parameters chosen for them.
    let bm25 = |p: crate::ranking::Bm25Params| {
        format!(
            "<similarity class=\"solr.BM25SimilarityFactory\"><float name=\"k1\">{}</float><float name=\"b\">{}</float></similarity>",
            p.k1, p.b
        )
    };
    let (korean, latin) = (bm25(ranking.korean), bm25(ranking.latin));
    let mut fields = String::new();
    for view in VIEWS {
        let kind = if view == "other" {
            "text_all".to_string()
        } else {
            format!("text_{view}")
        };
        fields.push_str(&format!(
            "  <field name=\"title_{view}\" type=\"{kind}\" indexed=\"true\" stored=\"true\"/>\n  \
             <field name=\"body_{view}\" type=\"{kind}\" indexed=\"true\" stored=\"true\" storeOffsetsWithPositions=\"true\"/>\n"
        ));
    }
    let vectors = match vector_dim {
        Some(dim) => format!(
            "  <fieldType name=\"passage_vector\" class=\"solr.DenseVectorField\" vectorDimension=\"{dim}\" similarityFunction=\"cosine\" knnAlgorithm=\"hnsw\"/>\n  \
             <field name=\"vector\" type=\"passage_vector\" indexed=\"true\" stored=\"false\"/>\n"
        ),
        None => String::new(),
    };
    // The schema as XML beside this file; these are its blanks.
    include_str!("schema.xml")
        .replace("{schema_version}", SCHEMA_VERSION)
        .replace("{korean}", &korean)
        .replace("{latin}", &latin)
        .replace("{vectors}", &vectors)
        .replace("{fields}", &fields)
}

/// A stop word list of our analysis, folded as the Spanish field folds.
fn stopwords(lang: &str) -> Result<String, String> {
    let table: toml::Table = toml::from_str(STOPWORDS_TOML).map_err(|e| e.to_string())?;
    let words = table
        .get(lang)
        .and_then(|t| t.get("words"))
        .and_then(|w| w.as_array())
        .ok_or_else(|| format!("no {lang} stop words"))?;
    let mut out: Vec<String> = words
        .iter()
        .filter_map(|w| w.as_str())
        .map(|w| fold(&w.to_lowercase()))
        .collect();
    out.sort();
    out.dedup();
    Ok(out.join("\n") + "\n")
}

/// Solr's mapping of every accented Latin letter to what our folding makes
/// of it (so `ñ` and `Ñ` stay).
fn folding() -> String {
    let mut out = String::from("# Accents folded as egovkb folds them: ñ kept.\n");
    for c in ('\u{C0}'..='\u{24F}').filter(|c| c.is_alphabetic()) {
        let s = c.to_string();
        let folded = fold(&s);
        if folded != s && !folded.is_empty() {
            out.push_str(&format!("\"{s}\" => \"{folded}\"\n"));
        }
    }
    out
}

/// nori's user dictionary: each term, then its parts.
fn korean_terms() -> Result<String, String> {
    let table: toml::Table = toml::from_str(KO_TERMS_TOML).map_err(|e| e.to_string())?;
    let terms = table
        .get("terms")
        .and_then(|t| t.as_table())
        .ok_or("no [terms] table")?;
    let mut out = String::from("# egovkb's Korean e-government terms: the term, then its parts.\n");
    for (term, parts) in terms {
        let parts: Vec<&str> = parts
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
            .unwrap_or_default();
        if parts.len() > 1 {
            out.push_str(&format!("{term} {}\n", parts.join(" ")));
        } else {
            out.push_str(&format!("{term}\n"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configset_folds_as_we_fold_and_keeps_enye() {
        let all = files(Some(384)).unwrap();
        let text = |p: &str| &all.iter().find(|f| f.path == p).unwrap().text;
        let fold = text("lang/fold_es.txt");
        assert!(fold.contains("\"á\" => \"a\"") && fold.contains("\"É\" => \"E\""));
        assert!(!fold.contains("\"ñ\"") && !fold.contains("\"Ñ\""));
        assert!(text("lang/stopwords_es.txt").lines().any(|w| w == "mas"));
        assert!(text("lang/userdict_ko.txt").contains("행정안전부 행정 안전 부\n"));
        let schema = text("schema.xml");
        for view in VIEWS {
            assert!(schema.contains(&format!("name=\"body_{view}\"")));
        }
        assert!(schema.contains("vectorDimension=\"384\""));
        assert!(!files(None).unwrap()[1].text.contains("DenseVectorField"));
        let zipped = zip(&all).unwrap();
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), all.len());
    }
}
