//! `GET /v1.0/auditLogs/signIns` and `/auditLogs/directoryAudits`: newest
//! first, a time window by `$filter`, `$top` up to 1000, nextLink paging.
//! Only the last seven days (and the live stream) are there.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use chrono::Utc;
use serde_json::{Map, Value};

use super::errors::GraphError;
use super::odata::{Filter, Op, Query, decode_skiptoken, encode_skiptoken, next_link};
use super::records;
use crate::sandbox::Shared;
use crate::sandbox::activity::{Below, HISTORY_MS, Stream};

type Answer = Result<Json<Value>, GraphError>;

/// The largest `$top` the audit endpoints take, and their default page.
const MAX_TOP: usize = 1000;

fn parse_time(text: &str) -> Result<i128, GraphError> {
    records::parse_instant(text.trim_matches('\'')).ok_or_else(|| {
        GraphError::bad_request(format!(
            "Invalid filter clause: '{text}' is not a valid DateTimeOffset."
        ))
    })
}

fn ceil_ms(nanos: i128) -> i64 {
    nanos.div_euclid(1_000_000) as i64 + i64::from(nanos.rem_euclid(1_000_000) != 0)
}

fn floor_ms(nanos: i128) -> i64 {
    nanos.div_euclid(1_000_000) as i64
}

/// Reads a JSON value by a Graph property path such as `initiatedBy/user/id`.
fn path_value(record: &Value, path: &str) -> Option<Value> {
    let mut v = record;
    for part in path.split('/') {
        v = v
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(part))?
            .1;
    }
    Some(v.clone())
}

/// What differs between the two audit feeds.
struct Feed {
    stream: Stream,
    time_property: &'static str,
    filterable: &'static [&'static str],
    resource: &'static str,
    context: &'static str,
}

const SIGN_INS: Feed = Feed {
    stream: Stream::SignIns,
    time_property: "createdDateTime",
    filterable: &[
        "createdDateTime",
        "userId",
        "userPrincipalName",
        "appId",
        "appDisplayName",
        "ipAddress",
        "isInteractive",
        "status/errorCode",
        "location/countryOrRegion",
        "clientAppUsed",
    ],
    resource: "SignIn",
    context: "auditLogs/signIns",
};

const DIRECTORY_AUDITS: Feed = Feed {
    stream: Stream::DirectoryAudits,
    time_property: "activityDateTime",
    filterable: &[
        "activityDateTime",
        "activityDisplayName",
        "category",
        "loggedByService",
        "result",
        "initiatedBy/user/id",
        "initiatedBy/user/userPrincipalName",
        "initiatedBy/app/appId",
    ],
    resource: "DirectoryAudit",
    context: "auditLogs/directoryAudits",
};

async fn audit_list(
    shared: Arc<Shared>,
    uri: Uri,
    headers: HeaderMap,
    raw: Option<String>,
    feed: &Feed,
) -> Answer {
    let Feed {
        stream,
        time_property,
        filterable,
        resource,
        context,
    } = *feed;
    let q = Query::parse(raw.as_deref(), &headers)?;
    if q.search.is_some() {
        return Err(GraphError::bad_request(
            "$search is not supported on this resource.",
        ));
    }
    let top = match q.top {
        None => MAX_TOP,
        Some(n) if n > MAX_TOP => {
            return Err(GraphError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "BadRequest",
                format!(
                    "The limit of '{MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '{n}'."
                ),
            ));
        }
        Some(0) => {
            return Err(GraphError::bad_request(
                "Invalid value '0' for query option '$top'.",
            ));
        }
        Some(n) => n,
    };
    let now = Utc::now().timestamp_millis();
    let (mut from, mut to) = (now - HISTORY_MS, now);
    let mut rest = Vec::new();
    if let Some(text) = &q.filter {
        let filter = Filter::parse(text, resource)?;
        filter.check(filterable, resource, &q)?;
        for clause in filter.clauses {
            if !clause.property.eq_ignore_ascii_case(time_property) {
                rest.push(clause);
                continue;
            }
            let t = parse_time(clause.value.text())?;
            match clause.op {
                Op::Ge => from = from.max(ceil_ms(t)),
                Op::Le => to = to.min(floor_ms(t)),
                Op::Eq => {
                    from = from.max(ceil_ms(t));
                    to = to.min(floor_ms(t));
                }
                _ => rest.push(clause),
            }
        }
    }
    let rest = Filter { clauses: rest };
    let scope = uri.path();
    let below = match &q.skiptoken {
        None => None,
        Some(token) => {
            let position = decode_skiptoken(token, scope)?;
            let invalid = || {
                GraphError::bad_request("The specified page token value has expired or is invalid.")
            };
            let (g, p) = position.split_once('.').ok_or_else(invalid)?;
            Some(Below {
                generated: g.parse().map_err(|_| invalid())?,
                pushed: p.parse().map_err(|_| invalid())?,
            })
        }
    };
    let (items, next) = shared.timeline.newest_first(stream, from, to, below, top);
    let org = shared.org();
    let values: Vec<Value> = items
        .into_iter()
        .map(|(item, ms)| match stream {
            Stream::SignIns => records::sign_in(&shared.timeline, &org, item, ms),
            _ => records::directory_audit(&shared.timeline, &org, item, ms),
        })
        .filter(|r| rest.matches(|p| path_value(r, p)))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::from(format!("{}/v1.0/$metadata#{context}", shared.base_url)),
    );
    if let Some(b) = next {
        let token = encode_skiptoken(scope, &format!("{}.{}", b.generated, b.pushed));
        body.insert(
            "@odata.nextLink".into(),
            Value::from(next_link(&shared.base_url, scope, &q, &token)),
        );
    }
    body.insert("value".into(), Value::Array(values));
    Ok(Json(Value::Object(body)))
}

pub(crate) async fn sign_ins(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    audit_list(shared, uri, headers, raw, &SIGN_INS).await
}

pub(crate) async fn directory_audits(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    audit_list(shared, uri, headers, raw, &DIRECTORY_AUDITS).await
}
