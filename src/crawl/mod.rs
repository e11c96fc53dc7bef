//! Crawling: the pieces that decide what may be fetched and what a fetched
//! URL is (robots.txt, canonical URLs). The fetcher, source profiles and
//! crawl state build on them.

pub mod canonical;
pub mod robots;
