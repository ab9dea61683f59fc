//! The Graph connectors client against the sandbox over HTTP: connections,
//! external groups, members and item ACLs, with Graph's validation, 201,
//! 204 and 409 (R-X1…R-X4).

use std::time::Duration;

use casbah::connectors::ConnectorError;
use casbah::connectors::http::RetryPolicy;
use casbah::connectors::microsoft365::Microsoft365;
use casbah::connectors::microsoft365::external::{
    ContentKind, ExternalApiError, ExternalConnections, ItemContent, ItemUpload,
};
use casbah::domain::external::{
    AclEntry, Connection, ConnectionId, ExternalGroup, ExternalGroupId, Item, ItemId, Member,
    Principal,
};
use casbah::domain::{Component, InstanceId};
use casbah::sandbox::ExternalChange;
use casbah::sandbox::{Fault, Sandbox, SandboxConfig};
use serde_json::{Value, json};

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        users: 5,
        live_rate: 0.0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn client(sb: &Sandbox) -> Microsoft365 {
    let instance = sb
        .microsoft365_instance("Contoso", vec![Component::UsersAndGroups])
        .into_instance(InstanceId(1), 0);
    let policy = RetryPolicy {
        max_attempts: 4,
        backoff_base: Duration::from_millis(5),
        max_wait: Duration::from_secs(2),
        max_total_wait: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..RetryPolicy::default()
    };
    Microsoft365::with_policy(&instance, sb.client_secret.clone(), policy).expect("connector")
}

fn conn(id: &str) -> ConnectionId {
    ConnectionId::parse(id).unwrap()
}

fn gid(id: &str) -> ExternalGroupId {
    ExternalGroupId::parse(id).unwrap()
}

fn group(id: &str, name: Option<&str>) -> ExternalGroup {
    ExternalGroup {
        id: gid(id),
        display_name: name.map(str::to_string),
        description: Some("Tier-1 escalations".into()),
        members: vec![],
    }
}

/// A client with a connection `contosohr` already made.
async fn with_connection(sb: &Sandbox) -> Microsoft365 {
    let m = client(sb);
    let c = Connection::new(conn("contosohr"), "Contoso HR", None).unwrap();
    m.create_connection(&c).await.expect("connection created");
    m
}

/// Sends a request the typed client would refuse, to test the sandbox's own
/// validation: (status, body).
async fn raw(sb: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sb.base_url(),
            sb.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sb.client_id.as_str()),
            ("client_secret", sb.client_secret.expose()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reply = http
        .request(method, format!("{}{path}", sb.base_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

// R-X1: connections are created and listed; a duplicate is a 409 shown in
// plain words, and nothing changes.
#[tokio::test]
async fn connections_create_list_and_conflict() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let listed = m.connections().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, conn("contosohr"));
    assert_eq!(listed[0].name, "Contoso HR");
    let before = sb.external_changes().len();
    let again = Connection::new(conn("ContosoHR"), "Other", None).unwrap();
    let err = m.create_connection(&again).await.unwrap_err();
    assert!(matches!(err, ExternalApiError::Conflict { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("already exists; nothing was changed"),
        "{err}"
    );
    assert_eq!(sb.external_changes().len(), before);
    assert_eq!(
        sb.external_connection("contosohr").unwrap().name,
        "Contoso HR"
    );
}

// Graph connection id rule, on the server side too.
#[tokio::test]
async fn sandbox_refuses_bad_connection_ids() {
    let sb = sandbox().await;
    for id in [
        "ab",
        "MicrosoftHr",
        "SharePoint",
        "contoso-hr",
        &"a".repeat(33),
    ] {
        let (status, body) = raw(
            &sb,
            reqwest::Method::POST,
            "/v1.0/external/connections",
            json!({"id": id, "name": "n"}),
        )
        .await;
        assert_eq!(status, 400, "{id}: {body}");
        assert_eq!(body["error"]["code"], "BadRequest");
    }
    assert!(sb.external_changes().is_empty());
}

// R-X2: external group ids at 128 and 129 characters, and a bad character,
// as Graph answers them.
#[tokio::test]
async fn sandbox_checks_group_ids() {
    let sb = sandbox().await;
    with_connection(&sb).await;
    let path = "/v1.0/external/connections/contosohr/groups";
    let (status, _) = raw(
        &sb,
        reqwest::Method::POST,
        path,
        json!({"id": "a".repeat(128)}),
    )
    .await;
    assert_eq!(status, 201);
    for bad in ["a".repeat(129), String::new(), "a.b".into(), "a b".into()] {
        let (status, body) = raw(&sb, reqwest::Method::POST, path, json!({"id": bad})).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
}

// R-X2: create (201), read, update, delete (204); then it is gone.
#[tokio::test]
async fn group_lifecycle() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let c = conn("contosohr");
    m.create_group(
        &c,
        &group("contosoEscalations", Some("Contoso Escalations")),
    )
    .await
    .unwrap();
    let read = m.group(&c, &gid("contosoEscalations")).await.unwrap();
    assert_eq!(read.display_name.as_deref(), Some("Contoso Escalations"));
    m.update_group(&c, &group("contosoEscalations", Some("Escalations")))
        .await
        .unwrap();
    let stored = sb.external_connection("contosohr").unwrap();
    assert_eq!(
        stored.groups["contosoEscalations"].display_name.as_deref(),
        Some("Escalations")
    );
    let err = m
        .create_group(&c, &group("contosoEscalations", None))
        .await
        .unwrap_err();
    assert!(matches!(err, ExternalApiError::Conflict { .. }), "{err}");
    m.delete_group(&c, &gid("contosoEscalations"))
        .await
        .unwrap();
    let err = m.group(&c, &gid("contosoEscalations")).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExternalApiError::Connector(ConnectorError::NotFound { .. })
        ),
        "{err}"
    );
    assert_eq!(
        sb.served_with("/v1.0/external/connections/contosohr/groups", 201),
        1
    );
    assert_eq!(
        sb.served_with(
            "/v1.0/external/connections/contosohr/groups/contosoEscalations",
            204
        ),
        1
    );
}

// R-X3: users, Entra groups and nested external groups are added (201) and
// removed (204); a duplicate member is a 409; a group may even contain
// itself, as Graph allows.
#[tokio::test]
async fn members_add_and_remove() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let c = conn("contosohr");
    m.create_group(&c, &group("tier1", None)).await.unwrap();
    let g = gid("tier1");
    let members = [
        Member::user("25f143de-be82-4afb-8a57-e032b9315752").unwrap(),
        Member::entra_group("99a3b3d6-71ee-4d21-b08b-4b6f22e3ae4b").unwrap(),
        Member::ExternalGroup(gid("contosoSupport")),
        Member::ExternalGroup(gid("tier1")),
    ];
    for member in &members {
        m.add_member(&c, &g, member).await.unwrap();
    }
    let stored = &sb.external_connection("contosohr").unwrap().groups["tier1"];
    let kinds: Vec<&str> = stored.members.iter().map(|w| w.kind.as_str()).collect();
    assert_eq!(kinds, ["user", "group", "externalGroup", "externalGroup"]);
    let err = m.add_member(&c, &g, &members[0]).await.unwrap_err();
    assert!(matches!(err, ExternalApiError::Conflict { .. }), "{err}");
    m.remove_member(&c, &g, &members[1]).await.unwrap();
    let err = m.remove_member(&c, &g, &members[1]).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExternalApiError::Connector(ConnectorError::NotFound { .. })
        ),
        "{err}"
    );
    let changes: Vec<ExternalChange> = sb
        .external_changes()
        .into_iter()
        .filter(|ch| matches!(ch, ExternalChange::MemberRemoved { .. }))
        .collect();
    assert_eq!(
        changes,
        [ExternalChange::MemberRemoved {
            connection: "contosohr".into(),
            group: "tier1".into(),
            member: "99a3b3d6-71ee-4d21-b08b-4b6f22e3ae4b".into()
        }]
    );
}

// R-X3: the sandbox takes the beta shape with identitySource too, and
// refuses a member type Graph does not know.
#[tokio::test]
async fn sandbox_accepts_beta_members() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    m.create_group(&conn("contosohr"), &group("eng", None))
        .await
        .unwrap();
    let path = "/v1.0/external/connections/contosohr/groups/eng/members";
    let (status, _) = raw(
        &sb,
        reqwest::Method::POST,
        path,
        json!({"id": "contosoSupport", "type": "group", "identitySource": "external"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = raw(
        &sb,
        reqwest::Method::POST,
        path,
        json!({"id": "x", "type": "device"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

// R-X4: an item's ACL is put as Graph's JSON and stored as sent, naming an
// external group that does not exist yet.
#[tokio::test]
async fn put_item_acl() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let acl = vec![
        AclEntry::grant(Principal::Everyone(sb.tenant_id.clone())),
        AclEntry::deny(Principal::ExternalGroup(gid("notCreatedYet"))),
    ];
    let mut properties = serde_json::Map::new();
    properties.insert("title".into(), json!("Error in the payment gateway"));
    let upload = ItemUpload {
        item: Item {
            id: ItemId::parse("TSP1").unwrap(),
            acl: acl.clone(),
        },
        properties,
        content: Some(ItemContent {
            kind: ContentKind::Text,
            value: "details".into(),
        }),
    };
    m.put_item(&conn("contosohr"), &upload).await.unwrap();
    let stored = &sb.external_connection("contosohr").unwrap().items["TSP1"];
    let back: Vec<AclEntry> = stored
        .acl
        .iter()
        .map(|w| AclEntry::from_wire(w).unwrap())
        .collect();
    assert_eq!(back, acl);
    assert_eq!(stored.acl[1].kind, "externalGroup");

    // Graph wants at least one property: refused before any request.
    let before = sb.external_changes().len();
    let empty = ItemUpload {
        properties: serde_json::Map::new(),
        ..upload
    };
    let err = m.put_item(&conn("contosohr"), &empty).await.unwrap_err();
    assert!(matches!(err, ExternalApiError::NoProperties), "{err}");
    assert_eq!(sb.external_changes().len(), before);
}

// R-X4: deleting an item answers 204 and the item is gone; a second
// delete is Graph's 404, a not-found error, with nothing changed.
#[tokio::test]
async fn delete_item_then_not_found() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let mut properties = serde_json::Map::new();
    properties.insert("title".into(), json!("T"));
    let id = ItemId::parse("TSP2").unwrap();
    let upload = ItemUpload {
        item: Item {
            id: id.clone(),
            acl: vec![AclEntry::grant(Principal::Everyone(sb.tenant_id.clone()))],
        },
        properties,
        content: None,
    };
    m.put_item(&conn("contosohr"), &upload).await.unwrap();
    m.delete_item(&conn("contosohr"), &id).await.unwrap();
    assert!(
        !sb.external_connection("contosohr")
            .unwrap()
            .items
            .contains_key("TSP2")
    );
    let path = "/v1.0/external/connections/contosohr/items/TSP2";
    assert_eq!(sb.served_with(path, 204), 1);
    let changes = sb.external_changes().len();
    let err = m.delete_item(&conn("contosohr"), &id).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExternalApiError::Connector(ConnectorError::NotFound { .. })
        ),
        "{err}"
    );
    assert_eq!(sb.served_with(path, 404), 1);
    assert_eq!(sb.external_changes().len(), changes);
}

// R-X1: deleting a connection answers 204 and takes its groups with it; a
// second delete is a not-found error.
#[tokio::test]
async fn delete_connection_then_not_found() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    m.create_group(&conn("contosohr"), &group("tier1", None))
        .await
        .unwrap();
    m.delete_connection(&conn("ContosoHR")).await.unwrap();
    assert!(sb.external_connection("contosohr").is_none());
    assert!(
        sb.external_changes()
            .contains(&ExternalChange::ConnectionDeleted("contosohr".into()))
    );
    assert_eq!(
        sb.served_with("/v1.0/external/connections/ContosoHR", 204),
        1
    );
    let err = m.delete_connection(&conn("contosohr")).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExternalApiError::Connector(ConnectorError::NotFound { .. })
        ),
        "{err}"
    );
    assert!(m.connections().await.unwrap().is_empty());
}

// Throttling as in the core connector: a 429 with Retry-After is waited
// out and the call goes through once.
#[tokio::test]
async fn throttled_calls_are_retried() {
    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let path = "/v1.0/external/connections/contosohr/groups";
    sb.fail_next(
        path,
        Fault::Throttle {
            retry_after: Some(0.01),
        },
        1,
    );
    m.create_group(&conn("contosohr"), &group("sales2024", None))
        .await
        .unwrap();
    assert_eq!(sb.served_with(path, 429), 1);
    assert_eq!(sb.served_with(path, 201), 1);
    assert_eq!(sb.external_connection("contosohr").unwrap().groups.len(), 1);
}

// R-X6: a mirror sync after a membership change sends exactly the added and
// removed members, nothing else.
#[tokio::test]
async fn mirror_sync_sends_only_the_difference() {
    use casbah::connectors::microsoft365::external::apply_mirror;
    use casbah::domain::external::{EntraAccount, plan_mirror};
    use casbah::domain::{RemoteUser, UserStatus, UserType};
    use std::collections::BTreeSet;

    let sb = sandbox().await;
    let m = with_connection(&sb).await;
    let (c, g) = (conn("contosohr"), gid("salesMirror"));
    m.create_group(&c, &group("salesMirror", Some("Sales (Salesforce)")))
        .await
        .unwrap();
    let directory: Vec<EntraAccount> = ["ann", "ben", "cat", "dov"]
        .iter()
        .map(|n| EntraAccount {
            id: format!("e-{n}"),
            user_principal_name: format!("{n}@contoso.com"),
            mail: None,
        })
        .collect();
    let source = |names: &[&str]| -> Vec<RemoteUser> {
        names
            .iter()
            .map(|n| RemoteUser {
                id: format!("sf-{n}"),
                display_name: n.to_string(),
                email: format!("{n}@contoso.com"),
                status: UserStatus::Active,
                user_type: UserType::Member,
                principal_name: None,
                admin: false,
                org_unit: None,
                on_premises_sync: false,
            })
            .collect()
    };
    let first = plan_mirror(
        &source(&["ann", "ben", "cat"]),
        &directory,
        &BTreeSet::new(),
    );
    let done = apply_mirror(&m, &c, &g, &BTreeSet::new(), &first).await;
    assert!(done.error.is_none());
    assert_eq!(done.added, 3);
    let seen = sb.external_changes().len();

    // ben leaves, dov joins.
    let second = plan_mirror(&source(&["ann", "cat", "dov"]), &directory, &done.published);
    let done = apply_mirror(&m, &c, &g, &done.published, &second).await;
    assert!(done.error.is_none());
    let sent = sb.external_changes().split_off(seen);
    assert_eq!(
        sent,
        [
            ExternalChange::MemberAdded {
                connection: "contosohr".into(),
                group: "salesMirror".into(),
                member: "e-dov".into(),
            },
            ExternalChange::MemberRemoved {
                connection: "contosohr".into(),
                group: "salesMirror".into(),
                member: "e-ben".into(),
            },
        ]
    );
    let stored: BTreeSet<String> =
        sb.external_connection("contosohr").unwrap().groups["salesMirror"]
            .members
            .iter()
            .map(|w| w.id.clone())
            .collect();
    assert_eq!(stored, done.published);
}
