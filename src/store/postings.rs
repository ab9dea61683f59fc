//! Posting lists: the entries an index holds for one list (an instance, or the whole
//! hour) and one hour, packed into a few values.
//!
//! A page of activities touches few (list, hour) pairs, so writing an index costs one
//! read-modify-write per pair instead of one B-tree insert per activity: that is what lets
//! ingestion keep up (issue 2). An entry is a fixed-width big-endian record ending in the
//! activity's position (time within the hour, seq), so comparing bytes compares entries and
//! one sort, merge and binary search serve every index. Big-endian, not little-endian, for
//! that reason. A pair's entries are split into chunks of at most `CHUNK_BYTES`, so a busy
//! hour never becomes one huge rewrite. Each
//! chunk is sorted; chunks are not ordered among themselves (a late page may bring older
//! activities), so a reader takes every chunk of a pair.

use redb::{AccessGuard, ReadableTable, Table, TableDefinition};

use super::Result;
use super::tables::BUCKET;

/// (list, hour, chunk number) → sorted entries.
pub type ListKey = (u64, i64, u32);
pub type ListTable = TableDefinition<'static, ListKey, &'static [u8]>;

/// The list of an index that keys by hour alone (countries, actors, groups).
pub const WHOLE_HOUR: u64 = 0;

/// A chunk's bound: a busy hour is split rather than rewritten whole.
pub const CHUNK_BYTES: usize = 32 * 1024 - 128;

/// A page merges its entries into the last chunk of a pair only while that chunk is
/// smaller than this (about one 4 KiB redb page); otherwise they go to new chunks. Small
/// pages then rewrite little, a large page writes only its own entries, and an hour's
/// chunks stay few.
pub const TOP_UP_BELOW: usize = 4000;

/// The bytes of a position: time within its hour (u32), then seq (u64).
const POSITION: usize = 12;

/// An entry: `prefix` (each u64 big-endian), then the position of (time, seq) in `hour`.
pub fn entry<const W: usize>(prefix: &[u64], hour: i64, time: i64, seq: u64) -> [u8; W] {
    debug_assert_eq!(W, prefix.len() * 8 + POSITION);
    let mut out = [0u8; W];
    for (i, p) in prefix.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&p.to_be_bytes());
    }
    // In [0, BUCKET), which fits a u32; wrapping keeps it exact even near i64's ends.
    let offset = time.wrapping_sub(hour.wrapping_mul(BUCKET)) as u32;
    out[W - POSITION..W - 8].copy_from_slice(&offset.to_be_bytes());
    out[W - 8..].copy_from_slice(&seq.to_be_bytes());
    out
}

/// The (time, seq) an entry of `hour` points at.
pub fn position(entry: &[u8], hour: i64) -> (i64, u64) {
    let tail = &entry[entry.len() - POSITION..];
    let mut offset = [0u8; 4];
    offset.copy_from_slice(&tail[..4]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&tail[4..]);
    let time = hour
        .wrapping_mul(BUCKET)
        .wrapping_add(i64::from(u32::from_be_bytes(offset)));
    (time, u64::from_be_bytes(seq))
}

/// The entries of a sorted chunk that start with `prefix`.
pub fn starting_with<'a, const W: usize>(chunk: &'a [[u8; W]], prefix: &[u8]) -> &'a [[u8; W]] {
    let n = prefix.len();
    let low = chunk.partition_point(|e| &e[..n] < prefix);
    let high = low + chunk[low..].partition_point(|e| &e[..n] == prefix);
    &chunk[low..high]
}

/// A stored chunk as entries; the bytes are checked to be whole entries.
pub fn as_entries<const W: usize>(bytes: &[u8]) -> Result<&[[u8; W]]> {
    let (entries, rest) = bytes.as_chunks::<W>();
    if !rest.is_empty() {
        return Err(super::StoreError::Corrupt(format!(
            "an index chunk of {} bytes is not a whole number of {W}-byte entries",
            bytes.len()
        )));
    }
    Ok(entries)
}

/// Every chunk of (list, hour).
pub fn chunks<'t, T>(
    table: &'t T,
    list: u64,
    hour: i64,
) -> Result<Vec<AccessGuard<'t, &'static [u8]>>>
where
    T: ReadableTable<ListKey, &'static [u8]>,
{
    let mut out = Vec::new();
    for row in table.range((list, hour, 0)..=(list, hour, u32::MAX))? {
        out.push(row?.1);
    }
    Ok(out)
}

/// Adds sorted `entries` to (list, hour): merged into its last chunk while that is small,
/// in new chunks of even sizes otherwise.
pub fn append<const W: usize>(
    table: &mut Table<'_, ListKey, &'static [u8]>,
    list: u64,
    hour: i64,
    entries: &[[u8; W]],
) -> Result<()> {
    let last = match table
        .range((list, hour, 0)..=(list, hour, u32::MAX))?
        .next_back()
    {
        Some(row) => {
            let (k, v) = row?;
            Some((k.value().2, v.value().to_vec()))
        }
        None => None,
    };
    let (mut number, merged) = match last {
        Some((n, old)) if old.len() < TOP_UP_BELOW => (n, merge(as_entries::<W>(&old)?, entries)),
        Some((n, _)) => (n.saturating_add(1), entries.as_flattened().to_vec()),
        None => (0, entries.as_flattened().to_vec()),
    };
    let count = merged.len() / W;
    let pieces = count.div_ceil((CHUNK_BYTES / W).max(1)).max(1);
    for piece in merged.chunks(count.div_ceil(pieces).max(1) * W) {
        table.insert((list, hour, number), piece)?;
        number = number.saturating_add(1);
    }
    Ok(())
}

/// Two sorted runs as one sorted run of bytes.
fn merge<const W: usize>(a: &[[u8; W]], b: &[[u8; W]]) -> Vec<u8> {
    let mut out = Vec::with_capacity((a.len() + b.len()) * W);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.extend_from_slice(&a[i]);
            i += 1;
        } else {
            out.extend_from_slice(&b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(a[i..].as_flattened());
    out.extend_from_slice(b[j..].as_flattened());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase};

    const LIST: ListTable = TableDefinition::new("test-list");
    const W: usize = 12;
    const PER_CHUNK: usize = CHUNK_BYTES / W;
    const HOUR: i64 = 7;

    fn positions(n: std::ops::Range<u64>) -> Vec<[u8; W]> {
        n.map(|s| entry(&[], HOUR, HOUR * BUCKET + s as i64 * 1000, s))
            .collect()
    }

    fn append_all(db: &Database, entries: &[[u8; W]]) {
        let txn = db.begin_write().unwrap();
        append(&mut txn.open_table(LIST).unwrap(), 1, HOUR, entries).unwrap();
        txn.commit().unwrap();
    }

    /// The chunks of the list, each as seqs.
    fn stored(db: &Database) -> Vec<Vec<u64>> {
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(LIST).unwrap();
        chunks(&table, 1, HOUR)
            .unwrap()
            .iter()
            .map(|c| {
                as_entries::<W>(c.value())
                    .unwrap()
                    .iter()
                    .map(|e| position(e, HOUR).1)
                    .collect()
            })
            .collect()
    }

    fn db() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("db")).unwrap();
        (dir, db)
    }

    // Issue 2: small pages top up the last chunk until it is about a redb page; a larger
    // page then starts new chunks, split evenly below the bound; a chunk that is not small
    // is never rewritten.
    #[test]
    fn appends_top_up_a_small_chunk_then_start_others() {
        let (_dir, db) = db();
        let small = (TOP_UP_BELOW / W) as u64;
        append_all(&db, &positions(0..10));
        append_all(&db, &positions(10..20));
        assert_eq!(stored(&db), vec![(0..20).collect::<Vec<_>>()]);
        // Just below the threshold: topped up once more, past it.
        append_all(&db, &positions(20..small - 1));
        append_all(&db, &positions(small - 1..small + 1));
        assert_eq!(stored(&db), vec![(0..small + 1).collect::<Vec<_>>()]);
        append_all(&db, &positions(small + 1..small + 6));
        let sizes: Vec<usize> = stored(&db).iter().map(Vec::len).collect();
        assert_eq!(sizes, [small as usize + 1, 5]);
        // Two chunks' worth and more: the small chunk takes them, split in three even parts.
        let big = 2 * PER_CHUNK as u64 + 1;
        append_all(&db, &positions(small + 6..small + 6 + big));
        let chunks = stored(&db);
        assert_eq!(chunks[0], (0..small + 1).collect::<Vec<_>>());
        let sizes: Vec<usize> = chunks[1..].iter().map(Vec::len).collect();
        assert_eq!(sizes.len(), 3, "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), big as usize + 5);
        let (least, most) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(*most <= PER_CHUNK && most - least <= 2, "{sizes:?}");
        assert_eq!(chunks.concat(), (0..small + 6 + big).collect::<Vec<_>>());
    }

    // Issue 2: a late page with older entries merges into a small last chunk, which stays
    // sorted; a large one goes to new chunks. Together the chunks hold every entry once,
    // each chunk sorted and within the bound.
    #[test]
    fn late_entries_merge_sorted() {
        let (_dir, db) = db();
        let n = 3 * PER_CHUNK as u64;
        append_all(&db, &positions(n..n + 10));
        append_all(&db, &positions(0..5));
        let mut expected: Vec<u64> = (0..5).chain(n..n + 10).collect();
        assert_eq!(stored(&db), vec![expected.clone()]);
        append_all(&db, &positions(5..n));
        let chunks = stored(&db);
        for c in &chunks {
            assert!(c.is_sorted(), "{c:?}");
            assert!(c.len() <= PER_CHUNK);
        }
        let mut all: Vec<u64> = chunks.concat();
        all.sort_unstable();
        expected = (0..n + 10).collect();
        assert_eq!(all, expected);
    }

    // A position survives the trip through an entry at either end of time.
    #[test]
    fn positions_round_trip() {
        for time in [i64::MIN, -1, 0, 1, BUCKET - 1, BUCKET, i64::MAX] {
            let hour = crate::store::tables::bucket(time);
            let e: [u8; 20] = entry(&[42], hour, time, u64::MAX - 3);
            assert_eq!(position(&e, hour), (time, u64::MAX - 3));
            assert_eq!(&e[..8], &42u64.to_be_bytes());
        }
    }

    // Byte order is entry order, so a prefix search finds exactly the prefix's entries.
    #[test]
    fn starting_with_finds_a_prefix_run() {
        let mut entries: Vec<[u8; 20]> = [(3u64, 5), (1, 9), (3, 1), (2, 2), (3, 9), (4, 0)]
            .iter()
            .map(|&(k, s)| entry(&[k], 0, s as i64, s))
            .collect();
        entries.sort_unstable();
        let found: Vec<u64> = starting_with(&entries, &3u64.to_be_bytes())
            .iter()
            .map(|e| position(e, 0).1)
            .collect();
        assert_eq!(found, [1, 5, 9]);
        assert!(starting_with(&entries, &7u64.to_be_bytes()).is_empty());
    }

    // A stored chunk that is not whole entries is reported, not misread.
    #[test]
    fn damaged_chunk_is_an_error() {
        assert!(as_entries::<W>(&[0u8; W + 1]).is_err());
        assert_eq!(as_entries::<W>(&[0u8; 2 * W]).unwrap().len(), 2);
    }
}
