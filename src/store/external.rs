//! Graph connections of Microsoft 365 instances, their external groups,
//! items and mirror links, and the Entra groups synced to evaluate access
//! (R-X1…R-X6).
//!
//! What is kept is what Graph last accepted from casbah (or sent to it): the
//! service writes here only after Graph answered yes, so a refused change
//! leaves nothing behind.
//!
//! Tables of their own, created on first write: a database made before
//! them reads as having none. Values are JSON (see `encode`).

use std::collections::BTreeSet;

use redb::{ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{self, USERS};
use super::{Result, Store, StoreError};
use crate::domain::external::{
    Connection, ConnectionId, EntraGroup, ExternalGroup, ExternalGroupId, Item, ItemId,
    UnmatchedUser,
};
use crate::domain::{GroupId, InstanceId, Micros, RemoteUser};

/// (instance, lower-cased connection id) → postcard `Connection`. Graph
/// looks connection ids up without regard to case, so the key does too.
const CONNECTIONS: TableDefinition<(u64, &str), &[u8]> =
    TableDefinition::new("external-connections");
/// (instance, lower-cased connection id, group id) → postcard `ExternalGroup`.
const GROUPS: TableDefinition<(u64, &str, &str), &[u8]> = TableDefinition::new("external-groups");
/// (instance, lower-cased connection id, item id) → postcard `ItemRecord`.
const ITEMS: TableDefinition<(u64, &str, &str), &[u8]> = TableDefinition::new("external-items");
/// (instance, lower-cased connection id, group id) → postcard `MirrorLink`.
const MIRRORS: TableDefinition<(u64, &str, &str), &[u8]> = TableDefinition::new("external-mirrors");
/// (instance, lower-cased Entra group id) → postcard `EntraGroup`, users
/// flattened (transitive).
const ENTRA_GROUPS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("entra-groups");

/// Records are JSON, not postcard: members and ACL entries are tagged
/// enums, which a format without field names cannot read back.
fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Internal(format!("cannot encode: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("a {what} record does not decode: {e}")))
}

/// An external item as casbah last put it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub item: Item,
    /// The `title` property, when the item has one.
    pub title: Option<String>,
    /// The item's properties and content: Graph's PUT replaces the whole
    /// item, so a later ACL-only change sends them again.
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub content: Option<serde_json::Value>,
}

/// R-X6: an external group that mirrors a casbah group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MirrorLink {
    pub group: ExternalGroupId,
    pub source: GroupId,
    /// Entra user ids the external group holds as casbah published them.
    pub published: BTreeSet<String>,
    /// Source users that match no Entra user, from the last sync.
    pub unmatched: Vec<UnmatchedUser>,
    /// When a sync last finished without error.
    pub last_sync: Option<Micros>,
    pub last_error: Option<String>,
}

/// Everything the store keeps about one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionData {
    pub groups: Vec<ExternalGroup>,
    pub items: Vec<ItemRecord>,
    pub mirrors: Vec<MirrorLink>,
}

fn key(id: &ConnectionId) -> String {
    id.as_str().to_ascii_lowercase()
}

/// Reads every row of `table` whose key starts with (instance, connection).
fn rows_of<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<(u64, &'static str, &'static str), &'static [u8]>,
    instance: InstanceId,
    connection: &str,
    what: &str,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for row in table.range((instance.0, connection, "")..)? {
        let (k, v) = row?;
        let (i, c, _) = k.value();
        if i != instance.0 || c != connection {
            break;
        }
        out.push(decode(v.value(), what)?);
    }
    Ok(out)
}

/// Removes every row of `table` whose key starts with (instance, connection).
fn remove_rows(
    txn: &WriteTransaction,
    def: TableDefinition<(u64, &str, &str), &[u8]>,
    instance: InstanceId,
    connection: &str,
) -> Result<()> {
    let mut table = txn.open_table(def)?;
    let mut keys = Vec::new();
    for row in table.range((instance.0, connection, "")..)? {
        let (k, _) = row?;
        let (i, c, rest) = k.value();
        if i != instance.0 || c != connection {
            break;
        }
        keys.push(rest.to_string());
    }
    for k in keys {
        table.remove((instance.0, connection, k.as_str()))?;
    }
    Ok(())
}

fn remove_connection_in(
    txn: &WriteTransaction,
    instance: InstanceId,
    connection: &str,
) -> Result<()> {
    txn.open_table(CONNECTIONS)?
        .remove((instance.0, connection))?;
    for def in [GROUPS, ITEMS, MIRRORS] {
        remove_rows(txn, def, instance, connection)?;
    }
    Ok(())
}

/// Drops everything external of an instance, inside the caller's
/// transaction (called when the instance is removed).
pub(super) fn remove_instance_external(txn: &WriteTransaction, instance: InstanceId) -> Result<()> {
    let i = instance.0;
    txn.open_table(CONNECTIONS)?
        .retain_in((i, "")..(i + 1, ""), |_, _| false)?;
    for def in [GROUPS, ITEMS, MIRRORS] {
        txn.open_table(def)?
            .retain_in((i, "", "")..(i + 1, "", ""), |_, _| false)?;
    }
    txn.open_table(ENTRA_GROUPS)?
        .retain_in((i, "")..(i + 1, ""), |_, _| false)?;
    Ok(())
}

/// Opens a table for reading; one never written reads as absent.
macro_rules! read_table {
    ($txn:expr, $def:expr) => {
        match $txn.open_table($def) {
            Ok(t) => Some(t),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        }
    };
}

impl Store {
    pub(super) fn external_connections_impl(
        &self,
        instance: Option<InstanceId>,
    ) -> Result<Vec<(InstanceId, Connection)>> {
        let txn = self.db.begin_read()?;
        let Some(table) = read_table!(txn, CONNECTIONS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let rows = match instance {
            Some(i) => table.range((i.0, "")..(i.0 + 1, ""))?,
            None => table.range::<(u64, &str)>(..)?,
        };
        for row in rows {
            let (k, v) = row?;
            out.push((
                InstanceId(k.value().0),
                decode(v.value(), "external connection")?,
            ));
        }
        Ok(out)
    }

    pub(super) fn put_external_connection_impl(
        &self,
        instance: InstanceId,
        connection: &Connection,
    ) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(CONNECTIONS)?.insert(
            (instance.0, key(&connection.id).as_str()),
            encode(connection)?.as_slice(),
        )?;
        txn.commit()?;
        Ok(())
    }

    /// Replaces the instance's connections with Graph's list; the data of
    /// connections Graph no longer has goes with them.
    pub(super) fn replace_external_connections_impl(
        &self,
        instance: InstanceId,
        connections: &[Connection],
    ) -> Result<()> {
        let txn = self.write()?;
        {
            let keep: BTreeSet<String> = connections.iter().map(|c| key(&c.id)).collect();
            let gone: Vec<String> = {
                let table = txn.open_table(CONNECTIONS)?;
                let mut gone = Vec::new();
                for row in table.range((instance.0, "")..(instance.0 + 1, ""))? {
                    let (k, _) = row?;
                    let c = k.value().1;
                    if !keep.contains(c) {
                        gone.push(c.to_string());
                    }
                }
                gone
            };
            for c in gone {
                remove_connection_in(&txn, instance, &c)?;
            }
            let mut table = txn.open_table(CONNECTIONS)?;
            for c in connections {
                table.insert((instance.0, key(&c.id).as_str()), encode(c)?.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    pub(super) fn remove_external_connection_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
    ) -> Result<()> {
        let txn = self.write()?;
        remove_connection_in(&txn, instance, &key(connection))?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn connection_data_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
    ) -> Result<ConnectionData> {
        let txn = self.db.begin_read()?;
        let c = key(connection);
        let mut data = ConnectionData {
            groups: Vec::new(),
            items: Vec::new(),
            mirrors: Vec::new(),
        };
        if let Some(t) = read_table!(txn, GROUPS) {
            data.groups = rows_of(&t, instance, &c, "external group")?;
        }
        if let Some(t) = read_table!(txn, ITEMS) {
            data.items = rows_of(&t, instance, &c, "external item")?;
        }
        if let Some(t) = read_table!(txn, MIRRORS) {
            data.mirrors = rows_of(&t, instance, &c, "mirror link")?;
        }
        Ok(data)
    }

    pub(super) fn external_group_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<Option<ExternalGroup>> {
        let txn = self.db.begin_read()?;
        let Some(t) = read_table!(txn, GROUPS) else {
            return Ok(None);
        };
        match t.get((instance.0, key(connection).as_str(), group.as_str()))? {
            Some(v) => Ok(Some(decode(v.value(), "external group")?)),
            None => Ok(None),
        }
    }

    pub(super) fn put_external_group_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroup,
        mirror: Option<&MirrorLink>,
    ) -> Result<()> {
        let txn = self.write()?;
        let c = key(connection);
        txn.open_table(GROUPS)?.insert(
            (instance.0, c.as_str(), group.id.as_str()),
            encode(group)?.as_slice(),
        )?;
        if let Some(link) = mirror {
            txn.open_table(MIRRORS)?.insert(
                (instance.0, c.as_str(), link.group.as_str()),
                encode(link)?.as_slice(),
            )?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Removes the group and the mirror link that fed it.
    pub(super) fn remove_external_group_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<()> {
        let txn = self.write()?;
        let k = (instance.0, key(connection), group.as_str());
        txn.open_table(GROUPS)?.remove((k.0, k.1.as_str(), k.2))?;
        txn.open_table(MIRRORS)?.remove((k.0, k.1.as_str(), k.2))?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn external_item_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<Option<ItemRecord>> {
        let txn = self.db.begin_read()?;
        let Some(t) = read_table!(txn, ITEMS) else {
            return Ok(None);
        };
        match t.get((instance.0, key(connection).as_str(), item.as_str()))? {
            Some(v) => Ok(Some(decode(v.value(), "external item")?)),
            None => Ok(None),
        }
    }

    pub(super) fn put_external_item_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        record: &ItemRecord,
    ) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(ITEMS)?.insert(
            (
                instance.0,
                key(connection).as_str(),
                record.item.id.as_str(),
            ),
            encode(record)?.as_slice(),
        )?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn remove_external_item_impl(
        &self,
        instance: InstanceId,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(ITEMS)?
            .remove((instance.0, key(connection).as_str(), item.as_str()))?;
        txn.commit()?;
        Ok(())
    }

    /// Every mirror link of every connection.
    pub(super) fn mirror_links_impl(&self) -> Result<Vec<(InstanceId, String, MirrorLink)>> {
        let txn = self.db.begin_read()?;
        let Some(t) = read_table!(txn, MIRRORS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range::<(u64, &str, &str)>(..)? {
            let (k, v) = row?;
            let (i, c, _) = k.value();
            out.push((
                InstanceId(i),
                c.to_string(),
                decode(v.value(), "mirror link")?,
            ));
        }
        Ok(out)
    }

    pub(super) fn put_entra_groups_impl(
        &self,
        instance: InstanceId,
        groups: &[EntraGroup],
    ) -> Result<()> {
        let txn = self.write()?;
        {
            let mut table = txn.open_table(ENTRA_GROUPS)?;
            for g in groups {
                table.insert(
                    (instance.0, g.id.to_ascii_lowercase().as_str()),
                    encode(g)?.as_slice(),
                )?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    pub(super) fn remove_entra_groups_impl(
        &self,
        instance: InstanceId,
        ids: &[String],
    ) -> Result<()> {
        let txn = self.write()?;
        {
            let mut table = txn.open_table(ENTRA_GROUPS)?;
            for id in ids {
                table.remove((instance.0, id.to_ascii_lowercase().as_str()))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    pub(super) fn entra_groups_impl(&self, instance: InstanceId) -> Result<Vec<EntraGroup>> {
        let txn = self.db.begin_read()?;
        let Some(t) = read_table!(txn, ENTRA_GROUPS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((instance.0, "")..(instance.0 + 1, ""))? {
            out.push(decode(row?.1.value(), "Entra group")?);
        }
        Ok(out)
    }

    /// The users the instance's last user scan stored.
    pub(super) fn instance_users_impl(&self, instance: InstanceId) -> Result<Vec<RemoteUser>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(USERS)?;
        let mut out = Vec::new();
        for row in table.range((instance.0, "")..(instance.0 + 1, ""))? {
            out.push(tables::decode(row?.1.value(), "user")?);
        }
        Ok(out)
    }
}
