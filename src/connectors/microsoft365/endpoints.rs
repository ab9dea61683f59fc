//! Where each Microsoft API lives, and how URLs to it are built.
//!
//! R-C7: an instance endpoint replaces all three Microsoft hosts at once; the
//! paths under it stay Microsoft's.

use url::Url;

use crate::connectors::ConnectorError;

const LOGIN: &str = "https://login.microsoftonline.com";
const GRAPH: &str = "https://graph.microsoft.com";
const MANAGE: &str = "https://manage.office.com";

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Hosts {
    /// Entra ID's token endpoint host.
    pub login: Url,
    pub graph: Url,
    /// The Office 365 Management Activity API.
    pub manage: Url,
}

impl Hosts {
    pub fn new(endpoint: Option<&str>) -> Result<Hosts, ConnectorError> {
        match endpoint {
            None => Ok(Hosts {
                login: base(LOGIN)?,
                graph: base(GRAPH)?,
                manage: base(MANAGE)?,
            }),
            Some(e) => {
                let one = base(e)?;
                Ok(Hosts {
                    login: one.clone(),
                    graph: one.clone(),
                    manage: one,
                })
            }
        }
    }
}

fn base(s: &str) -> Result<Url, ConnectorError> {
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
    Ok(url)
}

/// `base` + path segments (each percent-encoded on its own, so an id can never
/// add a segment) + a query. Query values are encoded with `%20` for spaces,
/// as Microsoft's own SDKs send them; keys such as `$top` go as they are.
pub(super) fn url(base: &Url, segments: &[&str], query: &[(&str, &str)]) -> Url {
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

/// A continuation link (`@odata.nextLink`, `NextPageUri`, a `contentUri`) is
/// followed exactly as given, but only to the host it came from: the bearer
/// token must never travel to anywhere else.
pub(super) fn follow(link: &str, expected: &Url) -> Result<Url, ConnectorError> {
    let url = Url::parse(link).map_err(|_| ConnectorError::Protocol {
        vendor: super::VENDOR,
        detail: "a continuation link is not a URL".to_owned(),
    })?;
    if url.origin() != expected.origin() {
        return Err(ConnectorError::Protocol {
            vendor: super::VENDOR,
            detail: format!(
                "a continuation link points to {} instead of {}",
                url.host_str().unwrap_or("?"),
                expected.host_str().unwrap_or("?")
            ),
        });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C7: no endpoint means Microsoft's own hosts.
    #[test]
    fn default_hosts_are_microsofts() {
        let h = Hosts::new(None).unwrap();
        assert_eq!(h.login.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(h.graph.as_str(), "https://graph.microsoft.com/");
        assert_eq!(h.manage.as_str(), "https://manage.office.com/");
    }

    // R-C7: one endpoint replaces every host; paths stay Microsoft's.
    #[test]
    fn endpoint_replaces_every_host_and_keeps_paths() {
        let h = Hosts::new(Some("http://127.0.0.1:8080")).unwrap();
        assert_eq!(
            url(&h.login, &["t1", "oauth2", "v2.0", "token"], &[]).as_str(),
            "http://127.0.0.1:8080/t1/oauth2/v2.0/token"
        );
        assert_eq!(
            url(&h.graph, &["v1.0", "groups"], &[("$top", "50")]).as_str(),
            "http://127.0.0.1:8080/v1.0/groups?$top=50"
        );
        let prefixed = Hosts::new(Some("https://proxy.example/m365/")).unwrap();
        assert_eq!(
            url(
                &prefixed.manage,
                &["api", "v1.0", "t1", "activity", "feed"],
                &[]
            )
            .as_str(),
            "https://proxy.example/m365/api/v1.0/t1/activity/feed"
        );
    }

    #[test]
    fn bad_endpoints_are_refused() {
        for bad in ["not a url", "ftp://x", "http://x/?a=1", "mailto:a@b"] {
            assert!(
                matches!(
                    Hosts::new(Some(bad)),
                    Err(ConnectorError::Unreachable { .. })
                ),
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
    fn links_are_followed_only_to_their_own_host() {
        let g = Url::parse("http://127.0.0.1:9000").unwrap();
        let next = "http://127.0.0.1:9000/v1.0/users?$skiptoken=X%20Y&$top=5";
        assert_eq!(follow(next, &g).unwrap().as_str(), next);
        assert!(follow("http://evil.example/v1.0/users", &g).is_err());
        assert!(follow("http://127.0.0.1:9001/v1.0/users", &g).is_err());
        assert!(follow("/v1.0/users", &g).is_err());
    }
}
