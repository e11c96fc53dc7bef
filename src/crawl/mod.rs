//! Crawling boards into the corpus: source profiles (`profile`), polite
//! fetching (`fetch`, with `robots` and canonical URLs from `canonical`),
//! and the crawl itself with its state on disk (`run`).

pub mod canonical;
mod documents;
pub mod feed;
pub mod fetch;
pub mod profile;
pub mod robots;
pub mod run;
mod state;
