//! A SolrCloud client for what egovkb asks of a cluster: configsets,
//! collections, updates and queries, over Solr's HTTP API. It knows one
//! node or several (any node answers for the whole cluster): requests go
//! to them in turn, and one that a node does not answer goes at once to
//! the next. Requests that fail for a reason that may pass (429, 5xx, a
//! connection refused or reset: a node down or restarting, a leader being
//! elected) are retried with a doubling backoff; others fail with Solr's
//! own message.

use std::time::Duration;

use serde_json::Value;

/// Why a request to the cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum SolrError {
    /// No answer, or only answers that may pass, after every retry.
    #[error("Solr at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// Solr refused the request: its status and its message.
    #[error("Solr refused ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("Solr answered something that is not JSON: {0}")]
    BadAnswer(String),
    #[error("not a Solr base URL (such as http://127.0.0.1:8983/solr): {0}")]
    BadUrl(String),
    /// The passages' vectors could not be made or kept here.
    #[error("passage vectors: {0}")]
    Vectors(String),
}

impl SolrError {
    /// A refusal of what was sent (4xx other than 429): sending it again
    /// would not help.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { status, .. } if (400..500).contains(status) && *status != 429)
    }
}

/// A cluster, by the base URLs of some of its nodes
/// (`http://host:8983/solr`).
pub struct Solr {
    bases: Vec<String>,
    /// The node the next request goes to first.
    next: std::sync::atomic::AtomicUsize,
    agent: ureq::Agent,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubled at each retry.
    pub backoff: Duration,
}

impl Solr {
    /// A node's base URL, or several separated by commas.
    pub fn new(urls: &str) -> Result<Self, SolrError> {
        Self::with_timeout(urls, Duration::from_secs(120))
    }

    /// The same, each request given up after `timeout` (and asked of the
    /// next node): a node that accepts connections but does not answer
    /// (still starting, or stuck) holds a search no longer than that.
    pub fn with_timeout(urls: &str, timeout: Duration) -> Result<Self, SolrError> {
        let mut bases = Vec::new();
        for base in urls.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            let parsed = url::Url::parse(base).map_err(|_| SolrError::BadUrl(base.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(SolrError::BadUrl(base.to_string()));
            }
            bases.push(base.trim_end_matches('/').to_string());
        }
        if bases.is_empty() {
            return Err(SolrError::BadUrl(urls.to_string()));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            // A server has many searches in flight to a few nodes.
            .max_idle_connections(256)
            .max_idle_connections_per_host(64)
            .build();
        Ok(Self {
            bases,
            next: std::sync::atomic::AtomicUsize::new(0),
            agent,
            // About a minute of backoff in all: long enough for a cluster
            // to notice a node is gone (its ZooKeeper session expiring)
            // and elect new leaders.
            retries: 10,
            backoff: Duration::from_millis(500),
        })
    }

    /// The nodes' base URLs, as given.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    /// GET `path` (below the base) with `query`; the JSON answer.
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, SolrError> {
        self.send("GET", path, query, None)
    }

    /// POST `body` of `content_type` to `path` with `query`.
    pub fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<Value, SolrError> {
        self.send("POST", path, query, Some((content_type, body)))
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<Value, SolrError> {
        let path = path.trim_start_matches('/');
        let first = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut backoff = self.backoff;
        let mut attempt = 0;
        let mut node = first;
        loop {
            let url = format!("{}/{path}", self.bases[node % self.bases.len()]);
            let mut req = self.agent.request(method, &url).query("wt", "json");
            for (k, v) in query {
                req = req.query(k, v);
            }
            let result = match body {
                Some((content_type, bytes)) => {
                    req.set("Content-Type", content_type).send_bytes(bytes)
                }
                None => req.call(),
            };
            let reason = match result {
                Ok(r) => {
                    let text = r
                        .into_string()
                        .map_err(|e| SolrError::BadAnswer(e.to_string()))?;
                    return serde_json::from_str(&text)
                        .map_err(|_| SolrError::BadAnswer(text.chars().take(200).collect()));
                }
                Err(ureq::Error::Status(status, r)) => {
                    let message = error_message(&r.into_string().unwrap_or_default());
                    let error = SolrError::Refused { status, message };
                    if !(status == 429 || status >= 500) {
                        return Err(error);
                    }
                    error.to_string()
                }
                Err(ureq::Error::Transport(t)) => t.to_string(),
            };
            // Another node first, at once; once each was asked, wait.
            node += 1;
            if !(node - first).is_multiple_of(self.bases.len()) {
                continue;
            }
            if attempt >= self.retries {
                return Err(SolrError::Unreachable { url, reason });
            }
            tracing::debug!(%url, %reason, wait_ms = backoff.as_millis() as u64, "retrying");
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(10));
            attempt += 1;
        }
    }

    /// Whether the cluster has a collection of this name.
    pub fn has_collection(&self, name: &str) -> Result<bool, SolrError> {
        let list = self.get("admin/collections", &[("action", "LIST")])?;
        Ok(list["collections"]
            .as_array()
            .is_some_and(|c| c.iter().any(|n| n == name)))
    }

    /// Upload (or replace) the configset `name` from its zip.
    pub fn upload_configset(&self, name: &str, zip: &[u8]) -> Result<(), SolrError> {
        self.post(
            "admin/configs",
            &[
                ("action", "UPLOAD"),
                ("name", name),
                ("overwrite", "true"),
                ("cleanup", "true"),
            ],
            "application/octet-stream",
            zip,
        )
        .map(drop)
    }

    /// Create `collection` on configset `config`, or reload it onto the
    /// configset as uploaded now when it exists.
    pub fn create_or_reload(
        &self,
        collection: &str,
        config: &str,
        shards: u32,
        replicas: u32,
    ) -> Result<bool, SolrError> {
        if self.has_collection(collection)? {
            self.get(
                "admin/collections",
                &[("action", "RELOAD"), ("name", collection)],
            )?;
            return Ok(false);
        }
        let (shards, replicas) = (shards.to_string(), replicas.to_string());
        let created = self.get(
            "admin/collections",
            &[
                ("action", "CREATE"),
                ("name", collection),
                ("collection.configName", config),
                ("numShards", &shards),
                ("replicationFactor", &replicas),
                ("waitForFinalState", "true"),
            ],
        );
        if let Err(e) = created {
            // What was made of it goes: a rerun starts clean.
            let _ = self.get(
                "admin/collections",
                &[("action", "DELETE"), ("name", collection)],
            );
            return Err(match e {
                SolrError::Refused { status, message }
                    if message.contains("core creation failed") =>
                {
                    SolrError::Refused {
                        status,
                        message: format!(
                            "{message} (the nodes could not load the configset: their logs say why; \
                             the usual cause is Solr's analysis-extras module, which the Korean \
                             analysis needs, not enabled on every node)"
                        ),
                    }
                }
                e => e,
            });
        }
        Ok(true)
    }
}

/// Solr's message in an error answer (`{"error": {"msg": …}}`), with the
/// nodes' own reasons when a collection's cores failed (`"failure"`: the
/// root cause is there), else the start of the answer.
fn error_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(300).collect();
    };
    let mut message = v["error"]["msg"].as_str().unwrap_or("").to_string();
    if let Some(failures) = v["failure"].as_object() {
        for reason in failures.values().filter_map(Value::as_str) {
            // The cause is at the end of a chain of "Caused by" or ":".
            let cause = reason.rsplit("Caused by:").next().unwrap_or(reason).trim();
            message.push_str(&format!(
                "; {}",
                cause.chars().take(300).collect::<String>()
            ));
        }
    }
    if message.is_empty() {
        message = body.chars().take(300).collect();
    }
    message
}
