//! Graph connections of Microsoft 365 instances (R-X1).

use std::collections::HashMap;

use super::{ConnectionSummary, not_found, pending_groups};
use crate::service::{Event, Level, Local, Result};

use crate::connectors::microsoft365::external::ExternalConnections;
use crate::domain::InstanceId;
use crate::domain::external::{Connection, ConnectionId};

impl Local {
    /// Stored connections with their counts, of one instance or all.
    pub async fn external_connections(
        &self,
        instance: Option<&str>,
    ) -> Result<Vec<ConnectionSummary>> {
        let only = match instance {
            Some(name) => Some(self.find_instance(name).await?.id),
            None => None,
        };
        self.db(move |s| {
            let names: HashMap<InstanceId, String> =
                s.instances()?.into_iter().map(|i| (i.id, i.name)).collect();
            s.external_connections(only)?
                .into_iter()
                .map(|(instance, connection)| {
                    let data = s.connection_data(instance, &connection.id)?;
                    Ok(ConnectionSummary {
                        instance: names.get(&instance).cloned().unwrap_or_default(),
                        groups: data.groups.len(),
                        items: data.items.len(),
                        pending: pending_groups(&data).len(),
                        connection,
                    })
                })
                .collect()
        })
        .await
    }

    /// Reads the instance's connections from Graph and stores them;
    /// connections Graph no longer has are forgotten with their data.
    pub async fn refresh_connections(&self, instance: &str) -> Result<Vec<ConnectionSummary>> {
        let found = self.find_instance(instance).await?;
        let client = self.graph_client(&found).await?;
        let connections = client.connections().await?;
        let id = found.id;
        let stored = connections.clone();
        let before = self
            .db(move |s| {
                let before = s.external_connections(Some(id))?;
                s.replace_external_connections(id, &stored)?;
                Ok(before)
            })
            .await?;
        self.forget_access(id, None);
        // Those gone and those new or changed: every view of them is stale.
        let mut changed: Vec<ConnectionId> = before.into_iter().map(|(_, c)| c.id).collect();
        changed.extend(connections.into_iter().map(|c| c.id));
        changed.sort_by_key(|c| c.as_str().to_ascii_lowercase());
        changed.dedup_by(|a, b| a.as_str().eq_ignore_ascii_case(b.as_str()));
        for connection in changed {
            self.emit(Event::ExternalChanged { connection });
        }
        self.external_connections(Some(&found.name)).await
    }

    /// Creates a Graph connection in the instance's tenant.
    pub async fn add_connection(
        &self,
        instance: &str,
        id: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Connection> {
        let id = ConnectionId::parse(id.trim())?;
        let description = description
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        let connection = Connection::new(id, name.trim(), description)?;
        let found = self.find_instance(instance).await?;
        let client = self.graph_client(&found).await?;
        client.create_connection(&connection).await?;
        let (instance_id, stored) = (found.id, connection.clone());
        self.db(move |s| s.put_external_connection(instance_id, &stored))
            .await?;
        self.external_changed(found.id, &connection.id);
        Ok(connection)
    }

    /// Deletes a connection at Graph with its groups and items, then here.
    /// One Graph no longer has is forgotten here too.
    pub async fn delete_connection(&self, connection: &str) -> Result<()> {
        let target = self.target(connection).await?;
        let client = self.graph_client(&target.instance).await?;
        match client.delete_connection(target.id()).await {
            Ok(()) => {}
            Err(e) if not_found(&e) => {
                self.notify(
                    Level::Info,
                    format!("connection `{}` was already gone at Graph", target.id()),
                );
            }
            Err(e) => return Err(e.into()),
        }
        let (instance, cid) = (target.instance.id, target.id().clone());
        self.db(move |s| s.remove_external_connection(instance, &cid))
            .await?;
        self.external_changed(target.instance.id, target.id());
        Ok(())
    }
}
