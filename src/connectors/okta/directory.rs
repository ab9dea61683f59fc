//! Groups, members and users from Okta, and the org's own domains.

use serde::Deserialize;

use super::api::{Call, Reads};
use super::{Okta, VENDOR, clean};
use crate::connectors::http::{RawRecord, read_record};
use crate::connectors::{ConnectorError, DomainTally, Page};
use crate::domain::{RemoteGroup, RemoteUser, UserStatus, UserType};

/// Okta's name search (`q`) cannot page, and answers at most this many.
const Q_LIMIT: usize = 300;

#[derive(Deserialize)]
struct OktaUser {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    profile: Profile,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Profile {
    login: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    user_type: Option<String>,
}

#[derive(Deserialize)]
struct OktaGroup {
    id: Option<String>,
    #[serde(default)]
    profile: GroupProfile,
}

#[derive(Deserialize, Default)]
struct GroupProfile {
    name: Option<String>,
    description: Option<String>,
}

/// R-G4: only ACTIVE counts; every other status is a reason to skip, in
/// plain words.
pub(super) fn status(okta: &str) -> UserStatus {
    match okta.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" => UserStatus::Active,
        "SUSPENDED" => UserStatus::Suspended,
        "DEPROVISIONED" => UserStatus::Inactive("deprovisioned".to_owned()),
        "STAGED" => UserStatus::Inactive("staged".to_owned()),
        "PROVISIONED" => UserStatus::Inactive("provisioned".to_owned()),
        "RECOVERY" => UserStatus::Inactive("in recovery".to_owned()),
        "LOCKED_OUT" => UserStatus::Inactive("locked out".to_owned()),
        "PASSWORD_EXPIRED" => UserStatus::Inactive("password expired".to_owned()),
        other => UserStatus::Inactive(clean(&other.to_ascii_lowercase().replace('_', " "))),
    }
}

fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A record in the shape `T`, or `None` (logged): one bad record is skipped,
/// not the end of the list.
fn readable<T: serde::de::DeserializeOwned>(raw: RawRecord, what: &str) -> Option<T> {
    read_record(VENDOR, what, &raw)
}

/// A user record; `None` (logged) for one without an id or an address.
fn user(raw: RawRecord) -> Option<RemoteUser> {
    let u: OktaUser = readable(raw, "user")?;
    let Some(id) = text(&u.id) else {
        tracing::warn!(vendor = VENDOR, "user without an id skipped");
        return None;
    };
    let p = &u.profile;
    let Some(email) = text(&p.email).or(text(&p.login)) else {
        tracing::warn!(vendor = VENDOR, id = %clean(id), "user without email or login skipped");
        return None;
    };
    let display_name = match (
        text(&p.display_name),
        text(&p.first_name),
        text(&p.last_name),
    ) {
        (Some(d), _, _) => d.to_owned(),
        (None, Some(f), Some(l)) => format!("{f} {l}"),
        (None, Some(n), None) | (None, None, Some(n)) => n.to_owned(),
        (None, None, None) => email.to_owned(),
    };
    let principal_name = text(&p.login)
        .filter(|l| !l.eq_ignore_ascii_case(email))
        .map(clean);
    // Okta has no guests of its own; an org may mark them in `userType`.
    let user_type = match text(&p.user_type) {
        Some(t) if t.eq_ignore_ascii_case("guest") => UserType::Guest,
        _ => UserType::Member,
    };
    Some(RemoteUser {
        id: clean(id),
        display_name: clean(&display_name),
        email: clean(email),
        status: status(text(&u.status).unwrap_or("UNKNOWN")),
        user_type,
        principal_name,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    })
}

/// A group record; `None` (logged) for one without an id.
fn group(raw: RawRecord) -> Option<RemoteGroup> {
    let g: OktaGroup = readable(raw, "group")?;
    let Some(id) = text(&g.id) else {
        tracing::warn!(vendor = VENDOR, "group without an id skipped");
        return None;
    };
    Some(RemoteGroup {
        id: clean(id),
        display_name: clean(text(&g.profile.name).unwrap_or(id)),
        description: text(&g.profile.description).map(clean),
        email: None,
        microsoft365: false,
    })
}

/// The SCIM `search` clause for names starting with `text`: the value is a
/// quoted string, so its own backslashes and quotes are escaped.
fn starts_with_clause(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("profile.name sw \"{escaped}\"")
}

/// Mail providers anyone can sign up with: never a domain of the org's own
/// unless most of its accounts use it.
const PUBLIC_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
];

/// R-G1: the org's own domains, from the tally of its accounts' addresses
/// (Okta's read scopes list no domains). The rule:
/// - the domain most accounts use is the org's (ties go to the first in
///   alphabetical order);
/// - another is the org's too when at least 1% of the accounts, and at least
///   two, use it;
/// - a public mailbox provider (gmail.com, outlook.com, …) never is, unless
///   it is the most used: a handful of contractors with gmail.com addresses
///   must not make everyone at gmail.com an insider.
pub fn own_domains(tally: &DomainTally) -> Vec<String> {
    let total: u64 = tally.values().sum();
    let Some((top, _)) = tally
        .iter()
        .filter(|(_, n)| **n > 0)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
    else {
        return Vec::new();
    };
    tally
        .iter()
        .filter(|(domain, n)| {
            *domain == top
                || (**n >= 2
                    && **n * 100 >= total
                    && !PUBLIC_MAIL.contains(&domain.to_ascii_lowercase().as_str()))
        })
        .map(|(d, _)| clean(&d.to_ascii_lowercase()))
        .collect()
}

/// Which of Okta's two group searches a picker query of `limit` results
/// takes: `q`, the starts-with search Okta made for pickers, when it can
/// answer them all (it cannot page); else `search`, which pages.
pub(super) fn group_search(text: &str, limit: usize, page: u32) -> [(&'static str, String); 2] {
    if limit <= Q_LIMIT {
        [("q", text.to_owned()), ("limit", limit.max(1).to_string())]
    } else {
        [
            ("search", starts_with_clause(text)),
            ("limit", page.to_string()),
        ]
    }
}

impl Okta {
    /// Groups from `/api/v1/groups?{query}`, through `next` links, at most `limit`.
    pub(super) async fn groups_where(
        &self,
        query: &[(&str, String)],
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let what = if query.iter().any(|(k, _)| *k != "limit") {
            "group search"
        } else {
            "the group list"
        };
        let first = Call {
            url: self.url(&["api", "v1", "groups"], &pairs),
            reads: Reads::Groups,
            what: what.to_owned(),
        };
        let records = self.collect(first, limit).await?;
        Ok(records.into_iter().filter_map(group).collect())
    }

    pub(super) async fn group_by_id(&self, id: &str) -> Result<RemoteGroup, ConnectorError> {
        let what = format!("group {}", clean(id));
        let call = Call {
            url: self.url(&["api", "v1", "groups", id], &[]),
            reads: Reads::Groups,
            what: what.clone(),
        };
        let record = self.object(&call).await?;
        group(record).ok_or_else(|| ConnectorError::Protocol {
            vendor: VENDOR,
            detail: format!("{what} came back without an id"),
        })
    }

    /// Every user of a group, in any status: a group's members are all its
    /// users, since Okta groups hold no groups.
    /// R-G5: the group's users; records that cannot be read (no id) are counted.
    pub(super) async fn users_of_group(
        &self,
        id: &str,
    ) -> Result<Page<RemoteUser>, ConnectorError> {
        let limit = self.page_size.to_string();
        let first = Call {
            url: self.url(&["api", "v1", "groups", id, "users"], &[("limit", &limit)]),
            reads: Reads::Groups,
            what: format!("the members of group {}", clean(id)),
        };
        let records = self.collect(first, usize::MAX).await?;
        Ok(Page::readable(records, None, user))
    }

    /// One page of `/api/v1/users` (which leaves DEPROVISIONED users out),
    /// the first or the one a `next` link names.
    pub(super) async fn users_at(
        &self,
        next: Option<&str>,
    ) -> Result<Page<RemoteUser>, ConnectorError> {
        let url = if let Some(link) = next {
            self.follow(link)?
        } else {
            let limit = self.page_size.to_string();
            self.url(&["api", "v1", "users"], &[("limit", &limit)])
        };
        let call = Call {
            url,
            reads: Reads::Users,
            what: "the user list".to_owned(),
        };
        let records = self.page(&call).await?;
        Ok(Page::readable(records.items, records.next, user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn user(v: Value) -> Option<RemoteUser> {
        super::user(serde_json::value::to_raw_value(&v).expect("JSON"))
    }

    fn group(v: Value) -> Option<RemoteGroup> {
        super::group(serde_json::value::to_raw_value(&v).expect("JSON"))
    }

    // R-G4: each Okta status is active, suspended, or skipped for its own reason.
    #[test]
    fn statuses_map_to_reasons() {
        for (okta, reason) in [
            ("ACTIVE", "active"),
            ("SUSPENDED", "suspended"),
            ("DEPROVISIONED", "deprovisioned"),
            ("STAGED", "staged"),
            ("PROVISIONED", "provisioned"),
            ("RECOVERY", "in recovery"),
            ("LOCKED_OUT", "locked out"),
            ("PASSWORD_EXPIRED", "password expired"),
            ("SOMETHING_NEW", "something new"),
        ] {
            assert_eq!(status(okta).reason(), reason, "{okta}");
        }
        assert_eq!(status("SUSPENDED"), UserStatus::Suspended);
        assert_eq!(status("ACTIVE"), UserStatus::Active);
    }

    #[test]
    fn a_user_is_keyed_by_email_with_its_login_beside() {
        let u = user(json!({"id":"00u1","status":"LOCKED_OUT","profile":{
            "login":"ann.lee@acme.com","email":"Ann.Lee@Acme.com","firstName":"Ann","lastName":"Lee"}}))
        .unwrap();
        assert_eq!(u.email, "Ann.Lee@Acme.com");
        assert_eq!(u.principal_name, None, "the same address in another case");
        assert_eq!(u.display_name, "Ann Lee");
        assert_eq!(u.status.reason(), "locked out");
        let u = user(json!({"id":"00u2","status":"ACTIVE","profile":{
            "login":"alee","email":"ann@acme.com","displayName":"Ann L."}}))
        .unwrap();
        assert_eq!(u.principal_name.as_deref(), Some("alee"));
        assert_eq!(u.display_name, "Ann L.");
        let u =
            user(json!({"id":"00u3","status":"ACTIVE","profile":{"login":"bo@acme.com"}})).unwrap();
        assert_eq!(
            (u.email.as_str(), u.display_name.as_str()),
            ("bo@acme.com", "bo@acme.com")
        );
    }

    #[test]
    fn records_without_id_or_address_are_skipped() {
        assert!(user(json!({"status":"ACTIVE","profile":{"email":"a@x.com"}})).is_none());
        assert!(user(json!({"id":"","profile":{"email":"a@x.com"}})).is_none());
        assert!(user(json!({"id":"00u1","profile":{}})).is_none());
        assert!(user(json!("00u1")).is_none());
        assert!(group(json!({"profile":{"name":"x"}})).is_none());
    }

    // DESIGN §3 Untrusted text.
    #[test]
    fn vendor_text_is_sanitized() {
        let g = group(
            json!({"id":"00g1","profile":{"name":"Evil\u{1b}]0;x\u{7}","description":"d\u{9b}"}}),
        )
        .unwrap();
        assert!(
            !g.display_name.chars().any(char::is_control),
            "{:?}",
            g.display_name
        );
        assert!(!g.description.unwrap().chars().any(char::is_control));
    }

    #[test]
    fn search_text_is_quoted_and_escaped() {
        assert_eq!(starts_with_clause("West"), r#"profile.name sw "West""#);
        assert_eq!(
            starts_with_clause(r#"a "b" \c"#),
            r#"profile.name sw "a \"b\" \\c""#
        );
    }

    fn tally(pairs: &[(&str, u64)]) -> DomainTally {
        pairs.iter().map(|(d, n)| (d.to_string(), *n)).collect()
    }

    // R-G1: domains held by 1% of the accounts (and two at least) are the
    // org's; a handful of contractors at gmail.com do not make gmail ours.
    #[test]
    fn own_domains_follow_the_share_rule() {
        assert!(own_domains(&DomainTally::new()).is_empty());
        let t = tally(&[
            ("contoso.com", 950),
            ("contoso.co.uk", 30),
            ("fabrikam.com", 9),
            ("gmail.com", 11),
        ]);
        assert_eq!(own_domains(&t), ["contoso.co.uk", "contoso.com"]);
        // 1% of 1000 is 10: fabrikam's 9 are outsiders, 10 would be ours.
        let t = tally(&[("contoso.com", 990), ("fabrikam.com", 10)]);
        assert_eq!(own_domains(&t), ["contoso.com", "fabrikam.com"]);
        // In a tiny org one account is more than 1%, but never enough alone.
        let t = tally(&[("contoso.com", 40), ("partner.com", 1)]);
        assert_eq!(own_domains(&t), ["contoso.com"]);
        // A business that runs on gmail.com: its most used domain is its own.
        let t = tally(&[("gmail.com", 7), ("outlook.com", 2)]);
        assert_eq!(own_domains(&t), ["gmail.com"]);
    }
}

/// Issue 10: the user and group mappings, fuzzed.
#[cfg(test)]
mod props {
    use super::{group, user};
    use crate::test_support::{fixture, fuzz_directory, raw};

    /// Every field the user mapping reads, at any depth.
    const USER_KEYS: &[&str] = &[
        "id",
        "status",
        "profile",
        "login",
        "email",
        "firstName",
        "lastName",
        "displayName",
        "userType",
    ];

    /// Every field the group mapping reads, at any depth.
    const GROUP_KEYS: &[&str] = &["id", "profile", "name", "description"];

    // issue 10, DESIGN §3: any JSON shaped like a user or a group, and the
    // sandbox's changed, are read without a panic, the same way twice, into
    // a clean account or group with an id, or none.
    #[test]
    fn users_and_groups_are_read_safely() {
        let seeds = fixture("sandbox/okta-users.jsonl");
        fuzz_directory(file!(), USER_KEYS, seeds, |r| user(raw(r)));
        let seeds = fixture("sandbox/okta-groups.jsonl");
        fuzz_directory(file!(), GROUP_KEYS, seeds, |r| group(raw(r)));
    }
}
