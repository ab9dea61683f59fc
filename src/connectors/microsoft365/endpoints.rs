//! Where each Microsoft API lives, and how URLs to it are built.
//!
//! R-C7: an instance endpoint replaces all three Microsoft hosts at once; the
//! paths under it stay Microsoft's.

use url::Url;

use crate::connectors::ConnectorError;
use crate::connectors::url::base;

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

pub(super) use crate::connectors::url::url;

/// Links are followed only to the host they came from (`connectors::url::follow`).
pub(super) fn follow(link: &str, expected: &Url) -> Result<Url, ConnectorError> {
    crate::connectors::url::follow(super::VENDOR, link, expected)
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
}
