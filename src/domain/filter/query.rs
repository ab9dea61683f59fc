//! A bound filter: what the store runs against each activity.

use std::borrow::Cow;

use super::bind::is_user_key;
use super::fields::{Field, Flag, Op};
use crate::domain::{
    Activity, AppKind, GroupApp, GroupId, InstanceId, Micros, ObjectKind, UserKey,
};

/// Facts that every activity matching a query satisfies. `Some(list)` means
/// "one of these"; only positive, non-negated terms produce hints.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hints {
    pub groups: Option<Vec<GroupId>>,
    pub instances: Option<Vec<InstanceId>>,
    /// Catalog apps only: an Office app term (R-G10) hints Microsoft 365.
    pub apps: Option<Vec<AppKind>>,
    pub countries: Option<Vec<String>>,
    pub actors: Option<Vec<UserKey>>,
    /// Inclusive lower bound on `Activity::time`.
    pub after: Option<Micros>,
    /// Exclusive upper bound on `Activity::time`.
    pub before: Option<Micros>,
}

impl Hints {
    fn hold(&self, a: &Activity) -> bool {
        fn one_of<T: PartialEq>(list: &Option<Vec<T>>, v: &T) -> bool {
            list.as_ref().is_none_or(|l| l.contains(v))
        }
        one_of(&self.instances, &a.instance)
            && one_of(&self.apps, &a.app)
            && one_of(&self.actors, &a.actor)
            && self
                .countries
                .as_ref()
                .is_none_or(|l| a.country.as_ref().is_some_and(|c| l.contains(c)))
            && self
                .groups
                .as_ref()
                .is_none_or(|l| a.groups.iter().any(|g| l.contains(g)))
            && self.after.is_none_or(|t| a.time >= t)
            && self.before.is_none_or(|t| a.time < t)
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Query {
    hints: Hints,
    conds: Vec<Cond>,
}

/// One bound term: holds when `test` holds, or when it does not if negated.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub(super) struct Cond {
    pub negated: bool,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub(super) enum Test {
    /// Lower-case; contained in actor, actor name, activity type or an object name.
    Text(String),
    Flag(Flag),
    /// Lower-case values; any of them compares true with the field.
    Strings {
        field: Field,
        op: Op,
        values: Vec<String>,
    },
    /// R-G10: an Office app selects the Microsoft 365 records of its workload.
    Apps(Vec<GroupApp>),
    Instances(Vec<InstanceId>),
    Groups(Vec<GroupId>),
    /// R-A2: people by where they are in the directory now (a group's members, an
    /// organisational unit's accounts): sorted, lower-case keys and sign-in names.
    Accounts {
        side: Side,
        keys: Vec<String>,
    },
    /// Either test holds (`persongroup:`: the actor's tag, or the target's membership).
    Either(Box<Test>, Box<Test>),
    /// Upper-case ISO codes.
    Countries(Vec<String>),
    Kinds(Vec<ObjectKind>),
    Time {
        from: Option<Micros>,
        to: Option<Micros>,
    },
}

/// Whom a test of people looks at: who acted, the users acted on, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub(super) enum Side {
    Actor,
    Target,
    Either,
}

impl Query {
    /// Matches every activity.
    pub fn all() -> Query {
        Query::default()
    }

    /// A query made only of the given facts.
    pub fn with_hints(hints: Hints) -> Query {
        Query {
            hints,
            conds: Vec::new(),
        }
    }

    pub(super) fn new(hints: Hints, conds: Vec<Cond>) -> Query {
        Query { hints, conds }
    }

    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    pub fn matches(&self, a: &Activity) -> bool {
        self.hints.hold(a) && self.conds_hold(a)
    }

    /// Whether the hints alone decide a match: every term is a positive one that its hint
    /// holds exactly (an app, not an Office app; an account, not a name), one per field,
    /// so that an index reading those hints needs no record to count.
    pub fn decided_by_hints(&self) -> bool {
        let mut fields = [false; 5];
        let mut once = |field: usize| !std::mem::replace(&mut fields[field], true);
        self.conds.iter().all(|c| {
            !c.negated
                && match &c.test {
                    Test::Time { .. } => true,
                    Test::Groups(_) => once(0),
                    Test::Instances(_) => once(1),
                    Test::Apps(apps) => {
                        apps.iter().all(|a| matches!(a, GroupApp::App(_))) && once(2)
                    }
                    Test::Countries(_) => once(3),
                    Test::Strings {
                        field: Field::User,
                        op: Op::Eq,
                        values,
                    } => values.iter().all(|v| is_user_key(v)) && once(4),
                    _ => false,
                }
        })
    }

    /// Whether a match is decided by what a record's kind holds (app, instance, Office app,
    /// type, action, source, flags) and its time within the hinted window, so that testing
    /// one record of each kind tells for them all (issue 13: the timeline of a type).
    /// Negations are fine, except of a time, which the window does not carry.
    pub fn decided_by_kind(&self) -> bool {
        let h = &self.hints;
        h.groups.is_none()
            && h.countries.is_none()
            && h.actors.is_none()
            && self.conds.iter().all(|c| match &c.test {
                Test::Time { .. } => !c.negated,
                test => test.decided_by_kind(),
            })
    }

    /// The terms of this query that a record's kind decides, times aside, as a query of
    /// their own: a record it refuses, this query refuses too, so that a policy tests
    /// the rest of its filter only on records of kinds that pass (issue 12). `None`
    /// when no term is one.
    pub fn kind_part(&self) -> Option<Query> {
        let conds: Vec<Cond> = (self.conds.iter())
            .filter(|c| c.test.decided_by_kind())
            .cloned()
            .collect();
        let hints = Hints {
            instances: self.hints.instances.clone(),
            apps: self.hints.apps.clone(),
            ..Hints::default()
        };
        let any = !conds.is_empty() || hints.instances.is_some() || hints.apps.is_some();
        any.then_some(Query { hints, conds })
    }

    fn conds_hold(&self, a: &Activity) -> bool {
        self.conds.iter().all(|c| c.test.holds(a) != c.negated)
    }
}

impl Test {
    /// Whether what a record's kind holds decides this test (see
    /// `Query::decided_by_kind`), times aside.
    fn decided_by_kind(&self) -> bool {
        match self {
            Test::Flag(_) | Test::Apps(_) | Test::Instances(_) => true,
            Test::Strings { field, .. } => {
                matches!(field, Field::Type | Field::Action | Field::Source)
            }
            _ => false,
        }
    }

    fn holds(&self, a: &Activity) -> bool {
        match self {
            Test::Text(needle) => {
                contains(&a.actor, needle)
                    || contains(&a.actor_name, needle)
                    || contains(&a.activity_type, needle)
                    || contains(&a.label(), needle)
                    || a.objects.iter().any(|o| contains(&o.name, needle))
            }
            Test::Flag(Flag::Admin) => a.admin,
            Test::Flag(Flag::Impersonated) => a.impersonated,
            Test::Flag(Flag::Failed) => !a.succeeded,
            Test::Flag(Flag::Succeeded) => a.succeeded,
            Test::Strings { field, op, values } => {
                values.iter().any(|v| field_compares(*field, *op, v, a))
            }
            Test::Apps(apps) => apps.iter().any(|app| app_holds(*app, a)),
            Test::Instances(ids) => ids.contains(&a.instance),
            Test::Groups(ids) => a.groups.iter().any(|g| ids.contains(g)),
            Test::Accounts { side, keys } => {
                let known = |key: &str| keys.binary_search_by(|k| k.as_str().cmp(key)).is_ok();
                let actor = || known(&a.actor);
                let target = || {
                    a.objects
                        .iter()
                        .filter(|o| o.kind == ObjectKind::User)
                        .any(|o| known(&fold(&o.id)))
                };
                match side {
                    Side::Actor => actor(),
                    Side::Target => target(),
                    Side::Either => actor() || target(),
                }
            }
            Test::Either(one, other) => one.holds(a) || other.holds(a),
            Test::Countries(codes) => a.country.as_ref().is_some_and(|c| codes.contains(c)),
            Test::Kinds(kinds) => a.objects.iter().any(|o| kinds.contains(&o.kind)),
            Test::Time { from, to } => {
                from.is_none_or(|t| a.time >= t) && to.is_none_or(|t| a.time < t)
            }
        }
    }
}

/// Whether the activity is of `app`. Office apps are workloads of Microsoft
/// 365, so their records are Microsoft 365 records as well: `apps_hint` relies
/// on it.
fn app_holds(app: GroupApp, a: &Activity) -> bool {
    match app {
        GroupApp::App(kind) => a.app == kind,
        GroupApp::Office(office) => a.app == AppKind::Microsoft365 && a.office_app == Some(office),
    }
}

/// The catalog apps whose records `apps` may select, for `Hints::apps`: an
/// Office app narrows the store to Microsoft 365 instances.
pub(super) fn apps_hint(apps: &[GroupApp]) -> Vec<AppKind> {
    apps.iter()
        .map(|app| match app {
            GroupApp::App(kind) => *kind,
            GroupApp::Office(_) => AppKind::Microsoft365,
        })
        .collect()
}

/// Whether the activity's `field` compares true with `value` (lower-case).
fn field_compares(field: Field, op: Op, value: &str, a: &Activity) -> bool {
    let cmp = |hay: &str| compare(op, hay, value);
    let opt = |hay: &Option<String>| hay.as_deref().is_some_and(cmp);
    match field {
        // What the vendor calls it, or what casbah shows (`Activity::label`).
        Field::Type => cmp(&a.activity_type) || cmp(&a.action_type) || cmp(&a.label()),
        Field::Action => cmp(&a.action_type),
        Field::User => user_compares(op, value, a),
        Field::Target => target_compares(op, value, a),
        Field::Person => user_compares(op, value, a) || target_compares(op, value, a),
        Field::Domain => domain_of(&a.actor).is_some_and(cmp),
        Field::Ip => opt(&a.ip),
        Field::Isp => opt(&a.isp),
        Field::Device => opt(&a.device_type),
        Field::Id => cmp(&a.id),
        Field::Object => a.objects.iter().any(|o| cmp(&o.name) || cmp(&o.id)),
        Field::Agent => opt(&a.user_agent),
        Field::Source => cmp(&a.source),
        // Bound to their own tests; never reach here.
        Field::App
        | Field::Instance
        | Field::Group
        | Field::TargetGroup
        | Field::PersonGroup
        | Field::Ou
        | Field::TargetOu
        | Field::PersonOu
        | Field::Country
        | Field::Kind => false,
    }
}

/// `user:` — the actor. Comparing e-mails exactly with the key is what
/// makes the `actors` hint sound.
fn user_compares(op: Op, value: &str, a: &Activity) -> bool {
    account_compares(op, value, &a.actor, &a.actor_name)
}

/// `target:` — a user object of the activity, by id (e-mail or UPN) or name.
fn target_compares(op: Op, value: &str, a: &Activity) -> bool {
    a.objects
        .iter()
        .filter(|o| o.kind == ObjectKind::User)
        .any(|o| account_compares(op, value, &o.id.to_lowercase(), &o.name))
}

/// An account given as a key (lower-case e-mail or UPN) and a name: with `:`,
/// `@domain` matches the key's domain, an e-mail the key only, anything else
/// the key or the name; `^=` and `~=` look at both.
fn account_compares(op: Op, value: &str, key: &str, name: &str) -> bool {
    if op == Op::Eq {
        if let Some(domain) = value.strip_prefix('@') {
            return domain_of(key).is_some_and(|d| compare(op, d, domain));
        }
        if is_user_key(value) {
            return key == value;
        }
    }
    compare(op, key, value) || compare(op, name, value)
}

fn domain_of(actor: &str) -> Option<&str> {
    actor.rsplit_once('@').map(|(_, d)| d)
}

impl Op {
    /// Whether `hay` compares true with `needle` (lower case), ignoring case.
    pub fn compares(self, hay: &str, needle: &str) -> bool {
        compare(self, hay, needle)
    }
}

fn compare(op: Op, hay: &str, needle: &str) -> bool {
    let hay = fold(hay);
    match op {
        Op::Eq => hay == needle,
        Op::Prefix => hay.starts_with(needle),
        Op::Contains => hay.contains(needle),
    }
}

fn contains(hay: &str, needle: &str) -> bool {
    compare(Op::Contains, hay, needle)
}

/// Lower-case without allocating for the common all-lower-case ASCII text.
fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::super::arbitrary::{TestNames, activity, filter, single_term_filter};
    use super::super::{Filter, parse};
    use super::*;
    use crate::domain::OfficeApp;
    use proptest::prelude::*;

    const NOW: Micros = 1_793_664_000_000_000; // 2026-11-03T00:00:00Z

    fn query(text: &str) -> Query {
        parse(text)
            .expect(text)
            .bind(&TestNames, NOW)
            .expect("binds")
    }

    fn sample() -> Activity {
        Activity {
            id: "A1".into(),
            app: AppKind::Microsoft365,
            instance: InstanceId(1),
            time: NOW - 3_600_000_000,
            actor: "alice@contoso.com".into(),
            actor_name: "Alice Martin".into(),
            activity_type: "FileDownloaded".into(),
            action_type: "download".into(),
            objects: vec![
                crate::domain::ActivityObject {
                    kind: ObjectKind::File,
                    id: "f-1".into(),
                    name: "Budget 2027.xlsx".into(),
                },
                crate::domain::ActivityObject {
                    kind: ObjectKind::User,
                    id: "Bob@Fabrikam.com".into(),
                    name: "Bob Stone".into(),
                },
            ],
            admin: false,
            impersonated: false,
            succeeded: true,
            ip: Some("10.1.2.3".into()),
            address_text: None,
            country: Some("FR".into()),
            isp: Some("Orange".into()),
            device_type: Some("Desktop".into()),
            user_agent: Some("Mozilla/5.0 Chrome/120".into()),
            source: "Office 365".into(),
            groups: vec![GroupId(1)],
            office_app: Some(OfficeApp::SharePoint),
        }
    }

    // R-A2: each field matches what it names, case-insensitively.
    #[test]
    fn fields_match_the_record() {
        let a = sample();
        for text in [
            "type:download",
            "type:filedownloaded",
            "type:\"file downloaded\"",
            "type~=download",
            "action:download",
            "app:microsoft365",
            "instance:Contoso",
            "user:alice@contoso.com",
            "user:@contoso.com",
            "user:\"alice martin\"",
            "user^=ali",
            "domain:contoso.com",
            "target:bob@fabrikam.com",
            "target:@fabrikam.com",
            "target~=bob",
            "person:bob@fabrikam.com",
            "person:alice@contoso.com",
            "group:finance",
            "ip:10.1.2.3",
            "ip:^10.1.",
            "country:fr",
            "isp:orange",
            "device:desktop",
            "id:a1",
            "object~=budget",
            "object:f-1",
            "kind:file",
            "agent~=chrome",
            "source:\"office 365\"",
            "after:2026-11-02",
            "before:2026-11-04",
            "date:2026-11-02",
            "after:2h",
            "succeeded",
            "-failed",
            "-admin",
            "-impersonated",
            "budget",
            "MARTIN",
            "country!=US",
            "type:(share,download)",
        ] {
            assert!(query(text).matches(&a), "{text} should match");
        }
        for text in [
            "type:share",
            "app:okta",
            "instance:Fabrikam",
            "user:alice",
            "user:@fabrikam.com",
            "user:alice@contoso",
            "user:bob@fabrikam.com",
            "target:alice@contoso.com",
            "target:budget",
            "person:carol@contoso.com",
            "group:Sales",
            "ip:^10.2.",
            "country:(US,DE)",
            "kind:folder",
            "before:2026-11-02",
            "after:30m",
            "failed",
            "admin",
            "-budget",
            "agent:chrome",
        ] {
            assert!(!query(text).matches(&a), "{text} should not match");
        }
    }

    // R-A2: a group as the actor's (tagged when it happened, R-G6), as the target's (its
    // members now, by e-mail or sign-in name) or either's; an organisational unit as
    // the actor's, the target's or either's, with every text operator.
    #[test]
    fn groups_and_org_units_as_actor_target_or_either() {
        let a = sample();
        let mut login = sample();
        login.objects[1].id = "BOB-LOGIN".into();
        let mut untagged = sample();
        untagged.groups.clear();
        let cases: [(&str, [bool; 3]); 14] = [
            // (filter, holds for: a, the target by sign-in name, the untagged actor)
            ("group:finance", [true, true, false]),
            ("targetgroup:finance", [true, true, true]),
            ("targetgroup:sales", [false, false, false]),
            ("persongroup:finance", [true, true, true]),
            ("persongroup:sales", [false, false, false]),
            ("-targetgroup:finance", [false, false, false]),
            ("ou:/sales/emea", [true, true, true]),
            ("ou^=/sales", [true, true, true]),
            ("ou~=finance", [false, false, false]),
            ("targetou~=ou=finance", [true, false, true]),
            ("targetou:/sales/emea", [false, false, false]),
            ("personou~=finance", [true, false, true]),
            ("personou:/Sales/EMEA", [true, true, true]),
            ("-personou:/Sales/EMEA", [false, false, false]),
        ];
        for (text, holds) in cases {
            let q = query(text);
            let got = [q.matches(&a), q.matches(&login), q.matches(&untagged)];
            assert_eq!(got, holds, "{text}");
        }
        // The actor's unit narrows the store's walk to its people.
        assert_eq!(
            query("ou:/sales/emea").hints().actors,
            Some(vec!["alice@contoso.com".to_string()])
        );
        assert_eq!(query("targetou~=finance").hints().actors, None);
    }

    // R-G10: an Office app selects the Microsoft 365 records of its workload,
    // by slug or full name; microsoft365 still selects them all; `-` excludes.
    #[test]
    fn office_apps_select_their_records() {
        let sharepoint = sample();
        for text in [
            "app:sharepoint",
            "app:SharePoint",
            "app:\"SharePoint Online\"",
            "app:microsoft365",
            "app:microsoft365 app:sharepoint",
            "app:(teams,sharepoint)",
            "app:(okta,sharepoint)",
            "-app:teams",
            "-app:onedrive",
            "app!=exchange",
        ] {
            assert!(query(text).matches(&sharepoint), "{text} should match");
        }
        for text in [
            "app:onedrive",
            "app:teams",
            "app:\"Microsoft Teams\"",
            "-app:sharepoint",
            "-app:microsoft365",
            "app:(exchange,okta)",
        ] {
            assert!(!query(text).matches(&sharepoint), "{text} should not match");
        }

        // A sign-in comes from no Office app.
        let sign_in = Activity {
            office_app: None,
            source: "Azure AD sign-ins".into(),
            ..sample()
        };
        assert!(query("app:microsoft365").matches(&sign_in));
        assert!(query("-app:sharepoint").matches(&sign_in));
        for app in OfficeApp::ALL {
            assert!(!query(&format!("app:{}", app.slug())).matches(&sign_in));
        }

        // An Office app belongs to Microsoft 365 only.
        let okta = Activity {
            app: AppKind::Okta,
            ..sample()
        };
        assert!(!query("app:sharepoint").matches(&okta));
        assert!(query("app:okta -app:sharepoint").matches(&okta));
    }

    // R-G10: an Office app hints Microsoft 365, so that the store reads the
    // Microsoft 365 instances and the record test picks the workload.
    #[test]
    fn office_apps_hint_microsoft365() {
        let apps = |text: &str| query(text).hints().apps.clone();
        assert_eq!(apps("app:sharepoint"), Some(vec![AppKind::Microsoft365]));
        assert_eq!(
            apps("app:(sharepoint,teams,microsoft365)"),
            Some(vec![AppKind::Microsoft365])
        );
        assert_eq!(
            apps("app:(sharepoint,okta)"),
            Some(vec![AppKind::Microsoft365, AppKind::Okta])
        );
        assert_eq!(
            apps("app:onedrive app:microsoft365"),
            Some(vec![AppKind::Microsoft365])
        );
        assert_eq!(apps("app:sharepoint app:box"), Some(vec![]));
        assert_eq!(apps("-app:sharepoint"), None);
        assert_eq!(apps("app!=teams"), None);
    }

    // R-A2: a negated term matches records that lack the field.
    #[test]
    fn negation_of_missing_values() {
        let mut a = sample();
        a.country = None;
        assert!(query("-country:FR").matches(&a));
        assert!(!query("country:FR").matches(&a));
    }

    // R-A2: positive terms give hints; negated terms do not.
    #[test]
    fn hints_from_positive_terms() {
        let q = query(
            "group:(Finance,Sales) instance:Contoso app:okta country:fr user:Bob@X.com date:2026-11-01..2026-11-02 after:2026-11-02",
        );
        let h = q.hints();
        assert_eq!(h.groups, Some(vec![GroupId(1), GroupId(2)]));
        assert_eq!(h.instances, Some(vec![InstanceId(1)]));
        assert_eq!(h.apps, Some(vec![AppKind::Okta]));
        assert_eq!(h.countries, Some(vec!["FR".to_string()]));
        assert_eq!(h.actors, Some(vec!["bob@x.com".to_string()]));
        assert_eq!(h.after, Some(NOW - 86_400_000_000));
        assert_eq!(h.before, Some(NOW));
        let none = query("-group:Finance country!=US -app:okta user:bob user:@x.com -after:1d");
        assert_eq!(none.hints(), &Hints::default());
    }

    // R-A2: two positive terms on one field narrow each other.
    #[test]
    fn repeated_fields_intersect() {
        let q = query("app:(okta,box) app:(box,github)");
        assert_eq!(q.hints().apps, Some(vec![AppKind::Box]));
    }

    // Issue 12: the kind part of a filter holds its type, action, source, app and
    // flag terms, and nothing else.
    #[test]
    fn the_kind_part_keeps_the_terms_a_kind_decides() {
        let q = query("group:finance action:share -country:US admin");
        assert!(!q.decided_by_kind());
        assert_eq!(q.kind_part(), Some(query("action:share admin")));
        assert!(!q.kind_part().unwrap().matches(&sample()));
        assert_eq!(query("group:finance country:FR").kind_part(), None);
    }

    // The store's own hint-only queries keep working.
    #[test]
    fn with_hints_checks_the_hints() {
        let a = sample();
        let q = Query::with_hints(Hints {
            countries: Some(vec!["FR".into()]),
            after: Some(a.time),
            ..Hints::default()
        });
        assert!(q.matches(&a));
        let q = Query::with_hints(Hints {
            before: Some(a.time),
            ..Hints::default()
        });
        assert!(!q.matches(&a));
        assert!(Query::all().matches(&a));
    }

    fn bound(f: &Filter) -> Option<Query> {
        f.bind(&TestNames, NOW).ok()
    }

    proptest! {
        // Few single terms both hold and give a hint; run more of them.
        #![proptest_config(ProptestConfig::with_cases(2048))]

        // R-A2: hints are sound: whatever a term accepts satisfies the hints it
        // gives, so the store never misses a record by using an index.
        #[test]
        fn term_hints_are_sound(f in single_term_filter(), a in activity(NOW)) {
            if let Some(q) = bound(&f) && q.conds_hold(&a) {
                prop_assert!(q.hints().hold(&a), "{} {:?}", f, q.hints());
            }
        }

        // Issue 12: what a record's kind decides of a query is a part of it, so a
        // record the part refuses the whole refuses too; a query its kind decides
        // whole has a part that decides as it does.
        #[test]
        fn the_kind_part_refuses_only_what_the_query_refuses(
            f in filter(),
            a in activity(NOW),
        ) {
            if let Some(q) = bound(&f) && let Some(part) = q.kind_part() {
                prop_assert!(part.decided_by_kind(), "{f}");
                if q.matches(&a) {
                    prop_assert!(part.matches(&a), "{f}");
                }
                if q.decided_by_kind() && q.hints().after.is_none() && q.hints().before.is_none() {
                    prop_assert_eq!(part.matches(&a), q.matches(&a), "{}", f);
                }
            }
        }

        // R-A2: a query never matches an activity that violates its hints.
        #[test]
        fn matches_respect_hints(f in filter(), a in activity(NOW)) {
            if let Some(q) = bound(&f) && q.matches(&a) {
                prop_assert!(q.hints().hold(&a));
                prop_assert!(q.conds_hold(&a));
            }
        }
    }
}
