//! What both search engines share and neither needs an index for: the
//! facets (`facet`), the query grammar (`query`), snippets and their
//! highlights (`snippet`), and the rules that decide whether a document
//! is a result of a search and say why (`relevance`). The embedded
//! engine (`index::search`) and the SolrCloud backend (`solr`) call it,
//! so that a search counts the same documents, for the same reasons,
//! whichever engine runs it.

pub mod accepts;
pub mod facet;
pub mod query;
pub mod relevance;
pub mod request;
pub mod response;
pub mod snippet;
