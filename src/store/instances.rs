//! Instances, their credentials, scan states and sync cursors (R-C2, R-C4).

use std::sync::{Arc, PoisonError};

use redb::{ReadableTable, WriteTransaction};

use super::tables::{
    self, CURSORS, IMPORTED, INSTANCES, META, META_NEXT_INSTANCE, PLAIN_CREDENTIALS, SCANS,
    SEALED_CREDENTIALS, STREAM_SCANS, VAULT, VAULT_KEY_STORE,
};
use super::vault::Vault;
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

/// Seals `secret` for instance `id` in `txn`, recording where the key is kept.
fn seal_in(txn: &WriteTransaction, vault: &Vault, id: u64, secret: &Secret) -> Result<()> {
    let mut places = txn.open_table(VAULT)?;
    if places.get(VAULT_KEY_STORE)?.is_none() {
        places.insert(VAULT_KEY_STORE, vault.place.as_str())?;
    }
    txn.open_table(SEALED_CREDENTIALS)?
        .insert(id, vault.seal(id, secret)?.as_slice())?;
    txn.open_table(PLAIN_CREDENTIALS)?.remove(id)?;
    Ok(())
}

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
        let vault = self.vault()?;
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
            seal_in(&txn, &vault, id, secret)?;
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
        // Before the read, since it may seal the secrets again (see `vault`).
        let vault = self.vault();
        let txn = self.db.begin_read()?;
        if let Some(sealed) = txn.open_table(SEALED_CREDENTIALS)?.get(id.0)? {
            return Ok(vault?.unseal(id.0, sealed.value())?);
        }
        // Left in plain text only where no key could be had (see `seal_plain_credentials`).
        let plain = txn.open_table(PLAIN_CREDENTIALS)?;
        let secret = plain.get(id.0)?.ok_or_else(|| not_found(id))?;
        Ok(Secret::new(secret.value()))
    }

    /// Replaces the secret of instance `id`.
    pub(super) fn set_secret_impl(&self, id: InstanceId, secret: &Secret) -> Result<()> {
        let vault = self.vault()?;
        let txn = self.write()?;
        get(&txn.open_table(INSTANCES)?, id)?;
        seal_in(&txn, &vault, id.0, secret)?;
        txn.commit()?;
        Ok(())
    }

    /// Replaces the fields and endpoint of `moved`'s instance, and its secret, in one
    /// transaction; its name, app, components and data stay.
    pub(super) fn reconnect_instance_impl(&self, moved: &Instance, secret: &Secret) -> Result<()> {
        let vault = self.vault()?;
        let txn = self.write()?;
        {
            let mut table = txn.open_table(INSTANCES)?;
            let saved = get(&table, moved.id)?;
            let updated = Instance {
                fields: moved.fields.clone(),
                endpoint: moved.endpoint.clone(),
                ..saved
            };
            table.insert(moved.id.0, tables::encode(&updated)?.as_slice())?;
        }
        seal_in(&txn, &vault, moved.id.0, secret)?;
        txn.commit()?;
        Ok(())
    }

    /// The key that seals this database's secrets, read on first need. Where the
    /// environment now gives another key than the one recorded (a service manager's
    /// credential, say), the secrets are sealed again with it, in one transaction.
    pub(super) fn vault(&self) -> Result<Arc<Vault>> {
        let mut slot = self.vault.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(vault) = &*slot {
            return Ok(vault.clone());
        }
        let recorded = {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(VAULT)?;
            table.get(VAULT_KEY_STORE)?.map(|v| v.value().to_owned())
        };
        let vault = Arc::new(Vault::open(&self.keys, recorded.as_deref())?);
        // A read-only store reads with the key given; the next write moves the secrets.
        if let Some(recorded) = recorded.filter(|r| *r != vault.place && self.writer.is_some()) {
            self.move_secrets(&recorded, &vault)?;
        }
        *slot = Some(vault.clone());
        Ok(vault)
    }

    /// Seals again with `vault` the secrets sealed with the key at `recorded`. Where that
    /// key cannot be had, or a secret does not open with it, the secret stays as it is:
    /// reading it says to give it again.
    fn move_secrets(&self, recorded: &str, vault: &Vault) -> Result<()> {
        let old = match Vault::recorded(recorded) {
            Ok(old) => old,
            Err(e) => {
                tracing::warn!(error = %e, now = %vault.place, "secrets not moved to the key now given");
                return Ok(());
            }
        };
        let txn = self.write()?;
        let resealed: Vec<(u64, Vec<u8>)> = {
            let table = txn.open_table(SEALED_CREDENTIALS)?;
            let mut out = Vec::new();
            for row in table.iter()? {
                let (id, sealed) = row?;
                if let Ok(secret) = old.unseal(id.value(), sealed.value()) {
                    out.push((id.value(), vault.seal(id.value(), &secret)?));
                }
            }
            out
        };
        let mut table = txn.open_table(SEALED_CREDENTIALS)?;
        for (id, sealed) in &resealed {
            table.insert(id, sealed.as_slice())?;
        }
        drop(table);
        txn.open_table(VAULT)?
            .insert(VAULT_KEY_STORE, vault.place.as_str())?;
        txn.commit()?;
        tracing::info!(from = %recorded, to = %vault.place, secrets = resealed.len(), "secrets sealed with the key now given");
        Ok(())
    }

    /// Seals the secrets an earlier casbah kept in plain text. Where no key can be had
    /// they stay as they are, and are read as they are, until one can.
    pub(super) fn seal_plain_credentials(&self) -> Result<()> {
        let plain: Vec<(u64, Secret)> = {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(PLAIN_CREDENTIALS)?;
            let mut out = Vec::new();
            for row in table.iter()? {
                let (id, secret) = row?;
                out.push((id.value(), Secret::new(secret.value())));
            }
            out
        };
        if plain.is_empty() {
            return Ok(());
        }
        let vault = match self.vault() {
            Ok(vault) => vault,
            Err(e) => {
                tracing::warn!(error = %e, "secrets left in plain text until a key can be had");
                return Ok(());
            }
        };
        let txn = self.write()?;
        for (id, secret) in &plain {
            seal_in(&txn, &vault, *id, secret)?;
        }
        txn.commit()?;
        tracing::info!(secrets = plain.len(), place = %vault.place, "plain-text secrets sealed");
        Ok(())
    }

    pub(super) fn remove_instance_impl(&self, id: InstanceId) -> Result<()> {
        let txn = self.write()?;
        if txn.open_table(INSTANCES)?.remove(id.0)?.is_none() {
            return Err(not_found(id));
        }
        txn.open_table(SEALED_CREDENTIALS)?.remove(id.0)?;
        txn.open_table(PLAIN_CREDENTIALS)?.remove(id.0)?;
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
    txn.open_table(super::tables::GRANTS)?
        .retain_in((id.0, "")..(id.0 + 1, ""), |_, _| false)?;
    Ok(())
}

/// Issue 12: the secrets notices use, sealed beside the instances' under ids no
/// instance takes (instance ids count up from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NoticeSecret {
    SmtpPassword,
    WebhookSigning,
}

impl NoticeSecret {
    fn id(self) -> u64 {
        match self {
            NoticeSecret::SmtpPassword => u64::MAX - 1,
            NoticeSecret::WebhookSigning => u64::MAX - 2,
        }
    }
}

impl Store {
    pub fn notice_secret(&self, which: NoticeSecret) -> Result<Option<Secret>> {
        match self.secret_impl(InstanceId(which.id())) {
            Ok(secret) => Ok(Some(secret)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the secret, or forgets it.
    pub fn set_notice_secret(&self, which: NoticeSecret, secret: Option<&Secret>) -> Result<()> {
        let vault = self.vault()?;
        let txn = self.write()?;
        match secret {
            Some(secret) => seal_in(&txn, &vault, which.id(), secret)?,
            None => {
                txn.open_table(SEALED_CREDENTIALS)?.remove(which.id())?;
                txn.open_table(PLAIN_CREDENTIALS)?.remove(which.id())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}
