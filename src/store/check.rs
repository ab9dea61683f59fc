//! Damage: finding it, and never writing to it.
//!
//! redb trusts the pages it reads. A page damaged on disk (a bad sector, a copy cut
//! short, another program's write) can make it panic, return `Corrupted`, or hand casbah
//! bytes that do not decode, and a plain open notices none of it. redb's integrity check
//! reads every page and verifies its checksum. casbah runs it:
//! - before it opens an existing file for writing (`open`), since writing into a damaged
//!   file spreads the damage;
//! - when a read fails in a way only damage explains (`Store::guard`): once the check
//!   confirms it, the store writes nothing more, and the failure is one line naming the file;
//! - for `casbah db check`, and on every copy `casbah db backup` makes.
//!
//! The check runs on a scratch copy (see `scratch`): redb repairs what it can while it
//! checks, and a repair writes, here to memory only.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use redb::{Database, DatabaseError, ReadableDatabase, ReadableTableMetadata, TableDefinition};

use super::open::{
    builder, check_meta, damaged, io_error, open_error, panic_is_damage, panic_text, quietly,
};
use super::scratch::Scratch;
use super::tables::{self, GROUPS, INSTANCES, META, META_ACTIVITIES, USERS};
use super::{Result, Store, StoreError};

/// What `casbah db check` and `casbah db backup` checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Checked {
    pub path: String,
    pub bytes: u64,
    pub schema: u32,
    /// redb tables, every one of them walked by the check.
    pub tables: u64,
    pub instances: u64,
    pub users: u64,
    pub groups: u64,
    pub activities: u64,
}

/// A file that passed redb's integrity check; `db` reads it through the scratch copy the
/// check ran on.
pub(super) struct Verified {
    pub schema: u32,
    db: Database,
}

/// redb's integrity check of every page of the file at `path`, then casbah's schema, on a
/// scratch copy: nothing is written to the file. A file left by a crash is repaired first,
/// in the copy, as redb would repair it on open.
pub(super) fn verify(path: &Path) -> Result<Verified> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    panic_is_damage(path, || {
        let scratch = Scratch::new(file).map_err(|e| io_error(path, e))?;
        let mut db = builder()
            .create_with_backend(scratch)
            .map_err(|e| open_error(path, e))?;
        match db.check_integrity() {
            Ok(true) => {}
            // redb could make it whole only by dropping what a page held.
            Ok(false) => return Err(damaged(path, "redb's integrity check failed")),
            Err(DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() != ErrorKind::UnexpectedEof =>
            {
                return Err(io_error(path, e));
            }
            Err(e) => return Err(damaged(path, e)),
        }
        let schema = check_meta(path, &db)?;
        Ok(Verified { schema, db })
    })?
}

impl Checked {
    fn read(path: &Path, verified: &Verified) -> Result<Checked> {
        let bytes = std::fs::metadata(path)
            .map_err(|e| io_error(path, e))?
            .len();
        let txn = verified.db.begin_read()?;
        let tables = txn.list_tables()?.count() + txn.list_multimap_tables()?.count();
        Ok(Checked {
            path: path.display().to_string(),
            bytes,
            schema: verified.schema,
            tables: tables as u64,
            instances: rows(&txn, INSTANCES)?,
            users: rows(&txn, USERS)?,
            groups: rows(&txn, GROUPS)?,
            activities: tables::meta_get(&txn.open_table(META)?, META_ACTIVITIES)?,
        })
    }
}

fn rows<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<u64> {
    Ok(txn.open_table(table)?.len()?)
}

impl Store {
    /// Runs `f` (a few calls of this store's), turning what only damage explains into
    /// one error: a panic inside it (redb's on a damaged page, or casbah's on the bytes it
    /// handed over), redb's `Corrupted`, a record that does not decode. redb's integrity
    /// check decides: a damaged file is reported as `Damaged` and the store writes
    /// nothing more; a file that passes means a casbah bug, reported as such.
    pub fn guard<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        match quietly(|| f(self)) {
            Ok(Err(StoreError::Corrupt(what))) => Err(self.suspect(what)),
            Ok(done) => done,
            Err(panic) => Err(self.suspect(panic_text(&*panic))),
        }
    }

    fn suspect(&self, what: String) -> StoreError {
        if let Some(detail) = self.damage.get() {
            return self.damaged(detail);
        }
        let verdict = {
            let _paused = self.pause_writes();
            verify(&self.path)
        };
        match verdict {
            Ok(_) => StoreError::Internal(format!(
                "{what}; the file passes redb's integrity check, so this is a casbah bug: \
                 please report it"
            )),
            // The check's words say where (redb's panic on a read often does not).
            Err(StoreError::Damaged { detail, .. }) => {
                tracing::error!("a read failed on a damaged page: {what}");
                self.latch(&detail)
            }
            Err(other) => other,
        }
    }

    /// Damage confirmed: nothing is written from now on.
    fn latch(&self, detail: &str) -> StoreError {
        let detail = self
            .damage
            .get_or_init(|| crate::domain::text::sanitize(detail));
        tracing::error!(path = %self.path.display(), "the database is damaged: {detail}");
        self.damaged(detail)
    }

    pub(super) fn damaged(&self, detail: &str) -> StoreError {
        damaged(&self.path, detail)
    }

    /// Keeps this process's commits out while the file is read as a whole; they wait.
    /// Nothing to hold when the file was opened read-only: no one else can write then.
    /// The caller must not hold a write transaction itself.
    fn pause_writes(&self) -> Option<redb::WriteTransaction> {
        self.writer.as_ref().and_then(|db| db.begin_write().ok())
    }

    /// `casbah db check`: redb's integrity check of every page, then the schema, on a
    /// scratch copy (nothing is written); what was checked, or `Damaged`.
    pub fn check(&self) -> Result<Checked> {
        let verified = {
            let _paused = self.pause_writes();
            verify(&self.path)
        };
        match verified {
            Ok(verified) => Checked::read(&self.path, &verified),
            Err(StoreError::Damaged { detail, .. }) => Err(self.latch(&detail)),
            Err(other) => Err(other),
        }
    }

    /// `casbah db backup`: a consistent copy of the database at `dest`, a new file (0600,
    /// never one that exists, never through a symbolic link), that passes the same check as
    /// `check` or is removed. It works while this store is open for writing: commits wait
    /// while the bytes are copied.
    pub fn backup(&self, dest: &Path) -> Result<Checked> {
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(|e| match e.kind() {
                ErrorKind::AlreadyExists => io_error(
                    dest,
                    "it exists, and a backup never replaces a file; choose a new path",
                ),
                _ => io_error(dest, e),
            })?;
        let made = self.copy_into(&mut out, dest).and_then(|()| {
            drop(out);
            settle(dest)
        });
        match made {
            Ok(checked) => Ok(checked),
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                // The copy has the database's bytes: its damage is the database's.
                Err(match e {
                    StoreError::Damaged { detail, .. } => self.latch(&detail),
                    other => other,
                })
            }
        }
    }

    fn copy_into(&self, out: &mut File, dest: &Path) -> Result<()> {
        let _paused = self.pause_writes();
        let mut file = File::open(&self.path).map_err(|e| io_error(&self.path, e))?;
        std::io::copy(&mut file, out).map_err(|e| io_error(dest, e))?;
        out.sync_all().map_err(|e| io_error(dest, e))
    }
}

/// Checks a fresh copy, then opens it as casbah opens a database. A copy of a file open
/// for writing reads as one a crash left: having passed the check, it is repaired in place
/// by redb, as an open for writing would.
fn settle(copy: &Path) -> Result<Checked> {
    let checked = Checked::read(copy, &verify(copy)?)?;
    let open_read_only = || panic_is_damage(copy, || builder().open_read_only(copy).map(drop));
    if let Err(DatabaseError::RepairAborted) = open_read_only()? {
        panic_is_damage(copy, || builder().open(copy).map(drop))?
            .map_err(|e| open_error(copy, e))?;
    }
    open_read_only()?.map_err(|e| open_error(copy, e))?;
    Ok(checked)
}

impl Drop for Store {
    fn drop(&mut self) {
        // Closing writes redb's allocator state into the file: never into a damaged one.
        // Left as it is, the file reads as one a crash left, and the next open checks it.
        if self.damage.get().is_some()
            && let Some(db) = &self.writer
        {
            std::mem::forget(Arc::clone(db));
        }
    }
}
