//! The activity log: queries in the filter language and saved queries (R-A2…R-A4).

use super::{Local, Result, ServiceError};
use std::collections::HashMap;

use crate::domain::filter::{self, Field, Filter, Names, Query, TermKind};
use crate::domain::{GroupId, InstanceId, Micros, UserKey, now_micros};
use crate::store::{ActivityCursor, ActivityPage, Histogram};

/// The names a filter may use, read once per query.
struct NameIndex {
    groups: Vec<(String, GroupId)>,
    /// Every instance as `APP/NAME`, and by its bare name where no other app
    /// has an instance of that name (R-C2).
    instances: Vec<(String, InstanceId)>,
    /// How to name each instance: bare where that is unambiguous.
    instance_names: Vec<String>,
    /// The members of the groups the filter names as the target's or either's.
    members: HashMap<GroupId, Vec<UserKey>>,
    /// Read only for a filter that names an organisational unit.
    org_units: Vec<(String, UserKey)>,
}

fn find<T: Copy>(list: &[(String, T)], name: &str) -> Option<T> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

impl Names for NameIndex {
    fn group(&self, name: &str) -> Option<GroupId> {
        find(&self.groups, name)
    }
    fn instance(&self, name: &str) -> Option<InstanceId> {
        find(&self.instances, name)
    }
    fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|(n, _)| n.clone()).collect()
    }
    fn instance_names(&self) -> Vec<String> {
        self.instance_names.clone()
    }
    fn group_members(&self, group: GroupId) -> Vec<UserKey> {
        self.members.get(&group).cloned().unwrap_or_default()
    }
    fn org_unit_accounts(&self) -> &[(String, UserKey)] {
        &self.org_units
    }
}

/// The values of `filter`'s terms on any of `fields`.
fn values_of<'f>(filter: &'f Filter, fields: &[Field]) -> Vec<&'f str> {
    filter
        .terms
        .iter()
        .filter_map(|t| match &t.kind {
            TermKind::Match { field, values, .. } if fields.contains(field) => Some(values),
            _ => None,
        })
        .flatten()
        .map(|v| v.text.as_str())
        .collect()
}

impl Local {
    /// The names `filter` may use; the members of groups and accounts of organisational
    /// units only where it asks for them, since they are many.
    async fn names(&self, filter: &Filter) -> Result<NameIndex> {
        let member_groups: Vec<String> =
            values_of(filter, &[Field::TargetGroup, Field::PersonGroup])
                .into_iter()
                .map(str::to_owned)
                .collect();
        let units = !values_of(filter, &[Field::Ou, Field::TargetOu, Field::PersonOu]).is_empty();
        self.db(move |s| {
            let all = s.instances()?;
            let mut instances = Vec::new();
            let mut instance_names = Vec::new();
            for i in &all {
                let qualified = format!("{}/{}", i.app.slug(), i.name);
                let shared = all
                    .iter()
                    .any(|o| o.id != i.id && o.name.eq_ignore_ascii_case(&i.name));
                if !shared {
                    instances.push((i.name.clone(), i.id));
                }
                instance_names.push(if shared {
                    qualified.clone()
                } else {
                    i.name.clone()
                });
                instances.push((qualified, i.id));
            }
            let mut names = NameIndex {
                // R-G5: a group is usable in filters once its first sync has finished.
                groups: s
                    .groups()?
                    .into_iter()
                    .filter(|g| g.usable_in_filters())
                    .map(|g| (g.name, g.id))
                    .collect(),
                instances,
                instance_names,
                members: HashMap::new(),
                org_units: if units {
                    s.org_unit_accounts()?
                } else {
                    Vec::new()
                },
            };
            // Unknown names are left for `bind`, which says so at their column.
            let ids: Vec<GroupId> = member_groups
                .iter()
                .filter_map(|n| names.group(n))
                .collect();
            for id in ids {
                names.members.insert(id, s.member_keys(id)?);
            }
            Ok(names)
        })
        .await
    }

    /// Turns filter text into a query, resolving group and instance names.
    pub async fn compile_filter(&self, text: &str) -> Result<Query> {
        let parsed = filter::parse(text)?;
        let names = self.names(&parsed).await?;
        Ok(parsed.bind(&names, now_micros())?)
    }

    /// R-A2, R-A4: one page of the activity log, newest first.
    pub async fn activities(
        &self,
        text: &str,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage> {
        let query = self.compile_filter(text).await?;
        self.log(move |l| l.query(&query, limit, after)).await
    }

    pub async fn activity_count(&self) -> Result<u64> {
        self.log(|l| l.count()).await
    }

    /// R-A3: saves a filter under a name; the filter must parse.
    pub async fn save_query(&self, name: &str, text: &str) -> Result<()> {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(ServiceError::Invalid("a saved query needs a name".into()));
        }
        filter::parse(text)?;
        let text = text.to_owned();
        self.db(move |s| s.save_query(&name, &text)).await
    }

    /// R-A3: saved queries by name.
    pub async fn saved_queries(&self) -> Result<Vec<(String, String)>> {
        self.db(|s| s.saved_queries()).await
    }

    pub async fn delete_query(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.db(move |s| s.delete_query(&name)).await
    }
}

/// Issue 13: how many activities a filter selects over a span, in buckets sized for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timeline {
    /// What the filter selects in each bucket.
    pub histogram: Histogram,
    /// Every activity in the same buckets, whatever the filter.
    pub all: u64,
}

const MINUTE: Micros = 60_000_000;
const HOUR: Micros = 60 * MINUTE;
const DAY: Micros = 24 * HOUR;

/// The widths a timeline's buckets take, narrowest first: clock-aligned, so that the
/// bars stay put as the span moves.
const WIDTHS: [Micros; 14] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
];

/// The most buckets a timeline is asked for: more than any screen has columns.
pub const MAX_BUCKETS: usize = 1_000;

/// The narrowest width that covers `span` in at most `buckets` buckets (a week at most).
pub fn bucket_width(span: Micros, buckets: usize) -> Micros {
    let buckets = buckets.clamp(1, MAX_BUCKETS) as i64;
    let needed = span.max(1).saturating_add(buckets - 1) / buckets;
    WIDTHS
        .into_iter()
        .find(|&w| w >= needed)
        .unwrap_or(WIDTHS[WIDTHS.len() - 1])
}

impl Local {
    /// Issue 13: the timeline of `text` over [`from`, `to`), in at most about `buckets`
    /// buckets (see `bucket_width`), counted from the log's indexes.
    pub async fn timeline(
        &self,
        text: &str,
        from: Micros,
        to: Micros,
        buckets: usize,
    ) -> Result<Timeline> {
        if to <= from {
            return Err(ServiceError::Invalid(
                "a timeline's end must come after its start".to_string(),
            ));
        }
        // Nothing happened before 1970; clamping keeps the bucket arithmetic in range.
        let from = from.max(0);
        let query = self.compile_filter(text).await?;
        let width = bucket_width(to.saturating_sub(from), buckets);
        let start = from.div_euclid(width) * width;
        let count = to.saturating_sub(start).saturating_add(width - 1) / width;
        let count = usize::try_from(count).unwrap_or(MAX_BUCKETS);
        let count = count.min(MAX_BUCKETS + 1);
        self.log(move |l| {
            let histogram = l.histogram(&query, start, width, count)?;
            let all = match query == Query::all() {
                true => histogram.total(),
                false => l.histogram(&Query::all(), start, width, count)?.total(),
            };
            Ok(Timeline { histogram, all })
        })
        .await
    }
}
