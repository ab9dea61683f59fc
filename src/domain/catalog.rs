//! R-C1: the catalog of the 13 apps casbah knows.
//!
//! The data (credentials, capabilities, governance actions) lives in
//! `assets/catalog.json`, compiled into the binary and parsed once.

use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppKind {
    MicrosoftAzure,
    AmazonWebServices,
    Box,
    CiscoWebex,
    Dropbox,
    Github,
    GoogleCloudPlatform,
    GoogleWorkspace,
    Microsoft365,
    Okta,
    Salesforce,
    ServiceNow,
    Workday,
}

impl AppKind {
    /// In declaration order, so `kind as usize` indexes it.
    pub const ALL: [AppKind; 13] = [
        AppKind::MicrosoftAzure,
        AppKind::AmazonWebServices,
        AppKind::Box,
        AppKind::CiscoWebex,
        AppKind::Dropbox,
        AppKind::Github,
        AppKind::GoogleCloudPlatform,
        AppKind::GoogleWorkspace,
        AppKind::Microsoft365,
        AppKind::Okta,
        AppKind::Salesforce,
        AppKind::ServiceNow,
        AppKind::Workday,
    ];

    /// The stable, lower-case name used on the command line and in filters.
    pub fn slug(self) -> &'static str {
        match self {
            AppKind::MicrosoftAzure => "azure",
            AppKind::AmazonWebServices => "aws",
            AppKind::Box => "box",
            AppKind::CiscoWebex => "webex",
            AppKind::Dropbox => "dropbox",
            AppKind::Github => "github",
            AppKind::GoogleCloudPlatform => "gcp",
            AppKind::GoogleWorkspace => "google-workspace",
            AppKind::Microsoft365 => "microsoft365",
            AppKind::Okta => "okta",
            AppKind::Salesforce => "salesforce",
            AppKind::ServiceNow => "servicenow",
            AppKind::Workday => "workday",
        }
    }

    /// The catalog as people look for an app in it: by the name they know.
    /// `ALL` keeps its own order, which stored data indexes.
    pub fn by_display_name() -> [AppKind; 13] {
        let mut apps = AppKind::ALL;
        apps.sort_by_key(|a| a.display_name());
        apps
    }

    pub fn from_slug(s: &str) -> Option<AppKind> {
        let s = s.to_ascii_lowercase();
        AppKind::ALL.into_iter().find(|a| a.slug() == s)
    }

    /// The catalog entry: credentials, capabilities, actions.
    pub fn info(self) -> &'static AppInfo {
        &CATALOG[self as usize]
    }

    /// The name people know the app by ("Microsoft 365").
    pub fn display_name(self) -> &'static str {
        &self.info().name
    }
}

/// R-C1: the seven things a connector can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    AccountInformation,
    AuditTrail,
    DataScan,
    AppPermissions,
    AccountGovernance,
    DataGovernance,
    AppPermissionGovernance,
}

impl Capability {
    pub const ALL: [Capability; 7] = [
        Capability::AccountInformation,
        Capability::AuditTrail,
        Capability::DataScan,
        Capability::AppPermissions,
        Capability::AccountGovernance,
        Capability::DataGovernance,
        Capability::AppPermissionGovernance,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Capability::AccountInformation => "Account information",
            Capability::AuditTrail => "Audit trail",
            Capability::DataScan => "Data scan",
            Capability::AppPermissions => "App permissions",
            Capability::AccountGovernance => "Account governance",
            Capability::DataGovernance => "Data governance",
            Capability::AppPermissionGovernance => "App permission governance",
        }
    }
}

/// R-V1: what an administrator can do to an app's accounts, files and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GovernanceAction {
    SuspendUser,
    RevokePassword,
    RevokeSessions,
    QuarantineFile,
    RemoveAppToken,
}

impl GovernanceAction {
    pub const ALL: [GovernanceAction; 5] = [
        GovernanceAction::SuspendUser,
        GovernanceAction::RevokePassword,
        GovernanceAction::RevokeSessions,
        GovernanceAction::QuarantineFile,
        GovernanceAction::RemoveAppToken,
    ];

    pub fn label(self) -> &'static str {
        match self {
            GovernanceAction::SuspendUser => "Suspend user",
            GovernanceAction::RevokePassword => "Revoke password",
            GovernanceAction::RevokeSessions => "Revoke sessions",
            GovernanceAction::QuarantineFile => "Quarantine file",
            GovernanceAction::RemoveAppToken => "Remove app token",
        }
    }

    /// The capability an app must have to offer this action.
    pub fn capability(self) -> Capability {
        match self {
            GovernanceAction::SuspendUser
            | GovernanceAction::RevokePassword
            | GovernanceAction::RevokeSessions => Capability::AccountGovernance,
            GovernanceAction::QuarantineFile => Capability::DataGovernance,
            GovernanceAction::RemoveAppToken => Capability::AppPermissionGovernance,
        }
    }
}

/// One value the user types when connecting an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialField {
    /// Stable key (`client-secret`), also the CLI flag or prompt name.
    pub name: String,
    pub label: String,
    /// Secret values are read from a prompt, stdin, a file or the environment,
    /// never from the command line, and never shown.
    pub secret: bool,
    /// A value of several lines (a PEM key, a key file's JSON): read from a
    /// file or stdin, since a prompt takes one line.
    #[serde(default)]
    pub multiline: bool,
}

/// One way to authenticate to an app; most apps have exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthMethod {
    pub method: String,
    pub label: String,
    /// The secret is not typed but obtained by signing in at the vendor
    /// (GitHub's device flow), so the method has no secret field.
    #[serde(default)]
    pub interactive: bool,
    pub fields: Vec<CredentialField>,
}

impl AuthMethod {
    /// The fields given as flags or typed in the clear.
    pub fn plain_fields(&self) -> impl Iterator<Item = &CredentialField> {
        self.fields.iter().filter(|f| !f.secret)
    }

    pub fn secret_field(&self) -> Option<&CredentialField> {
        self.fields.iter().find(|f| f.secret)
    }

    /// "--domain --client-id".
    fn flags(&self) -> String {
        self.plain_fields()
            .map(|f| format!("--{}", f.name))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why the credential fields given for an app cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "casbah has no connector for {app} yet; `casbah connectors catalog` lists those it has"
    )]
    NoConnector { app: &'static str },
    #[error("{app} has no field {field}; {}", takes(app, methods))]
    Unknown {
        app: &'static str,
        field: String,
        methods: Vec<AuthMethod>,
    },
    #[error("{app} needs {}; {}", missing.iter().map(|m| format!("--{m}")).collect::<Vec<_>>().join(" and "), takes(app, methods))]
    Missing {
        app: &'static str,
        missing: Vec<String>,
        methods: Vec<AuthMethod>,
    },
}

/// "Okta takes --domain (API token), or --domain --client-id (API service app …)".
fn takes(app: &str, methods: &[AuthMethod]) -> String {
    let ways: Vec<String> = methods
        .iter()
        .map(|m| format!("{} ({})", m.flags(), m.label))
        .collect();
    format!("{app} takes {}", ways.join(", or "))
}

/// R-C1, R-C2: what casbah knows about an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    #[serde(
        rename = "slug",
        deserialize_with = "kind_from_slug",
        serialize_with = "kind_to_slug"
    )]
    pub kind: AppKind,
    pub name: String,
    /// R-C2: false for apps that allow one instance only.
    pub multi_instance: bool,
    /// Whether casbah can connect to it yet.
    pub connector: bool,
    /// Ways to authenticate, the preferred one first.
    pub auth: Vec<AuthMethod>,
    pub capabilities: Vec<Capability>,
    pub actions: Vec<GovernanceAction>,
    /// Issue 11: the permission each action casbah carries out needs, as the
    /// vendor names it (read permissions are enough for everything else).
    #[serde(default)]
    pub permissions: std::collections::BTreeMap<GovernanceAction, String>,
}

impl AppInfo {
    /// The fields of the preferred way to authenticate.
    pub fn credentials(&self) -> &[CredentialField] {
        self.auth.first().map_or(&[], |m| &m.fields)
    }

    /// The way to authenticate that the given non-secret fields select: the
    /// one whose plain fields are exactly those given (Okta's API token takes
    /// a domain, its service app a domain and a client id).
    pub fn method_for<'a>(
        &self,
        given: impl IntoIterator<Item = &'a str>,
    ) -> Result<&AuthMethod, CredentialError> {
        let app = self.kind.display_name();
        if !self.connector {
            return Err(CredentialError::NoConnector { app });
        }
        let given: std::collections::BTreeSet<String> =
            given.into_iter().map(str::to_string).collect();
        let known = |name: &str| {
            self.auth
                .iter()
                .any(|m| m.plain_fields().any(|f| f.name == name))
        };
        if let Some(field) = given.iter().find(|g| !known(g)) {
            return Err(CredentialError::Unknown {
                app,
                field: format!("--{field}"),
                methods: self.auth.clone(),
            });
        }
        let plain = |m: &AuthMethod| -> std::collections::BTreeSet<String> {
            m.plain_fields().map(|f| f.name.clone()).collect()
        };
        if let Some(m) = self.auth.iter().find(|m| plain(m) == given) {
            return Ok(m);
        }
        // The method the given fields come closest to, the preferred one first.
        let nearest = self
            .auth
            .iter()
            .filter(|m| given.is_subset(&plain(m)))
            .min_by_key(|m| plain(m).len() - given.len())
            .unwrap_or(&self.auth[0]);
        Err(CredentialError::Missing {
            app,
            missing: plain(nearest).difference(&given).cloned().collect(),
            methods: self.auth.clone(),
        })
    }

    pub fn has(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    pub fn supports(&self, action: GovernanceAction) -> bool {
        self.actions.contains(&action)
    }
}

fn kind_from_slug<'de, D: Deserializer<'de>>(d: D) -> Result<AppKind, D::Error> {
    let slug = String::deserialize(d)?;
    AppKind::from_slug(&slug)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown app slug `{slug}`")))
}

fn kind_to_slug<S: Serializer>(kind: &AppKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.slug())
}

/// Why catalog data was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("the catalog is not valid: {0}")]
    Json(String),
    #[error("the catalog lists {0} more than once")]
    Duplicate(&'static str),
    #[error("the catalog lacks {0}")]
    Missing(&'static str),
    #[error("the catalog gives {app} no way to authenticate")]
    NoAuth { app: &'static str },
    #[error("the catalog offers `{action}` for {app} without the `{capability}` capability")]
    ActionWithoutCapability {
        app: &'static str,
        action: &'static str,
        capability: &'static str,
    },
}

#[derive(Deserialize)]
struct CatalogFile {
    apps: Vec<AppInfo>,
}

/// Parses and checks catalog data; the result is in `AppKind::ALL` order.
pub fn parse_catalog(json: &str) -> Result<Vec<AppInfo>, CatalogError> {
    let file: CatalogFile =
        serde_json::from_str(json).map_err(|e| CatalogError::Json(e.to_string()))?;
    let mut slots: Vec<Option<AppInfo>> = vec![None; AppKind::ALL.len()];
    for info in file.apps {
        let app = info.kind.slug();
        if info.auth.is_empty() {
            return Err(CatalogError::NoAuth { app });
        }
        if let Some(action) = info.actions.iter().find(|a| !info.has(a.capability())) {
            return Err(CatalogError::ActionWithoutCapability {
                app,
                action: action.label(),
                capability: action.capability().label(),
            });
        }
        let slot = &mut slots[info.kind as usize];
        if slot.is_some() {
            return Err(CatalogError::Duplicate(app));
        }
        *slot = Some(info);
    }
    AppKind::ALL
        .into_iter()
        .zip(slots)
        .map(|(kind, slot)| slot.ok_or(CatalogError::Missing(kind.slug())))
        .collect()
}

static CATALOG: LazyLock<Vec<AppInfo>> = LazyLock::new(|| {
    // The asset is compiled in and checked by the tests below, so a failure
    // here is a build defect, not bad input.
    parse_catalog(include_str!("../../assets/catalog.json"))
        .unwrap_or_else(|e| panic!("assets/catalog.json: {e}"))
});

#[cfg(test)]
mod tests {
    use super::*;

    const ASSET: &str = include_str!("../../assets/catalog.json");

    // R-C1, issue 13: the catalog people see is in the order of the names
    // they know, every app once.
    #[test]
    fn catalog_is_ordered_by_display_name() {
        let names: Vec<&str> = AppKind::by_display_name()
            .iter()
            .map(|a| a.display_name())
            .collect();
        assert_eq!(names[0], "Amazon Web Services");
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }

    // Issue 11: every account action casbah carries out names the permission it
    // needs, and no permission is listed for an action the app does not have.
    #[test]
    fn every_action_casbah_takes_names_its_permission() {
        for app in AppKind::ALL {
            let info = app.info();
            for action in crate::domain::governance::offered(app) {
                let permission = info.permissions.get(&action.catalog_action());
                assert!(
                    permission.is_some_and(|p| !p.is_empty()),
                    "{app:?} {action:?}"
                );
            }
            for listed in info.permissions.keys() {
                assert!(info.actions.contains(listed), "{app:?} {listed:?}");
            }
        }
    }

    // R-C1: all 13 apps, each exactly once, in the order of AppKind::ALL.
    #[test]
    fn asset_lists_every_app_once() {
        let apps = parse_catalog(ASSET).expect("asset parses");
        assert_eq!(apps.len(), 13);
        for (info, kind) in apps.iter().zip(AppKind::ALL) {
            assert_eq!(info.kind, kind);
        }
        let raw: serde_json::Value = serde_json::from_str(ASSET).expect("json");
        let listed = raw["apps"].as_array().expect("apps array").len();
        assert_eq!(listed, 13, "no extra or repeated entries");
    }

    // R-C1: a repeated or missing app is refused.
    #[test]
    fn duplicates_and_gaps_are_refused() {
        let mut raw: serde_json::Value = serde_json::from_str(ASSET).expect("json");
        let apps = raw["apps"].as_array_mut().expect("apps array");
        let okta = apps[9].clone();
        apps.push(okta);
        assert_eq!(
            parse_catalog(&raw.to_string()),
            Err(CatalogError::Duplicate("okta"))
        );
        let apps = raw["apps"].as_array_mut().expect("apps array");
        apps.pop();
        apps.remove(0);
        assert_eq!(
            parse_catalog(&raw.to_string()),
            Err(CatalogError::Missing("azure"))
        );
    }

    // R-C2: Microsoft Azure and Microsoft 365 allow one instance; every other app several.
    #[test]
    fn single_instance_rule_holds() {
        for kind in AppKind::ALL {
            let single = matches!(kind, AppKind::MicrosoftAzure | AppKind::Microsoft365);
            assert_eq!(kind.info().multi_instance, !single, "{kind:?}");
        }
    }

    // R-C1: display names people know.
    #[test]
    fn display_names() {
        assert_eq!(AppKind::Microsoft365.display_name(), "Microsoft 365");
        assert_eq!(AppKind::GoogleWorkspace.display_name(), "Google Workspace");
        assert_eq!(
            AppKind::AmazonWebServices.display_name(),
            "Amazon Web Services"
        );
        assert_eq!(AppKind::CiscoWebex.display_name(), "Cisco Webex");
    }

    // R-C1: credentials per app; secrets are marked.
    #[test]
    fn credentials_name_their_secrets() {
        let m365: Vec<_> = AppKind::Microsoft365
            .info()
            .credentials()
            .iter()
            .map(|f| (f.name.as_str(), f.secret))
            .collect();
        assert_eq!(
            m365,
            [
                ("tenant-id", false),
                ("client-id", false),
                ("client-secret", true)
            ]
        );
        let github: Vec<_> = AppKind::Github
            .info()
            .credentials()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(github, ["organization", "token"]);
        // Okta: API token, or an OAuth service app.
        assert_eq!(AppKind::Okta.info().auth.len(), 2);
        for kind in AppKind::ALL {
            let info = kind.info();
            assert!(info.credentials().iter().any(|f| f.secret), "{kind:?}");
        }
    }

    // R-C1, R-V1: not every app has every action, and actions follow capabilities.
    #[test]
    fn actions_follow_capabilities() {
        let m365 = AppKind::Microsoft365.info();
        assert_eq!(m365.capabilities, Capability::ALL);
        assert_eq!(m365.actions, GovernanceAction::ALL);
        assert!(
            !AppKind::Workday
                .info()
                .supports(GovernanceAction::SuspendUser)
        );
        assert!(
            AppKind::Okta
                .info()
                .supports(GovernanceAction::RevokeSessions)
        );
        assert!(
            !AppKind::Okta
                .info()
                .supports(GovernanceAction::QuarantineFile)
        );
        assert!(
            AppKind::ALL
                .iter()
                .any(|k| k.info().actions.len() < GovernanceAction::ALL.len())
        );
    }

    // R-V1: an action without its capability is a catalog defect.
    #[test]
    fn action_without_capability_is_refused() {
        let mut raw: serde_json::Value = serde_json::from_str(ASSET).expect("json");
        raw["apps"][12]["actions"] = serde_json::json!(["quarantine-file"]);
        assert_eq!(
            parse_catalog(&raw.to_string()),
            Err(CatalogError::ActionWithoutCapability {
                app: "workday",
                action: "Quarantine file",
                capability: "Data governance",
            })
        );
    }

    // R-C1: the apps casbah connects.
    #[test]
    fn four_apps_connect() {
        let connected: Vec<_> = AppKind::ALL
            .into_iter()
            .filter(|k| k.info().connector)
            .collect();
        assert_eq!(
            connected,
            [
                AppKind::Github,
                AppKind::GoogleWorkspace,
                AppKind::Microsoft365,
                AppKind::Okta
            ]
        );
    }

    // R-C3: the flags given choose the way to authenticate.
    #[test]
    fn given_fields_choose_the_method() {
        let okta = AppKind::Okta.info();
        assert_eq!(okta.method_for(["domain"]).unwrap().method, "api-token");
        assert_eq!(
            okta.method_for(["client-id", "domain"]).unwrap().method,
            "service-app"
        );
        let github = AppKind::Github.info();
        let device = github.method_for(["organization", "client-id"]).unwrap();
        assert!(device.interactive && device.secret_field().is_none());
        assert_eq!(
            AppKind::GoogleWorkspace
                .info()
                .method_for(["admin-email", "customer-id"])
                .unwrap()
                .method,
            "service-account"
        );
    }

    // R-C3: a missing or foreign flag says what the app takes.
    #[test]
    fn wrong_fields_say_what_the_app_takes() {
        let err = AppKind::Okta
            .info()
            .method_for(["organization"])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Okta has no field --organization"), "{err}");
        assert!(err.contains("--domain --client-id"), "{err}");
        let err = AppKind::GoogleWorkspace
            .info()
            .method_for(["admin-email"])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Google Workspace needs --customer-id"),
            "{err}"
        );
        let err = AppKind::Okta.info().method_for([]).unwrap_err().to_string();
        assert!(err.starts_with("Okta needs --domain;"), "{err}");
        assert!(matches!(
            AppKind::Box.info().method_for(["client-id"]),
            Err(CredentialError::NoConnector { .. })
        ));
    }

    // Slugs stay stable for the CLI and filters.
    #[test]
    fn slugs_round_trip() {
        for kind in AppKind::ALL {
            assert_eq!(AppKind::from_slug(kind.slug()), Some(kind));
            assert_eq!(AppKind::from_slug(&kind.slug().to_uppercase()), Some(kind));
        }
        assert_eq!(AppKind::from_slug("office"), None);
    }
}
