//! What the property tests of the vendor record parsers and of the filter
//! language share (issue 10: a fuzz target for each, bounded so that it runs
//! with every `cargo test`): hostile text, vendor-shaped JSON, mutations of
//! real records, and the checks every parsed record must pass.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

use crate::domain::text::sanitize;
use crate::domain::{ACTION_TYPES, Activity, AppKind, InstanceId, RemoteGroup, RemoteUser};

/// `cases` per property, unless `PROPTEST_CASES` asks for another number (a
/// longer run by hand or in a nightly job); shrinking is bounded the same way.
pub fn config(cases: u32) -> Config {
    let default = Config::default();
    let set = |name: &str| std::env::var_os(name).is_some();
    Config {
        cases: if set("PROPTEST_CASES") {
            default.cases
        } else {
            cases
        },
        max_shrink_iters: if set("PROPTEST_MAX_SHRINK_ITERS") {
            default.max_shrink_iters
        } else {
            4096
        },
        ..default
    }
}

/// Pieces that have broken terminals, tables and parsers: C0 and C1
/// controls, escape sequences, bidi overrides and isolates, invisible and
/// zero-width characters, separators, non-ASCII letters that change length
/// when their case changes.
const HOSTILE: &[&str] = &[
    "\u{1b}[31m",
    "\u{1b}]0;owned\u{7}",
    "\u{1b}]8;;https://evil.example\u{1b}\\",
    "\u{1b}P+q\u{1b}\\",
    "\u{9b}2J",
    "\u{9d}0;x\u{9c}",
    "\r",
    "\n",
    "\t",
    "\0",
    "\u{7}",
    "\u{7f}",
    "\u{85}",
    "\u{202a}",
    "\u{202e}",
    "\u{2066}",
    "\u{2067}",
    "\u{2069}",
    "\u{200b}",
    "\u{200d}",
    "\u{200e}",
    "\u{200f}",
    "\u{61c}",
    "\u{feff}",
    "\u{ad}",
    "\u{2028}",
    "\u{2029}",
    "\u{e0041}",
    "\u{fffd}",
    "\u{10ffff}",
    "İ",
    "ẞ",
    "ǅ",
    "é",
    "財務",
    "👨\u{200d}👩\u{200d}👧",
    " ",
    "",
];

/// Words that mean something to some parser: times in each vendor's form
/// and just outside it, every form of address and near misses, countries,
/// statuses, types and event names.
const MEANINGFUL: &[&str] = &[
    "2024-03-01T08:00:00",
    "2024-03-01T08:00:00Z",
    "2024-03-01T08:00:00.1234567Z",
    "2024-03-01T08:00:00+14:00",
    "2024-02-30T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "+262143-12-31T23:59:59",
    "-0001-01-01T00:00:00",
    "1970-01-01T00:00:00Z",
    "10.1.2.3",
    "::ffff:10.1.2.3",
    "ffff:10.11.0.229",
    "FFFF:1.2.3.4",
    "10.1.2.3:5678",
    "[10.1.2.3]:5678",
    "[2001:db8::1]:443",
    "2001:db8::1",
    "[::1]",
    "::",
    "fe80::1%eth0",
    "1.2.3.4:99999",
    "256.1.1.1",
    "localhost",
    "[cool.client.local]:12345",
    "US",
    "us",
    "ZZ",
    "United States",
    "Côte d'Ivoire",
    "Succeeded",
    "success",
    "Failed",
    "failure",
    "PartiallySucceeded",
    "True",
    "FAILURE",
    "DENY",
    "1",
    "5",
    "15",
    "0",
    "-2147217390",
    "ACTIVE",
    "SUSPENDED",
    "LOCKED_OUT",
    "ARCHIVED",
    "USER",
    "GROUP",
    "CUSTOMER",
    "Guest",
    "Member",
    "Unified",
    "User",
    "Group",
    "folder",
    "file",
    "#microsoft.graph.user",
    "#microsoft.graph.device",
    "AzureActiveDirectory",
    "SharePoint",
    "Exchange",
    "CRM",
    "FileDownloaded",
    "UserLoggedIn",
    "UserLoginFailed",
    "PasswordLogonInitialAuthUsingPassword",
    "Add user.",
    "Add member to group",
    "user.session.start",
    "user.session.impersonation.initiate",
    "login_failure",
    "change_password",
    "repo.create",
    "org.add_member",
    "git.clone",
    "ann@contoso.com",
    "ANN@CONTOSO.COM",
    "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    "@",
    "a@",
];

/// Text from the pieces above, random characters and plain words, joined.
pub fn hostile_text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        3 => select(HOSTILE).prop_map(str::to_owned),
        3 => select(MEANINGFUL).prop_map(str::to_owned),
        2 => "[a-zA-Z0-9@._:/ -]{1,12}",
        2 => any::<char>().prop_map(String::from),
        // Long enough to overflow a column or a buffer sized for the usual.
        1 => (select(HOSTILE), 200usize..2000).prop_map(|(p, n)| p.repeat(n.min(4096 / p.len().max(1)))),
    ];
    prop::collection::vec(piece, 0..5)
        .prop_map(|pieces| pieces.concat())
        .boxed()
}

/// Numbers that mean something to some parser (types, codes, Planner's
/// outcomes), the edges of i64 and u64, milliseconds at chrono's last
/// representable instant and past it, and any others.
fn number() -> BoxedStrategy<Value> {
    let ints = [0, 1, 2, 3, 5, 9, 15, -1, i64::MIN, i64::MAX];
    let mut special: Vec<Value> = ints.map(Value::from).to_vec();
    special.extend([
        Value::from(u64::MAX),
        Value::from(8_210_266_876_799_999i64),
        Value::from(8_210_266_876_800_000i64),
        Value::from(1.0e308),
        Value::from(-0.0),
        Value::from(1.5),
    ]);
    prop_oneof![
        select(special),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
    ]
    .boxed()
}

/// A JSON value of any type; strings come from `hostile_text`.
fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        6 => hostile_text().prop_map(Value::String),
    ]
    .boxed()
}

/// An object key: mostly one the parser reads (sometimes in another case,
/// as Microsoft's feeds disagree on it), else any text.
fn key(keys: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(keys).prop_map(str::to_owned),
        1 => select(keys).prop_map(str::to_ascii_lowercase),
        1 => select(keys).prop_map(str::to_ascii_uppercase),
        1 => hostile_text(),
    ]
    .boxed()
}

fn object(entries: Vec<(String, Value)>) -> Value {
    Value::Object(entries.into_iter().collect::<Map<String, Value>>())
}

/// Any JSON value, objects keyed mostly by `keys`, a few levels deep.
fn json(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                3 => prop::collection::vec((key(keys), inner), 0..8).prop_map(object),
            ]
        })
        .boxed()
}

/// Every value that stands under each key, at any depth, in `records`.
fn values_by_key(records: &[Value]) -> BTreeMap<String, Vec<Value>> {
    fn walk(v: &Value, out: &mut BTreeMap<String, Vec<Value>>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.entry(k.clone()).or_default().push(v.clone());
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    records.iter().for_each(|r| walk(r, &mut out));
    out
}

/// A record assembled from fields: keys mostly the parser's, each with a
/// value that stands under that key in a real record (`seeds`) or any JSON
/// value; now and then no object at all.
fn record(keys: &'static [&'static str], seeds: &[Value]) -> BoxedStrategy<Value> {
    let seen = Arc::new(values_by_key(seeds));
    let field = key(keys).prop_flat_map(move |k| {
        let value = match seen.get(&k) {
            Some(known) => prop_oneof![2 => select(known.clone()), 1 => json(keys)].boxed(),
            None => json(keys),
        };
        (Just(k), value)
    });
    prop_oneof![
        9 => prop::collection::vec(field, 0..16).prop_map(object),
        1 => json(keys),
    ]
    .boxed()
}

/// The records of a JSON Lines fixture under `tests/fixtures/`.
pub fn fixture(path: &str) -> Vec<Value> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// One change to a real record, at the node that `path` picks (each step
/// an index into an object's entries or an array's items, modulo its size).
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Delete,
    /// Another JSON type for the same content (`"15"` ↔ `15`, `x` → `[x]`, …).
    Retype(u8),
    /// Hostile text into a string, at a character position.
    Splice(String, usize),
    /// A field the parser reads set (or added) in the object `path` leads
    /// to, stopping where it leads to no further object.
    Insert(String, Value),
}

fn mutation(keys: &'static [&'static str]) -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => json(keys).prop_map(Mutation::Replace),
        2 => Just(Mutation::Delete),
        2 => any::<u8>().prop_map(Mutation::Retype),
        3 => (hostile_text(), any::<usize>()).prop_map(|(s, at)| Mutation::Splice(s, at)),
        3 => (key(keys), json(keys)).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ]
    .boxed()
}

fn retyped(v: &Value, how: u8) -> Value {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match how % 6 {
        0 => Value::String(text),
        1 => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Bool(!text.is_empty())),
        2 => Value::Array(vec![v.clone()]),
        3 => object(vec![(text, v.clone())]),
        4 => Value::Null,
        _ => Value::from(text.chars().count()),
    }
}

fn children(v: &mut Value) -> Vec<&mut Value> {
    match v {
        Value::Object(map) => map.values_mut().collect(),
        Value::Array(items) => items.iter_mut().collect(),
        _ => Vec::new(),
    }
}

/// Applies `m` at the node `path` leads to; an insertion stops at the last
/// object on the way, a deletion removes the node from its parent.
fn apply(v: &mut Value, path: &[usize], m: &Mutation) {
    let len = children(v).len();
    let Some((&step, rest)) = path.split_first().filter(|_| len > 0) else {
        return change(v, m);
    };
    let i = step % len;
    match (m, &mut *v) {
        (Mutation::Delete, Value::Object(map)) if rest.is_empty() => {
            let key = map.keys().nth(i).cloned().unwrap_or_default();
            map.remove(&key);
        }
        (Mutation::Delete, Value::Array(items)) if rest.is_empty() => {
            items.remove(i);
        }
        (Mutation::Insert(..), Value::Object(map))
            if !map.values().nth(i).is_some_and(Value::is_object) =>
        {
            change(v, m)
        }
        _ => apply(children(v).swap_remove(i), rest, m),
    }
}

/// Applies `m` to `v` itself.
fn change(v: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(new) => *v = new.clone(),
        Mutation::Delete => *v = Value::Null,
        Mutation::Retype(how) => *v = retyped(v, *how),
        Mutation::Splice(text, at) => match v {
            Value::String(s) => {
                let at = s
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([s.len()])
                    .nth(at % (s.chars().count() + 1))
                    .unwrap_or(s.len());
                s.insert_str(at, text);
            }
            other => *other = Value::String(text.clone()),
        },
        Mutation::Insert(k, new) => match v {
            Value::Object(map) => {
                map.insert(k.clone(), new.clone());
            }
            other => *other = new.clone(),
        },
    }
}

/// `v` with some of its strings and numbers replaced by those in `strings`
/// and `numbers`, taken in turn, where `mask` (a bit a leaf) says so; every
/// value keeps its JSON type.
fn resample(v: &mut Value, strings: &[String], numbers: &[Value], mask: u64, leaf: &mut usize) {
    match v {
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| resample(v, strings, numbers, mask, leaf)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| resample(v, strings, numbers, mask, leaf)),
        Value::String(_) | Value::Number(_) => {
            if mask >> (*leaf % 64) & 1 == 1 {
                *v = match v {
                    Value::String(_) => Value::String(strings[*leaf % strings.len()].clone()),
                    _ => numbers[*leaf % numbers.len()].clone(),
                };
            }
            *leaf += 1;
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Real records (`seeds`) kept in shape, with about a quarter of their
/// strings and numbers drawn at random: hostile text where a parser expects
/// text, deep inside records it reads.
fn resampled(seeds: Vec<Value>) -> BoxedStrategy<Value> {
    assert!(!seeds.is_empty(), "no seed records");
    (
        select(seeds),
        prop::collection::vec(hostile_text(), 1..8),
        prop::collection::vec(number(), 1..4),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(mut record, strings, numbers, a, b)| {
            resample(&mut record, &strings, &numbers, a & b, &mut 0);
            record
        })
        .boxed()
}

/// Real records (`seeds`), each changed in one to five places.
fn mutated(seeds: Vec<Value>, keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    assert!(!seeds.is_empty(), "no seed records");
    let change = (prop::collection::vec(any::<usize>(), 0..5), mutation(keys));
    (select(seeds), prop::collection::vec(change, 1..6))
        .prop_map(|(mut record, changes)| {
            for (path, m) in &changes {
                apply(&mut record, path, m);
            }
            record
        })
        .boxed()
}

/// DESIGN §3 Untrusted text: nothing in `s` would be changed by casbah's
/// own sanitizer (which is idempotent), so nothing in it can drive or
/// reorder a terminal.
fn check_clean(what: &str, s: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(sanitize(s), s, "{} is not sanitized", what);
    Ok(())
}

/// R-A1 and DESIGN §3: what every activity a connector hands over must be.
pub fn check_activity(
    a: &Activity,
    app: AppKind,
    instance: InstanceId,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.instance, instance, "the instance it was read for");
    prop_assert_eq!(a.app, app);
    prop_assert!(
        !a.id.trim().is_empty(),
        "an id to tell records apart: {:?}",
        a
    );
    prop_assert!(
        chrono::DateTime::from_timestamp_micros(a.time).is_some(),
        "time {} is no date",
        a.time
    );
    prop_assert!(
        ACTION_TYPES.contains(&a.action_type.as_str()),
        "action type {:?}",
        a.action_type
    );
    // R-G6: tags are the store's to give.
    prop_assert!(a.groups.is_empty());
    // R-A1, R-G6: the actor is joined to memberships keyed by
    // `RemoteUser::key`, the lower case of the sanitized address.
    prop_assert_eq!(&a.actor.to_lowercase(), &a.actor, "the actor is no key");
    for (what, text) in [
        ("id", &a.id),
        ("actor", &a.actor),
        ("actor_name", &a.actor_name),
        ("activity_type", &a.activity_type),
        ("source", &a.source),
    ] {
        check_clean(what, text)?;
    }
    for (what, text) in [
        ("address_text", &a.address_text),
        ("isp", &a.isp),
        ("device_type", &a.device_type),
        ("user_agent", &a.user_agent),
    ] {
        if let Some(text) = text {
            check_clean(what, text)?;
        }
    }
    for o in &a.objects {
        check_clean("object id", &o.id)?;
        check_clean("object name", &o.name)?;
    }
    // Issue 10: an address, written the standard way (IPv4-mapped as IPv4),
    // or nothing; what was there instead is kept apart.
    if let Some(ip) = &a.ip {
        let parsed: Result<IpAddr, _> = ip.parse();
        prop_assert!(parsed.is_ok(), "ip {:?} is no address", ip);
        if let Ok(parsed) = parsed {
            prop_assert_eq!(&parsed.to_canonical().to_string(), ip);
        }
        prop_assert!(a.address_text.is_none(), "both an ip and address text");
    }
    if let Some(country) = &a.country {
        prop_assert!(
            country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
            "country {:?} is no ISO 3166-1 alpha-2 code",
            country
        );
    }
    Ok(())
}

/// DESIGN §3, R-G4: an account as the store may keep it.
fn check_user(u: &RemoteUser) -> Result<(), TestCaseError> {
    prop_assert!(!u.id.trim().is_empty(), "a user without an id: {:?}", u);
    for (what, text) in [
        ("id", u.id.as_str()),
        ("display_name", &u.display_name),
        ("email", &u.email),
        ("status", u.status.reason()),
    ] {
        check_clean(what, text)?;
    }
    if let Some(p) = &u.principal_name {
        check_clean("principal_name", p)?;
    }
    Ok(())
}

/// DESIGN §3, R-G2: a group as the picker shows it.
fn check_group(g: &RemoteGroup) -> Result<(), TestCaseError> {
    prop_assert!(!g.id.trim().is_empty(), "a group without an id: {:?}", g);
    check_clean("id", &g.id)?;
    check_clean("display_name", &g.display_name)?;
    for text in [&g.description, &g.email].into_iter().flatten() {
        check_clean("description or email", text)?;
    }
    Ok(())
}

/// Cases per property of a parser target, unless `PROPTEST_CASES` says otherwise.
const PARSER_CASES: u32 = 256;

/// Issue 10: one parser target. `read` (a parser, given the instance a
/// record belongs to) must read every one of `seeds`, real records, so that
/// their mutations get past its first checks. Then, on records assembled
/// from `keys` and the seeds' values, on `seeds` resampled and on `seeds` changed, each with an
/// instance id: it never panics,
/// reads a record the same way twice, and what it makes passes `check`.
/// `source` (the caller's `file!()`) names where proptest keeps the
/// failures it finds.
pub fn fuzz<T: PartialEq + Debug>(
    source: &'static str,
    keys: &'static [&'static str],
    seeds: Vec<Value>,
    read: impl Fn(&Value, InstanceId) -> Option<T>,
    check: impl Fn(&T, InstanceId) -> Result<(), TestCaseError>,
) {
    let holds = |r: &Value, instance: u64| -> Result<(), TestCaseError> {
        let instance = InstanceId(instance);
        let first = read(r, instance);
        prop_assert_eq!(&first, &read(r, instance), "the same record read twice");
        if let Some(made) = &first {
            check(made, instance)?;
        }
        Ok(())
    };
    assert!(!seeds.is_empty(), "no seed records");
    for seed in &seeds {
        assert!(
            read(seed, InstanceId(1)).is_some(),
            "a seed is not read: {seed}"
        );
        if let Err(e) = holds(seed, 1) {
            panic!("a seed as it is: {e}\n{seed}");
        }
    }
    for (what, records) in [
        ("an assembled record", record(keys, &seeds)),
        ("a resampled record", resampled(seeds.clone())),
        ("a changed record", mutated(seeds, keys)),
    ] {
        let mut runner = TestRunner::new(Config {
            source_file: Some(source),
            ..config(PARSER_CASES)
        });
        if let Err(e) = runner.run(&(records, any::<u64>()), |(r, i)| holds(&r, i)) {
            panic!("{what}: {e}");
        }
    }
}

/// What a directory parser makes: an account or a group, and the check it
/// must pass.
pub trait Directory: PartialEq + Debug {
    fn check(&self) -> Result<(), TestCaseError>;
}

impl Directory for RemoteUser {
    fn check(&self) -> Result<(), TestCaseError> {
        check_user(self)
    }
}

impl Directory for RemoteGroup {
    fn check(&self) -> Result<(), TestCaseError> {
        check_group(self)
    }
}

/// Issue 10: `fuzz` for a directory parser (accounts, groups), which knows
/// no instance.
pub fn fuzz_directory<T: Directory>(
    source: &'static str,
    keys: &'static [&'static str],
    seeds: Vec<Value>,
    read: impl Fn(&Value) -> Option<T>,
) {
    fuzz(source, keys, seeds, |r, _| read(r), |made, _| made.check());
}

/// `v` in the shape `T`, as a connector decodes a typed record; `None` where
/// it does not fit.
pub fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// An active member account with the vendor id `id` and the address `email`.
pub fn active_account(id: &str, email: &str) -> RemoteUser {
    RemoteUser {
        id: id.into(),
        display_name: email.into(),
        email: email.into(),
        status: crate::domain::UserStatus::Active,
        user_type: crate::domain::UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

/// A record as the connectors receive it from a list: its JSON text.
pub fn raw(v: &Value) -> crate::connectors::http::RawRecord {
    serde_json::value::to_raw_value(v).expect("a JSON value")
}

/// `check_activity` for each of `activities`.
pub fn check_activities<'a>(
    activities: impl IntoIterator<Item = &'a Activity>,
    app: AppKind,
    instance: InstanceId,
) -> Result<(), TestCaseError> {
    activities
        .into_iter()
        .try_for_each(|a| check_activity(a, app, instance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // issue 10: mutations reach nested fields, deleting removes the field,
    // and inserting adds a field to the deepest object on the path.
    #[test]
    fn mutations_reach_nested_fields() {
        let mut v = json!({"a": {"b": "x"}, "c": [1, 2]});
        apply(&mut v, &[0, 0], &Mutation::Delete);
        assert_eq!(v, json!({"a": {}, "c": [1, 2]}));
        apply(&mut v, &[1, 1], &Mutation::Retype(0));
        assert_eq!(v, json!({"a": {}, "c": [1, "2"]}));
        apply(&mut v, &[1, 0], &Mutation::Splice("\u{1b}".into(), 0));
        assert_eq!(v, json!({"a": {}, "c": ["\u{1b}", "2"]}));
        let mut v = json!({"a": {"b": 1}});
        apply(&mut v, &[0, 0, 0], &Mutation::Insert("k".into(), json!(2)));
        assert_eq!(v, json!({"a": {"b": 1, "k": 2}}));
        let mut s = json!("ab");
        apply(&mut s, &[], &Mutation::Splice("é".into(), 1));
        assert_eq!(s, json!("aéb"));
    }
}
