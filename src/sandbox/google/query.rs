//! The Directory API's `query` syntax, parsed into the shared filter's clauses.
//!
//! Clauses are separated by whitespace and all must hold:
//! `name:'Sales Team*'` (a prefix), `email:fin*`, `name=Finance` (exact),
//! `isAdmin=true` (booleans). A value with spaces is quoted with `'`; a quote
//! inside one is escaped as `\'`.

use crate::sandbox::filter::{Clause, Literal, Op, split_outside_quotes};

/// What a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// Text compared with `=`; with `:{PREFIX}*` too when `prefix`.
    Text {
        prefix: bool,
    },
    Bool,
}

/// Google answers any query it cannot read with 400 "Invalid Input".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidInput;

/// A quoted value's text, its escapes undone; an unquoted value as it is.
fn unquote(raw: &str) -> Result<String, InvalidInput> {
    let Some(inner) = raw.strip_prefix('\'') else {
        return Ok(raw.to_owned());
    };
    let inner = inner.strip_suffix('\'').ok_or(InvalidInput)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or(InvalidInput)?),
            '\'' => return Err(InvalidInput),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One clause: `field`, then `=` or `:`, then the value.
fn clause(part: &str, fields: &[(&str, Field)]) -> Result<Clause, InvalidInput> {
    let at = part.find(['=', ':']).ok_or(InvalidInput)?;
    let (name, rest) = part.split_at(at);
    let (op, raw) = rest.split_at(1);
    let field = fields
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, kind)| *kind)
        .ok_or(InvalidInput)?;
    Ok(match (field, op) {
        (Field::Bool, "=") => {
            let value = match unquote(raw)?.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(InvalidInput),
            };
            Clause::new(name, Op::Eq, Literal::Bool(value))
        }
        (Field::Text { .. }, "=") => Clause::new(name, Op::Eq, Literal::Text(unquote(raw)?)),
        (Field::Text { prefix: true }, ":") => {
            // `email:fin*` and `name:'Sales Team'*` put the star outside
            // the value; `name:'Sales Team*'` inside.
            let value = match raw.strip_suffix('*') {
                Some(before) => unquote(before)?,
                None => unquote(raw)?
                    .strip_suffix('*')
                    .ok_or(InvalidInput)?
                    .to_owned(),
            };
            Clause::new(name, Op::StartsWith, Literal::Text(value))
        }
        _ => return Err(InvalidInput),
    })
}

/// Parses `text` for a list whose queryable fields are `fields`.
pub(crate) fn parse(text: &str, fields: &[(&str, Field)]) -> Result<Vec<Clause>, InvalidInput> {
    split_outside_quotes(text.trim(), " ", b"'")
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| clause(part, fields))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUPS: &[(&str, Field)] = &[
        ("name", Field::Text { prefix: true }),
        ("email", Field::Text { prefix: true }),
    ];

    #[test]
    fn prefixes_exact_values_and_booleans() {
        assert_eq!(
            parse("name:'Sales Team*' email:fin*", GROUPS).unwrap(),
            vec![
                Clause::new("name", Op::StartsWith, Literal::Text("Sales Team".into())),
                Clause::new("email", Op::StartsWith, Literal::Text("fin".into())),
            ]
        );
        assert_eq!(
            parse("name:'Sales Team'*", GROUPS).unwrap(),
            vec![Clause::new(
                "name",
                Op::StartsWith,
                Literal::Text("Sales Team".into())
            )]
        );
        assert_eq!(
            parse(r"name='Valentine\'s Day'", GROUPS).unwrap(),
            vec![Clause::new(
                "name",
                Op::Eq,
                Literal::Text("Valentine's Day".into())
            )]
        );
        let users = [("isAdmin", Field::Bool)];
        assert_eq!(
            parse("isAdmin=true", &users).unwrap(),
            vec![Clause::new("isAdmin", Op::Eq, Literal::Bool(true))]
        );
        assert!(parse("", GROUPS).unwrap().is_empty());
    }

    #[test]
    fn what_google_cannot_read_is_refused() {
        let fields = [
            ("name", Field::Text { prefix: true }),
            ("isAdmin", Field::Bool),
        ];
        for bad in [
            "name:Sales",
            "owner=me",
            "name",
            "name:'open*",
            "isAdmin=yes",
            "name='it's'",
        ] {
            assert_eq!(parse(bad, &fields), Err(InvalidInput), "{bad}");
        }
    }
}
