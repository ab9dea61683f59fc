//! Issue 12: policies, alerts and the notices queued for them. Alerts are raised by the
//! commit of a page (`alerting`); here they are read and moved through their states,
//! and notices are handed to the sender and their outcome kept.

use redb::{ReadableTable, TableError, WriteTransaction};

use super::tables::{
    self, ALERTS, DELIVERIES, META, META_NEXT_DELIVERY, META_NEXT_POLICY, META_POLICIES_VERSION,
    POLICIES,
};
use super::{Result, Store, StoreError};
use crate::domain::Micros;
use crate::domain::notice::{Delivery, DeliveryState, GIVE_UP_AFTER};
use crate::domain::policy::{Alert, Policy, StateChange};

/// Reads every row of a table that may not exist yet (a file made before policies).
fn rows<T: serde::de::DeserializeOwned>(
    txn: &redb::ReadTransaction,
    def: redb::TableDefinition<u64, &[u8]>,
    what: &str,
) -> Result<Vec<T>> {
    let table = match txn.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()? {
        out.push(tables::decode(row?.1.value(), what)?);
    }
    Ok(out)
}

/// Queues `delivery` in `txn`, with the transaction that raised what it tells of.
pub(super) fn queue_delivery(
    txn: &WriteTransaction,
    mut delivery: Delivery,
    now: Micros,
) -> Result<u64> {
    let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_DELIVERY)?;
    delivery.id = id;
    delivery.created_at = now;
    delivery.next_at = now;
    txn.open_table(DELIVERIES)?
        .insert(id, tables::encode(&delivery)?.as_slice())?;
    Ok(id)
}

impl Store {
    /// Stores a new policy (`id` 0) or replaces one; names are unique, ignoring case.
    /// Returns its id and the policies' new version.
    pub fn put_policy(&self, policy: &Policy) -> Result<(u64, u64)> {
        let txn = self.write()?;
        let mut policy = policy.clone();
        {
            let mut table = txn.open_table(POLICIES)?;
            for row in table.iter()? {
                let (id, bytes) = row?;
                let other: Policy = tables::decode(bytes.value(), "policy")?;
                if id.value() != policy.id && other.name.eq_ignore_ascii_case(&policy.name) {
                    return Err(StoreError::Refused(format!(
                        "a policy named {:?} exists already; choose another name or edit it",
                        other.name
                    )));
                }
            }
            if policy.id == 0 {
                policy.id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_POLICY)?;
            } else if table.get(policy.id)?.is_none() {
                return Err(StoreError::NotFound(format!("policy {}", policy.id)));
            }
            table.insert(policy.id, tables::encode(&policy)?.as_slice())?;
        }
        let version = advance(&txn)?;
        txn.commit()?;
        Ok((policy.id, version))
    }

    /// Removes a policy; its alerts stay. Returns the
    /// policies' new version.
    pub fn delete_policy(&self, id: u64) -> Result<u64> {
        let txn = self.write()?;
        if txn.open_table(POLICIES)?.remove(id)?.is_none() {
            return Err(StoreError::NotFound(format!("policy {id}")));
        }
        let version = advance(&txn)?;
        txn.commit()?;
        Ok(version)
    }

    /// Every policy, by id, and the version they are at.
    pub fn policies(&self) -> Result<(Vec<Policy>, u64)> {
        let txn = self.db.begin_read()?;
        let version = tables::meta_get(&txn.open_table(META)?, META_POLICIES_VERSION)?;
        Ok((rows(&txn, POLICIES, "policy")?, version))
    }

    /// Every alert, oldest first.
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        rows(&self.db.begin_read()?, ALERTS, "alert")
    }

    pub fn alert(&self, id: u64) -> Result<Alert> {
        let txn = self.db.begin_read()?;
        let found = match txn.open_table(ALERTS) {
            Ok(t) => t.get(id)?.map(|v| tables::decode(v.value(), "alert")),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        found.unwrap_or_else(|| Err(StoreError::NotFound(format!("alert {id}"))))
    }

    /// Moves an alert to `change.state`, if its state allows; returns it as it is now.
    pub fn change_alert(&self, id: u64, change: StateChange) -> Result<Alert> {
        let txn = self.write()?;
        let alert = {
            let mut table = txn.open_table(ALERTS)?;
            let mut alert: Alert = match table.get(id)? {
                Some(v) => tables::decode(v.value(), "alert")?,
                None => return Err(StoreError::NotFound(format!("alert {id}"))),
            };
            alert
                .state
                .may_become(change.state)
                .map_err(|e| StoreError::Refused(format!("alert {id}: {e}")))?;
            alert.state = change.state;
            alert.updated_at = alert.updated_at.max(change.at);
            alert.history.push(change);
            table.insert(id, tables::encode(&alert)?.as_slice())?;
            alert
        };
        txn.commit()?;
        Ok(alert)
    }

    /// Queues a notice that no alert calls for (an import's, R-G11; a test message).
    pub fn queue_notice(&self, delivery: Delivery, now: Micros) -> Result<u64> {
        let txn = self.write()?;
        let id = queue_delivery(&txn, delivery, now)?;
        txn.commit()?;
        Ok(id)
    }

    /// Every notice, oldest first.
    pub fn deliveries(&self) -> Result<Vec<Delivery>> {
        rows(&self.db.begin_read()?, DELIVERIES, "delivery")
    }

    /// Makes every notice not delivered due now (after its receiver was fixed); returns
    /// how many.
    pub fn retry_deliveries(&self, now: Micros) -> Result<usize> {
        let txn = self.write()?;
        let mut n = 0;
        {
            let mut table = txn.open_table(DELIVERIES)?;
            let mut due = Vec::new();
            for row in table.iter()? {
                let (id, bytes) = row?;
                let d: Delivery = tables::decode(bytes.value(), "delivery")?;
                if d.is_failing() {
                    due.push((id.value(), d));
                }
            }
            for (id, mut d) in due {
                d.state = DeliveryState::Pending;
                d.next_at = now;
                // A day of retries from now on.
                d.created_at = now;
                table.insert(id, tables::encode(&d)?.as_slice())?;
                n += 1;
            }
        }
        txn.commit()?;
        Ok(n)
    }

    /// Records one attempt at delivery `id`: delivered, or failed with `error` and
    /// retried after the backoff unless `retry` is false or it has been tried for
    /// `GIVE_UP_AFTER`.
    pub fn delivery_attempted(
        &self,
        id: u64,
        now: Micros,
        outcome: std::result::Result<(), (String, bool)>,
    ) -> Result<Delivery> {
        let txn = self.write()?;
        let delivery = {
            let mut table = txn.open_table(DELIVERIES)?;
            let mut d: Delivery = match table.get(id)? {
                Some(v) => tables::decode(v.value(), "delivery")?,
                None => return Err(StoreError::NotFound(format!("delivery {id}"))),
            };
            d.attempts += 1;
            match outcome {
                Ok(()) => {
                    d.state = DeliveryState::Delivered { at: now };
                    d.last_error = None;
                }
                Err((error, retry)) => {
                    d.last_error = Some(error);
                    d.next_at = now + Delivery::backoff(d.attempts - 1);
                    if !retry || now - d.created_at >= GIVE_UP_AFTER {
                        d.state = DeliveryState::Failed;
                    }
                }
            }
            table.insert(id, tables::encode(&d)?.as_slice())?;
            d
        };
        txn.commit()?;
        Ok(delivery)
    }
}

fn advance(txn: &WriteTransaction) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let version = tables::meta_get(&meta, META_POLICIES_VERSION)? + 1;
    meta.insert(META_POLICIES_VERSION, version)?;
    Ok(version)
}

impl Store {
    /// What compiled policies depend on: the policies' version and the tags' (groups and
    /// memberships, which group names and `persongroup:` resolve to).
    pub fn policy_inputs(&self) -> Result<(u64, u64)> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok((
            tables::meta_get(&meta, META_POLICIES_VERSION)?,
            tables::meta_get(&meta, tables::META_TAGS_VERSION)?,
        ))
    }

    /// Whether `actor`'s account in `instance` is suspended, disabled or deleted.
    pub fn account_inactive(&self, instance: u64, actor: &str) -> Result<bool> {
        let txn = self.db.begin_read()?;
        super::alerting::account_inactive(
            &txn.open_table(tables::USERS)?,
            &txn.open_multimap_table(tables::USER_ACCOUNTS)?,
            instance,
            actor,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grants::{Grant, GrantKind};
    use crate::domain::policy::{Detector, template};
    use crate::domain::{InstanceId, notice::Channel};

    fn store(dir: &tempfile::TempDir) -> Store {
        Store::open_with_keys(
            &dir.path().join("c.redb"),
            super::super::KeyStore::File(dir.path().join("key")),
        )
        .expect("store")
    }

    fn grant(id: &str, scopes: &[&str]) -> Grant {
        Grant {
            id: id.into(),
            kind: GrantKind::User,
            app_id: "app-1".into(),
            app_name: "Mail Helper".into(),
            user: Some("ana@example.com".into()),
            account_id: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            granted_at: Some(1_000),
            revocable: true,
        }
    }

    // Issue 12: a new grant with a risky scope raises the risky-grant template's alert
    // once, with its notice queued in the same transaction; a harmless one, or one
    // seen before, raises nothing.
    #[test]
    fn a_new_risky_grant_raises_one_alert() {
        let dir = tempfile::tempdir().expect("dir");
        let store = store(&dir);
        let t = template("risky-grant").expect("template");
        let mut policy = Policy::new("Risky grants", "");
        (policy.detector, policy.enabled) = (t.detector, true);
        policy.notify.webhook = true;
        store.put_policy(&policy).expect("policy");
        assert_eq!(policy.detector, Detector::RiskyGrant);
        let instance = InstanceId(1);
        let first = [grant("g1", &["Mail.Read"])];
        assert_eq!(store.replace_grants(instance, &first, false).unwrap(), 0);
        let later = [
            grant("g1", &["Mail.Read"]),
            grant("g2", &["Files.ReadWrite.All"]),
            grant("g3", &["openid", "profile"]),
        ];
        assert_eq!(store.replace_grants(instance, &later, true).unwrap(), 1);
        assert_eq!(store.replace_grants(instance, &later, true).unwrap(), 0);
        let alerts = store.alerts().unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].key, "ana@example.com");
        assert!(
            alerts[0].summary().contains("Files.ReadWrite.All"),
            "{}",
            alerts[0].summary()
        );
        let queued = store.deliveries().unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(
            (queued[0].alert, &queued[0].channel),
            (Some(alerts[0].id), &Channel::Webhook)
        );
    }

    // Issue 12: a notice is retried with a growing wait, and given up after a day or
    // at once when the receiver refuses it for good.
    #[test]
    fn deliveries_back_off_and_give_up() {
        let dir = tempfile::tempdir().expect("dir");
        let store = store(&dir);
        let d = Delivery::new(None, Channel::Webhook, "s".into(), "t".into());
        let id = store.queue_notice(d.clone(), 0).unwrap();
        let once = store
            .delivery_attempted(id, 10, Err(("503".into(), true)))
            .unwrap();
        assert_eq!(
            (once.state.clone(), once.next_at),
            (DeliveryState::Pending, 10 + 30_000_000)
        );
        let twice = store
            .delivery_attempted(id, 20, Err(("503".into(), true)))
            .unwrap();
        assert_eq!(twice.next_at, 20 + 60_000_000);
        let late = store
            .delivery_attempted(id, GIVE_UP_AFTER, Err(("503".into(), true)))
            .unwrap();
        assert_eq!(late.state, DeliveryState::Failed);
        assert!(late.is_failing());
        assert_eq!(store.retry_deliveries(GIVE_UP_AFTER + 1).unwrap(), 1);
        let id2 = store.queue_notice(d, 0).unwrap();
        let refused = store
            .delivery_attempted(id2, 5, Err(("400".into(), false)))
            .unwrap();
        assert_eq!(refused.state, DeliveryState::Failed);
        let sent = store
            .delivery_attempted(id, GIVE_UP_AFTER + 2, Ok(()))
            .unwrap();
        assert_eq!(
            sent.state,
            DeliveryState::Delivered {
                at: GIVE_UP_AFTER + 2
            }
        );
        assert!(!sent.is_failing());
    }
}
