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
//! # What a connection may hold (these are the defaults):
//! header_timeout_secs = 10
//! idle_timeout_secs = 60
//! max_connections = 10000
//! max_connections_per_client = 1000
//! # Searches a client address may make a second (0: no limit), and at once:
//! searches_per_second_per_client = 0
//! search_burst = 20
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub connections: Connections,
}

/// What a connection may hold (`[serve]` keys; docs/configuration.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Connections {
    /// `header_timeout_secs` (10): the time a client has to send a whole
    /// request head once it connected or began one.
    pub header_timeout: Duration,
    /// `idle_timeout_secs` (60): how long a kept-alive connection may wait
    /// for its next request, and a client for reading its answer.
    pub idle_timeout: Duration,
    /// `max_connections` (10000): open connections at most (fewer when the
    /// process may not open that many files); beyond, 503.
    pub max_connections: usize,
    /// `max_connections_per_client` (1000): open connections of one client
    /// address at most; 0 for no such cap (behind a reverse proxy, every
    /// connection comes from the proxy).
    pub max_per_client: usize,
    /// `searches_per_second_per_client` (0: no limit): the searches (API
    /// and page) one client address may make a second, on average; beyond,
    /// 429 with `Retry-After`.
    pub search_rate: f64,
    /// `search_burst` (20): how many searches a client may make at once
    /// before the rate applies.
    pub search_burst: u32,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_per_client: 1_000,
            search_rate: 0.0,
            search_burst: 20,
        }
    }
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
    header_timeout_secs: Option<f64>,
    idle_timeout_secs: Option<f64>,
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
    searches_per_second_per_client: Option<f64>,
    search_burst: Option<u32>,
}

impl ServeFile {
    fn connections(&self) -> Result<Connections, String> {
        let d = Connections::default();
        let secs = |key: &str, v: Option<f64>, default: Duration| match v {
            None => Ok(default),
            Some(s) if s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
            Some(s) => Err(format!(
                "[serve] {key} must be above 0 and at most 86400, not {s}"
            )),
        };
        let max_connections = self.max_connections.unwrap_or(d.max_connections);
        if max_connections == 0 {
            return Err("[serve] max_connections must be at least 1".into());
        }
        Ok(Connections {
            header_timeout: secs(
                "header_timeout_secs",
                self.header_timeout_secs,
                d.header_timeout,
            )?,
            idle_timeout: secs("idle_timeout_secs", self.idle_timeout_secs, d.idle_timeout)?,
            max_connections,
            max_per_client: self.max_connections_per_client.unwrap_or(d.max_per_client),
            search_rate: match self.searches_per_second_per_client {
                None => d.search_rate,
                Some(r) if (0.0..=1e6).contains(&r) => r,
                Some(r) => {
                    return Err(format!(
                        "[serve] searches_per_second_per_client must be from 0 (no limit) to \
                         1000000, not {r}"
                    ));
                }
            },
            search_burst: match self.search_burst {
                None => d.search_burst,
                Some(0) => return Err("[serve] search_burst must be at least 1".into()),
                Some(b) => b,
            },
        })
    }
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
        let connections = file
            .serve
            .connections()
            .map_err(|message| ConfigError::Parse {
                path: path.clone().unwrap_or_default(),
                message,
            })?;
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
                connections,
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

    #[test]
    fn connection_limits_come_from_the_file_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("egovkb.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Config::load(Given {
                file: Some(path.clone()),
                ..Given::default()
            })
        };
        let c = load("[serve]\n").unwrap();
        assert_eq!(c.serve.connections, Connections::default());
        let c = load(
            "[serve]\nheader_timeout_secs = 2.5\nidle_timeout_secs = 30\nmax_connections = 500\n\
             max_connections_per_client = 0\n",
        )
        .unwrap();
        assert_eq!(
            c.serve.connections,
            Connections {
                header_timeout: Duration::from_millis(2500),
                idle_timeout: Duration::from_secs(30),
                max_connections: 500,
                max_per_client: 0,
                ..Connections::default()
            }
        );
        let err = load("[serve]\nheader_timeout_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("header_timeout_secs"), "{err}");
        assert!(load("[serve]\nmax_connections = 0\n").is_err());
        assert!(load("[serve]\nidle_timeout_secs = -1\n").is_err());
    }
}
