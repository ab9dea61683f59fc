//! The demo's Graph connection: external groups nested two deep, a mirror
//! of an imported group, and items whose ACLs show a grant, a deny that
//! wins and a pending group (R-X1…R-X6), so the External groups pane and
//! `casbah access` have something to explain from the first minute.

use crate::domain::GroupKind;
use crate::domain::external::parse_item_document;
use crate::service::{MemberRef, Result, Service, ServiceError};

const CONNECTION: &str = "supporttickets";

/// Waits for the first scans and imports, then builds the connection. Run
/// in the background: the dashboard is up meanwhile and shows it arrive.
pub async fn seed(svc: Service, tenant_id: String) {
    if let Err(e) = build(&svc, &tenant_id).await {
        tracing::warn!("demo: the Graph connection was not fully set up: {e}");
    }
}

async fn build(svc: &Service, tenant_id: &str) -> Result<()> {
    // A sandbox keeps its Graph connections in memory: the one an earlier demo on this
    // database made is gone with it, and is made again.
    if svc
        .external_connections(Some("contoso"))
        .await?
        .iter()
        .any(|c| c.connection.id.as_str().eq_ignore_ascii_case(CONNECTION))
    {
        svc.delete_connection(CONNECTION).await?;
    }
    // A scan that fails is reported by the service like any other; what
    // it left is still enough to build on.
    for job in svc.sync_now(Some("contoso")).await? {
        let _ = job.wait().await;
    }
    // Entra groups of the Microsoft 365 tenant: the other apps' are not Graph's.
    let tenant = svc.find_instance("microsoft365/contoso").await?.id;
    let imported: Vec<_> = svc
        .groups()
        .await?
        .into_iter()
        .filter_map(|g| match &g.kind {
            GroupKind::Imported {
                instance,
                remote_id,
            } if *instance == tenant => Some((g.id, g.name.clone(), remote_id.clone())),
            _ => None,
        })
        .collect();
    let [(first, _, first_remote), (_, second_name, _), ..] = imported.as_slice() else {
        return Err(ServiceError::Invalid(
            "the demo needs two imported groups".into(),
        ));
    };
    // Someone in the Entra group behind tier 1: the deny below reaches them
    // through two levels of nesting, and wins.
    let denied = svc
        .members(*first)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::Invalid("the first demo group has no members".into()))?;

    svc.add_connection("contoso", CONNECTION, "Support tickets", None)
        .await?;
    svc.create_external_group(CONNECTION, "tier1", Some("Tier 1 support"), None)
        .await?;
    svc.create_external_group(
        CONNECTION,
        "escalations",
        Some("Escalations"),
        Some("Tickets escalated beyond tier 1"),
    )
    .await?;
    svc.add_external_member(
        CONNECTION,
        "tier1",
        MemberRef::EntraGroup(first_remote.clone()),
    )
    .await?;
    svc.add_external_member(
        CONNECTION,
        "escalations",
        MemberRef::External("tier1".into()),
    )
    .await?;
    svc.mirror_group(CONNECTION, "managers", second_name)
        .await?
        .wait()
        .await
        .map_err(ServiceError::Internal)?;

    let denied_id = svc
        .directory_users(CONNECTION)
        .await?
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case(&denied.email))
        .map(|u| u.id)
        .ok_or_else(|| ServiceError::Invalid(format!("{} is not synced", denied.email)))?;
    let items = [
        (
            "KB42",
            serde_json::json!({
                "acl": [
                    {"type": "externalGroup", "value": "escalations", "accessType": "grant"},
                    {"type": "user", "value": denied_id, "accessType": "deny"},
                    {"type": "externalGroup", "value": "contractors", "accessType": "grant"},
                    {"type": "externalGroup", "value": "managers", "accessType": "grant"}
                ],
                "properties": {"title": "Payment gateway error"}
            }),
        ),
        (
            "KB7",
            serde_json::json!({
                "acl": [{"type": "everyoneExceptGuests", "value": tenant_id, "accessType": "grant"}],
                "properties": {"title": "VPN setup guide"}
            }),
        ),
    ];
    for (id, item) in items {
        let document = parse_item_document(&item.to_string())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        svc.set_item_acl(CONNECTION, id, document).await?;
    }
    Ok(())
}
