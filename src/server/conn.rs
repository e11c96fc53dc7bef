//! The server's edge: what a connection may hold before the application
//! sees a request.
//!
//! * A cap on open connections, and on those of one client address: a
//!   connection beyond either is answered `503` (JSON, `Retry-After`) and
//!   closed at once, so that the server keeps its file descriptors and its
//!   answers for the others.
//! * Time limits: a client that connected, or began a request, has
//!   `header_timeout` to send the whole request head; a kept-alive
//!   connection may stay idle `idle_timeout` between requests; a client
//!   that does not read its answer for `idle_timeout` is dropped. Slow
//!   clients (slowloris) cannot hold connections for ever.
//! * Request heads are checked before hyper parses them, so that every
//!   rejection made before routing (a URL too long, `414`; a head too large
//!   or with too many fields, `431`; a malformed request, `400`; a request
//!   body that does not say its length, `411`; one too large, `413`; a head
//!   too slow, `408`) gets the same JSON error as the application's (an
//!   HTML page on the page's routes), its security headers, and one
//!   bounded access-log line. hyper's own limits are wider, so that it
//!   never answers first with an empty body.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::metrics::Metrics;
use crate::config::Connections;

/// A request line (method, URL, version) longer than this is refused (414):
/// room for the longest query text (1,000 characters of four bytes, each
/// byte percent-encoded) and filters.
pub const MAX_REQUEST_LINE: usize = 16 * 1024;
/// A request head (request line and header fields) larger than this is
/// refused (431).
pub const MAX_HEAD: usize = 32 * 1024;
/// Header fields a request may have (431 beyond).
pub const MAX_FIELDS: usize = 64;
/// The largest request body read (413 beyond); no route takes one.
pub const MAX_BODY: u64 = 64 * 1024;
/// Seconds a shed client is told to wait.
const RETRY_AFTER_SECS: u32 = 5;
/// A logged path is cut to this many characters.
pub const LOGGED_PATH: usize = 256;

/// The open connections, counted as a whole and per client address.
pub struct Gate {
    limits: Connections,
    metrics: Arc<Metrics>,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection was refused at the door.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refused {
    Full,
    ClientFull,
}

impl Gate {
    pub fn new(limits: Connections, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            metrics,
            per_client: Mutex::new(HashMap::new()),
        })
    }

    pub fn limits(&self) -> &Connections {
        &self.limits
    }

    /// Open connections now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.metrics.open_connections().load(Ordering::Relaxed)
    }

    /// Let a connection from `ip` in, counted until its `Slot` drops.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let open = self.metrics.open_connections();
        if open.fetch_add(1, Ordering::AcqRel) >= self.limits.max_connections {
            open.fetch_sub(1, Ordering::AcqRel);
            self.metrics.shed();
            return Err(Refused::Full);
        }
        let per_client = self.limits.max_per_client;
        if per_client > 0 {
            let mut counts = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
            let n = counts.entry(ip).or_insert(0);
            if *n >= per_client {
                drop(counts);
                open.fetch_sub(1, Ordering::AcqRel);
                self.metrics.shed();
                return Err(Refused::ClientFull);
            }
            *n += 1;
        }
        Ok(Slot {
            gate: self.clone(),
            ip,
        })
    }
}

/// One admitted connection: counted while it lives.
pub struct Slot {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate
            .metrics
            .open_connections()
            .fetch_sub(1, Ordering::AcqRel);
        if self.gate.limits.max_per_client > 0 {
            let mut counts = self
                .gate
                .per_client
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&self.ip);
                }
            }
        }
    }
}

/// A refusal made before routing: its status, the API's error code and a
/// message, and the path when the request line was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub method: Option<String>,
    pub path: Option<String>,
}

impl Rejection {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            method: None,
            path: None,
        }
    }

    pub fn refused(why: Refused) -> Self {
        let message = match why {
            Refused::Full => "the server has as many connections open as it takes; try again",
            Refused::ClientFull => {
                "this address has as many connections open as one client may; close some or try again"
            }
        };
        Self::new(503, "overloaded", message)
    }
}

/// How a request head ended, once it did.
#[derive(Debug, PartialEq)]
enum Head {
    /// Not complete yet.
    Partial,
    /// Complete: `len` bytes, then a body of `body` bytes.
    Complete { len: usize, body: u64 },
}

/// Check a request head received so far (`bytes` start at its first
/// byte). A head is refused here for what hyper would refuse, and for more:
/// the limits above are tighter than hyper's.
fn check_head(bytes: &[u8]) -> Result<Head, Rejection> {
    let line_end = bytes.iter().position(|&b| b == b'\n');
    if line_end.unwrap_or(bytes.len()) > MAX_REQUEST_LINE {
        let mut r = Rejection::new(
            414,
            "uri_too_long",
            format!("the request line is longer than {MAX_REQUEST_LINE} bytes"),
        );
        // Method and the start of the target, for the log and the choice
        // between the API's error and the page.
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(LOGGED_PATH + 16)]);
        let mut words = start.split(' ');
        r.method = words.next().map(str::to_string);
        r.path = words.next().map(str::to_string);
        return Err(r);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    let parsed = request.parse(bytes);
    let located = |mut r: Rejection, request: &httparse::Request| {
        r.method = request.method.map(str::to_string);
        r.path = request.path.map(str::to_string);
        r
    };
    match parsed {
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD => Err(located(
            Rejection::new(
                431,
                "header_too_large",
                format!("the request head is larger than {MAX_HEAD} bytes"),
            ),
            &request,
        )),
        Ok(httparse::Status::Partial) => Ok(Head::Partial),
        Err(httparse::Error::TooManyHeaders) => Err(located(
            Rejection::new(
                431,
                "header_too_large",
                format!("the request has more than {MAX_FIELDS} header fields"),
            ),
            &request,
        )),
        Err(e) => Err(Rejection::new(
            400,
            "bad_request",
            format!("malformed request: {e}"),
        )),
        Ok(httparse::Status::Complete(len)) => {
            if len > MAX_HEAD {
                return Err(located(
                    Rejection::new(
                        431,
                        "header_too_large",
                        format!("the request head is larger than {MAX_HEAD} bytes"),
                    ),
                    &request,
                ));
            }
            body_length(request.headers)
                .map(|body| Head::Complete { len, body })
                .map_err(|r| located(r, &request))
        }
    }
}

/// The length of a request's body from its header fields.
fn body_length(fields: &[httparse::Header]) -> Result<u64, Rejection> {
    let mut length: Option<u64> = None;
    for f in fields {
        if f.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Rejection::new(
                411,
                "length_required",
                "a request body must say its length (Content-Length); no route takes one",
            ));
        }
        if f.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(f.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| Rejection::new(400, "bad_request", "a malformed Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(Rejection::new(
                    400,
                    "bad_request",
                    "two different Content-Length fields",
                ));
            }
            length = Some(n);
        }
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Err(Rejection::new(
            413,
            "payload_too_large",
            format!("a request body may be {MAX_BODY} bytes at most"),
        ));
    }
    Ok(length)
}

/// Where a connection is between requests.
#[derive(Debug, Default)]
struct Progress {
    /// The head being received (bounded by `MAX_HEAD`).
    head: Vec<u8>,
    /// When the request now being received began.
    began: Option<Instant>,
    /// Body bytes still to come.
    body_left: u64,
    /// A whole request came and its answer has not begun.
    answering: bool,
}

impl Progress {
    /// Follow `bytes` received: requests begun, heads checked, bodies
    /// counted.
    fn receive(&mut self, mut bytes: &[u8], now: Instant) -> Result<(), Rejection> {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len() as u64);
                self.body_left -= n;
                bytes = &bytes[n as usize..];
                if self.body_left == 0 {
                    self.began = None;
                    self.answering = true;
                }
                continue;
            }
            if self.head.is_empty() {
                // Empty lines before a request are allowed (RFC 9112, 2.2).
                let skip = bytes
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                bytes = &bytes[skip..];
                if bytes.is_empty() {
                    break;
                }
                self.began.get_or_insert(now);
            }
            let room = (MAX_HEAD + 1).saturating_sub(self.head.len());
            let take = room.min(bytes.len());
            let before = self.head.len();
            self.head.extend_from_slice(&bytes[..take]);
            match check_head(&self.head)? {
                Head::Partial => {
                    bytes = &bytes[take..];
                }
                Head::Complete { len, body } => {
                    // What followed the head in this read is the body or
                    // the next request.
                    let used = len - before;
                    bytes = &bytes[used..];
                    self.head.clear();
                    self.body_left = body;
                    if body == 0 {
                        self.began = None;
                        self.answering = true;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A connection as hyper sees it: time limits and request heads checked;
/// a refused request answered here, then the connection ends.
pub struct Guarded {
    io: TcpStream,
    peer: SocketAddr,
    timeouts: (Duration, Duration),
    progress: Progress,
    accepted: Instant,
    /// When the last answer was written (none yet: `accepted` counts).
    last_answer: Option<Instant>,
    timer: Pin<Box<Sleep>>,
    timer_at: Option<Instant>,
    /// Since when a write has waited for the client to read.
    stalled: Option<(Instant, Pin<Box<Sleep>>)>,
    /// A refusal being written (its bytes, how many are out).
    refusing: Option<(Vec<u8>, usize)>,
    ended: bool,
    slot: Slot,
}

impl Guarded {
    pub fn new(io: TcpStream, peer: SocketAddr, slot: Slot, limits: &Connections) -> Self {
        let now = Instant::now();
        Self {
            io,
            peer,
            timeouts: (limits.header_timeout, limits.idle_timeout),
            progress: Progress::default(),
            accepted: now,
            last_answer: None,
            timer: Box::pin(tokio::time::sleep_until(now.into())),
            timer_at: None,
            stalled: None,
            refusing: None,
            ended: false,
            slot,
        }
    }

    /// When the connection ends unless something comes: a request begun
    /// has the header timeout; between requests, the idle timeout (the
    /// header timeout before the first); none while a request is answered.
    fn deadline(&self) -> Option<Instant> {
        let (header, idle) = self.timeouts;
        if let Some(began) = self.progress.began {
            return Some(began + header);
        }
        if self.progress.answering {
            return None;
        }
        Some(match self.last_answer {
            Some(t) => t + idle,
            None => self.accepted + header,
        })
    }

    /// Start answering `r` in place of hyper.
    fn refuse(&mut self, r: &Rejection) {
        log_rejection(r, self.peer);
        self.slot.gate.metrics.refused(r.status);
        self.refusing = Some((super::edge_response(r), 0));
    }

    /// Write the refusal; then the connection reads as ended.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((bytes, sent)) = &mut self.refusing {
            while *sent < bytes.len() {
                match ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*sent..])) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => *sent += n,
                }
            }
            let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
            self.refusing = None;
            self.ended = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.refusing.is_some() {
                ready!(this.poll_refusal(cx))?;
            }
            if this.ended {
                return Poll::Ready(Ok(()));
            }
            if let Some(at) = this.deadline() {
                if this.timer_at != Some(at) {
                    this.timer.as_mut().reset(at.into());
                    this.timer_at = Some(at);
                }
                if this.timer.as_mut().poll(cx).is_ready() {
                    if this.progress.began.is_some() && !this.progress.answering {
                        let r = Rejection::new(
                            408,
                            "request_timeout",
                            format!(
                                "the request did not arrive within {} s",
                                this.timeouts.0.as_secs_f32()
                            ),
                        );
                        this.refuse(&r);
                        continue;
                    }
                    this.ended = true;
                    return Poll::Ready(Ok(()));
                }
            }
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
            let now = Instant::now();
            let received = &buf.filled()[before..];
            if received.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let in_flight = this.progress.answering;
            match this.progress.receive(received, now) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(r) => {
                    // Nothing of a refused request reaches hyper.
                    buf.set_filled(before);
                    if in_flight {
                        // An answer may be on its way: end after it,
                        // without writing over it.
                        log_rejection(&r, this.peer);
                        this.slot.gate.metrics.refused(r.status);
                        this.ended = true;
                        return Poll::Ready(Ok(()));
                    }
                    this.refuse(&r);
                }
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refusing.is_some() || this.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(result) => {
                this.stalled = None;
                if result.as_ref().is_ok_and(|&n| n > 0) {
                    this.progress.answering = false;
                    this.last_answer = Some(Instant::now());
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                // A client that does not read its answer is dropped.
                let idle = this.timeouts.1;
                let (_, timer) = this.stalled.get_or_insert_with(|| {
                    let now = Instant::now();
                    (now, Box::pin(tokio::time::sleep_until((now + idle).into())))
                });
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client did not read its answer",
                    )));
                }
                Poll::Pending
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// One access-log line for a request refused before routing, as the
/// application's lines are (bounded, control characters escaped).
pub fn log_rejection(r: &Rejection, peer: SocketAddr) {
    tracing::info!(
        target: "egovkb::server::access",
        method = %loggable(r.method.as_deref().unwrap_or_default()),
        uri = %loggable(r.path.as_deref().unwrap_or_default()),
        status = r.status,
        %peer,
        "refused before routing"
    );
}

/// `s` cut to `LOGGED_PATH` characters, control characters escaped (as
/// it is when it is short and plain, the usual case).
pub fn loggable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= LOGGED_PATH && !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out: String = s
        .chars()
        .take(LOGGED_PATH)
        .flat_map(char::escape_debug)
        .collect();
    if s.chars().count() > LOGGED_PATH {
        out.push('…');
    }
    std::borrow::Cow::Owned(out)
}

/// Answer a connection refused at the door (`503`, `Retry-After`) and
/// close it, reading what the client sent meanwhile so that it gets the
/// answer rather than a reset. Bounded in time.
pub async fn shed(mut io: TcpStream, peer: SocketAddr, why: Refused) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let r = Rejection::refused(why);
    log_rejection(&r, peer);
    let bytes = super::edge_response(&r);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        io.write_all(&bytes).await?;
        io.shutdown().await?;
        let mut sink = [0u8; 4096];
        while io.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// The `Retry-After` a shed client is given.
pub fn retry_after() -> u32 {
    RETRY_AFTER_SECS
}

/// Let up to 4,096 connections wait for `accept` (std listens with 128):
/// a burst of clients is then taken without their handshakes dropped and
/// retried a second later. The kernel caps it (`net.core.somaxconn`).
pub fn widen_backlog(listener: &std::net::TcpListener) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: listen on a socket that is already listening only sets
        // its backlog.
        unsafe {
            libc::listen(listener.as_raw_fd(), 4096);
        }
    }
}

/// Raise this process's open-file limit to what it may have, and say how
/// many connections that leaves room for (some descriptors are kept for
/// the index's files and the corpus).
pub fn connection_room() -> usize {
    const KEPT: u64 = 512;
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write `limit`.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                if limit.rlim_cur < limit.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: limit.rlim_max,
                        rlim_max: limit.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        limit = raised;
                    }
                }
                return usize::try_from(limit.rlim_cur.saturating_sub(KEPT).max(64))
                    .unwrap_or(usize::MAX);
            }
        }
    }
    usize::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> Result<Head, Rejection> {
        check_head(bytes)
    }

    #[test]
    fn heads_are_followed_across_reads_and_pipelined_requests() {
        let mut p = Progress::default();
        let now = Instant::now();
        p.receive(b"GET /a HTTP/1.1\r\nHo", now).unwrap();
        assert!(p.began.is_some() && !p.answering);
        p.receive(b"st: x\r\n\r\n", now).unwrap();
        assert!(p.began.is_none() && p.answering && p.head.is_empty());
        // Two requests in one read, the second with a body split over reads.
        p.receive(
            b"GET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
            now,
        )
        .unwrap();
        assert_eq!(p.body_left, 3);
        p.receive(b"cde\r\nGET /d HTTP/1.1\r\n", now).unwrap();
        assert_eq!(p.body_left, 0);
        assert!(p.began.is_some(), "a third request has begun");
    }

    #[test]
    fn refusals_before_routing_say_what_was_wrong() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(complete(long.as_bytes()).unwrap_err().status, 414);
        let mut many = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=MAX_FIELDS {
            many.push_str(&format!("X-{i}: 1\r\n"));
        }
        many.push_str("\r\n");
        let r = complete(many.as_bytes()).unwrap_err();
        assert_eq!((r.status, r.path.as_deref()), (431, Some("/")));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "b".repeat(MAX_HEAD));
        assert_eq!(complete(big.as_bytes()).unwrap_err().status, 431);
        assert_eq!(complete(b"GARBAGE\r\n\r\n").unwrap_err().status, 400);
        assert_eq!(
            complete(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        let chunked = b"POST /api/search HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let r = complete(chunked).unwrap_err();
        assert_eq!((r.status, r.path.as_deref()), (411, Some("/api/search")));
        let two = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(complete(two).unwrap_err().status, 400);
        let huge = b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
        assert_eq!(complete(huge).unwrap_err().status, 413);
        assert_eq!(complete(b"GET / HTTP/1.1\r\n").unwrap(), Head::Partial);
        assert_eq!(
            complete(b"GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").unwrap(),
            Head::Complete { len: 37, body: 3 }
        );
    }

    #[test]
    fn the_gate_counts_connections_and_each_clients_share() {
        let gate = Gate::new(
            Connections {
                max_connections: 3,
                max_per_client: 2,
                ..Connections::default()
            },
            Default::default(),
        );
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).err(), Some(Refused::ClientFull));
        let _b1 = gate.admit(b).unwrap();
        assert_eq!(gate.admit(b).err(), Some(Refused::Full));
        drop(a1);
        assert_eq!(gate.open(), 2);
        assert!(gate.admit(b).is_ok(), "a closed connection frees its place");
    }

    #[test]
    fn logged_values_are_bounded_and_escaped() {
        let s = format!("/\u{0}\n{}", "x".repeat(1000));
        let l = loggable(&s);
        assert!(l.starts_with("/\\0\\n"));
        assert!(l.chars().count() <= LOGGED_PATH + 8);
    }
}
