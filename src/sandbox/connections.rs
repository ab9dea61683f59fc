//! The ways to connect to what the sandbox serves: the instances `casbah demo`
//! connects and the commands `casbah sandbox serve` prints, from one list.

use super::Sandbox;
use crate::domain::{Component, Secret};
use crate::store::NewInstance;

/// One way to connect an app the sandbox serves, ready for `connectors add`.
pub struct SandboxConnection {
    /// Named, with its credential fields and the sandbox as its endpoint.
    pub instance: NewInstance,
    /// The secret to give; `None` for GitHub's device flow, which signs in instead.
    pub secret: Option<Secret>,
    /// Another way into an organisation listed already: the demo connects each
    /// organisation once.
    pub alternative: bool,
    /// What this one shows.
    pub note: Option<&'static str>,
}

impl Sandbox {
    /// Every app and organisation the sandbox serves: Microsoft 365, two Okta orgs,
    /// Google Workspace, and two GitHub organisations (one without an audit log).
    pub fn connections(&self) -> Vec<SandboxConnection> {
        let plain = |instance, secret, note| SandboxConnection {
            instance,
            secret: Some(secret),
            alternative: false,
            note,
        };
        let okta = self.okta_orgs();
        let mut out = vec![plain(
            self.microsoft365_instance("contoso", Component::default_set()),
            self.client_secret.clone(),
            None,
        )];
        for (i, (org, name)) in okta.iter().zip(["workforce", "emea"]).enumerate() {
            out.push(plain(
                self.okta_instance(i, name, false),
                org.api_token.clone(),
                None,
            ));
        }
        if let Some(org) = okta.first() {
            out.push(SandboxConnection {
                alternative: true,
                ..plain(
                    self.okta_instance(0, "workforce-app", true),
                    org.private_key_pem.clone(),
                    Some("as an API service app (private_key_jwt)"),
                )
            });
        }
        out.push(plain(
            self.google_instance("workspace"),
            self.google_service_account_key(),
            None,
        ));
        let (code, labs) = (self.github_org(), self.github_org_without_audit_log());
        for (org, name, note) in [
            (&code, "engineering", None),
            (&labs, "labs", Some("an organisation without the audit log")),
        ] {
            if let Some(token) = self.github_token_for(org) {
                out.push(plain(self.github_instance(name, org), token, note));
            }
        }
        out.push(SandboxConnection {
            instance: self.github_device_instance("engineering-device", &code),
            secret: None,
            alternative: true,
            note: Some("signed in with GitHub's device flow"),
        });
        out
    }

    /// Each organisation once, by a way that takes a secret: what `casbah demo` connects.
    pub fn organisations(&self) -> Vec<(NewInstance, Secret)> {
        self.connections()
            .into_iter()
            .filter(|c| !c.alternative)
            .filter_map(|c| Some((c.instance, c.secret?)))
            .collect()
    }
}
