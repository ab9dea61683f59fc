//! Groups, their members and users from the Directory API
//! (`admin/directory/v1`), each list read page by page through
//! `nextPageToken`.
//!
//! Group names are not unique in Google Workspace; a group's e-mail is, so
//! groups are found by either and told apart by their e-mail.

use std::collections::HashSet;

use serde::Deserialize;

use super::api::{Call, ListPage, list_page};
use super::auth::SCOPES;
use super::{GoogleWorkspace, VENDOR, clean};
use crate::connectors::http::{RawRecord, read_record};
use crate::connectors::url::url;
use crate::connectors::{ConnectorError, DomainTally, Page};
use crate::domain::{RemoteGroup, RemoteUser, UserStatus, UserType};

/// The lists' documented maxima: `maxResults` above them is refused.
const MAX_GROUPS: u32 = 200;
const MAX_MEMBERS: u32 = 200;
const MAX_USERS: u32 = 500;

const GROUP_SCOPE: &str = SCOPES[0];
const MEMBER_SCOPE: &str = SCOPES[1];
const USER_SCOPE: &str = SCOPES[2];

#[derive(Debug, Deserialize)]
struct GoogleGroup {
    id: String,
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoogleUser {
    id: String,
    primary_email: String,
    name: Option<UserName>,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    is_admin: bool,
    /// R-A2: `/` is the top of the customer's tree: every user is in it, so it says
    /// nothing and is kept as no unit.
    org_unit_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserName {
    full_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Member {
    id: Option<String>,
    email: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
}

/// A record that cannot be read is left out with a warning, and the list
/// goes on: one bad record must not end a scan.
fn read<T: serde::de::DeserializeOwned>(v: RawRecord, what: &str) -> Option<T> {
    read_record(VENDOR, what, &v)
}

/// Whether a record has an id; one without is left out with a warning, as
/// nothing could find it again (issue 10: one bad record is one skipped record).
fn has_id(id: &str, what: &str) -> bool {
    let blank = id.trim().is_empty();
    if blank {
        tracing::warn!(vendor = VENDOR, what, "record without an id skipped");
    }
    !blank
}

fn group(v: RawRecord) -> Option<RemoteGroup> {
    let g: GoogleGroup = read(v, "group").filter(|g: &GoogleGroup| has_id(&g.id, "group"))?;
    let email = g.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    Some(RemoteGroup {
        display_name: clean(g.name.as_deref().or(email).unwrap_or(&g.id)),
        description: g
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(clean),
        email: email.map(|e| clean(&e.to_lowercase())),
        id: clean(&g.id),
        microsoft365: false,
    })
}

fn user(v: RawRecord) -> Option<RemoteUser> {
    let u: GoogleUser = read(v, "user").filter(|u: &GoogleUser| has_id(&u.id, "user"))?;
    let name = u.name.as_ref().and_then(|n| {
        n.full_name.clone().or_else(|| {
            let parts: Vec<&str> = [&n.given_name, &n.family_name]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    });
    let status = if u.suspended {
        UserStatus::Suspended
    } else if u.archived {
        UserStatus::Inactive("archived".to_owned())
    } else {
        UserStatus::Active
    };
    Some(RemoteUser {
        id: clean(&u.id),
        display_name: clean(name.as_deref().unwrap_or(&u.primary_email)),
        email: clean(&u.primary_email.to_lowercase()),
        status,
        user_type: UserType::Member,
        principal_name: None,
        admin: u.is_admin,
        org_unit: u
            .org_unit_path
            .as_deref()
            .filter(|p| !p.trim().is_empty() && p.trim() != "/")
            .map(clean),
        on_premises_sync: false,
    })
}

/// R-G4: a group member's status, in casbah's words.
fn member_status(status: Option<&str>) -> UserStatus {
    match status.map(str::to_ascii_uppercase).as_deref() {
        Some("ACTIVE") => UserStatus::Active,
        Some("SUSPENDED") => UserStatus::Suspended,
        Some("ARCHIVED") => UserStatus::Inactive("archived".to_owned()),
        _ => UserStatus::Inactive("unknown status".to_owned()),
    }
}

/// A member record: `None` when it is not a Workspace user (a group, the whole
/// customer, an external address), `Some(None)` when it cannot be read or names a
/// user without an id (issue 10: skipped and counted), else the user.
fn member_entry(v: RawRecord) -> Option<Option<RemoteUser>> {
    let Some(m) = read::<Member>(v, "member") else {
        return Some(None);
    };
    if !m
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("USER"))
    {
        return None;
    }
    let id = m.id.unwrap_or_default();
    if !has_id(&id, "member") {
        return Some(None);
    }
    let email = clean(&m.email.unwrap_or_default().to_lowercase());
    Some(Some(RemoteUser {
        id: clean(&id),
        display_name: email.clone(),
        email,
        status: member_status(m.status.as_deref()),
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }))
}

/// Google's prefix form `field:'value*'`: the value quoted with `'`, its own
/// backslashes and quotes escaped.
pub(super) fn prefix_clause(field: &str, text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('\'', "\\'");
    format!("{field}:'{escaped}*'")
}

/// A list at `admin/directory/v1/…` (or the Reports API), and how to read it.
pub(super) struct List<'a> {
    pub path: Vec<&'a str>,
    pub query: Vec<(&'static str, String)>,
    /// Where the records are in a page.
    pub field: &'static str,
    pub scope: &'static str,
    pub what: String,
}

impl GoogleWorkspace {
    fn directory<'a>(&self, path: &[&'a str]) -> Vec<&'a str> {
        let mut full = vec!["admin", "directory", "v1"];
        full.extend_from_slice(path);
        full
    }

    /// One page of `list`, from its first or at `token`.
    pub(super) async fn page_of(
        &self,
        list: &List<'_>,
        token: Option<&str>,
    ) -> Result<ListPage, ConnectorError> {
        let mut query: Vec<(&str, &str)> =
            list.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(token) = token {
            query.push(("pageToken", token));
        }
        let call = Call::new(
            url(&self.hosts.api, &list.path, &query),
            list.scope,
            list.what.clone(),
        );
        self.get_with(&call, list_page(list.field)).await
    }

    /// Every record of `list` that `map` keeps, page after page, until
    /// `limit` or the end.
    async fn read_all<T>(
        &self,
        list: &List<'_>,
        limit: usize,
        map: impl Fn(RawRecord) -> Option<T>,
    ) -> Result<Vec<T>, ConnectorError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.page_of(list, token.as_deref()).await?;
            out.extend(page.items.into_iter().filter_map(&map));
            match page.next {
                Some(next) if out.len() < limit => token = Some(next),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// R-G2: the customer's groups in Google's order, or those a `query` finds.
    pub(super) async fn list_groups(
        &self,
        query: Option<String>,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let page = self
            .page_size
            .min(MAX_GROUPS)
            .min(u32::try_from(limit).unwrap_or(u32::MAX));
        let mut params = vec![
            ("customer", self.customer.clone()),
            ("maxResults", page.to_string()),
        ];
        params.extend(query.map(|q| ("query", q)));
        let list = List {
            path: self.directory(&["groups"]),
            query: params,
            field: "groups",
            scope: GROUP_SCOPE,
            what: "the group list".to_owned(),
        };
        self.read_all(&list, limit, group).await
    }

    /// `groups.get`: a group by its id or its e-mail (or an alias).
    pub(super) async fn one_group(&self, key: &str) -> Result<RemoteGroup, ConnectorError> {
        let key = key.trim();
        let call = Call::new(
            url(&self.hosts.api, &self.directory(&["groups", key]), &[]),
            GROUP_SCOPE,
            format!("group {}", clean(key)),
        );
        let raw: RawRecord = self.get(&call).await?;
        group(raw).ok_or_else(|| ConnectorError::Protocol {
            vendor: VENDOR,
            detail: format!("group {} could not be read", clean(key)),
        })
    }

    /// R-G4: the users in a group, nested groups flattened by Google
    /// (`includeDerivedMembership`), each once, with their status. Groups, the
    /// whole customer and external addresses among the members are left out.
    /// R-G5: the group's users, flattened; members that cannot be read are counted.
    pub(super) async fn members(&self, group: &str) -> Result<Page<RemoteUser>, ConnectorError> {
        let list = List {
            path: self.directory(&["groups", group, "members"]),
            query: vec![
                ("maxResults", self.page(MAX_MEMBERS)),
                ("includeDerivedMembership", "true".to_owned()),
            ],
            field: "members",
            scope: MEMBER_SCOPE,
            what: format!("group {}", clean(group)),
        };
        let all = self.read_all(&list, usize::MAX, member_entry).await?;
        let skipped = all.iter().filter(|entry| entry.is_none()).count();
        let mut seen = HashSet::new();
        let items = all
            .into_iter()
            .flatten()
            .filter(|u| seen.insert(u.id.clone()))
            .collect();
        Ok(Page {
            items,
            next: None,
            skipped,
        })
    }

    fn user_list(&self, query: Option<&str>) -> List<'static> {
        let mut params = vec![
            ("customer", self.customer.clone()),
            ("maxResults", self.page(MAX_USERS)),
        ];
        params.extend(query.map(|q| ("query", q.to_owned())));
        List {
            path: self.directory(&["users"]),
            query: params,
            field: "users",
            scope: USER_SCOPE,
            what: "the user list".to_owned(),
        }
    }

    /// One page of the customer's users; `next` is Google's page token.
    pub(super) async fn user_page(
        &self,
        next: Option<&str>,
    ) -> Result<Page<RemoteUser>, ConnectorError> {
        let page = self.page_of(&self.user_list(None), next).await?;
        Ok(Page::readable(page.items, page.next, user))
    }

    /// R-G1: the Google Workspace administrator group: the users Google marks
    /// `isAdmin` (super administrators).
    pub(super) async fn administrators(&self) -> Result<Vec<RemoteUser>, ConnectorError> {
        let list = self.user_list(Some("isAdmin=true"));
        let admins = self.read_all(&list, usize::MAX, user).await?;
        Ok(admins.into_iter().filter(|u| u.admin).collect())
    }

    /// R-G1: the organisation's domains. Every Workspace account's primary
    /// e-mail is in one of the customer's domains, so the domains the user
    /// scan tallied are the organisation's; reading the customer's domain
    /// list itself would need one more scope (`admin.directory.domain.readonly`)
    /// for nothing. The impersonated administrator's domain is one of them
    /// even before the first scan.
    pub(super) fn domains(&self, accounts: &DomainTally) -> Vec<String> {
        let mut domains: Vec<String> = accounts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(d, _)| d.clone())
            .collect();
        if let Some((_, domain)) = self.admin.rsplit_once('@')
            && !domain.is_empty()
        {
            domains.push(clean(&domain.to_lowercase()));
        }
        domains.sort();
        domains.dedup();
        domains
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn raw(v: Value) -> RawRecord {
        serde_json::value::to_raw_value(&v).expect("JSON")
    }

    fn group(v: Value) -> Option<RemoteGroup> {
        super::group(raw(v))
    }

    fn user(v: Value) -> Option<RemoteUser> {
        super::user(raw(v))
    }

    fn member(v: Value) -> Option<RemoteUser> {
        super::member_entry(raw(v)).flatten()
    }

    #[test]
    fn prefix_clauses_quote_and_escape() {
        assert_eq!(prefix_clause("name", "Fin"), "name:'Fin*'");
        assert_eq!(prefix_clause("name", "Sales Team"), "name:'Sales Team*'");
        assert_eq!(
            prefix_clause("name", r"Valentine's \ Day"),
            r"name:'Valentine\'s \\ Day*'"
        );
        assert_eq!(prefix_clause("email", "fin"), "email:'fin*'");
    }

    // R-G4: only active users count; Google's own reasons keep their words.
    #[test]
    fn member_statuses_and_types() {
        let m = |t: &str, s: &str| {
            member(json!({"id": "1", "email": "A@x.com", "type": t, "status": s}))
        };
        assert_eq!(m("USER", "ACTIVE").unwrap().status, UserStatus::Active);
        assert_eq!(
            m("USER", "SUSPENDED").unwrap().status,
            UserStatus::Suspended
        );
        assert_eq!(
            m("USER", "ARCHIVED").unwrap().status,
            UserStatus::Inactive("archived".into())
        );
        assert_eq!(
            m("USER", "UNKNOWN").unwrap().status,
            UserStatus::Inactive("unknown status".into())
        );
        assert_eq!(m("USER", "ACTIVE").unwrap().email, "a@x.com");
        for other in ["GROUP", "CUSTOMER", "EXTERNAL"] {
            assert!(m(other, "ACTIVE").is_none(), "{other}");
        }
        assert!(member(json!({"email": "a@x.com", "type": "USER"})).is_none());
    }

    // issue 10: a member that names a user without an id, or that cannot be read, is
    // one to count as skipped; a member that is a group or the customer is no user at all.
    #[test]
    fn unreadable_members_are_told_apart_from_other_kinds() {
        let entry = |v: Value| super::member_entry(raw(v));
        assert_eq!(
            entry(json!({"email": "a@x.com", "type": "USER"})),
            Some(None)
        );
        assert_eq!(entry(json!({"id": 5, "type": "USER"})), Some(None));
        assert_eq!(entry(json!({"id": "g1", "type": "GROUP"})), None);
        assert!(matches!(
            entry(json!({"id": "1", "email": "a@x.com", "type": "USER"})),
            Some(Some(_))
        ));
    }

    #[test]
    fn users_carry_status_and_the_admin_mark() {
        let u = user(json!({"id": "9", "primaryEmail": "Ann@Contoso.com",
            "name": {"fullName": "Ann Lee"}, "isAdmin": true, "suspended": false, "archived": true}))
        .unwrap();
        assert_eq!(
            (u.email.as_str(), u.display_name.as_str(), u.admin),
            ("ann@contoso.com", "Ann Lee", true)
        );
        assert_eq!(u.status, UserStatus::Inactive("archived".into()));
        let s =
            user(json!({"id": "8", "primaryEmail": "b@contoso.com", "suspended": true})).unwrap();
        assert_eq!((s.status, s.admin), (UserStatus::Suspended, false));
        assert!(user(json!({"primaryEmail": "no-id@contoso.com"})).is_none());
    }

    // R-A2: a user's organisational unit is its orgUnitPath; the root says nothing.
    #[test]
    fn users_carry_their_org_unit() {
        let unit = |path: &str| {
            user(json!({"id": "9", "primaryEmail": "a@contoso.com", "orgUnitPath": path}))
                .unwrap()
                .org_unit
        };
        assert_eq!(unit("/Sales/EMEA").as_deref(), Some("/Sales/EMEA"));
        assert_eq!(unit("/"), None);
        assert_eq!(unit("/\u{1b}[31m").as_deref(), Some("/^[[31m"));
    }

    // issue 10: a group, user or member without an id could never be found
    // again: it is skipped, not listed with an empty id (found by fuzzing).
    #[test]
    fn records_without_an_id_are_skipped() {
        for id in ["", " "] {
            assert_eq!(group(json!({"id": id, "name": "Sales"})), None);
            assert_eq!(user(json!({"id": id, "primaryEmail": "a@x.com"})), None);
            assert_eq!(
                member(json!({"id": id, "email": "a@x.com", "type": "USER"})),
                None
            );
        }
    }

    #[test]
    fn groups_keep_their_email() {
        let g =
            group(json!({"id": "03x", "email": "Sales@X.com", "name": "Sales", "description": ""}))
                .unwrap();
        assert_eq!(g.email.as_deref(), Some("sales@x.com"));
        assert_eq!(g.description, None);
        assert!(group(json!({"name": "no id"})).is_none());
    }
}

/// Issue 10: the group, user and member mappings, fuzzed.
#[cfg(test)]
mod props {
    use super::{group, member_entry, user};
    use crate::test_support::{fixture, fuzz_directory, raw};

    /// Every field the three mappings read, at any depth.
    const KEYS: &[&str] = &[
        "id",
        "email",
        "name",
        "description",
        "primaryEmail",
        "fullName",
        "givenName",
        "familyName",
        "suspended",
        "archived",
        "isAdmin",
        "type",
        "status",
    ];

    // issue 10, DESIGN §3: any JSON shaped like a group, a user or a group
    // member, and the sandbox's changed, are read without a panic, the same
    // way twice, into a clean group or account with an id, or none.
    #[test]
    fn groups_users_and_members_are_read_safely() {
        let seeds = fixture("sandbox/google-groups.jsonl");
        fuzz_directory(file!(), KEYS, seeds, |r| group(raw(r)));
        let seeds = fixture("sandbox/google-users.jsonl");
        fuzz_directory(file!(), KEYS, seeds, |r| user(raw(r)));
        // Groups, the customer and outsiders are no accounts: not seeds.
        let seeds = fixture("sandbox/google-members.jsonl")
            .into_iter()
            .filter(|m| m["type"] == "USER")
            .collect();
        fuzz_directory(file!(), KEYS, seeds, |r| member_entry(raw(r)).flatten());
    }
}
