//! Opening the file: permissions, the lock, and refusing files that are not casbah's or
//! are damaged.
//!
//! An existing file is first opened read-only, which never writes, to check that it is a
//! casbah database of the expected schema. A command that only reads keeps that handle.
//! Writing to a damaged file spreads the damage (issue 10: a sync grew a damaged 33.7 MB
//! file to 67.1 MB), so before a file is opened for writing, every page of it passes
//! redb's integrity check, run on a scratch copy (see `check::verify`), which writes
//! nothing either; after a crash that is also where redb's repair is tried first.

use std::cell::Cell;
use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use redb::{Database, DatabaseError, ReadOnlyDatabase, ReadableDatabase, TableError};

use super::check;
use super::migrate;
use super::tables::{self, META, META_SCHEMA, SCHEMA_VERSION};
use super::{Result, StoreError};

/// Bounded so that a large database does not grow the process (the default is 1 GiB).
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The first bytes of every redb file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

pub enum Opened {
    Write(Database),
    Read(ReadOnlyDatabase),
}

pub(super) fn io_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

fn not_casbah(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::NotCasbah {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

pub(super) fn damaged(path: &Path, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged {
        path: path.display().to_string(),
        detail: crate::domain::text::sanitize(&detail.to_string()),
    }
}

/// Returns memory freed to the allocator (mimalloc, casbah's global allocator) to the
/// system at once, rather than when later allocations happen to purge it.
fn release_freed_memory() {
    // SAFETY: mi_collect only walks mimalloc's own heaps; with another global allocator
    // they are empty and the call does nothing.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

pub(super) fn builder() -> redb::Builder {
    let mut b = Database::builder();
    b.set_cache_size(CACHE_BYTES);
    b
}

pub fn open(path: &Path, mode: Mode) -> Result<Opened> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| io_error(parent, e))?;
    }
    let existing = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(io_error(path, "it is a folder")),
        // Opening a pipe for writing would wait for a reader forever.
        Ok(m) if !m.is_file() => {
            return Err(io_error(
                path,
                "it is not a regular file (a pipe or a device)",
            ));
        }
        // Never silently started afresh: it may be a database whose content was lost.
        Ok(m) if m.len() == 0 => return Err(not_casbah(path, "it is empty")),
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_error(path, e)),
    };
    if existing {
        open_existing(path, mode)
    } else {
        create(path).map(Opened::Write)
    }
}

fn create(path: &Path) -> Result<Database> {
    // Created here rather than by redb so that it is never readable by others, not even briefly.
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    restrict(path)?;
    let db = builder().create(path).map_err(|e| open_error(path, e))?;
    let txn = super::begin_write(&db)?;
    {
        let mut meta = txn.open_table(META)?;
        meta.insert(META_SCHEMA, u64::from(SCHEMA_VERSION))?;
    }
    super::create_tables(&txn)?;
    txn.commit()?;
    Ok(db)
}

fn restrict(path: &Path) -> Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(0o600)).map_err(|e| io_error(path, e))
}

fn open_existing(path: &Path, mode: Mode) -> Result<Opened> {
    let mut magic = [0u8; REDB_MAGIC.len()];
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    if file.read_exact(&mut magic).is_err() || magic != REDB_MAGIC {
        return Err(not_casbah(path, "not a redb file"));
    }
    drop(file);

    let found = match panic_is_damage(path, || builder().open_read_only(path))? {
        Ok(db) => {
            let found = panic_is_damage(path, || check_meta(path, &db))??;
            if mode == Mode::Read && found == SCHEMA_VERSION {
                restrict(path)?;
                return Ok(Opened::Read(db));
            }
            // Checked while `db` still keeps other casbah processes from writing.
            check::verify(path)?.schema
        }
        // Not shut down cleanly: repaired on a scratch copy, and checked there.
        Err(DatabaseError::RepairAborted) => check::verify(path)?.schema,
        Err(e) => return Err(open_error(path, e)),
    };

    // The check read every page through a cache of its own, now freed: hand that memory
    // back, or a long-lived process (`casbah serve`) keeps it while it idles.
    release_freed_memory();
    let db = panic_is_damage(path, || builder().open(path))?.map_err(|e| open_error(path, e))?;
    restrict(path)?;
    if found != SCHEMA_VERSION {
        let txn = super::begin_write(&db)?;
        migrate::migrate(&txn, found)?;
        super::create_tables(&txn)?;
        txn.commit()?;
        tracing::info!(path = %path.display(), from = found, to = SCHEMA_VERSION, "database migrated");
    }
    Ok(Opened::Write(db))
}

thread_local! {
    static EXPECTING_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// True while this thread runs redb over a file that may be damaged, where a
/// panic is an expected answer ("not casbah's"), not a bug: the panic hook
/// then logs it instead of printing it.
pub fn panics_are_expected() -> bool {
    EXPECTING_PANICS.with(Cell::get)
}

/// Runs `f`, turning a panic into `Err` and marking it as expected. Nests.
pub(super) fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let before = EXPECTING_PANICS.with(|e| e.replace(true));
    let out = catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANICS.with(|e| e.set(before));
    out
}

/// Runs `f`, redb over the file at `path`. redb trusts a file's pages and may panic on a
/// damaged one: such a panic means damage.
pub(super) fn panic_is_damage<R>(path: &Path, f: impl FnOnce() -> R) -> Result<R> {
    quietly(f).map_err(|panic| damaged(path, panic_text(&*panic)))
}

/// The message a panic carried.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// The file's schema: this casbah's, or an older one it migrates.
pub(super) fn check_meta(path: &Path, db: &impl ReadableDatabase) -> Result<u32> {
    let found = read_schema(path, db).map_err(|e| match e {
        StoreError::Corrupt(detail) => damaged(path, detail),
        other => other,
    })?;
    if !(migrate::OLDEST..=SCHEMA_VERSION).contains(&found) {
        return Err(StoreError::Schema {
            path: path.display().to_string(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

fn read_schema(path: &Path, db: &impl ReadableDatabase) -> Result<u32> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => {
            return Err(not_casbah(path, "a redb file of another program"));
        }
        Err(TableError::Storage(e)) => return Err(e.into()),
        Err(e) => return Err(not_casbah(path, e.to_string())),
    };
    Ok(u32::try_from(tables::meta_get(&meta, META_SCHEMA)?).unwrap_or(u32::MAX))
}

pub(super) fn open_error(path: &Path, e: DatabaseError) -> StoreError {
    match e {
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            StoreError::InUse
        }
        DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => damaged(path, detail),
        DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            damaged(path, "it ends before its last page")
        }
        DatabaseError::Storage(redb::StorageError::Io(io)) => io_error(path, io),
        other => not_casbah(path, other.to_string()),
    }
}
