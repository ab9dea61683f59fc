//! The Office 365 Management Activity API: subscriptions per content type,
//! content blobs listed per time window (at most 24 hours, last 7 days, more
//! by `NextPageUri`), each blob an array of records in no particular order.
//!
//! Blobs are the hours of a stream: a past hour is one blob created at its
//! end; the current hour is a blob created at its newest record, so it comes
//! back under a new id as it grows (the client drops duplicates by `Id`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::office;
use super::records::{self, office_time};
use crate::sandbox::activity::{HISTORY_MS, Stream, ms_to_time};
use crate::sandbox::{Shared, lock_mutex};

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Blobs per listing page; more follow through `NextPageUri`.
const LISTING_PAGE: usize = 10;

const CONTENT_TYPES: &[&str] = &[
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
    "DLP.All",
];

/// Subscriptions by content type: enabled or stopped.
#[derive(Default)]
pub(crate) struct Subscriptions(std::sync::Mutex<BTreeMap<&'static str, bool>>);

/// An error in the Management API's shape: `{"error":{"code","message"}}`.
#[derive(Debug)]
pub(crate) struct FeedError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> FeedError {
    FeedError {
        status,
        code,
        message: message.into(),
    }
}

impl IntoResponse for FeedError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

type Answer = Result<Response, FeedError>;

fn content_type(params: &BTreeMap<String, String>) -> Result<&'static str, FeedError> {
    let asked = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("contentType"))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    CONTENT_TYPES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(asked))
        .copied()
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "AF20020",
                format!(
                    "The content type '{asked}' is not valid. Use one of: {}.",
                    CONTENT_TYPES.join(", ")
                ),
            )
        })
}

fn check_tenant(shared: &Shared, tenant: &str) -> Result<(), FeedError> {
    let ours = shared.org().tenant_id.to_string();
    if tenant.eq_ignore_ascii_case(&ours) {
        Ok(())
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            "AF20010",
            format!(
                "The tenant ID passed in the URL ({tenant}) does not match the tenant ID passed in the access token ({ours})."
            ),
        ))
    }
}

fn subscription_json(content_type: &str, enabled: bool) -> Value {
    json!({"contentType": content_type, "status": if enabled { "enabled" } else { "disabled" }, "webhook": null})
}

/// `POST subscriptions/start?contentType=…`.
pub(crate) async fn start(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Answer {
    check_tenant(&shared, &tenant)?;
    let ct = content_type(&params)?;
    let mut subs = lock_mutex(&shared.microsoft.subscriptions.0);
    if subs.get(ct) == Some(&true) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "AF20024",
            "The subscription is already enabled. No property change.",
        ));
    }
    subs.insert(ct, true);
    Ok(Json(subscription_json(ct, true)).into_response())
}

/// `POST subscriptions/stop?contentType=…`.
pub(crate) async fn stop(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Answer {
    check_tenant(&shared, &tenant)?;
    let ct = content_type(&params)?;
    let mut subs = lock_mutex(&shared.microsoft.subscriptions.0);
    if subs.get(ct) != Some(&true) {
        return Err(no_subscription());
    }
    subs.insert(ct, false);
    Ok(StatusCode::OK.into_response())
}

fn no_subscription() -> FeedError {
    error(
        StatusCode::BAD_REQUEST,
        "AF20022",
        "No subscription found for the specified content type",
    )
}

/// `GET subscriptions/list`.
pub(crate) async fn list(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>) -> Answer {
    check_tenant(&shared, &tenant)?;
    let subs = lock_mutex(&shared.microsoft.subscriptions.0);
    let list = subs.iter().map(|(ct, &on)| subscription_json(ct, on));
    Ok(Json(Value::Array(list.collect())).into_response())
}

fn parse_time(text: &str) -> Option<i64> {
    records::parse_instant(text).map(|ns| ns.div_euclid(1_000_000) as i64)
}

const WINDOW_RULE: &str = "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time.";

/// When the blob for the hour starting at `hour` was created, if it exists
/// yet: a past hour at its end, the current one at its newest record.
fn created(shared: &Shared, stream: Stream, hour: i64, now: i64) -> Option<i64> {
    let end = hour + HOUR_MS;
    if end <= now {
        shared
            .timeline
            .newest_time_between(stream, hour, end)
            .map(|_| end)
    } else {
        shared.timeline.newest_time_between(stream, hour, now + 1)
    }
}

fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `GET subscriptions/content?contentType=…&startTime=…&endTime=…`.
pub(crate) async fn content(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Answer {
    check_tenant(&shared, &tenant)?;
    let ct = content_type(&params)?;
    if lock_mutex(&shared.microsoft.subscriptions.0).get(ct) != Some(&true) {
        return Err(no_subscription());
    }
    let now = Utc::now().timestamp_millis();
    let bad_window = || error(StatusCode::BAD_REQUEST, "AF20055", WINDOW_RULE);
    let (start, end) = match (param(&params, "startTime"), param(&params, "endTime")) {
        (None, None) => (now - DAY_MS, now),
        (Some(s), Some(e)) => (
            parse_time(s).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "AF20055",
                    format!("Invalid start time '{s}'. {WINDOW_RULE}"),
                )
            })?,
            parse_time(e).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "AF20055",
                    format!("Invalid end time '{e}'. {WINDOW_RULE}"),
                )
            })?,
        ),
        _ => return Err(bad_window()),
    };
    if end <= start || end - start > DAY_MS {
        return Err(bad_window());
    }
    if start < now - HISTORY_MS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "AF20055",
            "Start time cannot be more than 7 days in the past.",
        ));
    }
    let mut hour = match param(&params, "nextPage") {
        Some(token) => token.parse::<i64>().map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "AF20030",
                "The nextPage value is not valid.",
            )
        })?,
        None => (start - HOUR_MS).div_euclid(HOUR_MS) * HOUR_MS,
    };
    let mut blobs = Vec::new();
    let mut next_page = None;
    if let Some(stream) = office::stream_of(ct) {
        while hour <= end {
            if let Some(at) = created(&shared, stream, hour, now)
                && at >= start
                && at < end
            {
                if blobs.len() == LISTING_PAGE {
                    next_page = Some(hour);
                    break;
                }
                blobs.push(blob_json(&shared, &tenant, ct, hour, at));
            }
            hour += HOUR_MS;
        }
    }
    let mut response = Json(Value::Array(blobs)).into_response();
    if let Some(next) = next_page {
        let uri = format!(
            "{}/api/v1.0/{tenant}/activity/feed/subscriptions/content?contentType={ct}&startTime={}&endTime={}&nextPage={next}",
            shared.base_url,
            office_time(start),
            office_time(end),
        );
        if let Ok(value) = HeaderValue::from_str(&uri) {
            response.headers_mut().insert("NextPageUri", value);
        }
    }
    Ok(response)
}

fn blob_json(shared: &Shared, tenant: &str, ct: &str, hour: i64, created: i64) -> Value {
    let content_id = format!("{hour}${created}${}", ct.replace('.', "_").to_lowercase());
    json!({
        "contentType": ct,
        "contentId": content_id,
        "contentUri": format!("{}/api/v1.0/{tenant}/activity/feed/audit/{content_id}", shared.base_url),
        "contentCreated": ms_to_time(created).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "contentExpiration": ms_to_time(created + HISTORY_MS).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    })
}

/// `GET audit/{contentId}`.
pub(crate) async fn blob(
    State(shared): State<Arc<Shared>>,
    Path((tenant, content_id)): Path<(String, String)>,
) -> Answer {
    check_tenant(&shared, &tenant)?;
    let invalid = || {
        error(
            StatusCode::BAD_REQUEST,
            "AF20050",
            format!("The content ID '{content_id}' is not valid."),
        )
    };
    let mut parts = content_id.split('$');
    let (Some(hour), Some(created), Some(kind), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let (Ok(hour), Ok(created)) = (hour.parse::<i64>(), created.parse::<i64>()) else {
        return Err(invalid());
    };
    let Some(stream) = Stream::MICROSOFT.into_iter().find(|&s| {
        office::content_type(s).is_some_and(|c| c.replace('.', "_").eq_ignore_ascii_case(kind))
    }) else {
        return Err(invalid());
    };
    let now = Utc::now().timestamp_millis();
    if created < now - HISTORY_MS {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "AF20051",
            format!(
                "Content requested with the key {content_id} has already expired. Content older than 7 days cannot be retrieved."
            ),
        ));
    }
    if created < hour || created > hour + HOUR_MS || created > now {
        return Err(invalid());
    }
    let org = shared.org();
    let mut records: Vec<Value> = shared
        .timeline
        .between(stream, hour, (hour + HOUR_MS).min(created + 1))
        .into_iter()
        .map(|(item, ms)| office::office_record(&shared.timeline, &org, stream, item, ms))
        .collect();
    // Blobs are not in time order: order by record id instead.
    records.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
    Ok(Json(Value::Array(records)).into_response())
}
