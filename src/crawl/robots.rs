//! robots.txt as RFC 9309 says: the group for our product token (else the
//! `*` group; groups for the same agent merge), `allow` and `disallow`
//! rules with `*` and `$`, the longest matching rule deciding (a tie goes
//! to allow), `/robots.txt` itself always allowed. How it was fetched
//! matters too: a 4xx means no rules (allow all), a 5xx or no answer means
//! stay away (disallow all), and an HTML page served as robots.txt (a
//! site's "not found" page with status 200) is not rules. `crawl-delay`,
//! outside the RFC but common, is honoured.

use std::time::Duration;

/// Largest robots.txt read (the RFC's minimum is 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    allow: bool,
    pattern: String,
}

/// The rules that apply to us on one host.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Robots {
    rules: Vec<Rule>,
    /// Everything is disallowed (the server failed).
    closed: bool,
    pub crawl_delay: Option<Duration>,
}

impl Robots {
    pub fn allow_all() -> Self {
        Self::default()
    }

    pub fn disallow_all() -> Self {
        Self {
            closed: true,
            ..Self::default()
        }
    }

    /// From a fetch: its status (`None`: no answer), content type and body.
    pub fn from_fetch(
        status: Option<u16>,
        content_type: Option<&str>,
        body: &[u8],
        agent: &str,
    ) -> Self {
        match status {
            None => Self::disallow_all(),
            Some(s) if s >= 500 => Self::disallow_all(),
            Some(s) if (400..500).contains(&s) => Self::allow_all(),
            Some(s) if (200..300).contains(&s) => {
                let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
                let text = String::from_utf8_lossy(body);
                let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"))
                    || text.trim_start().starts_with('<');
                if html {
                    Self::allow_all()
                } else {
                    Self::parse(&text, agent)
                }
            }
            // Redirects are followed by the fetcher; anything else: no rules.
            Some(_) => Self::allow_all(),
        }
    }

    /// Parse robots.txt for the product token `agent` (`egovkb`).
    pub fn parse(text: &str, agent: &str) -> Self {
        struct Group {
            agents: Vec<String>,
            rules: Vec<Rule>,
            delay: Option<f64>,
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push(Group {
                            agents: Vec::new(),
                            rules: Vec::new(),
                            delay: None,
                        });
                        in_agents = true;
                    }
                    if let Some(g) = groups.last_mut() {
                        g.agents.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    // An empty disallow allows everything: no rule.
                    if let Some(g) = groups.last_mut()
                        && !value.is_empty()
                    {
                        g.rules.push(Rule {
                            allow: key == "allow",
                            pattern: normalise(value),
                        });
                    }
                }
                "crawl-delay" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut() {
                        g.delay = value
                            .parse::<f64>()
                            .ok()
                            .filter(|d| d.is_finite() && *d >= 0.0);
                    }
                }
                _ => {}
            }
        }
        let agent = agent.to_ascii_lowercase();
        let ours = |g: &&Group| g.agents.contains(&agent);
        let star = |g: &&Group| g.agents.iter().any(|a| a == "*");
        let chosen: Vec<&Group> = if groups.iter().any(|g| ours(&g)) {
            groups.iter().filter(ours).collect()
        } else {
            groups.iter().filter(star).collect()
        };
        Self {
            rules: chosen
                .iter()
                .flat_map(|g| g.rules.iter().cloned())
                .collect(),
            closed: false,
            crawl_delay: chosen
                .iter()
                .filter_map(|g| g.delay)
                .reduce(f64::max)
                // A delay of hours would stop the crawl: cap it.
                .map(|d| Duration::from_secs_f64(d.min(60.0))),
        }
    }

    /// Whether we may fetch `path` (path and query, from `/`).
    pub fn allowed(&self, path: &str) -> bool {
        if path == "/robots.txt" {
            return true;
        }
        if self.closed {
            return false;
        }
        let path = normalise(path);
        let mut best: Option<(usize, bool)> = None;
        for r in &self.rules {
            if matches(&r.pattern, &path) {
                let len = r.pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, r.allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Percent-escapes in upper case, so that `%2f` and `%2F` compare equal,
/// and characters outside ASCII percent-encoded as UTF-8.
fn normalise(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(char::from(b[i + 1]).to_ascii_uppercase());
            out.push(char::from(b[i + 2]).to_ascii_uppercase());
            i += 3;
        } else {
            let c = s[i..].chars().next().unwrap_or('\u{FFFD}');
            if c.is_ascii() {
                out.push(c);
            } else {
                // `Disallow: /게시판` is written as text; paths come
                // percent-encoded (RFC 9309 2.2.2).
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            i += c.len_utf8();
        }
    }
    out
}

/// A robots pattern against a path: `*` matches any run, a final `$`
/// anchors the end; otherwise the pattern is a prefix.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            pos = part.len();
            continue;
        }
        let last = i == parts.len() - 1;
        if last && anchored {
            return path.len() >= pos + part.len() && path.ends_with(part);
        }
        match path[pos..].find(part) {
            Some(at) => pos += at + part.len(),
            None => return false,
        }
    }
    !anchored || pos == path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXT: &str = "# example\n\
        User-agent: *\nDisallow: /admin/\nDisallow: /*.pdf$\nAllow: /admin/public/\nCrawl-delay: 2\n\n\
        User-agent: egovkb\nUser-agent: OtherBot\nDisallow: /private\nAllow: /private/ok\n\n\
        User-agent: EGOVKB\nDisallow: /tmp/\n";

    #[test]
    fn our_groups_merge_and_the_longest_rule_wins() {
        let r = Robots::parse(TXT, "egovkb");
        assert!(!r.allowed("/private/x"));
        assert!(r.allowed("/private/ok/1"));
        assert!(!r.allowed("/tmp/a"));
        // The * group does not apply to us when ours exists.
        assert!(r.allowed("/admin/x"));
        assert_eq!(r.crawl_delay, None);
        let other = Robots::parse(TXT, "somebot");
        assert!(!other.allowed("/admin/x"));
        assert!(other.allowed("/admin/public/a"));
        assert!(!other.allowed("/files/report.pdf"));
        assert!(other.allowed("/files/report.pdf?download=1"));
        assert_eq!(other.crawl_delay, Some(Duration::from_secs(2)));
        assert!(other.allowed("/robots.txt"));
    }

    #[test]
    fn ties_go_to_allow_and_escapes_compare_equal() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /page\nAllow: /page\nDisallow: /a%2fb\n",
            "egovkb",
        );
        assert!(r.allowed("/page"));
        assert!(!r.allowed("/a%2Fb/c"));
        // A rule written in Hangul matches the percent-encoded path.
        let r = Robots::parse("User-agent: *\nDisallow: /게시판\n", "egovkb");
        assert!(!r.allowed("/%EA%B2%8C%EC%8B%9C%ED%8C%90/1"));
        assert!(!r.allowed("/%ea%b2%8c%ec%8b%9c%ed%8c%90/1"));
        assert!(r.allowed("/news"));
        let r = Robots::parse("User-agent: *\nDisallow:\n", "egovkb");
        assert!(r.allowed("/anything"));
    }

    #[test]
    fn how_it_was_fetched_decides_first() {
        assert!(Robots::from_fetch(Some(404), None, b"", "egovkb").allowed("/x"));
        assert!(!Robots::from_fetch(Some(503), None, b"", "egovkb").allowed("/x"));
        assert!(!Robots::from_fetch(None, None, b"", "egovkb").allowed("/x"));
        // A "not found" page served with 200 is not rules.
        let html = b"<!DOCTYPE html><html><body>User-agent: *\nDisallow: /</body></html>";
        assert!(Robots::from_fetch(Some(200), Some("text/html"), html, "egovkb").allowed("/x"));
        let txt = b"User-agent: *\nDisallow: /board/secret\n";
        let r = Robots::from_fetch(Some(200), Some("text/plain"), txt, "egovkb");
        assert!(!r.allowed("/board/secret/1") && r.allowed("/board/1"));
    }

    #[test]
    fn wildcards() {
        assert!(matches("/a*b", "/axxb/c"));
        assert!(matches("/a*b$", "/axxb"));
        assert!(!matches("/a*b$", "/axxbc"));
        assert!(matches("/*.php", "/x/y.php?z"));
        assert!(matches("/", "/"));
        assert!(!matches("/x", "/"));
    }
}
