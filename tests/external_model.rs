//! Validation of connection ids, external group ids, members and ACL
//! entries (R-X1…R-X4), before any request is made.

use casbah::domain::external::{
    AccessType, AclEntry, AclEntryWire, ConnectionId, ExternalError, ExternalGroupId, ItemId,
    Member, MemberWire, Principal, RESERVED_CONNECTION_IDS,
};

fn member(id: &str, kind: &str, source: Option<&str>) -> Result<Member, ExternalError> {
    Member::from_wire(&MemberWire {
        id: id.to_string(),
        kind: kind.to_string(),
        identity_source: source.map(str::to_string),
    })
}

fn acl(
    kind: &str,
    value: &str,
    access: &str,
    source: Option<&str>,
) -> Result<AclEntry, ExternalError> {
    AclEntry::from_wire(&AclEntryWire {
        kind: kind.to_string(),
        value: value.to_string(),
        access_type: access.to_string(),
        identity_source: source.map(str::to_string),
    })
}

// R-X2: 127 and 128 characters are accepted, 129 refused with the count.
#[test]
fn group_id_length_limits() {
    assert!(ExternalGroupId::parse(&"a".repeat(127)).is_ok());
    assert!(ExternalGroupId::parse(&"Z".repeat(128)).is_ok());
    let err = ExternalGroupId::parse(&"a".repeat(129)).unwrap_err();
    assert_eq!(err, ExternalError::GroupIdTooLong { len: 129 });
    assert_eq!(
        err.to_string(),
        "external group id is 129 characters; at most 128"
    );
}

// R-X2: the id is required.
#[test]
fn empty_group_id_is_refused() {
    let err = ExternalGroupId::parse("").unwrap_err();
    assert_eq!(err, ExternalError::GroupIdEmpty);
    assert!(!err.to_string().contains("R-X"), "issue 13: no rule tags");
    assert!(err.to_string().contains("A–Z a–z 0–9 - _"));
}

// R-X2: the whole URL-safe base64 alphabet is accepted.
#[test]
fn whole_alphabet_is_accepted() {
    let id = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_eq!(ExternalGroupId::parse(id).unwrap().as_str(), id);
}

// R-X2: one refusal per forbidden character class, naming the character
// and its position.
#[test]
fn forbidden_character_classes_are_refused() {
    let cases = [
        ("sales team", "a space", 6),
        ("sales.team", "`.`", 6),
        ("sales/team", "`/`", 6),
        ("sales+team", "`+`", 6),
        ("salesteam=", "`=`", 10),
        ("équipe", "`é` (U+00E9, not ASCII)", 1),
        ("sales\u{7}team", "the control character U+0007", 6),
        ("sales\nteam", "the control character U+000A", 6),
    ];
    for (id, what, position) in cases {
        let err = ExternalGroupId::parse(id).unwrap_err();
        assert_eq!(
            err,
            ExternalError::GroupIdCharacter {
                what: what.to_string(),
                position
            },
            "{id:?}"
        );
        let msg = err.to_string();
        assert!(msg.ends_with("only A–Z a–z 0–9 - _ are allowed"), "{msg}");
        assert!(!msg.chars().any(char::is_control), "{msg:?}");
    }
}

// R-X2: ids read from JSON are held to the same rule.
#[test]
fn deserializing_validates() {
    assert!(serde_json::from_str::<ExternalGroupId>("\"ok_id-1\"").is_ok());
    let err = serde_json::from_str::<ExternalGroupId>("\"bad id\"").unwrap_err();
    assert!(err.to_string().contains("only A–Z"), "{err}");
}

// Graph connection id: 3–32 letters and digits.
#[test]
fn connection_id_length() {
    assert_eq!(
        ConnectionId::parse("ab").unwrap_err(),
        ExternalError::ConnectionIdLength { len: 2 }
    );
    assert!(ConnectionId::parse("abc").is_ok());
    assert!(ConnectionId::parse(&"a".repeat(32)).is_ok());
    assert_eq!(
        ConnectionId::parse(&"a".repeat(33)).unwrap_err(),
        ExternalError::ConnectionIdLength { len: 33 }
    );
    assert_eq!(
        ConnectionId::parse("").unwrap_err(),
        ExternalError::ConnectionIdLength { len: 0 }
    );
}

// Graph connection id: letters and digits only (no - or _ unlike R-X2).
#[test]
fn connection_id_alphabet() {
    for (id, what) in [
        ("contoso-hr", "`-`"),
        ("contoso_hr", "`_`"),
        ("contoso hr", "a space"),
        ("contosoé", "`é` (U+00E9, not ASCII)"),
    ] {
        match ConnectionId::parse(id) {
            Err(ExternalError::ConnectionIdCharacter { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{id}: {other:?}"),
        }
    }
}

// Graph connection id: no "Microsoft" prefix, compared without case.
#[test]
fn connection_id_microsoft_prefix() {
    for id in ["MicrosoftHr", "microsofthr", "MICROSOFT1", "Microsoft"] {
        let err = ConnectionId::parse(id).unwrap_err();
        assert!(
            matches!(err, ExternalError::ConnectionIdMicrosoftPrefix { .. }),
            "{id}: {err:?}"
        );
        assert!(err.to_string().contains("choose another id"));
    }
    assert!(ConnectionId::parse("Microsof").is_ok());
    assert!(ConnectionId::parse("myMicrosoft").is_ok());
}

// Graph connection id: every reserved name is refused, in any case.
#[test]
fn connection_id_reserved_names() {
    for reserved in RESERVED_CONNECTION_IDS {
        for id in [reserved.to_string(), reserved.to_ascii_lowercase()] {
            let err = ConnectionId::parse(&id).unwrap_err();
            assert_eq!(
                err,
                ExternalError::ConnectionIdReserved {
                    id: id.clone(),
                    reserved
                }
            );
        }
    }
    assert!(ConnectionId::parse("TeamsWiki").is_ok());
}

// R-X3: the v1.0 shape {id, type}.
#[test]
fn v1_members() {
    assert_eq!(
        member("u1", "user", None).unwrap(),
        Member::User("u1".into())
    );
    assert_eq!(
        member("g1", "group", None).unwrap(),
        Member::EntraGroup("g1".into())
    );
    let nested = Member::ExternalGroup(ExternalGroupId::parse("tier1").unwrap());
    assert_eq!(member("tier1", "externalGroup", None).unwrap(), nested);
    assert_eq!(member("tier1", "externalgroup", None).unwrap(), nested);
    assert_eq!(nested.to_wire().kind, "externalGroup");
}

// R-X3: the beta shape with identitySource; external + group is nesting.
#[test]
fn beta_members() {
    let nested = Member::ExternalGroup(ExternalGroupId::parse("contosoSupport").unwrap());
    assert_eq!(
        member("contosoSupport", "group", Some("external")).unwrap(),
        nested
    );
    assert_eq!(
        member("contosoSupport", "group", Some("External")).unwrap(),
        nested
    );
    assert_eq!(
        member("g1", "group", Some("azureActiveDirectory")).unwrap(),
        Member::EntraGroup("g1".into())
    );
    assert_eq!(
        member("u1", "user", Some("Azure Active Directory")).unwrap(),
        Member::User("u1".into())
    );
}

// R-X3: contradictory or unknown shapes are refused, saying why.
#[test]
fn bad_members() {
    let err = member("u1", "user", Some("external")).unwrap_err();
    assert!(matches!(err, ExternalError::SourceMismatch { .. }));
    assert!(err.to_string().contains("always a group"), "{err}");
    let err = member("x", "device", None).unwrap_err();
    assert_eq!(
        err,
        ExternalError::MemberType {
            value: "device".into()
        }
    );
    let err = member("x", "group", Some("okta")).unwrap_err();
    assert!(matches!(err, ExternalError::IdentitySource { .. }));
    // A nested external group is held to R-X2.
    let err = member("bad id", "externalGroup", None).unwrap_err();
    assert!(matches!(err, ExternalError::GroupIdCharacter { .. }));
    assert!(matches!(
        member("", "user", None).unwrap_err(),
        ExternalError::ObjectIdEmpty { .. }
    ));
}

// R-X4: every entry type in both shapes, grant and deny.
#[test]
fn acl_entries() {
    let grant = |p| AclEntry {
        principal: p,
        access: AccessType::Grant,
    };
    assert_eq!(
        acl("user", "u1", "grant", None).unwrap(),
        grant(Principal::User("u1".into()))
    );
    assert_eq!(
        acl("group", "g1", "grant", Some("Azure Active Directory")).unwrap(),
        grant(Principal::EntraGroup("g1".into()))
    );
    assert_eq!(
        acl("everyone", "t1", "grant", None).unwrap(),
        grant(Principal::Everyone("t1".into()))
    );
    assert_eq!(
        acl("everyoneExceptGuests", "t1", "grant", None).unwrap(),
        grant(Principal::EveryoneExceptGuests("t1".into()))
    );
    let ext = Principal::ExternalGroup(ExternalGroupId::parse("sales2024").unwrap());
    assert_eq!(
        acl("externalGroup", "sales2024", "grant", None).unwrap(),
        grant(ext.clone())
    );
    let deny = acl("group", "sales2024", "deny", Some("External")).unwrap();
    assert_eq!(
        deny,
        AclEntry {
            principal: ext,
            access: AccessType::Deny
        }
    );
    // What casbah writes reads back the same.
    assert_eq!(AclEntry::from_wire(&deny.to_wire()).unwrap(), deny);
}

// R-X4: bad entries are refused with their position in the list.
#[test]
fn bad_acl_entries() {
    assert!(matches!(
        acl("user", "u1", "maybe", None).unwrap_err(),
        ExternalError::AclAccess { .. }
    ));
    assert!(matches!(
        acl("role", "u1", "grant", None).unwrap_err(),
        ExternalError::AclType { .. }
    ));
    assert!(matches!(
        acl("everyone", "", "grant", None).unwrap_err(),
        ExternalError::AclValueEmpty { .. }
    ));
    assert!(matches!(
        acl("user", "u1", "grant", Some("external")).unwrap_err(),
        ExternalError::SourceMismatch { .. }
    ));
}

// R-X4: item ids travel in a URL path.
#[test]
fn item_ids() {
    assert!(ItemId::parse("TSP1").is_ok());
    assert!(ItemId::parse("").is_err());
    assert!(ItemId::parse("a/b").is_err());
    assert!(ItemId::parse(&"i".repeat(129)).is_err());
}

// R-X4: an ACL file in Graph's item shape (the seed's own example, with
// "Azure Active Directory" and "External" spelled as words) or a bare array.
#[test]
fn acl_files() {
    use casbah::domain::external::{AclFileError, parse_item_document};
    let doc = parse_item_document(
        r#"{"@odata.type": "microsoft.graph.externalItem",
            "acl": [
              {"type": "group", "value": "contosEscalations", "accessType": "grant", "identitySource": "External"},
              {"type": "user", "value": "87e9089a-08d5-4d9e-9524-b7bd6be580d5", "accessType": "grant", "identitySource": "Azure Active Directory"},
              {"type": "group", "value": "96fbeb4f-f71c-4405-9f0b-1d6988eda2d2", "accessType": "deny", "identitySource": "Azure Active Directory"}
            ],
            "properties": {"title": "Error in the payment gateway", "priority": 1},
            "content": {"value": "<h1>Error</h1>", "type": "html"}}"#,
    )
    .unwrap();
    assert_eq!(doc.acl.len(), 3);
    assert_eq!(
        doc.acl[0].principal,
        Principal::ExternalGroup(ExternalGroupId::parse("contosEscalations").unwrap())
    );
    assert_eq!(doc.acl[2].access, AccessType::Deny);
    assert_eq!(doc.properties.len(), 2);
    assert!(doc.content.is_some());

    let bare =
        parse_item_document(r#"[{"type":"everyone","value":"t","accessType":"grant"}]"#).unwrap();
    assert_eq!(bare.acl.len(), 1);
    assert!(bare.properties.is_empty());

    assert!(matches!(
        parse_item_document("{"),
        Err(AclFileError::Json(_))
    ));
    assert_eq!(
        parse_item_document(r#"{"properties":{}}"#),
        Err(AclFileError::NoAcl)
    );
    assert!(matches!(
        parse_item_document(r#"[{"type":"user","value":"u"}]"#),
        Err(AclFileError::Shape { position: 1, .. })
    ));
    let err = parse_item_document(
        r#"[{"type":"user","value":"u","accessType":"grant"},{"type":"externalGroup","value":"a b","accessType":"deny"}]"#,
    )
    .unwrap_err();
    assert!(
        matches!(err, AclFileError::Entry { position: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("ACL entry 2: external group id has a space"),
        "{err}"
    );
}

// Graph connection rule: a name is required, at most 128 characters.
#[test]
fn connection_names() {
    use casbah::domain::external::Connection;
    let id = ConnectionId::parse("contosohr").unwrap();
    assert!(Connection::new(id.clone(), &"n".repeat(128), None).is_ok());
    assert_eq!(
        Connection::new(id.clone(), &"n".repeat(129), None).unwrap_err(),
        ExternalError::ConnectionNameTooLong { len: 129 }
    );
    assert_eq!(
        Connection::new(id, "  ", None).unwrap_err(),
        ExternalError::ConnectionNameEmpty
    );
}
