//! URLs to a vendor: the configured base (R-C7), paths built segment by
//! segment, and continuation links followed exactly as given but only to the
//! origin they came from, so that a bearer token never travels elsewhere.

use reqwest::header::HeaderMap;
use url::Url;

use super::ConnectorError;

/// A vendor host, or the endpoint that replaces it: an http(s) base URL,
/// possibly with a path prefix, without query or fragment.
pub fn base(s: &str) -> Result<Url, ConnectorError> {
    let unusable = |detail: &str| ConnectorError::Unreachable {
        host: s.to_owned(),
        detail: detail.to_owned(),
    };
    let url = Url::parse(s.trim()).map_err(|_| unusable("the endpoint is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(unusable("the endpoint must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(unusable("the endpoint must not carry a query or fragment"));
    }
    // A secret sent in clear could be read on the way; only this machine is on the way.
    if url.scheme() == "http" && !url.host().is_some_and(|h| is_loopback(&h)) {
        return Err(unusable(
            "plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use https",
        ));
    }
    Ok(url)
}

/// Whether only this machine is on the way to `host`; webhooks and SMTP relays
/// (issue 12) follow the same rule as connectors.
pub(crate) fn is_loopback<S: AsRef<str>>(host: &url::Host<S>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => name.as_ref().eq_ignore_ascii_case("localhost"),
    }
}

/// `base` + path segments (each percent-encoded on its own, so an id can never
/// add a segment) + a query. Query values are encoded with `%20` for spaces,
/// as the vendors' own SDKs send them; keys such as `$top` go as they are.
pub fn url(base: &Url, segments: &[&str], query: &[(&str, &str)]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    if !query.is_empty() {
        let q = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        url.set_query(Some(&q));
    }
    url
}

fn encode(v: &str) -> String {
    // byte_serialize writes a literal '+' as %2B, so every '+' left is a space.
    url::form_urlencoded::byte_serialize(v.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A continuation link (`@odata.nextLink`, a `Link` header's next, a
/// `contentUri`) is followed exactly as given, but only to the origin of
/// `expected`: the token must never travel to anywhere else.
pub fn follow(vendor: &'static str, link: &str, expected: &Url) -> Result<Url, ConnectorError> {
    let url = Url::parse(link).map_err(|_| ConnectorError::Protocol {
        vendor,
        detail: "a continuation link is not a URL".to_owned(),
    })?;
    if url.origin() != expected.origin() {
        return Err(ConnectorError::Protocol {
            vendor,
            detail: format!(
                "a continuation link points to {} instead of {}",
                url.host_str().unwrap_or("?"),
                expected.host_str().unwrap_or("?")
            ),
        });
    }
    Ok(url)
}

/// The `rel="next"` target of the RFC 8288 `Link` headers of a reply (Okta,
/// GitHub), as given.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            params
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .any(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r == "next")
                })
                .then(|| target.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C7, issue 10: plain http only to loopback.
    #[test]
    fn bad_endpoints_are_refused() {
        for good in [
            "https://x.okta.com",
            "http://127.0.0.1:8080",
            "http://[::1]:1",
            "http://localhost:9/p/",
        ] {
            assert!(base(good).is_ok(), "{good}");
        }
        for bad in [
            "not a url",
            "ftp://x",
            "http://x/?a=1",
            "mailto:a@b",
            "http://graph.example.com",
            "http://10.0.0.1:8080",
        ] {
            assert!(
                matches!(base(bad), Err(ConnectorError::Unreachable { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_and_values_are_encoded() {
        let g = Url::parse("https://graph.microsoft.com").unwrap();
        assert_eq!(
            url(
                &g,
                &["v1.0", "groups", "a/b?c"],
                &[("$search", "\"displayName:a+b c\"")]
            )
            .as_str(),
            "https://graph.microsoft.com/v1.0/groups/a%2Fb%3Fc?$search=%22displayName%3Aa%2Bb%20c%22"
        );
    }

    #[test]
    fn links_are_followed_only_to_their_own_origin() {
        let g = Url::parse("http://127.0.0.1:9000").unwrap();
        let next = "http://127.0.0.1:9000/v1.0/users?$skiptoken=X%20Y&$top=5";
        assert_eq!(follow("T", next, &g).unwrap().as_str(), next);
        assert!(follow("T", "http://evil.example/v1.0/users", &g).is_err());
        assert!(follow("T", "http://127.0.0.1:9001/v1.0/users", &g).is_err());
        assert!(follow("T", "https://127.0.0.1:9000/v1.0/users", &g).is_err());
        assert!(follow("T", "/v1.0/users", &g).is_err());
    }

    #[test]
    fn the_next_link_is_read_from_any_link_header() {
        let mut h = HeaderMap::new();
        h.append(
            reqwest::header::LINK,
            r#"<https://x.okta.com/api/v1/users?limit=2>; rel="self""#
                .parse()
                .unwrap(),
        );
        h.append(
            reqwest::header::LINK,
            r#"<https://x.okta.com/api/v1/users?after=00u2&limit=2>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://x.okta.com/api/v1/users?after=00u2&limit=2")
        );
        let mut gh = HeaderMap::new();
        gh.insert(
            reqwest::header::LINK,
            r#"<https://api.github.com/orgs/o/teams?page=2>; rel="next", <https://api.github.com/orgs/o/teams?page=9>; rel="last""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&gh).as_deref(),
            Some("https://api.github.com/orgs/o/teams?page=2")
        );
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
