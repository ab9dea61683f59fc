//! OData query options as Graph reads them: `$top`, `$select`, `$search`,
//! `$filter`, `$count`, `$skiptoken`, and the `@odata.nextLink` it writes.

use axum::http::HeaderMap;
use serde_json::Value;

use super::errors::GraphError;
pub use crate::sandbox::filter::{Clause, Literal, Op};
use crate::sandbox::filter::{all_hold, split_outside_quotes};
use crate::sandbox::paging::{PageSize, decode_cursor, url_with};

/// The query options of one request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Every parameter as sent, to carry into the nextLink.
    pub pairs: Vec<(String, String)>,
    pub top: Option<usize>,
    pub select: Option<Vec<String>>,
    pub search: Option<String>,
    pub filter: Option<String>,
    pub count: bool,
    pub skiptoken: Option<String>,
    /// Only delta queries take it.
    pub deltatoken: Option<String>,
    /// The `ConsistencyLevel: eventual` header was sent.
    pub eventual: bool,
}

impl Query {
    pub fn parse(raw: Option<&str>, headers: &HeaderMap) -> Result<Query, GraphError> {
        let mut q = Query {
            eventual: headers
                .get("consistencylevel")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
            ..Query::default()
        };
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            match key.to_ascii_lowercase().as_str() {
                "$top" => {
                    q.top = Some(value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for query option '$top'."
                        ))
                    })?)
                }
                "$select" => {
                    q.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "$search" => q.search = Some(value.clone()),
                "$filter" => q.filter = Some(value.clone()),
                "$count" => q.count = value.eq_ignore_ascii_case("true"),
                "$skiptoken" => {
                    q.skiptoken = Some(value);
                    continue;
                }
                "$deltatoken" => {
                    q.deltatoken = Some(value);
                    continue;
                }
                "$skip" => {
                    return Err(GraphError::unsupported(
                        "'$skip' is not supported by the service.",
                    ));
                }
                "$orderby" | "$expand" => {
                    return Err(GraphError::unsupported(format!(
                        "'{key}' is not supported by the casbah sandbox."
                    )));
                }
                _ if key.starts_with('$') => {
                    return Err(GraphError::bad_request(format!(
                        "Query option '{key}' is not allowed."
                    )));
                }
                _ => {}
            }
            q.pairs.push((key, value));
        }
        Ok(q)
    }

    /// `$top` for directory lists: default 100, 1..=999.
    pub fn directory_page_size(&self) -> Result<usize, GraphError> {
        const DIRECTORY: PageSize = PageSize {
            default: 100,
            max: 999,
            cap: false,
        };
        DIRECTORY.resolve(self.top).map_err(|n| {
            GraphError::unsupported(format!(
                "Invalid page size specified: '{n}'. Must be between 1 and 999 inclusive."
            ))
        })
    }

    /// `$search` needs `ConsistencyLevel: eventual`; so does `$count`.
    pub fn check_advanced(&self) -> Result<(), GraphError> {
        if self.search.is_some() && !self.eventual {
            return Err(GraphError::unsupported(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ));
        }
        if self.count && !self.eventual {
            return Err(GraphError::bad_request(
                "$count is not currently supported.",
            ));
        }
        Ok(())
    }
}

/// A property set: what `$select` asked for, or the type's defaults.
pub struct Selection<'a> {
    names: Vec<&'a str>,
}

impl<'a> Selection<'a> {
    /// Resolves `$select` against the properties a type knows (checked
    /// case-insensitively, written in canonical case).
    pub fn new(
        select: Option<&'a [String]>,
        known: &[&'static str],
        defaults: &[&'static str],
        type_name: &str,
    ) -> Result<Selection<'static>, GraphError> {
        match select {
            None => Ok(Selection {
                names: defaults.to_vec(),
            }),
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
                        Some(k) => out.push(*k),
                        None => {
                            return Err(GraphError::bad_request(format!(
                                "Could not find a property named '{name}' on type '{type_name}'."
                            )));
                        }
                    }
                }
                Ok(Selection { names: out })
            }
        }
    }

    pub fn explicit(names: Vec<&'a str>) -> Selection<'a> {
        Selection { names }
    }

    /// Writes the selected properties that `prop` knows into an object.
    pub fn render(&self, prop: impl Fn(&str) -> Option<Value>) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::with_capacity(self.names.len() + 1);
        for name in &self.names {
            if let Some(v) = prop(name) {
                out.insert((*name).to_string(), v);
            }
        }
        out
    }
}

/// Lowercase words of a text, split where Graph's tokenizer splits.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// True when every word of `term` starts some word of `text`.
pub fn word_prefix_match(text: &str, term: &str) -> bool {
    let words = tokens(text);
    tokens(term)
        .iter()
        .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
}

/// A parsed `$search`: clauses `"property:term"` joined by AND or OR.
pub struct Search {
    clauses: Vec<(String, String)>,
    any: bool,
}

impl Search {
    pub fn parse(text: &str, searchable: &[&str]) -> Result<Search, GraphError> {
        let mut clauses = Vec::new();
        let mut any = false;
        let mut rest = text.trim();
        while !rest.is_empty() {
            let clause;
            if let Some(after) = rest.strip_prefix('"') {
                let end = after.find('"').ok_or_else(|| {
                    GraphError::bad_request("Syntax error: unterminated string in $search.")
                })?;
                clause = &after[..end];
                rest = after[end + 1..].trim_start();
            } else {
                let end = rest.find(' ').unwrap_or(rest.len());
                clause = &rest[..end];
                rest = rest[end..].trim_start();
            }
            let (prop, term) = match clause.split_once(':') {
                Some((p, t)) => (p.trim(), t.trim()),
                None => {
                    return Err(GraphError::bad_request(format!(
                        "Syntax error: '{clause}' in $search must be of the form \"property:term\"."
                    )));
                }
            };
            let prop = searchable
                .iter()
                .find(|s| s.eq_ignore_ascii_case(prop))
                .ok_or_else(|| {
                    GraphError::unsupported(format!(
                        "Search is not supported on property '{prop}'."
                    ))
                })?;
            clauses.push(((*prop).to_string(), term.to_string()));
            if let Some(after) = rest.strip_prefix("OR ") {
                any = true;
                rest = after.trim_start();
            } else if let Some(after) = rest.strip_prefix("AND ") {
                rest = after.trim_start();
            }
        }
        if clauses.is_empty() {
            return Err(GraphError::bad_request("$search is empty."));
        }
        Ok(Search { clauses, any })
    }

    pub fn matches(&self, prop: impl Fn(&str) -> Option<Value>) -> bool {
        let hit = |(p, term): &(String, String)| match prop(p) {
            Some(Value::String(s)) => word_prefix_match(&s, term),
            _ => false,
        };
        if self.any {
            self.clauses.iter().any(hit)
        } else {
            self.clauses.iter().all(hit)
        }
    }
}

/// A `$filter`: clauses joined by `and`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

impl Filter {
    /// Parses `startswith(p,'x')`, `p eq v`, `p ne v`, `p ge v`, `p le v`
    /// and `p/any(c:c eq v)`, joined by `and`; anything else is refused.
    pub fn parse(text: &str, resource: &str) -> Result<Filter, GraphError> {
        let invalid = |p: &str| {
            GraphError::unsupported(format!(
                "Unsupported or invalid query filter clause specified for property '{p}' of resource '{resource}'."
            ))
        };
        if split_outside_quotes(text, " or ", b"'").len() > 1 {
            return Err(GraphError::unsupported(
                "The casbah sandbox takes clauses joined by 'and' in $filter, not 'or'.",
            ));
        }
        let mut clauses = Vec::new();
        for part in split_outside_quotes(text.trim(), " and ", b"'") {
            let part = part.trim();
            if part.starts_with('(') || part.to_ascii_lowercase().starts_with("not ") {
                return Err(invalid(part));
            }
            if let Some(args) = part
                .strip_prefix("startswith(")
                .or_else(|| part.strip_prefix("startsWith("))
                .and_then(|r| r.strip_suffix(')'))
            {
                let (prop, lit) = args.split_once(',').ok_or_else(|| invalid(args))?;
                match literal(lit) {
                    text @ Literal::Text(_) => {
                        clauses.push(Clause::new(prop.trim(), Op::StartsWith, text))
                    }
                    _ => return Err(invalid(prop.trim())),
                }
                continue;
            }
            // A collection holds the value: equality against each item.
            if let Some((prop, rest)) = part.split_once("/any(") {
                let inner = rest.strip_suffix(')').ok_or_else(|| invalid(prop))?;
                let (_, cond) = inner.split_once(':').ok_or_else(|| invalid(prop))?;
                let pieces: Vec<&str> = cond.trim().splitn(3, ' ').collect();
                match pieces.as_slice() {
                    [_, "eq", lit] => clauses.push(Clause::new(prop.trim(), Op::Eq, literal(lit))),
                    _ => return Err(invalid(prop)),
                }
                continue;
            }
            let pieces: Vec<&str> = part.splitn(3, ' ').collect();
            let [prop, op, lit] = pieces.as_slice() else {
                return Err(invalid(part));
            };
            let op = match op.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "ge" => Op::Ge,
                "le" => Op::Le,
                _ => return Err(invalid(prop)),
            };
            clauses.push(Clause::new(prop, op, literal(lit)));
        }
        Ok(Filter { clauses })
    }

    /// Checks every property against `filterable`; `ne` needs the advanced
    /// query mode, like Graph.
    pub fn check(&self, filterable: &[&str], resource: &str, q: &Query) -> Result<(), GraphError> {
        for c in &self.clauses {
            let filterable = filterable
                .iter()
                .any(|f| f.eq_ignore_ascii_case(&c.property));
            if !filterable || (c.op == Op::Ne && !(q.eventual && q.count)) {
                return Err(GraphError::unsupported(format!(
                    "Unsupported or invalid query filter clause specified for property '{}' of resource '{resource}'.",
                    c.property
                )));
            }
        }
        Ok(())
    }

    pub fn matches(&self, prop: impl Fn(&str) -> Option<Value>) -> bool {
        all_hold(&self.clauses, prop)
    }
}

/// An OData literal: `'text'` (quotes doubled inside), `true`, `false`,
/// `null`, or unquoted (a date-time).
fn literal(s: &str) -> Literal {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Literal::Text(inner.replace("''", "'"));
    }
    match s {
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        "null" => Literal::Null,
        _ => Literal::Raw(s.to_string()),
    }
}

/// The `$search` and `$filter` of a request, checked against a resource.
pub struct Matcher {
    search: Option<Search>,
    filter: Option<Filter>,
}

impl Matcher {
    pub fn new(
        q: &Query,
        searchable: &[&str],
        filterable: &[&str],
        resource: &str,
    ) -> Result<Matcher, GraphError> {
        let search = q
            .search
            .as_deref()
            .map(|s| Search::parse(s, searchable))
            .transpose()?;
        let filter = q
            .filter
            .as_deref()
            .map(|f| Filter::parse(f, resource))
            .transpose()?;
        if let Some(f) = &filter {
            f.check(filterable, resource, q)?;
        }
        Ok(Matcher { search, filter })
    }

    pub fn matches(&self, prop: impl Fn(&str) -> Option<Value>) -> bool {
        self.search.as_ref().is_none_or(|s| s.matches(&prop))
            && self.filter.as_ref().is_none_or(|f| f.matches(&prop))
    }
}

/// Skip tokens are the sandbox's opaque cursors (`paging`).
pub use crate::sandbox::paging::encode_cursor as encode_skiptoken;

pub fn decode_skiptoken(token: &str, scope: &str) -> Result<String, GraphError> {
    decode_cursor(token, scope).ok_or_else(|| {
        GraphError::bad_request("The specified page token value has expired or is invalid.")
    })
}

/// The absolute nextLink: the original parameters plus `$skiptoken`.
pub fn next_link(base_url: &str, path: &str, q: &Query, token: &str) -> String {
    url_with(base_url, path, &q.pairs, "$skiptoken", token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_prefixes_match_like_graph() {
        assert!(word_prefix_match("Finance - EMEA Approvers", "fin"));
        assert!(word_prefix_match("FIN-EMEA-Ops", "emea fin"));
        assert!(!word_prefix_match("Sales NA", "fin"));
        assert!(!word_prefix_match("Refinance", "fin"));
    }

    #[test]
    fn filters_parse_and_match() {
        let f = Filter::parse(
            "startswith(displayName,'fin') and securityEnabled eq true",
            "Group",
        )
        .unwrap();
        let props = |p: &str| match p {
            "displayName" => Some(Value::from("Finance EMEA")),
            "securityEnabled" => Some(Value::from(true)),
            _ => None,
        };
        assert!(f.matches(props));
        assert!(Filter::parse("displayName gt 'a'", "Group").is_err());
        assert!(Filter::parse("displayName eq 'a' or displayName eq 'b'", "Group").is_err());
        let quoted = Filter::parse("displayName eq 'Sales or Support'", "Group").unwrap();
        assert_eq!(quoted.clauses.len(), 1);
    }

    #[test]
    fn skiptokens_round_trip_and_reject_foreign_scopes() {
        let t = encode_skiptoken("groups", "42");
        assert_eq!(decode_skiptoken(&t, "groups").unwrap(), "42");
        assert!(decode_skiptoken(&t, "users").is_err());
        assert!(decode_skiptoken("garbage", "users").is_err());
    }
}
