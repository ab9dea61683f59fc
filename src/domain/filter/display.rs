//! `Filter` → canonical text, which parses back to the same filter (R-A3
//! saved queries, R-A4 chips). Negation is always written with `-`, prefix
//! with `^=`, and values are quoted only when they must be.

use std::fmt;

use super::fields::Flag;
use super::parse::{ends_bare, is_connective, looks_like_field};
use super::{Filter, Term, TermKind, Value};

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        match &self.kind {
            TermKind::Text(v) if reads_as_text(&v.text) => f.write_str(&v.text),
            TermKind::Text(v) => write_quoted(f, &v.text),
            TermKind::Flag(flag) => f.write_str(flag.name()),
            TermKind::Time(time) => write!(f, "{time}"),
            TermKind::Match { field, op, values } => {
                write!(f, "{}{}", field.name(), op.token())?;
                match values.as_slice() {
                    [one] => write_value(f, one),
                    many => {
                        f.write_str("(")?;
                        for (i, v) in many.iter().enumerate() {
                            if i > 0 {
                                f.write_str(",")?;
                            }
                            write_value(f, v)?;
                        }
                        f.write_str(")")
                    }
                }
            }
        }
    }
}

/// A field value can go bare unless it has a space or delimiter, or starts
/// with `^` (which `:` would read as "starts with").
fn write_value(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    let bare = !v.text.is_empty() && !v.text.starts_with('^') && !v.text.chars().any(ends_bare);
    if bare {
        f.write_str(&v.text)
    } else {
        write_quoted(f, &v.text)
    }
}

/// Whether free text, written bare, reads back as the same free text rather
/// than a negation, a flag or a field.
fn reads_as_text(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(ends_bare)
        && !text.starts_with('-')
        && Flag::from_word(text).is_none()
        && !looks_like_field(text)
        && !is_connective(text)
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::super::arbitrary::filter;
    use super::super::parse;
    use proptest::prelude::*;

    // R-A4: canonical text for a typical filter.
    #[test]
    fn canonical_spelling() {
        let f = parse(
            r#"group:"Finance EMEA" country!=us ip:^10. ACTOR:x@y.com type:(download, "a b") "admin" -"-x" 'q'"#,
        )
        .expect("parses");
        assert_eq!(
            f.to_string(),
            r#"group:"Finance EMEA" -country:US ip^=10. user:x@y.com type:(download,"a b") "admin" -"-x" 'q'"#
        );
    }

    // R-A4: quoting keeps quotes, backslashes, carets and field-like text intact.
    #[test]
    fn quoting_round_trips() {
        for (input, canonical) in [
            (r#"object:"say \"hi\"""#, r#"object:"say \"hi\"""#),
            (r#"object:"C:\dir x""#, r#"object:"C:\\dir x""#),
            (r#"object:"C:\\dir""#, r#"object:C:\dir"#),
            (r#"object:"^literal""#, r#"object:"^literal""#),
            (r#""type:x""#, r#""type:x""#),
            (r#""a,b""#, r#""a,b""#),
        ] {
            let f = parse(input).expect(input);
            assert_eq!(f.to_string(), canonical);
            assert_eq!(parse(canonical), Ok(f));
        }
    }

    proptest! {
        // R-A3, R-A4: parse(display(filter)) == filter.
        #[test]
        fn display_round_trips(f in filter()) {
            let text = f.to_string();
            prop_assert_eq!(parse(&text), Ok(f), "{}", text);
        }
    }
}
