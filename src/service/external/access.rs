//! Who can see an item, and why (R-X5).

use super::cache::resolve_user;
use super::{AccessAnswer, AudienceEntry, AudienceView, VisibleItem};
use crate::service::{Local, Result, ServiceError};

use crate::domain::external::{Access, ConnectionId, DirectoryUser, ItemId};

impl Local {
    /// The synced users of the connection's instance (the access checker's
    /// user picker).
    pub async fn directory_users(&self, connection: &str) -> Result<Vec<DirectoryUser>> {
        let target = self.target(connection).await?;
        Ok(self.access_cache(&target).await?.users.clone())
    }

    /// R-X5: grant, deny or none for one user and item, with the path.
    pub async fn access_check(
        &self,
        connection: &str,
        item: &str,
        user: &str,
    ) -> Result<AccessAnswer> {
        ConnectionId::parse(connection.trim())?;
        let item = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let record = self.item_record(&target, &item).await?;
        let cache = self.access_cache(&target).await?;
        let user = resolve_user(&cache, user)?.clone();
        let decision = cache
            .index
            .check(&record.item.acl, &user.id)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(AccessAnswer {
            user,
            item,
            decision,
        })
    }

    /// R-X5: who is granted and who is denied an item.
    pub async fn access_who(&self, connection: &str, item: &str) -> Result<AudienceView> {
        ConnectionId::parse(connection.trim())?;
        let item = ItemId::parse(item)?;
        let target = self.target(connection).await?;
        let record = self.item_record(&target, &item).await?;
        let cache = self.access_cache(&target).await?;
        let audience = cache.index.who_can_see(&record.item.acl);
        Ok(AudienceView {
            rows: audience
                .rows
                .iter()
                .map(|r| AudienceEntry {
                    user_id: r.user_id.to_string(),
                    name: r.name.to_string(),
                    decision: r.decision,
                    entry: r.entry,
                })
                .collect(),
            granted: audience.granted,
            denied: audience.denied,
            pending: audience.pending,
            cycles: audience.cycles,
            notes: audience.notes,
        })
    }

    /// R-X5: the items a user can see, each with the path that grants it.
    pub async fn access_items(&self, connection: &str, user: &str) -> Result<Vec<VisibleItem>> {
        ConnectionId::parse(connection.trim())?;
        let target = self.target(connection).await?;
        let data = self.connection_data(&target).await?;
        let cache = self.access_cache(&target).await?;
        let user = resolve_user(&cache, user)?;
        // One walk up from the user serves every item.
        let membership = cache
            .index
            .membership(&user.id)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(data
            .items
            .iter()
            .filter_map(|r| {
                let decision = cache.index.decide(&r.item.acl, &membership);
                (decision.decision == Access::Grant).then(|| VisibleItem {
                    item: r.item.id.clone(),
                    title: r.title.clone(),
                    decision,
                })
            })
            .collect())
    }
}
