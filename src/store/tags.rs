//! Tagging (R-G6): each record carries the groups its actor belonged to when it was
//! ingested, among those imported by the record's time.
//!
//! Tags are worked out while a page is prepared, from a read snapshot, so that the commit
//! (which holds the write lock while the disk flushes) does not have to. Every write that
//! changes groups or memberships advances a version stored with them (`META_TAGS_VERSION`);
//! a page records the version it was tagged at, and its commit tags it again, under the
//! write lock, only when the version moved in between. So a page's tags are always those
//! of the moment it commits.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::ops::Range;

use redb::{ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::postings::{self, WHOLE_HOUR};
use super::prepare::{Lists, Row};
use super::records;
use super::tables::{self, Fnv, GROUP_ENTRY, META, META_TAGS_VERSION, NO_COUNTRY};
use super::{Result, StoreError};
use crate::domain::{Group, GroupId, Micros, group};

/// What tagging reads, kept from one page to the next, as of one version.
#[derive(Debug, Default)]
pub(super) struct TagCache {
    version: Option<u64>,
    groups: Option<HashMap<u64, Group>>,
    of_actor: HashMap<String, ActorTags, BuildHasherDefault<Fnv>>,
}

/// One actor's groups, and the tags of any activity from `from` on: once every group
/// was imported, the time no longer changes the tags.
#[derive(Debug)]
struct ActorTags {
    ids: Vec<u64>,
    from: Micros,
    tags: Vec<GroupId>,
}

/// Bounds the cache for organisations with very many actors.
const MAX_CACHED_ACTORS: usize = 200_000;

/// The tags of a page's rows.
#[derive(Debug, Default)]
pub(super) struct Tagged {
    /// The version of groups and memberships they were read at.
    pub version: u64,
    /// Each row's tags, encoded to follow its head (`records`), back to back.
    pub bytes: Vec<u8>,
    pub of_row: Vec<Range<usize>>,
    /// The group index's entries, sorted, with rows for seqs (see `prepare`).
    pub by_group: Lists<GROUP_ENTRY>,
}

/// Advances the version of groups and memberships: every write that changes them calls
/// this in its transaction.
pub(super) fn advance_version(txn: &WriteTransaction) -> Result<u64> {
    let mut meta = txn.open_table(META)?;
    let version = tables::meta_get(&meta, META_TAGS_VERSION)? + 1;
    meta.insert(META_TAGS_VERSION, version)?;
    Ok(version)
}

impl Tagged {
    /// Tags left for the commit to work out.
    pub fn left_to_commit() -> Tagged {
        Tagged {
            version: u64::MAX,
            ..Tagged::default()
        }
    }
}

impl TagCache {
    /// The version what it holds was read at.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// After a transaction took groups and memberships from version `from` to `to` only by
    /// adding `joined` to `group` (R-G1): keeps what that left true rather than starting
    /// over, since ingestion does this page after page while outsiders keep appearing.
    /// The caller forgets everything if the transaction then fails.
    pub fn joined(&mut self, from: u64, to: u64, group: u64, joined: &[&str]) {
        if self.version != Some(from) {
            *self = TagCache::default();
            return;
        }
        for actor in joined {
            self.of_actor.remove(*actor);
        }
        if self
            .groups
            .as_ref()
            .is_some_and(|g| !g.contains_key(&group))
        {
            // Created by that transaction; only `joined` are in it.
            self.groups = None;
        }
        self.version = Some(to);
    }

    /// Forgets what was read at another version.
    pub fn at_version(&mut self, version: u64) {
        if self.version != Some(version) {
            *self = TagCache {
                version: Some(version),
                ..TagCache::default()
            };
        }
    }

    /// Whether `actor` is known to be in `group`.
    pub fn is_member(&self, actor: &str, group: u64) -> bool {
        self.of_actor
            .get(actor)
            .is_some_and(|t| t.ids.contains(&group))
    }

    /// Reads what is missing about `actors` from `groups` and the reverse membership
    /// index, both at the cache's version.
    pub fn fill<G, U>(&mut self, groups: &G, reverse: &U, actors: &[String]) -> Result<()>
    where
        G: ReadableTable<u64, &'static [u8]>,
        U: ReadableMultimapTable<&'static str, u64>,
    {
        if self.groups.is_none() {
            let mut all = HashMap::new();
            for row in groups.iter()? {
                let (k, v) = row?;
                all.insert(k.value(), tables::decode::<Group>(v.value(), "group")?);
            }
            self.groups = Some(all);
        }
        if self.of_actor.len() + actors.len() > MAX_CACHED_ACTORS {
            self.of_actor.clear();
        }
        let groups = self.groups.get_or_insert_default();
        for actor in actors {
            if self.of_actor.contains_key(actor.as_str()) {
                continue;
            }
            let mut ids = Vec::new();
            for id in reverse.get(actor.as_str())? {
                ids.push(id?.value());
            }
            let member_of = || ids.iter().filter_map(|id| groups.get(id));
            let after_all_imports = ActorTags {
                from: member_of()
                    .map(|g| g.imported_at)
                    .max()
                    .unwrap_or(Micros::MIN),
                tags: group::tags_for(Micros::MAX, member_of()),
                ids,
            };
            self.of_actor.insert(actor.clone(), after_all_imports);
        }
        Ok(())
    }

    /// Tags `rows`, whose actors were `fill`ed.
    pub fn tag(&self, rows: &[Row], actors: &[String]) -> Result<Tagged> {
        let version = self
            .version
            .ok_or_else(|| StoreError::Internal("tags read at no version".to_string()))?;
        let groups = self.groups.as_ref();
        let mut of_actor = Vec::with_capacity(actors.len());
        for key in actors {
            of_actor.push(self.of_actor.get(key.as_str()).ok_or_else(|| {
                StoreError::Internal(format!("the groups of {key} were not read"))
            })?);
        }
        let mut bytes = Vec::with_capacity(rows.len() * 4);
        let mut of_row = Vec::with_capacity(rows.len());
        let mut by_group: BTreeMap<(u64, i64), Vec<[u8; GROUP_ENTRY]>> = BTreeMap::new();
        for (index, r) in rows.iter().enumerate() {
            let actor = of_actor[r.actor as usize];
            let tags: Cow<'_, [GroupId]> = if r.time >= actor.from {
                Cow::Borrowed(&actor.tags)
            } else {
                let member_of = actor.ids.iter().filter_map(|id| groups?.get(id));
                Cow::Owned(group::tags_for(r.time, member_of))
            };
            let start = bytes.len();
            bytes = records::encode_tags(&tags, bytes)?;
            of_row.push(start..bytes.len());
            if !tags.is_empty() {
                let hour = tables::bucket(r.time);
                let list = by_group.entry((WHOLE_HOUR, hour)).or_default();
                let c = r.country.unwrap_or(NO_COUNTRY);
                for g in tags.iter() {
                    list.push(postings::entry(&[g.0, c], hour, r.time, index as u64));
                }
            }
        }
        Ok(Tagged {
            version,
            bytes,
            of_row,
            by_group: super::prepare::sorted_lists(by_group),
        })
    }
}
