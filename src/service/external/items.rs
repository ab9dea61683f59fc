//! External items and their ACLs (R-X4).

use super::cache::AccessCache;
use super::{ItemView, Target, item_view, not_found};
use crate::service::{Level, Local, Result, ServiceError, names};

use crate::connectors::microsoft365::external::{ExternalConnections, ItemContent, ItemUpload};
use crate::domain::external::{
    AclEntry, ConnectionId, Item, ItemDocument, ItemId, Principal, is_object_id,
};
use crate::store::ItemRecord;

impl Local {
    /// The connection's items as casbah last put them, ACL entries resolved.
    pub async fn external_items(&self, connection: &str) -> Result<Vec<ItemView>> {
        let target = self.target(connection).await?;
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        Ok(data
            .items
            .iter()
            .map(|r| item_view(r, &data, &cache))
            .collect())
    }

    /// One item's ACL, entries resolved (`external acl show`).
    pub async fn external_item(&self, connection: &str, item: &str) -> Result<ItemView> {
        ConnectionId::parse(connection.trim())?;
        let id = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let record = self.item_record(&target, &id).await?;
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        Ok(item_view(&record, &data, &cache))
    }

    /// R-X4: puts the item with this ACL at Graph, then stores it. A file
    /// with only the ACL keeps the properties and content sent last time.
    pub async fn set_item_acl(
        &self,
        connection: &str,
        item: &str,
        document: ItemDocument,
    ) -> Result<ItemView> {
        ConnectionId::parse(connection.trim())?;
        let id = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let acl = users_by_object_id(document.acl, &*self.access_cache(&target).await?)?;
        let (instance, cid, iid) = (target.instance.id, target.id().clone(), id.clone());
        let previous = self
            .db(move |s| s.external_item(instance, &cid, &iid))
            .await?;
        let mut properties = document.properties;
        let mut content = document.content;
        if properties.is_empty()
            && let Some(p) = &previous
        {
            properties = p.properties.clone();
            if content.is_none() {
                content = p.content.clone();
            }
        }
        let content_typed: Option<ItemContent> = content
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| {
                ServiceError::Invalid(format!(
                    "the item's content must be {{\"type\": \"text\" or \"html\", \"value\": …}} ({e})"
                ))
            })?;
        let upload = ItemUpload {
            item: Item {
                id: id.clone(),
                acl,
            },
            properties,
            content: content_typed,
        };
        let client = self.graph_client(&target.instance).await?;
        client.put_item(target.id(), &upload).await?;
        let record = ItemRecord {
            title: upload
                .properties
                .get("title")
                .and_then(|t| t.as_str())
                .map(crate::domain::text::sanitize),
            properties: upload.properties.clone(),
            content,
            item: upload.item,
        };
        let (instance, cid, stored) = (target.instance.id, target.id().clone(), record.clone());
        self.db(move |s| s.put_external_item(instance, &cid, &stored))
            .await?;
        self.external_changed(target.instance.id, target.id());
        // The ACL may name Entra groups casbah has not read yet: read them
        // now so access questions can follow them. Not reading them leaves
        // the ACL set, with a warning.
        if let Err(e) = self.sync_missing_entra_groups(&target).await {
            self.notify(
                Level::Warning,
                format!("cannot read the Entra groups the ACL names: {e}"),
            );
        }
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        Ok(item_view(&record, &data, &cache))
    }

    /// Deletes the item at Graph, then here. One Graph no longer has is
    /// forgotten here too.
    pub async fn delete_item(&self, connection: &str, item: &str) -> Result<()> {
        ConnectionId::parse(connection.trim())?;
        let id = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        match client.delete_item(target.id(), &id).await {
            Ok(()) => {}
            Err(e) if not_found(&e) => {
                self.notify(
                    Level::Info,
                    format!("item `{id}` was already gone at Graph"),
                );
            }
            Err(e) => return Err(e.into()),
        }
        let (instance, cid) = (target.instance.id, target.id().clone());
        self.db(move |s| s.remove_external_item(instance, &cid, &id))
            .await?;
        self.external_changed(target.instance.id, target.id());
        Ok(())
    }

    pub(super) async fn item_record(&self, target: &Target, item: &ItemId) -> Result<ItemRecord> {
        let (instance, cid, iid) = (target.instance.id, target.id().clone(), item.clone());
        if let Some(r) = self
            .db(move |s| s.external_item(instance, &cid, &iid))
            .await?
        {
            return Ok(r);
        }
        let data = self.connection_data(target).await?;
        Err(ServiceError::Unknown {
            what: "item",
            name: item.to_string(),
            suggestions: names::closest(
                item.as_str(),
                data.items.iter().map(|r| r.item.id.as_str()),
            ),
        })
    }
}

/// R-X4: Graph matches the users of an ACL by object id. An entry naming a
/// synced user by UPN or e-mail is sent with the user's object id, so that
/// what Graph enforces, `acl show` and `access check` all read the same
/// entry; a name no synced user has is refused with the reason. An object id
/// casbah has not synced yet is sent as it is.
fn users_by_object_id(acl: Vec<AclEntry>, cache: &AccessCache) -> Result<Vec<AclEntry>> {
    acl.into_iter()
        .enumerate()
        .map(|(i, mut entry)| {
            if let Principal::User(value) = &mut entry.principal {
                match cache.user(value) {
                    Some(u) => *value = u.id.clone(),
                    None if is_object_id(value) => {}
                    None => {
                        return Err(ServiceError::Invalid(format!(
                            "ACL entry {} names user `{}`, who is not in the synced directory by that UPN, e-mail or id; Graph takes a user's object id (run `casbah sync` if the user is new)",
                            i + 1,
                            crate::domain::text::sanitize(value)
                        )));
                    }
                }
            }
            Ok(entry)
        })
        .collect()
}
