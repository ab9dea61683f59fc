//! Preparing a page for ingestion: everything that needs no write transaction.
//!
//! A durable commit waits for the disk (one flush, a few milliseconds), during which the
//! CPU is idle. Splitting ingestion into `prepare` (this module: the in-page repeat check,
//! placing records by IP, encoding records, tagging them from a read snapshot, building
//! and sorting index entries) and `commit_prepared` (`activities`: the check against
//! stored records, External, the writes and the commit) lets the next page be prepared
//! while one commits (issue 2, see `pipeline`). Preparing writes nothing.
//!
//! Seqs are not known before the commit: an entry holds the index of its row in the page
//! instead, and the commit adds the page's first seq. Adding one number to every entry
//! keeps them sorted, so the sorting done here stays valid.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::ops::Range;

use std::sync::Arc;

use super::alerting::{self, Matched, PolicySet, Watching};
use super::groups::MemberRow;
use super::kinds::{Kind, KindKey};
use super::postings::{self, WHOLE_HOUR};
use super::records;
use super::tables::{
    self, ACTOR_ENTRY, AUTO_GROUPS, COUNT_COUNTRY, COUNT_INSTANCE, COUNTRY_ENTRY, Fnv, GROUPS,
    INSTANCE_ENTRY, META, META_TAGS_VERSION, USER_GROUPS,
};
use super::tags::Tagged;
use super::{IngestContext, Locate, Result, Store, StoreError};
use crate::domain::{Activity, AutoGroup, InstanceId, is_guest_principal};

/// One index's sorted new entries, by (list, hour).
pub(super) type Lists<const W: usize> = Vec<((u64, i64), Vec<[u8; W]>)>;

/// A page ready to commit (`Store::commit_prepared`).
#[derive(Debug)]
pub struct PreparedPage {
    pub(super) instance: InstanceId,
    pub(super) stream: String,
    pub(super) cursor: String,
    /// How many records the vendor sent, repeats included.
    pub(super) received: usize,
    /// The records not repeated within the page, in page order.
    pub(super) rows: Vec<Row>,
    /// The records' encoded fields, back to back (`Row::head`); tags are added at commit.
    pub(super) heads: Vec<u8>,
    /// The page's distinct actors; `Row::actor` indexes it.
    pub(super) actors: Vec<String>,
    /// The page's distinct kinds; `Row::kind` indexes it.
    pub(super) kinds: Vec<Kind>,
    /// Row indexes by (time, index): the order of the records' keys.
    pub(super) by_key: Vec<u32>,
    pub(super) by_instance: Lists<INSTANCE_ENTRY>,
    pub(super) by_country: Lists<COUNTRY_ENTRY>,
    pub(super) by_actor: Lists<ACTOR_ENTRY>,
    /// (what, key) → how many rows.
    pub(super) counts: Vec<((u8, u64), u64)>,
    /// (app code, instance) pairs.
    pub(super) app_instances: Vec<(u8, u64)>,
    /// The oldest and newest row times.
    pub(super) span: Option<(i64, i64)>,
    /// R-G1: the page's external actors.
    pub(super) joins: Vec<Join>,
    /// R-G6: the rows' tags as of preparation; the commit redoes them if groups or
    /// memberships changed since.
    pub(super) tags: Tagged,
    /// Issue 12: the policies the page is evaluated against, and its matches.
    pub(super) watching: Option<Watching>,
    pub(super) matched: Matched,
}

/// R-G1: an external actor of the page, who joins External from its earliest row.
#[derive(Debug)]
pub(super) struct Join {
    /// Index into `PreparedPage::actors`.
    pub actor: u32,
    pub member: MemberRow,
    /// Already a member at the version the page was tagged at.
    pub known: bool,
}

/// One record of the page.
#[derive(Debug)]
pub(super) struct Row {
    pub id: String,
    pub time: i64,
    pub instance: u64,
    pub country: Option<u64>,
    pub actor: u32,
    pub kind: u32,
    pub head: Range<usize>,
}

/// R-G1: an actor is external when the organisation's domains are known and
/// the actor's e-mail domain is not one of them, or when they sign in as an
/// Entra guest (whose UPN carries the organisation's own domain).
fn is_external(actor: &str, ctx: &IngestContext) -> bool {
    if ctx.org_domains.is_empty() {
        return false;
    }
    if is_guest_principal(actor) {
        return true;
    }
    match actor.rsplit_once('@') {
        Some((_, domain)) if !domain.is_empty() => {
            let domain = domain.to_lowercase();
            !ctx.org_domains.contains(&domain)
        }
        _ => false,
    }
}

/// R-A1: a record's own country (a sign-in's location, Okta's geographical context) is
/// the vendor's word and stays; where it has none, or no network operator, the GeoIP
/// databases place its address. The same records give the same places, whatever was
/// ingested before them.
fn place(records: &mut [Activity], locator: &dyn Locate) {
    for a in records.iter_mut() {
        if a.country.is_some() && a.isp.is_some() {
            continue;
        }
        let Some(ip) = a.ip.as_deref().and_then(|ip| ip.parse().ok()) else {
            continue;
        };
        let found = locator.locate(ip);
        if a.country.is_none() {
            a.country = found.country;
        }
        if a.isp.is_none() {
            a.isp = found.isp;
        }
    }
}

/// Issue 12: matches the page's records, with their tags, against `set`. Pages whose tags
/// are left to the commit are matched there.
fn matched(
    set: Arc<PolicySet>,
    tags: &Tagged,
    rows: &[Row],
    records: &mut [Activity],
) -> Result<Matched> {
    if tags.version == u64::MAX || set.watches.is_empty() {
        return Ok(Matched {
            set,
            tags_version: u64::MAX,
            ..Matched::default()
        });
    }
    for (a, range) in records.iter_mut().zip(&tags.of_row) {
        a.groups = postcard::from_bytes(&tags.bytes[range.clone()])
            .map_err(|e| StoreError::Internal(format!("tags do not decode: {e}")))?;
    }
    let mut matched = alerting::match_rows(&set, rows.iter().map(|r| r.kind).zip(records.iter()));
    matched.tags_version = tags.version;
    Ok(matched)
}

/// Keeps the first of records repeated within the page (R-A1).
fn drop_repeats(batch: Vec<Activity>) -> Vec<Activity> {
    let mut first = vec![false; batch.len()];
    {
        let mut seen: HashSet<_, BuildHasherDefault<Fnv>> =
            HashSet::with_capacity_and_hasher(batch.len(), Default::default());
        for (i, a) in batch.iter().enumerate() {
            first[i] = seen.insert((a.instance, a.id.as_str()));
        }
    }
    batch
        .into_iter()
        .zip(first)
        .filter_map(|(a, first)| first.then_some(a))
        .collect()
}

pub(super) fn sorted_lists<const W: usize>(lists: BTreeMap<(u64, i64), Vec<[u8; W]>>) -> Lists<W> {
    lists
        .into_iter()
        .map(|(key, mut entries)| {
            entries.sort_unstable();
            (key, entries)
        })
        .collect()
}

impl Store {
    /// What every activity log stores in place of what the vendor sent: the actor as
    /// the person's key (see `aliases`), and the country and network operator of an
    /// address the vendor did not place (R-A1).
    pub(super) fn settle_impl(&self, records: &mut [Activity], ctx: &IngestContext) -> Result<()> {
        let aliases = self.aliases()?;
        if !aliases.is_empty() {
            for a in records.iter_mut() {
                if let Some(key) = aliases.get(&a.actor) {
                    a.actor.clone_from(key);
                }
            }
        }
        if let Some(locator) = &ctx.locator {
            place(records, locator.as_ref());
        }
        Ok(())
    }

    pub(super) fn prepare_impl(
        &self,
        instance: InstanceId,
        stream: &str,
        batch: Vec<Activity>,
        cursor: &str,
        ctx: &IngestContext,
    ) -> Result<PreparedPage> {
        // Records are filed under the instance whose cursor they advance, and the commit
        // checks that instance exists: one naming another could mix tenants' data.
        if let Some(stray) = batch.iter().find(|a| a.instance != instance) {
            return Err(StoreError::WrongInstance {
                page: instance.0,
                record: stray.instance.0,
            });
        }
        let received = batch.len();
        let mut kept = drop_repeats(batch);

        let mut rows = Vec::with_capacity(kept.len());
        let mut heads = Vec::with_capacity(kept.len() * 256);
        let mut actors: Vec<String> = Vec::new();
        let mut actor_index: HashMap<&str, u32, BuildHasherDefault<Fnv>> = HashMap::default();
        let mut kinds: Vec<Kind> = Vec::new();
        let mut kind_index: HashMap<KindKey, u32, BuildHasherDefault<Fnv>> = HashMap::default();
        let mut by_instance = BTreeMap::<_, Vec<[u8; INSTANCE_ENTRY]>>::new();
        let mut by_country = BTreeMap::<_, Vec<[u8; COUNTRY_ENTRY]>>::new();
        let mut by_actor = BTreeMap::<_, Vec<[u8; ACTOR_ENTRY]>>::new();
        let mut counts: HashMap<(u8, u64), u64> = HashMap::new();
        let mut app_instances = BTreeSet::new();
        let mut span: Option<(i64, i64)> = None;
        // Actor index → earliest row, for external actors.
        let mut earliest: BTreeMap<u32, usize> = BTreeMap::new();
        // Whether each actor is external, by actor index.
        let mut external: Vec<bool> = Vec::new();
        for (index, a) in kept.iter().enumerate() {
            let start = heads.len();
            heads = records::encode_head(a, heads)?;
            let (t, hour, seq) = (a.time, tables::bucket(a.time), index as u64);
            span = Some(span.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
            let next = actors.len() as u32;
            let actor = *actor_index.entry(a.actor.as_str()).or_insert(next);
            if actor == next {
                actors.push(a.actor.clone());
                external.push(is_external(&a.actor, ctx));
            }
            if external[actor as usize] {
                let first = earliest.entry(actor).or_insert(index);
                if a.time < kept[*first].time {
                    *first = index;
                }
            }
            let next = kinds.len() as u32;
            let kind = *kind_index.entry(Kind::key_of(a)).or_insert(next);
            if kind == next {
                kinds.push(Kind::of(a));
            }
            let instance = a.instance.0;
            by_instance
                .entry((instance, hour))
                .or_default()
                .push(postings::entry(&[tables::hash(&a.id)], hour, t, seq));
            by_actor
                .entry((WHOLE_HOUR, hour))
                .or_default()
                .push(postings::entry(&[tables::hash(&a.actor)], hour, t, seq));
            *counts.entry((COUNT_INSTANCE, instance)).or_default() += 1;
            let country = a.country.as_deref().map(tables::hash);
            if let Some(c) = country {
                by_country
                    .entry((WHOLE_HOUR, hour))
                    .or_default()
                    .push(postings::entry(&[c], hour, t, seq));
                *counts.entry((COUNT_COUNTRY, c)).or_default() += 1;
            }
            app_instances.insert((tables::app_code(a.app), instance));
            rows.push(Row {
                id: String::new(),
                time: t,
                instance,
                country,
                actor,
                kind,
                head: start..heads.len(),
            });
        }
        let txn = self.db.begin_read()?;
        let version = tables::meta_get(&txn.open_table(META)?, META_TAGS_VERSION)?;
        let external_group = txn
            .open_table(AUTO_GROUPS)?
            .get(tables::encode(&AutoGroup::External)?.as_slice())?
            .map(|v| v.value());
        let mut cache = self.tag_cache();
        // A cache ahead of the snapshot holds what a commit since made true: it must not
        // take older reads, and its tags are not this snapshot's. The commit, which follows
        // that one, tags the page from it.
        let ahead = cache.version().is_some_and(|v| v > version);
        let tags = if ahead {
            Tagged::left_to_commit()
        } else {
            cache.at_version(version);
            cache.fill(
                &txn.open_table(GROUPS)?,
                &txn.open_multimap_table(USER_GROUPS)?,
                &actors,
            )?;
            cache.tag(&rows, &actors)?
        };
        let joins = earliest
            .into_iter()
            .map(|(actor, row)| {
                let a = &kept[row];
                let known = |g| !ahead && cache.is_member(&actors[actor as usize], g);
                Join {
                    actor,
                    member: MemberRow {
                        name: a.actor_name.clone(),
                        email: a.actor.clone(),
                        instance: Some(a.instance),
                        joined_at: a.time,
                    },
                    known: external_group.is_some_and(known),
                }
            })
            .collect();
        drop(cache);
        drop(actor_index);
        drop(kind_index);
        let matched = match &ctx.watching {
            Some(w) => matched(w.current(), &tags, &rows, &mut kept)?,
            None => Matched::default(),
        };
        // The ids are needed again only to confirm a repeat of a stored record.
        for (row, a) in rows.iter_mut().zip(&mut kept) {
            row.id = std::mem::take(&mut a.id);
        }
        let mut by_key: Vec<u32> = (0..rows.len() as u32).collect();
        by_key.sort_unstable_by_key(|&i| (rows[i as usize].time, i));
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_unstable();
        Ok(PreparedPage {
            instance,
            stream: stream.to_string(),
            cursor: cursor.to_string(),
            received,
            rows,
            heads,
            actors,
            kinds,
            by_key,
            by_instance: sorted_lists(by_instance),
            by_country: sorted_lists(by_country),
            by_actor: sorted_lists(by_actor),
            counts,
            app_instances: app_instances.into_iter().collect(),
            span,
            joins,
            tags,
            watching: ctx.watching.clone(),
            matched,
        })
    }
}
