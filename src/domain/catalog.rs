//! R-C1: the catalog of the 13 apps casbah knows.

use serde::{Deserialize, Serialize};

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

    pub fn from_slug(s: &str) -> Option<AppKind> {
        let s = s.to_ascii_lowercase();
        AppKind::ALL.into_iter().find(|a| a.slug() == s)
    }
}
