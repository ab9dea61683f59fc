//! Saved queries (R-A3) and settings: small text tables.

use redb::ReadableTable;

use super::tables::{SAVED_QUERIES, SETTINGS};
use super::{Result, Store, StoreError};

impl Store {
    pub(super) fn save_query_impl(&self, name: &str, filter: &str) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(SAVED_QUERIES)?.insert(name, filter)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn saved_queries_impl(&self) -> Result<Vec<(String, String)>> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(SAVED_QUERIES)?.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    pub(super) fn delete_query_impl(&self, name: &str) -> Result<()> {
        let txn = self.write()?;
        if txn.open_table(SAVED_QUERIES)?.remove(name)?.is_none() {
            return Err(StoreError::NotFound(format!("saved query {name:?}")));
        }
        txn.commit()?;
        Ok(())
    }

    pub(super) fn setting_impl(&self, key: &str) -> Result<Option<String>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SETTINGS)?;
        Ok(table.get(key)?.map(|v| v.value().to_string()))
    }

    pub(super) fn set_setting_impl(&self, key: &str, value: &str) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(SETTINGS)?.insert(key, value)?;
        txn.commit()?;
        Ok(())
    }

    pub fn remove_setting(&self, key: &str) -> Result<()> {
        let txn = self.write()?;
        txn.open_table(SETTINGS)?.remove(key)?;
        txn.commit()?;
        Ok(())
    }
}
