//! Calls to GitHub's REST and GraphQL APIs with the token, and GitHub's
//! errors mapped to what the user can act on. A classic token's scopes come
//! back in `X-OAuth-Scopes`, and what the call accepts in
//! `X-Accepted-OAuth-Scopes`: a refusal whose token holds none of them names
//! the scope to add.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::{GitHub, VENDOR, clean};
use crate::connectors::http::{BodyError, RawRecord, Reply, json};
use crate::connectors::url::{follow, next_link};
use crate::connectors::{ConnectorError, Page, scrub};
use crate::domain::Secret;

/// The REST API version casbah is written against.
pub(super) const API_VERSION: &str = "2022-11-28";

/// What a 404 means for a call.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Missing {
    /// The organisation itself is unknown or hidden from the token.
    Organization,
    /// An item of it (a team): `ConnectorError::NotFound`.
    Item,
    /// The audit log: GitHub answers 404 where the organisation has no
    /// Enterprise Cloud, or the token is not an owner's.
    AuditLog,
}

/// One REST request, described so a failure can be explained.
pub(super) struct Call {
    pub url: Url,
    /// What was asked for ("the team list", "team platform").
    pub what: String,
    /// The scope a classic token needs for it.
    pub scope: &'static str,
    pub missing: Missing,
}

/// GitHub's REST error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

/// Scopes as GitHub lists them in a header ("read:org, repo").
fn scopes(header: Option<&str>) -> Option<Vec<String>> {
    header.map(|h| {
        h.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// The scope missing from a classic token, if the reply shows one: the token
/// holds none of the scopes the call accepts.
fn missing_scope(reply: &Reply, needed: &str) -> Option<String> {
    let held = scopes(reply.header("x-oauth-scopes"))?;
    let accepted = scopes(reply.header("x-accepted-oauth-scopes"))
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| vec![needed.to_string()]);
    let covered = held.iter().any(|h| accepted.contains(h));
    (!covered).then(|| {
        let has = if held.is_empty() {
            "none".to_string()
        } else {
            held.join(", ")
        };
        clean(&format!("the {needed} scope (the token has {has})"))
    })
}

impl GitHub {
    fn request(
        &self,
        c: &reqwest::Client,
        method: reqwest::Method,
        url: Url,
    ) -> reqwest::RequestBuilder {
        c.request(method, url)
            .bearer_auth(self.secret.expose())
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
    }

    /// A REST GET: the decoded body and the `Link` header's next page.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<(T, Option<String>), ConnectorError> {
        let decode = |r: &Reply| -> Result<(T, Option<String>), BodyError> {
            Ok((json(r)?, next_link(&r.headers)))
        };
        let reply = self
            .http
            .send(
                |c| self.request(c, reqwest::Method::GET, call.url.clone()),
                decode,
            )
            .await?;
        reply.map_err(|r| self.rest_error(&r, call))
    }

    /// A REST DELETE (issue 11): its status and GitHub's request id. Idempotent at
    /// GitHub (a second DELETE finds nothing), so retried as reads are.
    pub(super) async fn delete(
        &self,
        call: &Call,
    ) -> Result<crate::domain::governance::ActionReceipt, ConnectorError> {
        let reply = self
            .http
            .send(
                |c| self.request(c, reqwest::Method::DELETE, call.url.clone()),
                crate::connectors::governance::receipt(Some("x-github-request-id")),
            )
            .await?;
        reply.map_err(|r| self.rest_error(&r, call))
    }

    /// Every item of a list from `call`, following the `Link` header's next
    /// page as given (same origin only), until `limit` items. Each item (a
    /// `what`) is read on its own; those that do not read are counted in
    /// `skipped` (issue 10).
    pub(super) async fn all<T: DeserializeOwned>(
        &self,
        mut call: Call,
        limit: usize,
        what: &str,
    ) -> Result<Page<T>, ConnectorError> {
        let mut all = Page::new(Vec::new(), None);
        loop {
            let (page, next): (Vec<RawRecord>, _) = self.get(&call).await?;
            let empty = page.is_empty();
            all.extend(Page::read(VENDOR, what, page, None));
            match next {
                Some(link) if all.items.len() < limit && !empty => {
                    call.url = follow(VENDOR, &link, &self.api)?;
                }
                _ => break,
            }
        }
        all.items.truncate(limit);
        Ok(all)
    }

    pub(super) fn rest_error(&self, reply: &Reply, call: &Call) -> ConnectorError {
        rest_error(reply, call, &self.org, &self.secret)
    }

    /// A GraphQL query with variables.
    pub(super) async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, GraphqlError> {
        let url = crate::connectors::url::url(&self.api, &["graphql"], &[]);
        let body = serde_json::json!({ "query": query, "variables": variables });
        let reply = self
            .http
            .send(
                |c| {
                    self.request(c, reqwest::Method::POST, url.clone())
                        .json(&body)
                },
                json::<Envelope<T>>,
            )
            .await
            .map_err(GraphqlError::Failed)?;
        let envelope = match reply {
            Ok(e) => e,
            Err(r) => {
                let call = Call {
                    url: url.clone(),
                    what: "GraphQL".into(),
                    scope: "read:org",
                    missing: Missing::Organization,
                };
                let err = self.rest_error(&r, &call);
                return Err(match r.status.as_u16() {
                    // GraphQL is closed to this token; REST may still answer.
                    403 | 404 => GraphqlError::Refused(err),
                    _ => GraphqlError::Failed(err),
                });
            }
        };
        if let Some(e) = envelope.errors.first() {
            let kind = e.kind.as_deref().unwrap_or_default();
            let message = scrub(&clean(&e.message), &self.secret);
            let on_org = e.path.first().and_then(|p| p.as_str()) == Some("organization");
            return Err(match kind {
                "INSUFFICIENT_SCOPES" => GraphqlError::Scope(message),
                "FORBIDDEN" => GraphqlError::Refused(ConnectorError::Permission {
                    vendor: VENDOR,
                    code: kind.to_string(),
                    message,
                }),
                "NOT_FOUND" if on_org => GraphqlError::Failed(org_not_found(&self.org)),
                _ => GraphqlError::Failed(ConnectorError::Vendor {
                    vendor: VENDOR,
                    status: 200,
                    code: clean(if kind.is_empty() { "GraphQL" } else { kind }),
                    message,
                }),
            });
        }
        envelope.data.ok_or_else(|| {
            GraphqlError::Failed(ConnectorError::Protocol {
                vendor: VENDOR,
                detail: "a GraphQL answer with neither data nor errors".into(),
            })
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Debug, Deserialize)]
struct GqlError {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    path: Vec<serde_json::Value>,
}

/// Why a GraphQL query gave no data.
#[derive(Debug)]
pub(super) enum GraphqlError {
    /// GraphQL is closed to this token: REST may serve instead.
    Refused(ConnectorError),
    /// A field needs a scope the token lacks (GitHub's message).
    Scope(String),
    Failed(ConnectorError),
}

impl GraphqlError {
    /// The error to report when there is no other way.
    pub fn into_error(self) -> ConnectorError {
        match self {
            GraphqlError::Refused(e) | GraphqlError::Failed(e) => e,
            GraphqlError::Scope(message) => ConnectorError::Permission {
                vendor: VENDOR,
                code: "INSUFFICIENT_SCOPES".into(),
                message,
            },
        }
    }
}

pub(super) fn org_not_found(org: &str) -> ConnectorError {
    ConnectorError::Vendor {
        vendor: VENDOR,
        status: 404,
        code: "Not Found".into(),
        message: format!(
            "the organization {} does not exist or this token cannot see it; check the organization's login, and that the token's owner belongs to it",
            clean(org)
        ),
    }
}

/// GitHub's `{"message","documentation_url","status"}` mapped to one line.
fn rest_error(reply: &Reply, call: &Call, org: &str, secret: &Secret) -> ConnectorError {
    let body = serde_json::from_slice::<ErrorBody>(&reply.body).unwrap_or_default();
    let said = scrub(
        &clean(body.message.lines().next().unwrap_or_default()),
        secret,
    );
    let status = reply.status.as_u16();
    if status == 401 {
        return ConnectorError::Auth {
            vendor: VENDOR,
            code: if said.is_empty() { "401".into() } else { said },
            message: "the token was not accepted; check that it is current and not revoked, or create one with the scopes read:org and read:audit_log".into(),
        };
    }
    if matches!(status, 403 | 404)
        && let Some(scope) = missing_scope(reply, call.scope)
    {
        return ConnectorError::Permission {
            vendor: VENDOR,
            code: "missing scope".into(),
            message: format!("{} needs {scope}; add it to the token", call.what),
        };
    }
    match (status, &call.missing) {
        (404, Missing::Organization) => org_not_found(org),
        (404, Missing::Item) => ConnectorError::NotFound {
            vendor: VENDOR,
            what: call.what.clone(),
        },
        (404, Missing::AuditLog) => ConnectorError::NotAvailable {
            vendor: VENDOR,
            what: format!(
                "the audit log of {} is not available (GitHub answers 404: the audit log API needs GitHub Enterprise Cloud and an owner's token with read:audit_log)",
                clean(org)
            ),
        },
        (403, _) => ConnectorError::Permission {
            vendor: VENDOR,
            code: if said.is_empty() { "403".into() } else { said },
            message: format!(
                "{} was refused; the token needs the {} scope (or the matching permission) and access to {}",
                call.what,
                call.scope,
                clean(org)
            ),
        },
        (status, _) => ConnectorError::Vendor {
            vendor: VENDOR,
            status,
            code: reply
                .status
                .canonical_reason()
                .unwrap_or("error")
                .to_string(),
            message: said,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        Reply::fake(status, headers, body)
    }

    fn call(missing: Missing) -> Call {
        Call {
            url: Url::parse("http://x/orgs/contoso/teams").unwrap(),
            what: "the team list".into(),
            scope: "read:org",
            missing,
        }
    }

    const SECRET: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";

    // R-C3: a wrong token is refused in one line, never echoed.
    #[test]
    fn bad_credentials_are_an_auth_error_without_the_token() {
        let body = format!(
            r#"{{"message":"Bad credentials {SECRET}","documentation_url":"https://docs.github.com/rest","status":"401"}}"#
        );
        let err = rest_error(
            &reply(401, &[], &body),
            &call(Missing::Organization),
            "contoso",
            &Secret::new(SECRET),
        );
        let text = err.to_string();
        assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
        assert!(
            text.contains("Bad credentials") && !text.contains(SECRET),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
    }

    // R-C3: a missing scope is named, from GitHub's scope headers.
    #[test]
    fn a_missing_scope_is_named() {
        let r = reply(
            404,
            &[
                ("x-oauth-scopes", "repo, read:user"),
                ("x-accepted-oauth-scopes", "admin:org, read:org, write:org"),
            ],
            r#"{"message":"Not Found"}"#,
        );
        let err = rest_error(
            &r,
            &call(Missing::Organization),
            "contoso",
            &Secret::new(SECRET),
        );
        let text = err.to_string();
        assert!(matches!(err, ConnectorError::Permission { .. }), "{text}");
        assert!(
            text.contains("read:org") && text.contains("repo, read:user"),
            "{text}"
        );
        // A token that holds an accepted scope is not missing one.
        let r = reply(
            404,
            &[
                ("x-oauth-scopes", "read:org"),
                ("x-accepted-oauth-scopes", "read:org"),
            ],
            "{}",
        );
        let err = rest_error(
            &r,
            &call(Missing::Organization),
            "contoso",
            &Secret::new(SECRET),
        );
        assert!(
            err.to_string()
                .contains("does not exist or this token cannot see it"),
            "{err}"
        );
    }

    #[test]
    fn a_404_means_what_the_call_says() {
        let secret = Secret::new(SECRET);
        let err = rest_error(
            &reply(404, &[], "{}"),
            &call(Missing::Item),
            "contoso",
            &secret,
        );
        assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
        let err = rest_error(
            &reply(404, &[], "{}"),
            &call(Missing::AuditLog),
            "contoso",
            &secret,
        );
        assert!(matches!(err, ConnectorError::NotAvailable { .. }), "{err}");
        assert!(err.to_string().contains("Enterprise Cloud"), "{err}");
        let err = rest_error(
            &reply(500, &[], "not json"),
            &call(Missing::Item),
            "contoso",
            &secret,
        );
        assert!(
            matches!(err, ConnectorError::Vendor { status: 500, .. }),
            "{err}"
        );
    }
}
