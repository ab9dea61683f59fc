//! The database file itself: its integrity check and consistent backups.

use std::path::Path;

use super::{Local, Result};
use crate::store::Checked;

impl Local {
    /// redb's integrity check of every page, then the schema; nothing is written. A
    /// damaged file is `StoreError::Damaged`, and nothing is written to it afterwards.
    pub async fn check_database(&self) -> Result<Checked> {
        self.db(|s| s.check()).await
    }

    /// A consistent copy of the database at `dest`: a new file, 0600, that passed the
    /// same check. Syncs running in this process wait while the bytes are copied.
    pub async fn backup_database(&self, dest: &Path) -> Result<Checked> {
        let dest = dest.to_owned();
        self.db(move |s| s.backup(&dest)).await
    }
}
