//! R-X6 mirror plans: source users matched to Entra users by e-mail or UPN,
//! only the difference sent, the unmatched listed.

use std::collections::BTreeSet;

use casbah::domain::external::{EntraAccount, Member, Unmatched, plan_mirror};
use casbah::domain::{RemoteUser, UserStatus, UserType};

fn source(id: &str, email: &str) -> RemoteUser {
    RemoteUser {
        id: id.into(),
        display_name: id.into(),
        email: email.into(),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

fn entra(id: &str, upn: &str, mail: Option<&str>) -> EntraAccount {
    EntraAccount {
        id: id.into(),
        user_principal_name: upn.into(),
        mail: mail.map(str::to_string),
    }
}

fn directory() -> Vec<EntraAccount> {
    vec![
        entra(
            "e-alice",
            "alice@contoso.onmicrosoft.com",
            Some("Alice@Contoso.com"),
        ),
        entra("e-bob", "bob@contoso.com", None),
        entra("e-carol", "carol@contoso.com", Some("carol@contoso.com")),
        // Two accounts carry the same address.
        entra("e-dan1", "dan@contoso.com", None),
        entra("e-dan2", "dan.old@contoso.com", Some("dan@contoso.com")),
    ]
}

fn ids(members: &[Member]) -> Vec<&str> {
    members.iter().map(Member::id).collect()
}

// R-X6: matching by mail or by UPN, without case; the first sync adds all.
#[test]
fn first_sync_adds_every_match() {
    let src = [
        source("sf-1", " alice@contoso.com "),
        source("sf-2", "BOB@contoso.com"),
    ];
    let plan = plan_mirror(&src, &directory(), &BTreeSet::new());
    assert_eq!(ids(&plan.add), ["e-alice", "e-bob"]);
    assert!(plan.remove.is_empty());
    assert!(plan.unmatched.is_empty());
}

// R-X6: a later sync sends only who joined and who left.
#[test]
fn later_sync_sends_only_the_difference() {
    let published: BTreeSet<String> = ["e-alice".to_string(), "e-bob".to_string()].into();
    let src = [
        source("sf-1", "alice@contoso.com"),
        source("sf-3", "carol@contoso.com"),
    ];
    let plan = plan_mirror(&src, &directory(), &published);
    assert_eq!(ids(&plan.add), ["e-carol"]);
    assert_eq!(ids(&plan.remove), ["e-bob"]);
    let unchanged = plan_mirror(&src, &directory(), &plan.target);
    assert!(unchanged.is_empty());
}

// R-X6: those that match nobody, or more than one, are listed with why.
#[test]
fn unmatched_users_are_listed() {
    let src = [
        source("sf-4", "eve@fabrikam.com"),
        source("sf-5", "dan@contoso.com"),
        source("sf-6", ""),
    ];
    let plan = plan_mirror(&src, &directory(), &BTreeSet::new());
    assert!(plan.add.is_empty());
    let why: Vec<&Unmatched> = plan.unmatched.iter().map(|u| &u.why).collect();
    assert_eq!(
        why,
        [
            &Unmatched::NoEntraUser,
            &Unmatched::Ambiguous(vec!["e-dan1".into(), "e-dan2".into()]),
            &Unmatched::NoAddress,
        ]
    );
    let text = plan.unmatched[0].to_string();
    assert!(
        text.starts_with("eve@fabrikam.com: no Entra user"),
        "{text}"
    );
    // issue 13: internal rule tags are not for users.
    assert!(text.ends_with("fix the address"), "{text}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // R-X6: applying the plan to what was published gives exactly the
        // matched users; nothing already right is sent again; every source
        // user is either matched or listed.
        #[test]
        fn plan_is_the_exact_difference(
            src in prop::collection::vec(0usize..8, 0..8),
            published in prop::collection::btree_set(0usize..8, 0..8),
        ) {
            let accounts: Vec<EntraAccount> = (0..6)
                .map(|i| entra(&format!("e{i}"), &format!("p{i}@contoso.com"), None))
                .collect();
            let users: Vec<RemoteUser> = src
                .iter()
                .map(|i| source(&format!("s{i}"), &format!("P{i}@contoso.com")))
                .collect();
            let published: BTreeSet<String> = published.iter().map(|i| format!("e{i}")).collect();
            let plan = plan_mirror(&users, &accounts, &published);
            let mut after = published.clone();
            for m in &plan.remove {
                prop_assert!(after.remove(m.id()));
            }
            for m in &plan.add {
                prop_assert!(!published.contains(m.id()));
                after.insert(m.id().to_string());
            }
            prop_assert_eq!(&after, &plan.target);
            let matched = src.iter().filter(|&&i| i < 6).count();
            prop_assert_eq!(plan.unmatched.len(), src.len() - matched);
        }
    }
}
