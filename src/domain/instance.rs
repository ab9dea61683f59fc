//! R-C2 instances and R-C5 Microsoft 365 components.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AppKind, Micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceId(pub u64);

/// R-C5. The components a Microsoft 365 instance monitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    UsersAndGroups,
    ManagementEvents,
    SignInEvents,
    Apps,
    Office365Activities,
    Office365Files,
    AzureAdFiles,
}

impl Component {
    pub const ALL: [Component; 7] = [
        Component::UsersAndGroups,
        Component::ManagementEvents,
        Component::SignInEvents,
        Component::Apps,
        Component::Office365Activities,
        Component::Office365Files,
        Component::AzureAdFiles,
    ];

    /// The name used on the command line; the same as the serde name.
    pub fn slug(self) -> &'static str {
        match self {
            Component::UsersAndGroups => "users-and-groups",
            Component::ManagementEvents => "management-events",
            Component::SignInEvents => "sign-in-events",
            Component::Apps => "apps",
            Component::Office365Activities => "office365-activities",
            Component::Office365Files => "office365-files",
            Component::AzureAdFiles => "azure-ad-files",
        }
    }

    /// The name shown in the dashboard, as the seed words it.
    pub fn label(self) -> &'static str {
        match self {
            Component::UsersAndGroups => "Azure AD users and groups",
            Component::ManagementEvents => "Azure AD management events",
            Component::SignInEvents => "Azure AD sign-in events",
            Component::Apps => "Azure AD apps",
            Component::Office365Activities => "Office 365 activities",
            Component::Office365Files => "Office 365 files",
            Component::AzureAdFiles => "Azure AD files",
        }
    }

    pub fn from_slug(s: &str) -> Option<Component> {
        let s = s.trim().to_ascii_lowercase();
        Component::ALL.into_iter().find(|c| c.slug() == s)
    }

    /// What a new instance monitors unless told otherwise: everything that
    /// needs no extra switch. Azure AD files also needs file monitoring.
    pub fn default_set() -> Vec<Component> {
        Component::ALL
            .into_iter()
            .filter(|c| *c != Component::AzureAdFiles)
            .collect()
    }

    /// Parses a comma-separated list of slugs ("users-and-groups,sign-in-events").
    /// Duplicates are dropped; blanks between commas are ignored. The result
    /// still has to pass `validate_components`.
    pub fn parse_list(list: &str) -> Result<Vec<Component>, ComponentError> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let c = Component::from_slug(name).ok_or_else(|| ComponentError::Unknown {
                name: name.to_string(),
            })?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// Every component slug, comma-separated, for error messages.
fn all_slugs() -> String {
    Component::ALL.map(Component::slug).join(", ")
}

/// R-C5: why a component selection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    #[error("unknown component `{name}`; pick from: {}", all_slugs())]
    Unknown { name: String },
    #[error(
        "no component selected; pick at least users-and-groups (all: {})",
        all_slugs()
    )]
    Empty,
    #[error(
        "`{needed_by}` needs users-and-groups, which every other component requires; add users-and-groups"
    )]
    NeedsUsersAndGroups { needed_by: &'static str },
    #[error(
        "azure-ad-files needs Azure AD activities; add {}",
        missing.join(" and ")
    )]
    NeedsActivities { missing: Vec<&'static str> },
    #[error(
        "azure-ad-files needs file monitoring; switch file monitoring on or drop azure-ad-files"
    )]
    NeedsFileMonitoring,
}

/// R-C5: refuses an impossible selection, with the reason and the fix.
///
/// "Azure AD files requires the Azure AD activities component" (seed
/// connect-microsoft-365.md) dates from when Azure AD activities were one
/// component; they are now split into management events and sign-in events
/// (seed app-connectors.md). A selection holds "Azure AD activities" only if
/// it holds both halves, so azure-ad-files requires both.
pub fn validate_components(
    components: &[Component],
    file_monitoring: bool,
) -> Result<(), ComponentError> {
    let Some(first) = components.first() else {
        return Err(ComponentError::Empty);
    };
    if !components.contains(&Component::UsersAndGroups) {
        return Err(ComponentError::NeedsUsersAndGroups {
            needed_by: first.slug(),
        });
    }
    if components.contains(&Component::AzureAdFiles) {
        let missing: Vec<&'static str> = [Component::ManagementEvents, Component::SignInEvents]
            .into_iter()
            .filter(|c| !components.contains(c))
            .map(Component::slug)
            .collect();
        if !missing.is_empty() {
            return Err(ComponentError::NeedsActivities { missing });
        }
        if !file_monitoring {
            return Err(ComponentError::NeedsFileMonitoring);
        }
    }
    Ok(())
}

/// A connected app instance. Secrets are never part of this type; they live
/// in the store's credentials table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub app: AppKind,
    pub name: String,
    /// The catalog's non-secret credential fields by their names: `tenant-id`
    /// and `client-id` for Microsoft 365, `domain` for Okta, `admin-email` and
    /// `customer-id` for Google Workspace, `organization` for GitHub.
    pub fields: BTreeMap<String, String>,
    /// R-C7: replaces every vendor host; the paths stay the vendor's.
    pub endpoint: Option<String>,
    pub components: Vec<Component>,
    pub created_at: Micros,
}

/// How commands name an instance unambiguously: `APP/NAME`, since two apps may
/// each have an instance of the same name (R-C2).
pub fn reference(app: AppKind, name: &str) -> String {
    format!("{}/{name}", app.slug())
}

impl Instance {
    pub fn reference(&self) -> String {
        reference(self.app, &self.name)
    }

    /// A credential field's value, empty when the instance has none.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Component::*;

    // R-C5: CLI names are the serde names.
    #[test]
    fn slugs_match_serde_names() {
        for c in Component::ALL {
            let json = serde_json::to_string(&c).expect("serialize");
            assert_eq!(json, format!("\"{}\"", c.slug()));
            assert_eq!(Component::from_slug(c.slug()), Some(c));
        }
    }

    // R-C5: a list parses in order, without duplicates.
    #[test]
    fn parse_list_reads_slugs() {
        assert_eq!(
            Component::parse_list("users-and-groups, sign-in-events,users-and-groups,"),
            Ok(vec![UsersAndGroups, SignInEvents])
        );
        assert_eq!(Component::parse_list(""), Ok(vec![]));
    }

    // R-C5: an unknown name is refused, listing the valid ones.
    #[test]
    fn unknown_component_lists_valid_names() {
        let err = Component::parse_list("users-and-groups,signins").unwrap_err();
        assert_eq!(
            err,
            ComponentError::Unknown {
                name: "signins".into()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("`signins`"), "{msg}");
        for c in Component::ALL {
            assert!(msg.contains(c.slug()), "{msg}");
        }
    }

    // R-C5: the default selection is valid without file monitoring.
    #[test]
    fn default_set_is_everything_but_azure_ad_files() {
        let set = Component::default_set();
        assert_eq!(set.len(), 6);
        assert!(!set.contains(&AzureAdFiles));
        assert_eq!(validate_components(&set, false), Ok(()));
        assert_eq!(validate_components(&Component::ALL, true), Ok(()));
    }

    // R-C5: an empty selection is refused.
    #[test]
    fn empty_selection_is_refused() {
        assert_eq!(validate_components(&[], true), Err(ComponentError::Empty));
    }

    // R-C5: users and groups is required by all the others.
    #[test]
    fn users_and_groups_is_required() {
        let err = validate_components(&[SignInEvents, Apps], false).unwrap_err();
        assert_eq!(
            err,
            ComponentError::NeedsUsersAndGroups {
                needed_by: "sign-in-events"
            }
        );
        assert!(err.to_string().contains("add users-and-groups"));
        assert_eq!(validate_components(&[UsersAndGroups], false), Ok(()));
    }

    // R-C5: Azure AD files needs both halves of Azure AD activities.
    #[test]
    fn azure_ad_files_needs_activities() {
        let err =
            validate_components(&[UsersAndGroups, SignInEvents, AzureAdFiles], true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "azure-ad-files needs Azure AD activities; add management-events"
        );
        let err = validate_components(&[UsersAndGroups, AzureAdFiles], true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "azure-ad-files needs Azure AD activities; add management-events and sign-in-events"
        );
    }

    // R-C5: Azure AD files needs file monitoring switched on.
    #[test]
    fn azure_ad_files_needs_file_monitoring() {
        let set = [UsersAndGroups, ManagementEvents, SignInEvents, AzureAdFiles];
        assert_eq!(
            validate_components(&set, false),
            Err(ComponentError::NeedsFileMonitoring)
        );
        assert_eq!(validate_components(&set, true), Ok(()));
    }
}
