//! Issue 11: the audit trail of account actions, append-only. An attempt is
//! committed before its request is sent; its outcome is committed once, in a table
//! of its own, when the vendor answers. Nothing here edits or removes a row, so an
//! attempt without an outcome (casbah stopped between the two) reads as "sent,
//! result unknown", never as missing.

use redb::{ReadableTable, TableError};

use super::tables::{self, AUDIT, AUDIT_OUTCOMES, META, META_NEXT_AUDIT};
use super::{Result, Store, StoreError};
use crate::domain::Micros;
use crate::domain::governance::{AuditAttempt, AuditEntry, AuditOutcome};

impl Store {
    /// Records an attempt about to be sent; returns its number in the trail.
    pub fn audit_attempt(&self, attempt: &AuditAttempt) -> Result<u64> {
        let txn = self.write()?;
        let id = tables::next_id(&mut txn.open_table(META)?, META_NEXT_AUDIT)?;
        txn.open_table(AUDIT)?
            .insert(id, tables::encode(attempt)?.as_slice())?;
        txn.commit()?;
        Ok(id)
    }

    /// Records how attempt `id` ended. Written once: a second outcome is refused.
    pub fn audit_outcome(&self, id: u64, at: Micros, outcome: &AuditOutcome) -> Result<()> {
        let txn = self.write()?;
        if txn.open_table(AUDIT)?.get(id)?.is_none() {
            return Err(StoreError::NotFound(format!("audit entry {id}")));
        }
        let mut outcomes = txn.open_table(AUDIT_OUTCOMES)?;
        if outcomes.get(id)?.is_some() {
            return Err(StoreError::Internal(format!(
                "audit entry {id} already has its outcome; the trail is append-only"
            )));
        }
        outcomes.insert(id, tables::encode(&(at, outcome))?.as_slice())?;
        drop(outcomes);
        txn.commit()?;
        Ok(())
    }

    /// The whole trail, oldest first.
    pub fn audit_trail(&self) -> Result<Vec<AuditEntry>> {
        let txn = self.db.begin_read()?;
        let (attempts, outcomes) = match (txn.open_table(AUDIT), txn.open_table(AUDIT_OUTCOMES)) {
            (Ok(a), Ok(o)) => (a, o),
            // A file of this schema made before the trail was: nothing attempted yet.
            (Err(TableError::TableDoesNotExist(_)), _) => return Ok(Vec::new()),
            (Err(e), _) | (_, Err(e)) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for row in attempts.iter()? {
            let (id, bytes) = row?;
            let id = id.value();
            let attempt: AuditAttempt = tables::decode(bytes.value(), "audit")?;
            let (settled, outcome) = match outcomes.get(id)? {
                Some(v) => {
                    let (at, outcome): (Micros, AuditOutcome) =
                        tables::decode(v.value(), "audit outcome")?;
                    (Some(at), outcome)
                }
                None => (None, AuditOutcome::Unknown),
            };
            out.push(AuditEntry {
                id,
                attempt,
                settled,
                outcome,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppKind, InstanceId};

    fn attempt(target: &str) -> AuditAttempt {
        AuditAttempt {
            at: 1,
            by: "ann".into(),
            instance: InstanceId(1),
            instance_name: "Okta".into(),
            app: AppKind::Okta,
            action: "suspend".into(),
            target: target.into(),
            account_id: "00u1".into(),
            reason: "phished".into(),
        }
    }

    // Issue 11: an attempt is on the record before its outcome, the outcome is
    // written once, and an attempt never answered reads as unknown.
    #[test]
    fn the_trail_keeps_attempts_and_outcomes_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_with_keys(
            &dir.path().join("c.redb"),
            super::super::KeyStore::File(dir.path().join("key")),
        )
        .expect("store");
        let a = store.audit_attempt(&attempt("a@x.com")).expect("a");
        let b = store.audit_attempt(&attempt("b@x.com")).expect("b");
        assert!(b > a);
        let done = AuditOutcome::Done {
            status: 200,
            request_id: Some("r1".into()),
        };
        store.audit_outcome(a, 5, &done).expect("outcome");
        assert!(
            store.audit_outcome(a, 6, &AuditOutcome::Unknown).is_err(),
            "a second outcome is refused"
        );
        assert!(
            store.audit_outcome(99, 6, &done).is_err(),
            "no such attempt"
        );
        let trail = store.audit_trail().expect("trail");
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0].outcome, done);
        assert_eq!(trail[0].settled, Some(5));
        assert_eq!(trail[1].attempt.target, "b@x.com");
        assert_eq!(trail[1].outcome, AuditOutcome::Unknown);
        assert_eq!(trail[1].settled, None);
    }
}
