//! Issue 11: the GitHub Apps installed in the organisation and the permissions each
//! holds (`GET /orgs/{org}/installations`, an owner's token with `admin:read`).
//! Each installation is a grant the organisation gave the app as itself. GitHub
//! offers an organisation owner no API to uninstall a third-party app, so none is
//! revoked here.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::api::Missing;
use super::{GitHub, VENDOR, clean};
use crate::connectors::http::RawRecord;
use crate::connectors::url::follow;
use crate::connectors::{ConnectorError, Page};
use crate::domain::grants::{Grant, GrantKind};

#[derive(Debug, Deserialize)]
struct Installations {
    #[serde(default)]
    installations: Vec<RawRecord>,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
    app_slug: String,
    #[serde(default)]
    permissions: BTreeMap<String, String>,
    #[serde(default)]
    created_at: Option<String>,
}

impl GitHub {
    pub(super) async fn installations(&self) -> Result<Vec<Grant>, ConnectorError> {
        let per_page = self.page().to_string();
        let mut call = self.rest(
            &["orgs", &self.org, "installations"],
            &[("per_page", &per_page)],
            "the app installations".into(),
            Missing::Organization,
        );
        call.scope = "admin:read";
        let mut grants = Vec::new();
        loop {
            let (page, next): (Installations, _) = self.get(&call).await?;
            let empty = page.installations.is_empty();
            let read = Page::<Installation>::read(VENDOR, "installation", page.installations, None);
            grants.extend(read.items.into_iter().map(|i| {
                Grant {
                    id: i.id.to_string(),
                    kind: GrantKind::Application,
                    app_id: clean(&i.app_slug),
                    app_name: clean(&i.app_slug),
                    user: None,
                    account_id: None,
                    // As a scope reads: `contents:write`.
                    scopes: i
                        .permissions
                        .iter()
                        .map(|(what, level)| clean(&format!("{what}:{level}")))
                        .collect(),
                    granted_at: i
                        .created_at
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.timestamp_micros()),
                }
            }));
            match next {
                Some(link) if !empty => call.url = follow(VENDOR, &link, &self.api)?,
                _ => break,
            }
        }
        Ok(grants)
    }
}
