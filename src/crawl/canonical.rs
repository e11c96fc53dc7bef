//! Canonical URLs: one document per canonical URL. Scheme and host in lower
//! case, default ports and fragments dropped, `;jsessionid=…` (any case)
//! removed from the path, tracking and session parameters removed from the
//! query, and the paging parameters a profile names.

use url::Url;

/// Query parameters that never change what a page shows.
const DROPPED: &[&str] = &[
    "jsessionid",
    "phpsessid",
    "aspsessionid",
    "sid",
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
];

/// The decoded name of a query's `name=value` pair.
fn param_name(pair: &str) -> String {
    let name = pair.split('=').next().unwrap_or("");
    url::form_urlencoded::parse(name.as_bytes())
        .map(|(k, _)| k)
        .collect()
}

fn dropped(name: &str, extra: &[String]) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || DROPPED.contains(&n.as_str())
        || extra.iter().any(|e| e.eq_ignore_ascii_case(&n))
}

/// The canonical form of `url` (absolute, http or https). `extra`: more
/// query parameters to drop (a board's paging parameter, say).
pub fn canonical(url: &str, extra: &[String]) -> Option<String> {
    let mut u = Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    u.set_fragment(None);
    // `/board/view.do;jsessionid=ABC123?x=1`: the session is not the page.
    let path = u.path().to_string();
    let lower = path.to_ascii_lowercase();
    if let Some(i) = lower.find(";jsessionid=") {
        let end = path[i + 1..].find('/').map_or(path.len(), |j| i + 1 + j);
        let cleaned = format!("{}{}", &path[..i], &path[end..]);
        u.set_path(&cleaned);
    }
    // The parameters kept as they were written: decoding and encoding them
    // again would turn an EUC-KR file name (`file=%BA%B8%B5%B5.hwp`) into
    // replacement characters, and `?abc` into `?abc=`.
    if let Some(query) = u.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !dropped(&param_name(pair), extra))
            .collect();
        let kept = kept.join("&");
        u.set_query((!kept.is_empty()).then_some(kept.as_str()));
    }
    Some(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_tracking_and_fragments_go() {
        let c = |u: &str| canonical(u, &[]).unwrap();
        assert_eq!(
            c(
                "HTTPS://WWW.MOIS.GO.KR:443/eng/bbs/type001/commonSelectBoardArticle.do;jsessionid=AbC.node01?bbsId=BBSMSTR_000000000022&nttId=12345#top"
            ),
            "https://www.mois.go.kr/eng/bbs/type001/commonSelectBoardArticle.do?bbsId=BBSMSTR_000000000022&nttId=12345"
        );
        assert_eq!(
            c("http://example.org/news?id=7&utm_source=x&fbclid=y"),
            "http://example.org/news?id=7"
        );
        assert_eq!(c("http://example.org"), "http://example.org/");
        assert_eq!(
            c("http://example.org/a;JSESSIONID=1/b"),
            "http://example.org/a/b"
        );
        assert_eq!(
            canonical(
                "http://example.org/list.do?pageIndex=3&bbsId=1",
                &["pageIndex".into()]
            )
            .unwrap(),
            "http://example.org/list.do?bbsId=1"
        );
        assert_eq!(
            canonical("javascript:fn_egov_select_noticeList(3)", &[]),
            None
        );
        // Kept parameters are kept as written.
        assert_eq!(
            c("http://example.org/download.php?file=%BA%B8%B5%B5.hwp&utm_medium=x&flag"),
            "http://example.org/download.php?file=%BA%B8%B5%B5.hwp&flag"
        );
        assert_eq!(
            c("http://example.org/a?&&x=1+2"),
            "http://example.org/a?x=1+2"
        );
        assert_eq!(
            c("http://example.org/a?utm_source=x"),
            "http://example.org/a"
        );
        assert_eq!(canonical("mailto:a@b.c", &[]), None);
        assert_eq!(canonical("not a url", &[]), None);
    }
}
