//! R-G10: the Office apps that ride on a Microsoft 365 instance, and the apps
//! a group belongs to.
//!
//! The ten Office 365 apps of the connectors seed (Dynamics 365 CRM,
//! Exchange, Office, OneDrive, Power Automate, Power BI, SharePoint, Skype for
//! Business, Teams, Yammer) are not apps of the catalog (R-C1): they are
//! workloads of a Microsoft 365 instance, read through the Office 365
//! Management Activity API. They are "enabled" by the components that read
//! their audit records (R-C5):
//!
//! - *Office 365 activities* reads every workload (Audit.SharePoint,
//!   Audit.Exchange, Audit.AzureActiveDirectory, DLP.All and Audit.General,
//!   where Teams, Power BI, Yammer and the others' records come from), so all
//!   ten are enabled;
//! - *Office 365 files* alone reads only Audit.SharePoint, which holds the file
//!   activity of SharePoint and OneDrive, so those two are enabled;
//! - without either, no Office app is.
//!
//! The Office apps of a group are derived when read, from the instance's
//! components and the group's kind, never stored: switching a component off
//! or on takes effect at once, without importing again.

use serde::{Deserialize, Serialize};

use super::{AppKind, AutoGroup, Component, Group, GroupKind, Instance};

/// R-G10: an Office app of a Microsoft 365 instance. Serialised as its slug.
/// New apps go last: records store the variant's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfficeApp {
    SharePoint,
    OneDrive,
    Exchange,
    Teams,
    Dynamics365,
    Office,
    PowerAutomate,
    PowerBi,
    SkypeForBusiness,
    Yammer,
}

impl OfficeApp {
    /// The files apps first, as `enabled_office_apps` lists them.
    pub const ALL: [OfficeApp; 10] = [
        OfficeApp::SharePoint,
        OfficeApp::OneDrive,
        OfficeApp::Exchange,
        OfficeApp::Teams,
        OfficeApp::Dynamics365,
        OfficeApp::Office,
        OfficeApp::PowerAutomate,
        OfficeApp::PowerBi,
        OfficeApp::SkypeForBusiness,
        OfficeApp::Yammer,
    ];

    /// The lower-case name used on the command line and in JSON.
    pub fn slug(self) -> &'static str {
        match self {
            OfficeApp::SharePoint => "sharepoint",
            OfficeApp::OneDrive => "onedrive",
            OfficeApp::Exchange => "exchange",
            OfficeApp::Teams => "teams",
            OfficeApp::Dynamics365 => "dynamics365",
            OfficeApp::Office => "office",
            OfficeApp::PowerAutomate => "powerautomate",
            OfficeApp::PowerBi => "powerbi",
            OfficeApp::SkypeForBusiness => "skypeforbusiness",
            OfficeApp::Yammer => "yammer",
        }
    }

    /// The product's full name.
    pub fn display_name(self) -> &'static str {
        match self {
            OfficeApp::SharePoint => "SharePoint Online",
            OfficeApp::OneDrive => "OneDrive for Business",
            OfficeApp::Exchange => "Exchange Online",
            OfficeApp::Teams => "Microsoft Teams",
            OfficeApp::Dynamics365 => "Dynamics 365 CRM",
            OfficeApp::Office => "Microsoft Office",
            OfficeApp::PowerAutomate => "Microsoft Power Automate",
            OfficeApp::PowerBi => "Microsoft Power BI",
            OfficeApp::SkypeForBusiness => "Skype for Business Online",
            OfficeApp::Yammer => "Yammer",
        }
    }

    /// The name people say, for narrow columns ("also SharePoint, Teams").
    pub fn short_name(self) -> &'static str {
        match self {
            OfficeApp::SharePoint => "SharePoint",
            OfficeApp::OneDrive => "OneDrive",
            OfficeApp::Exchange => "Exchange",
            OfficeApp::Teams => "Teams",
            OfficeApp::Dynamics365 => "Dynamics 365",
            OfficeApp::Office => "Office",
            OfficeApp::PowerAutomate => "Power Automate",
            OfficeApp::PowerBi => "Power BI",
            OfficeApp::SkypeForBusiness => "Skype for Business",
            OfficeApp::Yammer => "Yammer",
        }
    }

    /// By slug, short name or full name, ignoring case.
    pub fn from_name(s: &str) -> Option<OfficeApp> {
        let s = s.trim();
        OfficeApp::ALL.into_iter().find(|o| {
            [o.slug(), o.short_name(), o.display_name()]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(s))
        })
    }
}

/// R-G10: the Office apps enabled on an instance of `app` monitoring
/// `components` (see the module comment for the rule). Always in
/// `OfficeApp::ALL` order; empty for apps other than Microsoft 365.
pub fn enabled_office_apps(app: AppKind, components: &[Component]) -> Vec<OfficeApp> {
    if app != AppKind::Microsoft365 {
        return Vec::new();
    }
    if components.contains(&Component::Office365Activities) {
        OfficeApp::ALL.to_vec()
    } else if components.contains(&Component::Office365Files) {
        vec![OfficeApp::SharePoint, OfficeApp::OneDrive]
    } else {
        Vec::new()
    }
}

/// R-G10: the Office apps a group from `instance` also appears in. Only
/// Microsoft 365 (Unified) groups do; security and distribution groups stay
/// groups of Microsoft 365 alone.
pub fn office_apps_of_remote(microsoft365: bool, instance: &Instance) -> Vec<OfficeApp> {
    if !microsoft365 {
        return Vec::new();
    }
    enabled_office_apps(instance.app, &instance.components)
}

/// An app a group belongs to: a catalog app, or an Office app (R-G10). Also
/// what the activity filter's `app:` names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum GroupApp {
    App(AppKind),
    Office(OfficeApp),
}

impl GroupApp {
    pub fn slug(self) -> &'static str {
        match self {
            GroupApp::App(a) => a.slug(),
            GroupApp::Office(o) => o.slug(),
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            GroupApp::App(a) => a.display_name(),
            GroupApp::Office(o) => o.display_name(),
        }
    }

    /// A catalog app or an Office app, by any of its names, ignoring case.
    pub fn from_name(s: &str) -> Option<GroupApp> {
        let s = s.trim();
        AppKind::from_slug(s)
            .or_else(|| {
                AppKind::ALL
                    .into_iter()
                    .find(|a| a.display_name().eq_ignore_ascii_case(s))
            })
            .map(GroupApp::App)
            .or_else(|| OfficeApp::from_name(s).map(GroupApp::Office))
    }

    /// Every name `from_name` knows by slug, for suggestions.
    pub fn all_slugs() -> Vec<&'static str> {
        AppKind::ALL
            .map(AppKind::slug)
            .into_iter()
            .chain(OfficeApp::ALL.map(OfficeApp::slug))
            .collect()
    }
}

/// The apps a group belongs to, `instance` being the one an imported group
/// came from (`None` when it is gone). An imported group belongs to its
/// instance's app and, R-G10, to the enabled Office apps when it is a
/// Microsoft 365 group. An automatic group belongs to the app it watches; the
/// External group spans every app, so it belongs to none in particular.
pub fn apps_of(group: &Group, instance: Option<&Instance>) -> Vec<GroupApp> {
    match &group.kind {
        GroupKind::Automatic(auto) => {
            let app = match auto {
                AutoGroup::External => None,
                AutoGroup::SalesforceProfile(_) => Some(AppKind::Salesforce),
                other => AppKind::ALL
                    .into_iter()
                    .find(|a| AutoGroup::administrators_of(*a).as_ref() == Some(other)),
            };
            app.map(GroupApp::App).into_iter().collect()
        }
        GroupKind::Imported { instance: id, .. } => match instance.filter(|i| i.id == *id) {
            Some(i) => std::iter::once(GroupApp::App(i.app))
                .chain(
                    office_apps_of_remote(group.microsoft365, i)
                        .into_iter()
                        .map(GroupApp::Office),
                )
                .collect(),
            None => Vec::new(),
        },
    }
}

/// R-G10: the Office apps among `apps`, for "also SharePoint, …" notes.
pub fn office_only(apps: &[GroupApp]) -> Vec<OfficeApp> {
    apps.iter()
        .filter_map(|a| match a {
            GroupApp::Office(o) => Some(*o),
            GroupApp::App(_) => None,
        })
        .collect()
}

/// "SharePoint, OneDrive, Exchange, Teams".
pub fn short_names(apps: &[OfficeApp]) -> String {
    apps.iter()
        .map(|o| o.short_name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{GroupId, GroupStatus, InstanceId, SkipCounts};
    use Component::*;

    fn instance(app: AppKind, components: Vec<Component>) -> Instance {
        Instance {
            id: InstanceId(7),
            app,
            name: "Contoso".into(),
            fields: [("tenant-id", "t"), ("client-id", "c")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: None,
            components,
            created_at: 0,
        }
    }

    fn imported(microsoft365: bool) -> Group {
        Group {
            id: GroupId(1),
            kind: GroupKind::Imported {
                instance: InstanceId(7),
                remote_id: "g".into(),
            },
            name: "Sales".into(),
            status: GroupStatus::Ready,
            member_count: 0,
            skipped: SkipCounts::default(),
            imported_at: 0,
            last_sync: None,
            notify: false,
            microsoft365,
        }
    }

    fn automatic(auto: AutoGroup) -> Group {
        Group {
            kind: GroupKind::Automatic(auto),
            ..imported(false)
        }
    }

    // R-G10: Office 365 activities enables every Office app; Office 365 files
    // alone enables the two whose file activity it reads; neither enables none.
    #[test]
    fn components_enable_office_apps() {
        let m = AppKind::Microsoft365;
        assert_eq!(
            enabled_office_apps(m, &[UsersAndGroups, Office365Activities]),
            OfficeApp::ALL
        );
        assert_eq!(
            enabled_office_apps(m, &[UsersAndGroups, Office365Files]),
            [OfficeApp::SharePoint, OfficeApp::OneDrive]
        );
        assert_eq!(
            enabled_office_apps(m, &[UsersAndGroups, Office365Files, Office365Activities]),
            OfficeApp::ALL
        );
        assert_eq!(
            enabled_office_apps(m, &[UsersAndGroups, SignInEvents, ManagementEvents]),
            []
        );
        assert_eq!(
            enabled_office_apps(m, &Component::default_set()),
            OfficeApp::ALL
        );
    }

    // R-G10: only Microsoft 365 instances have Office apps.
    #[test]
    fn other_apps_have_no_office_apps() {
        for app in AppKind::ALL
            .into_iter()
            .filter(|a| *a != AppKind::Microsoft365)
        {
            assert_eq!(enabled_office_apps(app, &Component::ALL), [], "{app:?}");
        }
    }

    // R-G10: a Microsoft 365 group also belongs to the enabled Office apps; a
    // security group does not.
    #[test]
    fn microsoft365_groups_also_belong_to_office_apps() {
        let on = instance(AppKind::Microsoft365, vec![UsersAndGroups, Office365Files]);
        assert_eq!(
            apps_of(&imported(true), Some(&on)),
            [
                GroupApp::App(AppKind::Microsoft365),
                GroupApp::Office(OfficeApp::SharePoint),
                GroupApp::Office(OfficeApp::OneDrive),
            ]
        );
        assert_eq!(
            apps_of(&imported(false), Some(&on)),
            [GroupApp::App(AppKind::Microsoft365)]
        );
        let off = instance(AppKind::Microsoft365, vec![UsersAndGroups]);
        assert_eq!(
            apps_of(&imported(true), Some(&off)),
            [GroupApp::App(AppKind::Microsoft365)]
        );
        assert_eq!(office_apps_of_remote(true, &off), []);
        assert_eq!(office_apps_of_remote(false, &on), []);
    }

    // R-G10: the instance passed must be the group's own.
    #[test]
    fn another_instance_gives_no_apps() {
        let mut other = instance(AppKind::Microsoft365, Component::ALL.to_vec());
        other.id = InstanceId(8);
        assert_eq!(apps_of(&imported(true), Some(&other)), []);
        assert_eq!(apps_of(&imported(true), None), []);
    }

    // R-G1: automatic groups belong to the app they watch; External to none.
    #[test]
    fn automatic_groups_belong_to_their_app() {
        assert_eq!(
            apps_of(&automatic(AutoGroup::Microsoft365Administrator), None),
            [GroupApp::App(AppKind::Microsoft365)]
        );
        assert_eq!(
            apps_of(&automatic(AutoGroup::SalesforceProfile("X".into())), None),
            [GroupApp::App(AppKind::Salesforce)]
        );
        assert_eq!(apps_of(&automatic(AutoGroup::External), None), []);
    }

    // R-G10: Office apps are found by slug, short or full name; catalog apps first.
    #[test]
    fn names_resolve() {
        assert_eq!(
            GroupApp::from_name("SharePoint"),
            Some(GroupApp::Office(OfficeApp::SharePoint))
        );
        assert_eq!(
            GroupApp::from_name("onedrive for business"),
            Some(GroupApp::Office(OfficeApp::OneDrive))
        );
        assert_eq!(
            GroupApp::from_name("Microsoft 365"),
            Some(GroupApp::App(AppKind::Microsoft365))
        );
        assert_eq!(
            GroupApp::from_name(" box "),
            Some(GroupApp::App(AppKind::Box))
        );
        for (name, app) in [
            ("office", OfficeApp::Office),
            ("Power BI", OfficeApp::PowerBi),
            ("dynamics 365 crm", OfficeApp::Dynamics365),
        ] {
            assert_eq!(GroupApp::from_name(name), Some(GroupApp::Office(app)));
        }
        assert_eq!(GroupApp::from_name("lync"), None);
        for o in OfficeApp::ALL {
            assert_eq!(OfficeApp::from_name(o.slug()), Some(o));
            assert_eq!(
                GroupApp::from_name(o.display_name()),
                Some(GroupApp::Office(o))
            );
            assert_eq!(AppKind::from_slug(o.slug()), None, "{} clashes", o.slug());
        }
        assert_eq!(GroupApp::all_slugs().len(), 23);
    }

    // issue 10, R-G10: the ten Office 365 apps of the connectors seed, by
    // the names the seed gives them, are ten different Office apps.
    #[test]
    fn the_seeds_ten_office_apps_are_known() {
        let seed = [
            "Dynamics 365 CRM",
            "Exchange",
            "Office",
            "OneDrive",
            "Power Automate",
            "Power BI",
            "SharePoint",
            "Skype for Business",
            "Teams",
            "Yammer",
        ];
        let known: std::collections::BTreeSet<OfficeApp> = seed
            .iter()
            .map(|name| OfficeApp::from_name(name).unwrap_or_else(|| panic!("{name}")))
            .collect();
        assert_eq!(known.len(), 10);
        assert_eq!(
            known.into_iter().collect::<Vec<_>>().len(),
            OfficeApp::ALL.len()
        );
    }

    // R-G10: JSON carries the slugs.
    #[test]
    fn slugs_are_serde_names() {
        for o in OfficeApp::ALL {
            let json = serde_json::to_string(&o).expect("serialize");
            assert_eq!(json, format!("\"{}\"", o.slug()));
        }
    }

    // R-G10: the "also in" note.
    #[test]
    fn office_notes() {
        let apps = [
            GroupApp::App(AppKind::Microsoft365),
            GroupApp::Office(OfficeApp::SharePoint),
            GroupApp::Office(OfficeApp::Teams),
        ];
        assert_eq!(
            office_only(&apps),
            [OfficeApp::SharePoint, OfficeApp::Teams]
        );
        assert_eq!(short_names(&office_only(&apps)), "SharePoint, Teams");
    }
}
