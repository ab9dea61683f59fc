//! Issue 11: the app grants of each instance, replaced whole by each user scan.

use redb::{ReadableTable, TableError};

use super::tables::{self, GRANTS};
use super::{Result, Store};
use crate::domain::grants::Grant;
use crate::domain::{InstanceId, now_micros};

impl Store {
    /// The grants of `instance` are now `grants`, and only those. With `watch`, the
    /// grants not stored before raise the alerts of risky-grant policies (issue 12), in
    /// the same transaction: each is told once. Returns how many alerts were raised.
    pub fn replace_grants(
        &self,
        instance: InstanceId,
        grants: &[Grant],
        watch: bool,
    ) -> Result<usize> {
        let txn = self.write()?;
        let mut new = Vec::new();
        {
            let mut table = txn.open_table(GRANTS)?;
            for g in grants {
                if table.get((instance.0, g.id.as_str()))?.is_none() {
                    new.push(g);
                }
            }
            table.retain_in((instance.0, "")..(instance.0 + 1, ""), |_, _| false)?;
            for g in grants {
                table.insert((instance.0, g.id.as_str()), tables::encode(g)?.as_slice())?;
            }
        }
        let raised = match watch {
            true => super::alerting::risky_grants(&txn, &new, now_micros())?,
            false => 0,
        };
        txn.commit()?;
        Ok(raised)
    }

    /// A grant revoked: gone before the next scan says so.
    pub fn remove_grant(&self, instance: InstanceId, id: &str) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(GRANTS)?.remove((instance.0, id))?;
        txn.commit()?;
        Ok(())
    }

    /// The grants of one instance, or of all, by instance and grant id.
    pub fn grants(&self, instance: Option<InstanceId>) -> Result<Vec<(InstanceId, Grant)>> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(GRANTS) {
            Ok(t) => t,
            // A file of this schema made before grants were kept: none yet.
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let range = match instance {
            Some(id) => (id.0, "")..(id.0 + 1, ""),
            None => (0, "")..(u64::MAX, ""),
        };
        let mut out = Vec::new();
        for row in table.range(range)? {
            let (key, value) = row?;
            out.push((
                InstanceId(key.value().0),
                tables::decode(value.value(), "grant")?,
            ));
        }
        Ok(out)
    }
}
