//! The command line's commands, one module each, over the library.

mod analyze;
mod args;
mod corpus;
mod search;
mod serve;
mod setup;
mod solr;

pub use analyze::*;
pub use args::*;
pub use corpus::*;
pub use search::*;
pub use serve::*;
pub use setup::*;
pub use solr::*;
