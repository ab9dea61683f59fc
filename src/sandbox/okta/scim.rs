//! Okta's SCIM-style expressions (`search`, `filter`): clauses such as
//! `profile.name sw "West"`, `status eq "SUSPENDED"` or
//! `lastUpdated gt "2024-01-01T00:00:00.000Z"`, joined by `and` and `or`
//! (`and` binding tighter). They become the shared filter's clauses, one
//! list per `or` branch, evaluated against the JSON record Okta would return.
//! Attribute names are case-sensitive; operators and string values are not.

use serde_json::Value;

use crate::sandbox::filter::{Clause, Literal, Op, all_hold, split_outside_quotes};

/// Either branch of an `or`, each a list of clauses that must all hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expression(Vec<Vec<Clause>>);

/// Why an expression cannot be read, in words for the error summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unreadable(pub String);

fn literal(text: &str) -> Result<Literal, Unreadable> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '"' => return Err(Unreadable(format!("unescaped quote in {text}"))),
                c => out.push(c),
            }
        }
        return Ok(Literal::Text(out));
    }
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(Literal::Bool(true)),
        "false" => Ok(Literal::Bool(false)),
        "null" => Ok(Literal::Null),
        _ if !text.is_empty() && !text.contains(char::is_whitespace) => {
            Ok(Literal::Raw(text.to_string()))
        }
        _ => Err(Unreadable(format!("cannot read the value {text:?}"))),
    }
}

fn clause(text: &str) -> Result<Clause, Unreadable> {
    let text = text.trim();
    let text = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    let mut parts = text.splitn(3, char::is_whitespace);
    let attribute = parts.next().unwrap_or_default();
    let operator = parts.next().unwrap_or_default().to_ascii_lowercase();
    let rest = parts.next().unwrap_or_default();
    if attribute.is_empty() || attribute.contains(['(', ')', '"']) {
        return Err(Unreadable(format!("cannot read the clause {text:?}")));
    }
    let op = match operator.as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "sw" => Op::StartsWith,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        // Present: anything but null.
        "pr" if rest.trim().is_empty() => return Ok(Clause::new(attribute, Op::Ne, Literal::Null)),
        other => {
            return Err(Unreadable(format!(
                "Unrecognized attribute operator '{other}'. Expected: eq,ne,sw,pr,gt,ge,lt,le"
            )));
        }
    };
    Ok(Clause::new(attribute, op, literal(rest)?))
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, Unreadable> {
        let branches = split_outside_quotes(text, " or ", b"\"")
            .into_iter()
            .map(|branch| {
                split_outside_quotes(branch, " and ", b"\"")
                    .into_iter()
                    .map(clause)
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Expression(branches))
    }

    /// The attributes the expression names.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().flatten().map(|c| c.property.as_str())
    }

    pub fn matches(&self, record: &Value) -> bool {
        self.0
            .iter()
            .any(|clauses| all_hold(clauses, |path| lookup(record, path)))
    }
}

/// A record's value at a dotted path (`profile.name`); through an array,
/// the values of all its items (`target.id`).
pub(crate) fn lookup(record: &Value, path: &str) -> Option<Value> {
    let mut current = record.clone();
    for part in path.split('.') {
        current = match current {
            Value::Object(mut map) => map.remove(part)?,
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .filter_map(|mut i| i.get_mut(part).map(Value::take))
                    .collect(),
            ),
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clauses_join_with_and_and_or() {
        let group = json!({"id": "00g1", "type": "OKTA_GROUP", "lastUpdated": "2024-03-01T00:00:00.000Z",
                           "profile": {"name": "West Coast \"Users\"", "description": null}});
        let yes = [
            r#"profile.name sw "west""#,
            r#"profile.name eq "WEST COAST \"USERS\"""#,
            r#"type eq "OKTA_GROUP" and lastUpdated gt "2024-01-01T00:00:00.000Z""#,
            r#"id eq "nope" or profile.name sw "West""#,
            r#"(type eq "OKTA_GROUP")"#,
            "id pr",
        ];
        for text in yes {
            assert!(Expression::parse(text).unwrap().matches(&group), "{text}");
        }
        let no = [
            r#"profile.name sw "East""#,
            r#"type eq "OKTA_GROUP" and lastUpdated lt "2024-01-01T00:00:00.000Z""#,
            r#"Profile.name sw "West""#,
            "profile.description pr",
        ];
        for text in no {
            assert!(!Expression::parse(text).unwrap().matches(&group), "{text}");
        }
    }

    #[test]
    fn unreadable_expressions_say_why() {
        let err = Expression::parse(r#"profile.name eqq "x""#).unwrap_err();
        assert!(err.0.contains("'eqq'"), "{err:?}");
        assert!(Expression::parse("profile.name eq").is_err());
        assert!(Expression::parse(r#"profile.name eq "a" b""#).is_err());
    }

    #[test]
    fn paths_reach_through_arrays() {
        let event = json!({"target": [{"id": "00u1"}, {"id": "00g2"}], "actor": {"id": "00u9"}});
        assert!(
            Expression::parse(r#"target.id eq "00g2""#)
                .unwrap()
                .matches(&event)
        );
        assert!(
            Expression::parse(r#"actor.id eq "00u9""#)
                .unwrap()
                .matches(&event)
        );
        assert!(
            !Expression::parse(r#"actor.id eq "00u1""#)
                .unwrap()
                .matches(&event)
        );
    }
}
