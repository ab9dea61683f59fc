//! Instances, their credentials, scan states and sync cursors (R-C2, R-C4).

use redb::{ReadableTable, WriteTransaction};

use super::tables::{
    self, CREDENTIALS, CURSORS, IMPORTED, INSTANCES, META, META_NEXT_INSTANCE, SCANS, STREAM_SCANS,
};
use super::{NewInstance, Result, ScanKind, ScanState, Store, StoreError, external, groups, users};
use crate::domain::{Instance, InstanceId, Micros, Secret};

fn scan_code(kind: ScanKind) -> u8 {
    match kind {
        ScanKind::Users => 0,
        ScanKind::Groups => 1,
        ScanKind::Activities => 2,
    }
}

const SCAN_KINDS: [ScanKind; 3] = [ScanKind::Users, ScanKind::Groups, ScanKind::Activities];

fn not_found(id: InstanceId) -> StoreError {
    StoreError::NotFound(format!("instance {}", id.0))
}

pub(super) fn all(txn_tables: &impl ReadableTable<u64, &'static [u8]>) -> Result<Vec<Instance>> {
    let mut out = Vec::new();
    for row in txn_tables.iter()? {
        let (_, v) = row?;
        out.push(tables::decode::<Instance>(v.value(), "instance")?);
    }
    Ok(out)
}

pub(super) fn get(
    table: &impl ReadableTable<u64, &'static [u8]>,
    id: InstanceId,
) -> Result<Instance> {
    match table.get(id.0)? {
        Some(v) => tables::decode(v.value(), "instance"),
        None => Err(not_found(id)),
    }
}

impl Store {
    pub(super) fn add_instance_impl(
        &self,
        new: NewInstance,
        secret: &Secret,
        now: Micros,
    ) -> Result<Instance> {
        let txn = self.write()?;
        let instance = {
            let mut table = txn.open_table(INSTANCES)?;
            let existing = all(&table)?;
            let name_key = new.name.to_lowercase();
            for other in existing.iter().filter(|i| i.app == new.app) {
                if !new.app.info().multi_instance {
                    return Err(StoreError::SingleInstance {
                        app: new.app.slug(),
                        existing: other.name.clone(),
                    });
                }
                if other.name.to_lowercase() == name_key {
                    return Err(StoreError::DuplicateInstance {
                        app: new.app.slug(),
                        name: new.name,
                    });
                }
            }
            let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_INSTANCE)?;
            let instance = new.into_instance(InstanceId(id), now);
            table.insert(id, tables::encode(&instance)?.as_slice())?;
            txn.open_table(CREDENTIALS)?.insert(id, secret.expose())?;
            instance
        };
        txn.commit()?;
        Ok(instance)
    }

    pub(super) fn instances_impl(&self) -> Result<Vec<Instance>> {
        let txn = self.db.begin_read()?;
        all(&txn.open_table(INSTANCES)?)
    }

    pub(super) fn instance_impl(&self, id: InstanceId) -> Result<Instance> {
        let txn = self.db.begin_read()?;
        get(&txn.open_table(INSTANCES)?, id)
    }

    pub(super) fn secret_impl(&self, id: InstanceId) -> Result<Secret> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CREDENTIALS)?;
        let secret = table.get(id.0)?.ok_or_else(|| not_found(id))?;
        Ok(Secret::new(secret.value()))
    }

    pub(super) fn remove_instance_impl(&self, id: InstanceId) -> Result<()> {
        let txn = self.write()?;
        if txn.open_table(INSTANCES)?.remove(id.0)?.is_none() {
            return Err(not_found(id));
        }
        txn.open_table(CREDENTIALS)?.remove(id.0)?;
        remove_prefixed(&txn, id)?;
        users::remove_instance_users(&txn, id)?;
        external::remove_instance_external(&txn, id)?;
        let imported: Vec<u64> = {
            let table = txn.open_table(IMPORTED)?;
            let mut ids = Vec::new();
            for row in table.range((id.0, "")..(id.0 + 1, ""))? {
                ids.push(row?.1.value());
            }
            ids
        };
        for group in imported {
            groups::remove_in(&txn, group)?;
        }
        self.forget_tags(&txn)?;
        txn.commit()?;
        self.forget_aliases();
        Ok(())
    }

    pub(super) fn record_scan_impl(
        &self,
        id: InstanceId,
        kind: ScanKind,
        at: Micros,
        outcome: std::result::Result<Option<String>, String>,
    ) -> Result<()> {
        let txn = self.write()?;
        update_state(&txn, SCANS, (id.0, scan_code(kind)), id, at, outcome)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn record_stream_impl(
        &self,
        id: InstanceId,
        stream: &str,
        at: Micros,
        outcome: std::result::Result<Option<String>, String>,
    ) -> Result<()> {
        let txn = self.write()?;
        update_state(&txn, STREAM_SCANS, (id.0, stream), id, at, outcome)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn streams_impl(&self, id: InstanceId) -> Result<Vec<(String, ScanState)>> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(STREAM_SCANS) {
            Ok(t) => t,
            // A file of this schema made before the table was: no stream scanned yet.
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for row in table.range((id.0, "")..(id.0 + 1, ""))? {
            let (k, v) = row?;
            out.push((k.value().1.to_string(), tables::decode(v.value(), "scan")?));
        }
        Ok(out)
    }

    pub(super) fn scans_impl(&self, id: InstanceId) -> Result<Vec<(ScanKind, ScanState)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SCANS)?;
        let mut out = Vec::new();
        for kind in SCAN_KINDS {
            if let Some(v) = table.get((id.0, scan_code(kind)))? {
                out.push((kind, tables::decode(v.value(), "scan")?));
            }
        }
        Ok(out)
    }

    pub(super) fn cursor_impl(&self, id: InstanceId, stream: &str) -> Result<Option<String>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(CURSORS)?;
        Ok(table.get((id.0, stream))?.map(|v| v.value().to_string()))
    }
}

/// R-C4: records a scan's (or a stream's) attempt at `at`: its success with its note,
/// or its error, the last success kept.
fn update_state<'k, K: redb::Key + 'static>(
    txn: &WriteTransaction,
    table: redb::TableDefinition<K, &'static [u8]>,
    key: impl std::borrow::Borrow<K::SelfType<'k>> + Clone,
    id: InstanceId,
    at: Micros,
    outcome: std::result::Result<Option<String>, String>,
) -> Result<()> {
    if txn.open_table(INSTANCES)?.get(id.0)?.is_none() {
        return Err(not_found(id));
    }
    let mut table = txn.open_table(table)?;
    let mut state: ScanState = match table.get(key.clone())? {
        Some(v) => tables::decode(v.value(), "scan")?,
        None => ScanState::default(),
    };
    state.last_attempt = Some(at);
    match outcome {
        Ok(note) => {
            state.last_success = Some(at);
            state.last_error = None;
            state.note = note;
        }
        Err(e) => state.last_error = Some(e),
    }
    table.insert(key, tables::encode(&state)?.as_slice())?;
    Ok(())
}

/// Drops the scan states and cursors of an instance.
fn remove_prefixed(txn: &WriteTransaction, id: InstanceId) -> Result<()> {
    txn.open_table(SCANS)?
        .retain_in((id.0, 0u8)..=(id.0, u8::MAX), |_, _| false)?;
    txn.open_table(STREAM_SCANS)?
        .retain_in((id.0, "")..(id.0 + 1, ""), |_, _| false)?;
    txn.open_table(CURSORS)?
        .retain_in((id.0, "")..(id.0 + 1, ""), |_, _| false)?;
    Ok(())
}
