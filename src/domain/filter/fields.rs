//! The one table of filter fields: it drives parsing, display and the
//! dashboard's completion (R-A2, R-A4).

use crate::domain::{ACTION_TYPES, GroupApp, ObjectKind};

/// A field that compares the activity with one or more values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub enum Field {
    Type,
    Action,
    App,
    Instance,
    User,
    Target,
    Person,
    Domain,
    Group,
    TargetGroup,
    PersonGroup,
    Ou,
    TargetOu,
    PersonOu,
    Ip,
    Country,
    Isp,
    Device,
    Id,
    Object,
    Kind,
    Agent,
    Source,
}

/// A field that bounds the activity's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeField {
    After,
    Before,
    Date,
}

/// A yes/no property written as a bare word (`admin`, `-admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Flag {
    Admin,
    Impersonated,
    Failed,
    Succeeded,
}

/// How a value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub enum Op {
    /// `field:value`, case-insensitive.
    Eq,
    /// `field^=value` or `field:^value`.
    Prefix,
    /// `field~=value`.
    Contains,
}

impl Op {
    /// The canonical spelling, used by `Display`.
    pub fn token(self) -> &'static str {
        match self {
            Op::Eq => ":",
            Op::Prefix => "^=",
            Op::Contains => "~=",
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            Op::Eq => "`:` (equals)",
            Op::Prefix => "`^=` (starts with)",
            Op::Contains => "`~=` (contains)",
        }
    }
}

/// What kind of term a field name introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Values { field: Field, ops: &'static [Op] },
    Time(TimeField),
    Flag(Flag),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub syntax: Syntax,
    pub description: &'static str,
    pub example: &'static str,
}

const EQ: &[Op] = &[Op::Eq];
const EQ_PREFIX: &[Op] = &[Op::Eq, Op::Prefix];
const EQ_CONTAINS: &[Op] = &[Op::Eq, Op::Contains];
const TEXT_OPS: &[Op] = &[Op::Eq, Op::Prefix, Op::Contains];

const fn values(field: Field, ops: &'static [Op]) -> Syntax {
    Syntax::Values { field, ops }
}

static FIELDS: [FieldInfo; 30] = [
    FieldInfo {
        name: "type",
        aliases: &["activity"],
        syntax: values(Field::Type, TEXT_OPS),
        description: "activity type as shown (\"File accessed\") or in the vendor's words (FileAccessed), or an action type",
        example: "type:\"Download file\"",
    },
    FieldInfo {
        name: "action",
        aliases: &[],
        syntax: values(Field::Action, EQ),
        description: "normalised action type (sign-in, download, share, password-change, ...)",
        example: "action:(download,share)",
    },
    FieldInfo {
        name: "app",
        aliases: &[],
        syntax: values(Field::App, EQ),
        description: "app by short or display name, or an Office app of Microsoft 365 (sharepoint, onedrive, exchange, teams, powerbi, yammer, …)",
        example: "app:microsoft365",
    },
    FieldInfo {
        name: "instance",
        aliases: &[],
        syntax: values(Field::Instance, EQ),
        description: "connected app instance, by name",
        example: "instance:\"Contoso EU\"",
    },
    FieldInfo {
        name: "user",
        aliases: &["actor"],
        syntax: values(Field::User, TEXT_OPS),
        description: "who acted: e-mail, name, or @domain",
        example: "user:@contoso.com",
    },
    FieldInfo {
        name: "target",
        aliases: &[],
        syntax: values(Field::Target, TEXT_OPS),
        description: "user acted on: e-mail, name, id, or @domain",
        example: "target:bob@contoso.com",
    },
    FieldInfo {
        name: "person",
        aliases: &[],
        syntax: values(Field::Person, TEXT_OPS),
        description: "user who acted or was acted on",
        example: "person:@fabrikam.com",
    },
    FieldInfo {
        name: "domain",
        aliases: &[],
        syntax: values(Field::Domain, EQ),
        description: "domain of the actor's e-mail",
        example: "domain:contoso.com",
    },
    FieldInfo {
        name: "group",
        aliases: &[],
        syntax: values(Field::Group, EQ),
        description: "group the actor belonged to when it happened (imported or automatic)",
        example: "group:\"Finance EMEA\"",
    },
    FieldInfo {
        name: "targetgroup",
        aliases: &[],
        syntax: values(Field::TargetGroup, EQ),
        description: "group the user acted on is a member of now",
        example: "targetgroup:\"Finance EMEA\"",
    },
    FieldInfo {
        name: "persongroup",
        aliases: &[],
        syntax: values(Field::PersonGroup, EQ),
        description: "group of the actor (when it happened) or of the user acted on (now)",
        example: "persongroup:Contractors",
    },
    FieldInfo {
        name: "ou",
        aliases: &[],
        syntax: values(Field::Ou, TEXT_OPS),
        description: "organisational unit the actor is in now: Google's org unit path, Entra's on-premises OU",
        example: "ou:^/Sales",
    },
    FieldInfo {
        name: "targetou",
        aliases: &[],
        syntax: values(Field::TargetOu, TEXT_OPS),
        description: "organisational unit the user acted on is in now",
        example: "targetou~=\"OU=Finance\"",
    },
    FieldInfo {
        name: "personou",
        aliases: &[],
        syntax: values(Field::PersonOu, TEXT_OPS),
        description: "organisational unit of the actor or of the user acted on",
        example: "personou:/Engineering",
    },
    FieldInfo {
        name: "ip",
        aliases: &[],
        syntax: values(Field::Ip, EQ_PREFIX),
        description: "IP address; ^ for starts with",
        example: "ip:^10.1.",
    },
    FieldInfo {
        name: "country",
        aliases: &[],
        syntax: values(Field::Country, EQ),
        description: "two-letter country code",
        example: "country!=US",
    },
    FieldInfo {
        name: "isp",
        aliases: &[],
        syntax: values(Field::Isp, TEXT_OPS),
        description: "internet service provider",
        example: "isp~=comcast",
    },
    FieldInfo {
        name: "device",
        aliases: &[],
        syntax: values(Field::Device, EQ_CONTAINS),
        description: "device type",
        example: "device:mobile",
    },
    FieldInfo {
        name: "id",
        aliases: &[],
        syntax: values(Field::Id, EQ),
        description: "activity id",
        example: "id:7d3e9a41",
    },
    FieldInfo {
        name: "object",
        aliases: &[],
        syntax: values(Field::Object, TEXT_OPS),
        description: "file, folder, user or app acted on, by name or id",
        example: "object~=budget",
    },
    FieldInfo {
        name: "kind",
        aliases: &[],
        syntax: values(Field::Kind, EQ),
        description: "kind of object acted on: file, folder, user, app, group, message, other",
        example: "kind:(file,folder)",
    },
    FieldInfo {
        name: "agent",
        aliases: &["ua"],
        syntax: values(Field::Agent, TEXT_OPS),
        description: "user agent",
        example: "agent~=curl",
    },
    FieldInfo {
        name: "source",
        aliases: &[],
        syntax: values(Field::Source, TEXT_OPS),
        description: "feed the activity came from",
        example: "source:\"Azure AD sign-ins\"",
    },
    FieldInfo {
        name: "after",
        aliases: &["since"],
        syntax: Syntax::Time(TimeField::After),
        description: "on or after a day (YYYY-MM-DD, UTC) or a time ago (30m, 24h, 7d, 2w)",
        example: "after:7d",
    },
    FieldInfo {
        name: "before",
        aliases: &["until"],
        syntax: Syntax::Time(TimeField::Before),
        description: "before a day (YYYY-MM-DD, UTC) or a time ago",
        example: "before:2026-11-08",
    },
    FieldInfo {
        name: "date",
        aliases: &[],
        syntax: Syntax::Time(TimeField::Date),
        description: "on a day, or from one day to another, both included",
        example: "date:2026-11-01..2026-11-08",
    },
    FieldInfo {
        name: "admin",
        aliases: &[],
        syntax: Syntax::Flag(Flag::Admin),
        description: "administrative activity",
        example: "-admin",
    },
    FieldInfo {
        name: "impersonated",
        aliases: &[],
        syntax: Syntax::Flag(Flag::Impersonated),
        description: "performed on behalf of someone else",
        example: "impersonated",
    },
    FieldInfo {
        name: "failed",
        aliases: &[],
        syntax: Syntax::Flag(Flag::Failed),
        description: "the app reported a failure",
        example: "failed",
    },
    FieldInfo {
        name: "succeeded",
        aliases: &[],
        syntax: Syntax::Flag(Flag::Succeeded),
        description: "the app reported success",
        example: "succeeded",
    },
];

/// Every field, for completion: name, aliases, description, example.
pub fn fields() -> &'static [FieldInfo] {
    &FIELDS
}

/// Finds a field by name or alias, ignoring case.
pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| {
        f.name.eq_ignore_ascii_case(name) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Every name and alias, for suggestions.
pub(super) fn all_names() -> impl Iterator<Item = &'static str> {
    FIELDS
        .iter()
        .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
}

fn info_where(pred: impl Fn(&Syntax) -> bool) -> &'static FieldInfo {
    FIELDS
        .iter()
        .find(|f| pred(&f.syntax))
        .expect("every variant has a row (checked by `every_variant_has_a_row`)")
}

impl Field {
    pub fn info(self) -> &'static FieldInfo {
        info_where(|s| matches!(s, Syntax::Values { field, .. } if *field == self))
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The values a field accepts when they form a fixed list, for completion.
    pub fn fixed_values(self) -> Option<Vec<&'static str>> {
        match self {
            Field::App => Some(GroupApp::all_slugs()),
            Field::Action => Some(ACTION_TYPES.to_vec()),
            Field::Kind => Some(ObjectKind::ALL.map(ObjectKind::slug).to_vec()),
            _ => None,
        }
    }
}

impl TimeField {
    pub fn info(self) -> &'static FieldInfo {
        info_where(|s| *s == Syntax::Time(self))
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }
}

impl Flag {
    pub fn info(self) -> &'static FieldInfo {
        info_where(|s| *s == Syntax::Flag(self))
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The flag a bare word names, if any (`ADMIN` → admin).
    pub fn from_word(word: &str) -> Option<Flag> {
        match lookup(word)?.syntax {
            Syntax::Flag(flag) => Some(flag),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    // R-A2: the table covers every field once, with no clashing names.
    #[test]
    fn every_variant_has_a_row() {
        let value_fields = [
            Field::Type,
            Field::Action,
            Field::App,
            Field::Instance,
            Field::User,
            Field::Target,
            Field::Person,
            Field::Domain,
            Field::Group,
            Field::TargetGroup,
            Field::PersonGroup,
            Field::Ou,
            Field::TargetOu,
            Field::PersonOu,
            Field::Ip,
            Field::Country,
            Field::Isp,
            Field::Device,
            Field::Id,
            Field::Object,
            Field::Kind,
            Field::Agent,
            Field::Source,
        ];
        for f in value_fields {
            assert!(matches!(f.info().syntax, Syntax::Values { field, .. } if field == f));
        }
        for t in [TimeField::After, TimeField::Before, TimeField::Date] {
            assert_eq!(t.info().syntax, Syntax::Time(t));
        }
        for flag in [
            Flag::Admin,
            Flag::Impersonated,
            Flag::Failed,
            Flag::Succeeded,
        ] {
            assert_eq!(flag.info().syntax, Syntax::Flag(flag));
            assert_eq!(Flag::from_word(&flag.name().to_uppercase()), Some(flag));
        }
        let mut seen = HashSet::new();
        for name in all_names() {
            assert!(seen.insert(name), "{name} appears twice");
            assert!(name.chars().all(|c| c.is_ascii_lowercase()), "{name}");
        }
        assert_eq!(fields().len(), value_fields.len() + 3 + 4);
    }

    // R-A2: fixed vocabularies complete to exactly what the parser accepts.
    #[test]
    fn fixed_values_parse() {
        for (field, sample) in [
            (Field::App, "box"),
            (Field::Action, "share"),
            (Field::Kind, "folder"),
        ] {
            let values = field.fixed_values().expect("fixed list");
            assert!(values.contains(&sample));
            for v in values {
                let text = format!("{}:{v}", field.name());
                assert!(crate::domain::filter::parse(&text).is_ok(), "{text}");
            }
        }
        assert_eq!(Field::User.fixed_values(), None);
    }

    // R-G10: completion offers the Office apps of Microsoft 365 after `app:`.
    #[test]
    fn office_apps_are_fixed_app_values() {
        let values = Field::App.fixed_values().expect("fixed list");
        for app in crate::domain::OfficeApp::ALL {
            assert!(values.contains(&app.slug()), "{}", app.slug());
        }
        assert!(values.contains(&"microsoft365"));
    }

    // R-A2: names and aliases are found whatever the case.
    #[test]
    fn lookup_by_alias_and_case() {
        assert_eq!(lookup("Country").map(|f| f.name), Some("country"));
        assert_eq!(lookup("actor").map(|f| f.name), Some("user"));
        assert_eq!(lookup("contry"), None);
    }
}
