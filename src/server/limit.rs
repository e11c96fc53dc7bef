//! Per-client rate limiting of searches (off by default: `[serve]
//! searches_per_second_per_client`). Each client address has a bucket of
//! `burst` searches that refills at `rate` a second; a search that finds
//! it empty is answered 429 with `Retry-After`, before anything is
//! searched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, is_api, page};
use crate::enrich::UiLang;

/// Clients remembered at most; beyond, those whose bucket is full again
/// are forgotten.
const REMEMBERED: usize = 100_000;

pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Limiter {
    /// A limiter, or none when `rate` is 0 (no limit).
    pub fn new(rate: f64, burst: u32) -> Option<Arc<Self>> {
        (rate > 0.0).then(|| {
            Arc::new(Self {
                rate,
                burst: f64::from(burst.max(1)),
                buckets: Mutex::new(HashMap::new()),
            })
        })
    }

    /// Take one search for `ip` at `now`: `Err(seconds to wait)` when its
    /// bucket is empty.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= REMEMBERED {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// Whether a request on `path` is a search.
fn is_search(path: &str) -> bool {
    path == "/api/search" || path == "/"
}

/// The answer to a search over `ip`'s rate (`None`: go on).
pub(super) fn refuse(limiter: &Limiter, ip: IpAddr, path: &str) -> Option<Response> {
    if !is_search(path) {
        return None;
    }
    let wait = limiter.take(ip, Instant::now()).err()?;
    let e = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "rate_limited",
        message: format!("too many searches from this address; try again in {wait} s"),
    };
    let mut response = if is_api(path) {
        e.into_response()
    } else {
        e.page(&page::PageQuery::parse(&[], UiLang::En).0)
    };
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_a_burst_then_the_rate() {
        let l = Limiter::new(2.0, 3).unwrap();
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take(ip, t0).is_ok());
        }
        assert_eq!(l.take(ip, t0), Err(1));
        assert!(l.take(other, t0).is_ok(), "each client has its own bucket");
        // Half a second refills one search at 2 a second.
        assert!(l.take(ip, t0 + Duration::from_millis(500)).is_ok());
        assert!(l.take(ip, t0 + Duration::from_millis(500)).is_err());
        assert!(Limiter::new(0.0, 3).is_none(), "0 is no limit");
    }
}
