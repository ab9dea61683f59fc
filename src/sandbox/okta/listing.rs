//! How every Okta list answers: a JSON array, and a `Link` header with
//! `self` always and `next` while more remain, its `after` an opaque cursor
//! from the shared paging (scoped to the org and the path, so one list's
//! cursor is refused by another).

use axum::Json;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::OktaError;
use crate::sandbox::paging::{self, PageSize};

/// A request's query parameters, as sent.
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(paging::pairs(raw))
    }

    /// The first value of `name`, if given and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The page size `rule` allows for the request's `limit`.
    pub fn limit(&self, rule: PageSize) -> Result<usize, OktaError> {
        let asked = match self.get("limit") {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<usize>()
                    .map_err(|_| OktaError::validation("limit: must be a number"))?,
            ),
        };
        rule.resolve(asked)
            .map_err(|n| OktaError::validation(format!("limit: {n} is not a valid page size")))
    }
}

/// The scope of a list's cursors: the org and the path.
pub(crate) fn scope(org: usize, uri: &Uri) -> String {
    format!("okta{org}{}", uri.path())
}

/// The records, with `Link: <self>; rel="self"` and, when `after` is given,
/// `<next>; rel="next"` (the request's parameters with `after` set, less
/// those in `drop`).
pub(crate) fn answer(
    base_url: &str,
    uri: &Uri,
    params: &Params,
    records: Vec<Value>,
    after: Option<&str>,
    drop: &[&str],
) -> Response {
    let path = uri.path();
    let self_url = match uri.query() {
        Some(q) => format!("{base_url}{path}?{q}"),
        None => format!("{base_url}{path}"),
    };
    let next = after.map(|cursor| {
        let kept: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| !drop.contains(&k.as_str()))
            .cloned()
            .collect();
        paging::url_with(base_url, path, &kept, "after", cursor)
    });
    let mut response = Json(Value::Array(records)).into_response();
    if let Ok(link) = HeaderValue::from_str(&paging::link_header(&self_url, next.as_deref())) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}
