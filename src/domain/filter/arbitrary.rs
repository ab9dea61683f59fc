//! Generators for the filter property tests: filters drawn from the whole
//! grammar, and activities drawn from small pools so that filters often match.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::sample::select;

use super::fields::{Field, Flag, Op, Syntax, fields};
use super::time::{TimePoint, TimeTerm, TimeUnit};
use super::{Filter, Names, Term, TermKind, Value};
use crate::domain::{
    ACTION_TYPES, Activity, ActivityObject, AppKind, GroupApp, GroupId, InstanceId, Micros,
    ObjectKind, OfficeApp, UserKey,
};

const GROUPS: [(&str, u64); 4] = [
    ("Finance", 1),
    ("Sales", 2),
    ("Finance EMEA", 3),
    ("External", 4),
];
const INSTANCES: [(&str, u64); 2] = [("Contoso", 1), ("Fabrikam", 2)];

/// Groups Finance (1), Sales (2), Finance EMEA (3), External (4); instances
/// Contoso (1) and Fabrikam (2).
pub struct TestNames;

impl Names for TestNames {
    fn group(&self, name: &str) -> Option<GroupId> {
        GROUPS.iter().find(|g| g.0 == name).map(|g| GroupId(g.1))
    }
    fn instance(&self, name: &str) -> Option<InstanceId> {
        INSTANCES
            .iter()
            .find(|i| i.0 == name)
            .map(|i| InstanceId(i.1))
    }
    fn group_names(&self) -> Vec<String> {
        GROUPS.iter().map(|g| g.0.to_string()).collect()
    }
    fn instance_names(&self) -> Vec<String> {
        INSTANCES.iter().map(|i| i.0.to_string()).collect()
    }
    /// Bob, who is acted on in the sample activities, is in Finance (1) now.
    fn group_members(&self, group: GroupId) -> Vec<UserKey> {
        match group.0 {
            1 => vec!["bob@fabrikam.com".into(), "bob-login".into()],
            _ => Vec::new(),
        }
    }
    /// Alice in Google's `/Sales/EMEA`; Bob in an Entra on-premises OU.
    fn org_unit_accounts(&self) -> &[(String, UserKey)] {
        static ACCOUNTS: std::sync::LazyLock<Vec<(String, UserKey)>> =
            std::sync::LazyLock::new(|| {
                vec![
                    ("/Sales/EMEA".into(), "alice@contoso.com".into()),
                    (
                        "OU=Finance,DC=fabrikam,DC=com".into(),
                        "bob@fabrikam.com".into(),
                    ),
                ]
            });
        &ACCOUNTS
    }
}

const WORDS: [&str; 24] = [
    "alice@contoso.com",
    "bob@fabrikam.com",
    "Alice",
    "@contoso.com",
    "contoso.com",
    "10.1.",
    "10.1.2.3",
    "download",
    "FileDownloaded",
    "budget",
    "Office 365",
    "Orange",
    "Desktop",
    "chrome",
    "a b",
    "say \"hi\"",
    "C:\\dir\\",
    "^x",
    "-x",
    "admin",
    "type:x",
    "a,b",
    "(x)",
    "x..y",
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(WORDS.to_vec()).prop_map(String::from),
        1 => "\\PC{1,8}",
        1 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
    .boxed()
}

fn word_from(options: Vec<&'static str>) -> BoxedStrategy<String> {
    select(options).prop_map(String::from).boxed()
}

fn values_for(field: Field) -> BoxedStrategy<Vec<Value>> {
    let one = match field {
        Field::App => word_from(GroupApp::all_slugs()),
        Field::Action => word_from(ACTION_TYPES.to_vec()),
        Field::Kind => word_from(ObjectKind::ALL.map(ObjectKind::slug).to_vec()),
        Field::Country => word_from(vec!["US", "FR", "DE"]),
        Field::Group | Field::TargetGroup | Field::PersonGroup => {
            word_from(vec!["Finance", "Sales", "Finance EMEA", "finance"])
        }
        Field::Ou | Field::TargetOu | Field::PersonOu => {
            word_from(vec!["/Sales/EMEA", "/sales", "OU=Finance"])
        }
        Field::Instance => word_from(vec!["Contoso", "Fabrikam", "contoso"]),
        _ => text(),
    };
    prop::collection::vec(one, 1..4)
        .prop_map(|texts| texts.into_iter().map(Value::new).collect())
        .boxed()
}

fn match_kind() -> BoxedStrategy<TermKind> {
    let value_fields: Vec<(Field, &'static [Op])> = fields()
        .iter()
        .filter_map(|f| match f.syntax {
            Syntax::Values { field, ops } => Some((field, ops)),
            _ => None,
        })
        .collect();
    select(value_fields)
        .prop_flat_map(|(field, ops)| {
            (select(ops.to_vec()), values_for(field))
                .prop_map(move |(op, values)| TermKind::Match { field, op, values })
        })
        .boxed()
}

fn time_point() -> BoxedStrategy<TimePoint> {
    let units = vec![
        TimeUnit::Minutes,
        TimeUnit::Hours,
        TimeUnit::Days,
        TimeUnit::Weeks,
    ];
    prop_oneof![
        (0i64..12).prop_map(|d| TimePoint::Day(nov(1) + chrono::Days::new(d as u64))),
        (0u32..100, select(units)).prop_map(|(amount, unit)| TimePoint::Ago { amount, unit }),
    ]
    .boxed()
}

fn time_term() -> BoxedStrategy<TimeTerm> {
    prop_oneof![
        time_point().prop_map(TimeTerm::After),
        time_point().prop_map(TimeTerm::Before),
        (time_point(), time_point()).prop_map(|(a, b)| TimeTerm::Between(a, b)),
    ]
    .boxed()
}

fn term() -> BoxedStrategy<Term> {
    let flags = vec![
        Flag::Admin,
        Flag::Impersonated,
        Flag::Failed,
        Flag::Succeeded,
    ];
    let kind = prop_oneof![
        1 => text().prop_map(|t| TermKind::Text(Value::new(t))),
        1 => select(flags).prop_map(TermKind::Flag),
        2 => time_term().prop_map(TermKind::Time),
        5 => match_kind(),
    ];
    (any::<bool>(), kind)
        .prop_map(|(negated, kind)| Term {
            negated,
            kind,
            column: 0,
        })
        .boxed()
}

/// Filters of zero to four terms from the whole grammar.
pub fn filter() -> BoxedStrategy<Filter> {
    prop::collection::vec(term(), 0..5)
        .prop_map(|terms| Filter { terms })
        .boxed()
}

/// Filters of exactly one term.
pub fn single_term_filter() -> BoxedStrategy<Filter> {
    term().prop_map(|t| Filter { terms: vec![t] }).boxed()
}

fn nov(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("valid November day")
}

fn maybe(options: Vec<&'static str>) -> BoxedStrategy<Option<String>> {
    prop::option::of(word_from(options)).boxed()
}

/// Activities from small pools, timed within a fortnight of `now`.
pub fn activity(now: Micros) -> BoxedStrategy<Activity> {
    let day: Micros = 86_400_000_000;
    let who = (
        select(vec![
            ("alice@contoso.com", "Alice Martin"),
            ("bob@fabrikam.com", "Bob"),
            ("carol@contoso.com", "Carol"),
        ]),
        select(vec![
            ("FileDownloaded", "download"),
            ("Sign in", "sign-in"),
            ("SharingSet", "share"),
        ]),
        select(vec![AppKind::Microsoft365, AppKind::Okta, AppKind::Box]),
        1u64..=2,
        prop::sample::subsequence(vec![1u64, 2, 3, 4], 0..=4),
        (now - 14 * day)..(now + day),
    );
    // Any app may carry an Office app here, so that the property tests also
    // see records no connector makes.
    let flags = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(select(OfficeApp::ALL.to_vec())),
    );
    let context = (
        maybe(vec!["US", "FR", "DE"]),
        maybe(vec!["10.1.2.3", "10.2.0.1"]),
        maybe(vec!["Orange", "Comcast"]),
        maybe(vec!["Desktop", "Mobile"]),
        maybe(vec!["Mozilla/5.0 Chrome/120", "curl/8.0"]),
        select(vec!["Office 365", "Azure AD sign-ins"]),
        prop::collection::vec(
            (
                select(ObjectKind::ALL.to_vec()),
                select(vec!["budget.xlsx", "Alice", "alice@contoso.com", "x..y"]),
            ),
            0..3,
        ),
    );
    (who, flags, context)
        .prop_map(
            |(
                ((actor, name), (activity_type, action_type), app, instance, groups, time),
                (admin, impersonated, succeeded, office_app),
                (country, ip, isp, device_type, user_agent, source, objects),
            )| Activity {
                id: "A1".into(),
                app,
                instance: InstanceId(instance),
                time,
                actor: actor.into(),
                actor_name: name.into(),
                activity_type: activity_type.into(),
                action_type: action_type.into(),
                objects: objects
                    .into_iter()
                    .enumerate()
                    .map(|(i, (kind, name))| ActivityObject {
                        kind,
                        id: format!("o{i}"),
                        name: name.into(),
                    })
                    .collect(),
                admin,
                impersonated,
                succeeded,
                ip,
                address_text: None,
                country,
                isp,
                device_type,
                user_agent,
                source: source.into(),
                groups: groups.into_iter().map(GroupId).collect(),
                office_app,
            },
        )
        .boxed()
}
