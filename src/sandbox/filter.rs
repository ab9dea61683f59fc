//! One filter mechanism for every dialect: each parses its own syntax (Graph's
//! `$filter`, Okta's SCIM `search` and `filter`, Google's `query`, GitHub's
//! audit-log `phrase`) into clauses, and one matcher evaluates them against an
//! item's properties.

use std::cmp::Ordering;

use serde_json::Value;

/// A value compared against.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    Null,
    /// Unquoted, e.g. a date-time or a number.
    Raw(String),
}

impl Literal {
    /// Equality as vendors match: text without regard to case; a collection
    /// holds the text among its items.
    pub fn equals(&self, v: &Value) -> bool {
        match (self, v) {
            (Literal::Text(t) | Literal::Raw(t), Value::String(s)) => t.eq_ignore_ascii_case(s),
            (Literal::Raw(r), Value::Number(n)) => r.parse::<f64>().ok() == n.as_f64(),
            (Literal::Raw(r), Value::Bool(b)) => r.eq_ignore_ascii_case(&b.to_string()),
            (Literal::Bool(b), Value::Bool(x)) => b == x,
            (Literal::Null, Value::Null) => true,
            (lit @ Literal::Text(_), Value::Array(items)) => items.iter().any(|i| lit.equals(i)),
            _ => false,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Literal::Text(t) | Literal::Raw(t) => t,
            Literal::Bool(true) => "true",
            Literal::Bool(false) => "false",
            Literal::Null => "null",
        }
    }

    /// Numbers compare as numbers, anything else as text (ISO 8601 times
    /// order correctly as text).
    fn compare(&self, v: &Value) -> Option<Ordering> {
        match v {
            Value::Number(n) => n.as_f64()?.partial_cmp(&self.text().parse::<f64>().ok()?),
            Value::String(s) => Some(s.as_str().cmp(self.text())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    /// Case-insensitive prefix.
    StartsWith,
    Gt,
    Ge,
    Lt,
    Le,
}

/// `property op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub property: String,
    pub op: Op,
    pub value: Literal,
}

impl Clause {
    pub fn new(property: &str, op: Op, value: Literal) -> Clause {
        Clause {
            property: property.to_string(),
            op,
            value,
        }
    }

    /// Whether an item whose property is `v` (`Null` when it has none) passes.
    pub fn holds(&self, v: &Value) -> bool {
        let order = || self.value.compare(v);
        match self.op {
            Op::Eq => self.value.equals(v),
            Op::Ne => !self.value.equals(v),
            Op::StartsWith => v.as_str().is_some_and(|s| {
                s.to_lowercase()
                    .starts_with(&self.value.text().to_lowercase())
            }),
            Op::Gt => order() == Some(Ordering::Greater),
            Op::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => order() == Some(Ordering::Less),
            Op::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
        }
    }
}

/// Whether every clause holds for the item whose properties `prop` gives.
pub fn all_hold(clauses: &[Clause], prop: impl Fn(&str) -> Option<Value>) -> bool {
    clauses
        .iter()
        .all(|c| c.holds(&prop(&c.property).unwrap_or(Value::Null)))
}

/// Splits `text` at each `sep` (ASCII, matched without regard to case) that
/// is outside quotes; `quotes` are the characters that open and close them.
pub fn split_outside_quotes<'s>(text: &'s str, sep: &str, quotes: &[u8]) -> Vec<&'s str> {
    let mut parts = Vec::new();
    let mut open: Option<u8> = None;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match open {
            Some(_) if b == b'\\' && i + 1 < bytes.len() => i += 1,
            Some(q) if b == q => open = None,
            Some(_) => {}
            None if quotes.contains(&b) => open = Some(b),
            None if text.is_char_boundary(i)
                && text[i..].len() >= sep.len()
                && text.is_char_boundary(i + sep.len())
                && text[i..i + sep.len()].eq_ignore_ascii_case(sep) =>
            {
                parts.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_compare_text_numbers_and_collections() {
        let text = |s: &str| Value::from(s);
        assert!(Clause::new("n", Op::Eq, Literal::Text("fin".into())).holds(&text("FIN")));
        assert!(
            Clause::new("n", Op::StartsWith, Literal::Text("fin".into())).holds(&text("Finance"))
        );
        assert!(
            !Clause::new("n", Op::StartsWith, Literal::Text("fin".into()))
                .holds(&text("Refinance"))
        );
        let t = "2026-01-02T00:00:00Z";
        assert!(Clause::new("t", Op::Gt, Literal::Raw("2026-01-01".into())).holds(&text(t)));
        assert!(Clause::new("t", Op::Le, Literal::Raw(t.into())).holds(&text(t)));
        assert!(Clause::new("c", Op::Ge, Literal::Raw("10".into())).holds(&Value::from(12)));
        assert!(!Clause::new("c", Op::Lt, Literal::Raw("10".into())).holds(&Value::from(12)));
        let types = serde_json::json!(["Unified", "DynamicMembership"]);
        assert!(Clause::new("g", Op::Eq, Literal::Text("unified".into())).holds(&types));
        assert!(Clause::new("x", Op::Eq, Literal::Null).holds(&Value::Null));
    }

    #[test]
    fn splitting_respects_every_kind_of_quote() {
        assert_eq!(
            split_outside_quotes("a eq 'x and y' and b eq \"p and q\"", " and ", b"'\""),
            ["a eq 'x and y'", "b eq \"p and q\""]
        );
        assert_eq!(
            split_outside_quotes("x:'it\\'s' y", " ", b"'"),
            ["x:'it\\'s'", "y"]
        );
        assert_eq!(split_outside_quotes("only", " and ", b"'"), ["only"]);
    }
}
