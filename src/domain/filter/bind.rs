//! `Filter` → `Query`: resolves group and instance names, fixes relative
//! dates against `now`, and collects the hints of positive terms.

use super::fields::{Field, Op};
use super::parse::{action_value, app_value, country_value, kind_value};
use super::query::{Cond, Hints, Query, Side, Test, apps_hint};
use super::suggest::{closest, did_you_mean};
use super::{Filter, FilterError, Term, TermKind, Value};
use crate::domain::{GroupId, InstanceId, Micros, UserKey};

/// The names a filter may use, as the store knows them right now.
pub trait Names {
    fn group(&self, name: &str) -> Option<GroupId>;
    fn instance(&self, name: &str) -> Option<InstanceId>;
    fn group_names(&self) -> Vec<String>;
    fn instance_names(&self) -> Vec<String>;
    /// The group's members now, by key and by every sign-in name activities may use.
    fn group_members(&self, group: GroupId) -> Vec<UserKey>;
    /// Each account that is in an organisational unit: (the unit as the vendor writes
    /// it, the account's key or a sign-in name of it).
    fn org_unit_accounts(&self) -> &[(String, UserKey)];
}

/// Above this many people a hint costs `Hints::hold` more than the store's actor index
/// saves (it reads at most 64 lists).
const ACTOR_HINT_LIMIT: usize = 64;

impl Filter {
    /// Resolves names and relative dates. Unknown names are errors at their
    /// column, with the closest known names.
    pub fn bind(&self, names: &dyn Names, now: Micros) -> Result<Query, FilterError> {
        let mut hints = Hints::default();
        let mut conds = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            let test = bind_term(term, names, now)?;
            if !term.negated {
                add_hints(&mut hints, &test);
            }
            conds.push(Cond {
                negated: term.negated,
                test,
            });
        }
        Ok(Query::new(hints, conds))
    }
}

fn bind_term(term: &Term, names: &dyn Names, now: Micros) -> Result<Test, FilterError> {
    // Hand-built filters carry no columns; point at the term then.
    let at = |v: &Value| Value {
        text: v.text.clone(),
        column: if v.column == 0 { term.column } else { v.column },
    };
    Ok(match &term.kind {
        TermKind::Text(v) => Test::Text(v.text.to_lowercase()),
        TermKind::Flag(flag) => Test::Flag(*flag),
        TermKind::Time(time) => {
            let (from, to) = time.bounds(now);
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                return Err(FilterError::new(
                    term.column,
                    format!("`{time}` ends before it starts; write the earlier date first"),
                ));
            }
            Test::Time { from, to }
        }
        TermKind::Match { field, op, values } => {
            let values = values.iter().map(at);
            match field {
                Field::App => Test::Apps(values.map(|v| app_value(&v)).collect::<Result<_, _>>()?),
                Field::Kind => {
                    Test::Kinds(values.map(|v| kind_value(&v)).collect::<Result<_, _>>()?)
                }
                Field::Country => Test::Countries(
                    values
                        .map(|v| country_value(&v))
                        .collect::<Result<_, _>>()?,
                ),
                Field::Group => Test::Groups(groups(values, names)?),
                Field::TargetGroup | Field::PersonGroup => {
                    let ids = groups(values, names)?;
                    let keys = sorted(ids.iter().flat_map(|id| names.group_members(*id)));
                    let target = Test::Accounts {
                        side: Side::Target,
                        keys,
                    };
                    if *field == Field::TargetGroup {
                        target
                    } else {
                        // R-G6 for the actor: the groups they were in when it happened.
                        Test::Either(Box::new(Test::Groups(ids)), Box::new(target))
                    }
                }
                Field::Ou | Field::TargetOu | Field::PersonOu => {
                    let side = match field {
                        Field::Ou => Side::Actor,
                        Field::TargetOu => Side::Target,
                        _ => Side::Either,
                    };
                    let mut keys = Vec::new();
                    for v in values {
                        keys.extend(org_unit(&v, *op, names)?);
                    }
                    Test::Accounts {
                        side,
                        keys: sorted(keys.into_iter()),
                    }
                }
                Field::Instance => Test::Instances(
                    values
                        .map(|v| {
                            resolve(
                                &v,
                                "instance",
                                |n| names.instance(n),
                                || names.instance_names(),
                            )
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Field::Action => Test::Strings {
                    field: *field,
                    op: *op,
                    values: values
                        .map(|v| action_value(&v).map(str::to_string))
                        .collect::<Result<_, _>>()?,
                },
                _ => Test::Strings {
                    field: *field,
                    op: *op,
                    values: values.map(|v| v.text.to_lowercase()).collect(),
                },
            }
        }
    })
}

fn groups(
    values: impl Iterator<Item = Value>,
    names: &dyn Names,
) -> Result<Vec<GroupId>, FilterError> {
    values
        .map(|v| resolve(&v, "group", |n| names.group(n), || names.group_names()))
        .collect()
}

fn sorted(keys: impl Iterator<Item = UserKey>) -> Vec<UserKey> {
    let mut keys: Vec<UserKey> = keys.collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The accounts in the organisational units that compare true with `value`; no unit
/// that does is an error at the value, with the units there are.
fn org_unit(value: &Value, op: Op, names: &dyn Names) -> Result<Vec<UserKey>, FilterError> {
    let wanted = value.text.to_lowercase();
    let accounts = names.org_unit_accounts();
    let found: Vec<UserKey> = accounts
        .iter()
        .filter(|(unit, _)| op.compares(unit, &wanted))
        .map(|(_, key)| key.clone())
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let mut units: Vec<&str> = accounts.iter().map(|(u, _)| u.as_str()).collect();
    units.sort_unstable();
    units.dedup();
    let close = closest(&value.text, units.iter().copied());
    let hint = if units.is_empty() {
        "; no synced account has one (Google Workspace users and Entra users synced from \
         on-premises AD do)"
            .to_string()
    } else if close.is_empty() {
        let mut listed: Vec<&str> = units.iter().take(5).copied().collect();
        if units.len() > listed.len() {
            listed.push("...");
        }
        format!("; units are {}", listed.join(", "))
    } else {
        did_you_mean(&close)
    };
    Err(FilterError::new(
        value.column,
        format!(
            "no account's organisational unit matches `{}`{hint}",
            value.text
        ),
    ))
}

/// Finds a name exactly, then ignoring case if that is unambiguous.
fn resolve<T>(
    value: &Value,
    what: &str,
    exact: impl Fn(&str) -> Option<T>,
    all: impl Fn() -> Vec<String>,
) -> Result<T, FilterError> {
    if let Some(id) = exact(&value.text) {
        return Ok(id);
    }
    let known = all();
    let wanted = value.text.to_lowercase();
    let same: Vec<&String> = known
        .iter()
        .filter(|n| n.to_lowercase() == wanted)
        .collect();
    if let [one] = same.as_slice()
        && let Some(id) = exact(one)
    {
        return Ok(id);
    }
    let close = closest(&value.text, known.iter().map(String::as_str));
    let hint = if known.is_empty() {
        format!(": there are no {what}s yet")
    } else if close.is_empty() {
        let mut listed: Vec<&str> = known.iter().take(5).map(String::as_str).collect();
        if known.len() > listed.len() {
            listed.push("...");
        }
        format!("; {what}s are {}", listed.join(", "))
    } else {
        did_you_mean(&close)
    };
    Err(FilterError::new(
        value.column,
        format!("unknown {what} `{}`{hint}", value.text),
    ))
}

/// Facts a positive term guarantees. Repeated fields narrow each other.
fn add_hints(hints: &mut Hints, test: &Test) {
    match test {
        Test::Groups(ids) => narrow(&mut hints.groups, ids),
        Test::Accounts {
            side: Side::Actor,
            keys,
        } if keys.len() <= ACTOR_HINT_LIMIT => narrow(&mut hints.actors, keys),
        Test::Instances(ids) => narrow(&mut hints.instances, ids),
        Test::Apps(apps) => narrow(&mut hints.apps, &apps_hint(apps)),
        Test::Countries(codes) => narrow(&mut hints.countries, codes),
        // Only e-mail values are compared with the actor key alone (see
        // `user_compares`); names and @domains give no hint.
        Test::Strings {
            field: Field::User,
            op: Op::Eq,
            values,
        } if values.iter().all(|v| is_user_key(v)) => narrow(&mut hints.actors, values),
        Test::Time { from, to } => {
            if let Some(from) = from {
                hints.after = Some(hints.after.map_or(*from, |a| a.max(*from)));
            }
            if let Some(to) = to {
                hints.before = Some(hints.before.map_or(*to, |b| b.min(*to)));
            }
        }
        _ => {}
    }
}

/// A `user:` value that names an account (has an `@`, but not a bare `@domain`).
pub(super) fn is_user_key(value: &str) -> bool {
    value.contains('@') && !value.starts_with('@')
}

fn narrow<T: PartialEq + Clone>(slot: &mut Option<Vec<T>>, values: &[T]) {
    let mut unique: Vec<T> = Vec::with_capacity(values.len());
    for v in values {
        if !unique.contains(v) {
            unique.push(v.clone());
        }
    }
    *slot = Some(match slot.take() {
        None => unique,
        Some(old) => old.into_iter().filter(|v| unique.contains(v)).collect(),
    });
}

/// Names of no group and no instance: binds filters that name none (tests, benchmarks).
pub struct NoNames;

impl Names for NoNames {
    fn group(&self, _: &str) -> Option<GroupId> {
        None
    }
    fn instance(&self, _: &str) -> Option<InstanceId> {
        None
    }
    fn group_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn instance_names(&self) -> Vec<String> {
        Vec::new()
    }
    fn group_members(&self, _: GroupId) -> Vec<UserKey> {
        Vec::new()
    }
    fn org_unit_accounts(&self) -> &[(String, UserKey)] {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::super::arbitrary::TestNames;
    use super::super::parse;
    use super::*;

    fn bind_err(text: &str, names: &dyn Names) -> FilterError {
        parse(text).expect(text).bind(names, 0).expect_err(text)
    }

    // R-G9: groups are found by name, ignoring case when unambiguous.
    #[test]
    fn groups_resolve_by_name() {
        let q = parse("group:(\"finance emea\",Sales)")
            .expect("parses")
            .bind(&TestNames, 0)
            .expect("binds");
        assert_eq!(q.hints().groups, Some(vec![GroupId(3), GroupId(2)]));
    }

    // R-G9, R-A2: an unknown group is an error at its column, with the closest names.
    #[test]
    fn unknown_group_suggests_closest() {
        let e = bind_err("app:box group:(Sales,Finanse)", &TestNames);
        assert_eq!(e.column, 22);
        assert!(
            e.message
                .starts_with("unknown group `Finanse` — did you mean `Finance`"),
            "{}",
            e.message
        );
        let e = bind_err("instance:Nowhere", &TestNames);
        assert_eq!(e.column, 10);
        assert!(
            e.message
                .starts_with("unknown instance `Nowhere`; instances are Contoso, Fabrikam"),
            "{}",
            e.message
        );
        let e = bind_err("group:Finance", &NoNames);
        assert_eq!(
            e.message,
            "unknown group `Finance`: there are no groups yet"
        );
    }

    // R-A2: a backwards range is refused at the term.
    #[test]
    fn backwards_range_is_refused() {
        let e = bind_err("admin date:2026-11-08..2026-11-01", &NoNames);
        assert_eq!(e.column, 7);
        assert!(
            e.message.contains("write the earlier date first"),
            "{}",
            e.message
        );
    }

    // R-A2: a group as the target's is a known group; an organisational unit that no
    // account is in is an error at its column, naming the units there are, or saying
    // that no account has one.
    #[test]
    fn unknown_target_groups_and_org_units_are_errors_at_their_column() {
        let e = bind_err("admin targetgroup:Finanse", &TestNames);
        assert_eq!(e.column, 19);
        assert!(
            e.message
                .starts_with("unknown group `Finanse` — did you mean `Finance`"),
            "{}",
            e.message
        );
        let e = bind_err("personou:/Nowhere", &TestNames);
        assert_eq!(e.column, 10);
        assert_eq!(
            e.message,
            "no account's organisational unit matches `/Nowhere`; units are /Sales/EMEA, OU=Finance,DC=fabrikam,DC=com"
        );
        let e = bind_err("ou:/Sales/EMEX", &TestNames);
        assert!(
            e.message.ends_with("did you mean `/Sales/EMEA`?"),
            "{}",
            e.message
        );
        let e = bind_err("ou^=/Sales", &NoNames);
        assert!(
            e.message.contains("no synced account has one"),
            "{}",
            e.message
        );
        assert_eq!(e.to_string().lines().count(), 1);
    }

    // R-A2: hand-built filters are checked too, and errors point at the term.
    #[test]
    fn hand_built_filters_are_checked() {
        let f = Filter {
            terms: vec![Term {
                negated: false,
                kind: TermKind::Match {
                    field: Field::App,
                    op: Op::Eq,
                    values: vec![Value::new("nope")],
                },
                column: 4,
            }],
        };
        let e = f.bind(&NoNames, 0).expect_err("unknown app");
        assert_eq!(e.column, 4);
        assert!(e.message.starts_with("unknown app `nope`"), "{}", e.message);
    }
}
