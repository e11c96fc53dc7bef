//! One `Config` for every command: flags > environment > the configuration
//! file > defaults.
//!
//! The file is TOML, found at `--config FILE` (or `EGOVKB_CONFIG`), else at
//! `./egovkb.toml` when there is one. Its paths are relative to the file's
//! own directory. Every key is optional; an unknown key is an error (a
//! misspelt setting must not be ignored in silence).
//!
//! ```toml
//! corpus = "corpus"
//! index = "/var/lib/egovkb/index"
//! # The embedding model's similarity bars, when not the shipped ones:
//! calibration = "calibration.toml"
//!
//! [serve]
//! addr = "0.0.0.0:8080"
//! # Serve a SolrCloud collection instead of the embedded index:
//! solr = ["http://10.0.0.1:8983/solr", "http://10.0.0.2:8983/solr"]
//! collection = "egovkb"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::dict;
use crate::semantic::install as model;

/// The file looked for in the working directory without `--config`.
pub const FILE_NAME: &str = "egovkb.toml";
/// The server's address when nothing says otherwise.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// The SolrCloud collection when nothing says otherwise.
pub const DEFAULT_COLLECTION: &str = "egovkb";

/// Where things live, and how `serve` serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The corpus directory (`--corpus`, `EGOVKB_CORPUS`, `corpus`, `./corpus`).
    pub corpus: PathBuf,
    /// The index directory (`--index`, `EGOVKB_INDEX`, `index`, `./index`).
    pub index: PathBuf,
    /// Where the Korean dictionary is installed (`EGOVKB_DICT_DIR`, else the
    /// per-user data directory).
    pub dict_root: PathBuf,
    /// Where the embedding model is installed (`EGOVKB_MODEL_DIR`, else the
    /// per-user data directory).
    pub model_root: PathBuf,
    /// The embedding model's similarity bars, when not the ones shipped
    /// for it (`EGOVKB_CALIBRATION`, `calibration`; see
    /// `core::relevance::Calibration`).
    pub calibration: Option<PathBuf>,
    pub serve: Serve,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
}

/// How `serve` serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Serve {
    /// `--addr`, `[serve] addr`, 127.0.0.1:8080.
    pub addr: SocketAddr,
    /// SolrCloud nodes to serve from instead of the index, comma-separated
    /// (`--solr`, `EGOVKB_SOLR`, `[serve] solr`).
    pub solr: Option<String>,
    /// `--collection`, `EGOVKB_SOLR_COLLECTION`, `[serve] collection`, egovkb.
    pub collection: String,
}

/// What the command line (and the environment, through clap) gave.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub file: Option<PathBuf>,
    pub corpus: Option<PathBuf>,
    pub index: Option<PathBuf>,
    pub addr: Option<SocketAddr>,
    pub solr: Option<String>,
    pub collection: Option<String>,
    pub calibration: Option<PathBuf>,
}

/// The configuration file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    corpus: Option<PathBuf>,
    index: Option<PathBuf>,
    calibration: Option<PathBuf>,
    #[serde(default)]
    serve: ServeFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    addr: Option<SocketAddr>,
    solr: Option<Nodes>,
    collection: Option<String>,
}

/// SolrCloud nodes: one string (comma-separated) or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Nodes {
    One(String),
    Many(Vec<String>),
}

impl Nodes {
    fn joined(self) -> String {
        match self {
            Nodes::One(s) => s,
            Nodes::Many(v) => v.join(","),
        }
    }
}

/// Why a configuration file was not used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Build from what the user gave and the configuration file: the one
    /// named (which must exist), else `./egovkb.toml` when it exists.
    pub fn load(given: Given) -> Result<Self, ConfigError> {
        let path = given
            .file
            .clone()
            .or_else(|| Some(PathBuf::from(FILE_NAME)).filter(|p| p.is_file()));
        let file = match &path {
            Some(p) => read(p)?,
            None => File::default(),
        };
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let from_file = |p: Option<PathBuf>| p.map(|p| base.join(p));
        Ok(Self {
            corpus: given
                .corpus
                .or_else(|| from_file(file.corpus))
                .unwrap_or_else(|| PathBuf::from("corpus")),
            index: given
                .index
                .or_else(|| from_file(file.index))
                .unwrap_or_else(|| PathBuf::from("index")),
            dict_root: dict::default_dict_root(),
            model_root: model::default_model_root(),
            calibration: given.calibration.or_else(|| from_file(file.calibration)),
            serve: Serve {
                addr: given.addr.or(file.serve.addr).unwrap_or(DEFAULT_ADDR),
                solr: given
                    .solr
                    .or(file.serve.solr.map(Nodes::joined))
                    .filter(|nodes| !nodes.trim().is_empty()),
                collection: given
                    .collection
                    .or(file.serve.collection)
                    .unwrap_or_else(|| DEFAULT_COLLECTION.to_string()),
            },
            file: path,
        })
    }
}

fn read(path: &Path) -> Result<File, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(
            &path,
            "corpus = \"data/corpus\"\nindex = \"/srv/index\"\n[serve]\naddr = \"0.0.0.0:9000\"\nsolr = [\"http://a:8983/solr\", \"http://b:8983/solr\"]\n",
        )
        .unwrap();
        let file = |given: Given| {
            Config::load(Given {
                file: Some(path.clone()),
                ..given
            })
            .unwrap()
        };
        let c = file(Given::default());
        // Relative to the file's directory; absolute as written.
        assert_eq!(c.corpus, dir.path().join("data/corpus"));
        assert_eq!(c.index, PathBuf::from("/srv/index"));
        assert_eq!(c.serve.addr, "0.0.0.0:9000".parse::<SocketAddr>().unwrap());
        assert_eq!(
            c.serve.solr.as_deref(),
            Some("http://a:8983/solr,http://b:8983/solr")
        );
        assert_eq!(c.serve.collection, "egovkb");
        assert_eq!(c.file.as_deref(), Some(path.as_path()));

        let c = file(Given {
            index: Some("mine".into()),
            addr: Some("127.0.0.1:1".parse().unwrap()),
            solr: Some("http://c:8983/solr".into()),
            collection: Some("kb".into()),
            ..Given::default()
        });
        assert_eq!(c.index, PathBuf::from("mine"));
        assert_eq!(c.serve.addr, "127.0.0.1:1".parse::<SocketAddr>().unwrap());
        assert_eq!(c.serve.solr.as_deref(), Some("http://c:8983/solr"));
        assert_eq!(c.serve.collection, "kb");
    }

    #[test]
    fn a_misspelt_key_or_a_missing_file_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("egovkb.toml");
        std::fs::write(&path, "[serve]\nadress = \"0.0.0.0:9000\"\n").unwrap();
        let load = |file: &Path| {
            Config::load(Given {
                file: Some(file.to_path_buf()),
                ..Given::default()
            })
        };
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("egovkb.toml") && err.contains("adress"),
            "{err}"
        );
        std::fs::write(&path, "[serve]\naddr = \"nowhere\"\n").unwrap();
        assert!(load(&path).is_err());
        let err = load(&dir.path().join("absent.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("absent.toml"), "{err}");
    }
}
