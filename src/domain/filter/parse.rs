//! Filter text → `Filter`. Works on characters so that error columns count
//! what a person sees, not bytes.

use super::fields::{self, Field, FieldInfo, Flag, Op, Syntax, TimeField};
use super::suggest::{closest, did_you_mean};
use super::time::{TimePoint, TimeTerm};
use super::{Filter, FilterError, Term, TermKind, Value};
use crate::domain::GroupApp;
use crate::domain::activity::{ACTION_TYPES, ObjectKind};

type Result<T> = std::result::Result<T, FilterError>;

/// Parses filter text. Names (groups, instances) are checked later, by `Filter::bind`.
pub fn parse(input: &str) -> Result<Filter> {
    Parser {
        chars: input.chars().collect(),
        pos: 0,
    }
    .filter()
}

/// Characters that end a bare (unquoted) word or value.
pub(super) fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '(' | ')' | ',')
}

/// The operator right after a field name, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpToken {
    Colon,
    NotEq,
    Prefix,
    Contains,
}

impl OpToken {
    fn at(chars: &[char]) -> Option<OpToken> {
        match chars {
            [':', ..] => Some(OpToken::Colon),
            ['!', '=', ..] => Some(OpToken::NotEq),
            ['^', '=', ..] => Some(OpToken::Prefix),
            ['~', '=', ..] => Some(OpToken::Contains),
            _ => None,
        }
    }

    fn len(self) -> usize {
        match self {
            OpToken::Colon => 1,
            _ => 2,
        }
    }
}

/// `OR` or `AND`, in any case: not free text, which the parser refuses bare.
pub(super) fn is_connective(word: &str) -> bool {
    ["or", "and"].iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// True when `s` starts with a field-like word directly followed by an
/// operator, i.e. the parser would read it as a field term.
pub(super) fn looks_like_field(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let name_len = chars.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    name_len > 0 && OpToken::at(&chars[name_len..]).is_some()
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn at_space_or_end(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn filter(mut self) -> Result<Filter> {
        let mut terms: Vec<Term> = Vec::new();
        loop {
            self.skip_spaces();
            if self.peek().is_none() {
                return Ok(Filter { terms });
            }
            if let Some(word) = self.connective() {
                return Err(self.no_connectives(word, terms.last()));
            }
            terms.push(self.term()?);
            if let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
                return Err(self.unexpected(c));
            }
        }
    }

    /// `OR` or `AND` (any case) standing alone at the cursor: people write them from
    /// other query languages, and as free text they would silently match nothing.
    fn connective(&self) -> Option<String> {
        let word: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| !ends_bare(**c))
            .collect();
        is_connective(&word).then_some(word)
    }

    /// The error for a connective at the cursor, with the any-of form of the terms on
    /// either side where they compare one field (`country:US OR country:GB` →
    /// `country:(US,GB)`).
    fn no_connectives(&self, word: String, before: Option<&Term>) -> FilterError {
        let mut rest = Parser {
            chars: self.chars.clone(),
            pos: self.pos + word.chars().count(),
        };
        rest.skip_spaces();
        let after = rest.term().ok();
        let example = match (
            before.map(|t| (t.negated, &t.kind)),
            after.map(|t| (t.negated, t.kind)),
        ) {
            (
                Some((false, TermKind::Match { field, op, values })),
                Some((
                    false,
                    TermKind::Match {
                        field: next,
                        op: next_op,
                        values: more,
                    },
                )),
            ) if *field == next && *op == next_op => {
                let values = values.iter().cloned().chain(more).collect();
                let term = Term {
                    negated: false,
                    kind: TermKind::Match {
                        field: *field,
                        op: *op,
                        values,
                    },
                    column: 0,
                };
                term.to_string()
            }
            _ => "country:(US,GB)".to_string(),
        };
        let lead = if word.eq_ignore_ascii_case("and") {
            "filters have no AND: every term must hold already"
        } else {
            "filters have no OR: every term must hold"
        };
        FilterError::new(
            self.column(),
            format!("{lead}; for any of several values write {example}"),
        )
    }

    fn unexpected(&self, c: char) -> FilterError {
        let message = match c {
            ',' => "several values go in parentheses, e.g. type:(download,share)".to_string(),
            '(' => "a list follows a field, e.g. type:(download,share)".to_string(),
            ')' => "unexpected `)`: no list is open".to_string(),
            '"' => "put a space before the quote".to_string(),
            c => format!("unexpected `{c}`: put a space between terms"),
        };
        FilterError::new(self.column(), message)
    }

    fn term(&mut self) -> Result<Term> {
        let column = self.column();
        let negated = self.peek() == Some('-');
        if negated {
            self.pos += 1;
            if self.at_space_or_end() {
                return Err(FilterError::new(
                    column,
                    "`-` must be followed by the term to exclude, e.g. -admin",
                ));
            }
            if self.peek() == Some('-') {
                return Err(FilterError::new(
                    self.column(),
                    "one `-` is enough to exclude a term",
                ));
            }
        }
        let (kind, negated) = self.term_kind(negated, column)?;
        Ok(Term {
            negated,
            kind,
            column,
        })
    }

    /// Reads what follows the optional `-`; returns the kind and whether the
    /// term ends up negated (`!=` negates too).
    fn term_kind(&mut self, negated: bool, column: usize) -> Result<(TermKind, bool)> {
        if self.peek() == Some('"') {
            let value = self.quoted()?;
            return Ok((TermKind::Text(value), negated));
        }
        let name_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        if self.pos > name_start
            && let Some(op) = OpToken::at(&self.chars[self.pos..])
        {
            let name: String = self.chars[name_start..self.pos].iter().collect();
            return self.field_term(&name, name_start + 1, op, negated, column);
        }
        self.pos = name_start;
        if let Some(c) = self.peek().filter(|c| ends_bare(*c)) {
            return Err(self.unexpected(c));
        }
        let word = self.bare()?;
        let kind = match Flag::from_word(&word.text) {
            Some(flag) => TermKind::Flag(flag),
            None => TermKind::Text(word),
        };
        Ok((kind, negated))
    }

    fn field_term(
        &mut self,
        name: &str,
        name_column: usize,
        op: OpToken,
        negated: bool,
        term_column: usize,
    ) -> Result<(TermKind, bool)> {
        let info = fields::lookup(name).ok_or_else(|| unknown_field(name, name_column))?;
        let op_column = self.column();
        self.pos += op.len();
        match info.syntax {
            Syntax::Flag(_) => Err(FilterError::new(
                name_column,
                format!(
                    "`{0}` is a flag: write {0} or -{0}, without a value",
                    info.name
                ),
            )),
            Syntax::Time(field) => {
                if op != OpToken::Colon {
                    return Err(FilterError::new(
                        op_column,
                        format!(
                            "`{0}` takes `:` then a date, e.g. {1}; exclude with -{0}:",
                            info.name, info.example
                        ),
                    ));
                }
                Ok((TermKind::Time(self.time_value(info, field)?), negated))
            }
            Syntax::Values { field, ops } => {
                let (negated, op) = match op {
                    OpToken::Colon if self.peek() == Some('^') => {
                        self.pos += 1;
                        (negated, Op::Prefix)
                    }
                    OpToken::Colon => (negated, Op::Eq),
                    OpToken::NotEq if negated => {
                        return Err(FilterError::new(term_column, "use `-` or `!=`, not both"));
                    }
                    OpToken::NotEq => (true, Op::Eq),
                    OpToken::Prefix => (negated, Op::Prefix),
                    OpToken::Contains => (negated, Op::Contains),
                };
                if !ops.contains(&op) {
                    let allowed: Vec<&str> = ops.iter().map(|o| o.describe()).collect();
                    return Err(FilterError::new(
                        op_column,
                        format!(
                            "`{}` cannot use {}; it takes {}, e.g. {}",
                            info.name,
                            op.describe(),
                            allowed.join(" or "),
                            info.example
                        ),
                    ));
                }
                let values = self
                    .value_set(info)?
                    .into_iter()
                    .map(|v| normalise(field, v))
                    .collect::<Result<Vec<Value>>>()?;
                Ok((TermKind::Match { field, op, values }, negated))
            }
        }
    }

    fn time_value(&mut self, info: &FieldInfo, field: TimeField) -> Result<TimeTerm> {
        if self.at_space_or_end() {
            return Err(needs_value(info, self.column()));
        }
        if self.peek() == Some('(') {
            return Err(FilterError::new(
                self.column(),
                format!("`{}` takes one date, e.g. {}", info.name, info.example),
            ));
        }
        let value = self.value()?;
        let point = |s: &str| TimePoint::parse(s).map_err(|m| FilterError::new(value.column, m));
        match (field, value.text.split_once("..")) {
            (TimeField::Date, Some((from, to))) => Ok(TimeTerm::Between(point(from)?, point(to)?)),
            (TimeField::Date, None) => {
                let day = point(&value.text)?;
                Ok(TimeTerm::Between(day, day))
            }
            (_, Some(_)) => Err(FilterError::new(
                value.column,
                "a range goes with date:, e.g. date:2026-11-01..2026-11-08",
            )),
            (TimeField::After, None) => Ok(TimeTerm::After(point(&value.text)?)),
            (TimeField::Before, None) => Ok(TimeTerm::Before(point(&value.text)?)),
        }
    }

    /// One value, or `(a, b, ...)`.
    fn value_set(&mut self, info: &FieldInfo) -> Result<Vec<Value>> {
        if self.at_space_or_end() {
            return Err(needs_value(info, self.column()));
        }
        if self.peek() != Some('(') {
            return Ok(vec![self.value()?]);
        }
        let open = self.column();
        self.pos += 1;
        let mut values = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                None => return Err(unclosed_list(open)),
                Some(')') if values.is_empty() => {
                    return Err(FilterError::new(
                        self.column(),
                        format!("empty list: put values in it, e.g. {}", info.example),
                    ));
                }
                _ => values.push(self.value()?),
            }
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(values);
                }
                None => return Err(unclosed_list(open)),
                Some(c) => {
                    return Err(FilterError::new(
                        self.column(),
                        format!("expected `,` or `)` in the list, found `{c}`"),
                    ));
                }
            }
        }
    }

    fn value(&mut self) -> Result<Value> {
        if self.peek() == Some('"') {
            self.quoted()
        } else {
            self.bare()
        }
    }

    /// A run of characters up to a space, quote, parenthesis or comma.
    fn bare(&mut self) -> Result<Value> {
        let column = self.column();
        let start = self.pos;
        while self.peek().is_some_and(|c| !ends_bare(c)) {
            self.pos += 1;
        }
        if self.pos == start {
            let message = match self.peek() {
                Some(c) => format!("expected a value, found `{c}`"),
                None => "expected a value".to_string(),
            };
            return Err(FilterError::new(column, message));
        }
        Ok(Value {
            text: self.chars[start..self.pos].iter().collect(),
            column,
        })
    }

    /// `"..."` with `\"` for a quote and `\\` for a backslash; any other
    /// backslash is kept, so Windows paths need no doubling.
    fn quoted(&mut self) -> Result<Value> {
        let column = self.column();
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(FilterError::new(
                        column,
                        "unclosed quote: end the value with \"",
                    ));
                }
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => match self.chars.get(self.pos + 1) {
                    Some(&c @ ('"' | '\\')) => {
                        text.push(c);
                        self.pos += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                },
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if text.is_empty() {
            return Err(FilterError::new(
                column,
                "empty quotes: write the text between them",
            ));
        }
        Ok(Value { text, column })
    }
}

fn needs_value(info: &FieldInfo, column: usize) -> FilterError {
    FilterError::new(
        column,
        format!("`{}` needs a value, e.g. {}", info.name, info.example),
    )
}

fn unclosed_list(column: usize) -> FilterError {
    FilterError::new(column, "unclosed `(`: end the list with `)`")
}

fn unknown_field(name: &str, column: usize) -> FilterError {
    let close = closest(name, fields::all_names());
    let message = if close.is_empty() {
        let names: Vec<&str> = fields::fields().iter().map(|f| f.name).collect();
        format!(
            "unknown field `{name}`; fields are {}; quote free text that contains `:`",
            names.join(", ")
        )
    } else {
        format!("unknown field `{name}`{}", did_you_mean(&close))
    };
    FilterError::new(column, message)
}

/// Checks and normalises values of fields with a fixed vocabulary, so that
/// display shows the canonical spelling.
fn normalise(field: Field, value: Value) -> Result<Value> {
    let text = match field {
        Field::App => app_value(&value)?.slug().to_string(),
        Field::Action => action_value(&value)?.to_string(),
        Field::Kind => kind_value(&value)?.slug().to_string(),
        Field::Country => country_value(&value)?,
        _ => return Ok(value),
    };
    Ok(Value {
        text,
        column: value.column,
    })
}

/// A catalog app, or (R-G10) an Office app of Microsoft 365, by slug or
/// display name, ignoring case.
pub(super) fn app_value(value: &Value) -> Result<GroupApp> {
    GroupApp::from_name(&value.text)
        .ok_or_else(|| unknown_word(value, "app", &GroupApp::all_slugs()))
}

pub(super) fn action_value(value: &Value) -> Result<&'static str> {
    ACTION_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(&value.text))
        .ok_or_else(|| unknown_word(value, "action type", &ACTION_TYPES))
}

pub(super) fn kind_value(value: &Value) -> Result<ObjectKind> {
    ObjectKind::from_slug(&value.text)
        .ok_or_else(|| unknown_word(value, "object kind", &ObjectKind::ALL.map(ObjectKind::slug)))
}

/// ISO 3166-1 alpha-2, upper case.
pub(super) fn country_value(value: &Value) -> Result<String> {
    let text = &value.text;
    if text.chars().count() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(FilterError::new(
            value.column,
            format!("country takes a two-letter code such as US or FR, not `{text}`"),
        ))
    }
}

fn unknown_word(value: &Value, what: &str, options: &[&str]) -> FilterError {
    let close = closest(&value.text, options.iter().copied());
    let hint = if close.is_empty() {
        format!("; use one of {}", options.join(", "))
    } else {
        did_you_mean(&close)
    };
    FilterError::new(
        value.column,
        format!("unknown {what} `{}`{hint}", value.text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::time::TimeUnit;
    use proptest::prelude::*;

    fn err(input: &str) -> FilterError {
        parse(input).expect_err(input)
    }

    fn values(texts: &[&str]) -> Vec<Value> {
        texts.iter().map(|t| Value::new(*t)).collect()
    }

    fn field(negated: bool, field: Field, op: Op, texts: &[&str]) -> Term {
        Term {
            negated,
            kind: TermKind::Match {
                field,
                op,
                values: values(texts),
            },
            column: 0,
        }
    }

    // R-A2, R-A4: the example from the design parses term by term.
    #[test]
    fn parses_the_reference_example() {
        let f = parse(
            r#"group:"Finance EMEA" country!=us app:microsoft365 after:2026-11-01 type:(download,share) -admin"#,
        )
        .expect("parses");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        assert_eq!(
            f.terms,
            [
                field(false, Field::Group, Op::Eq, &["Finance EMEA"]),
                field(true, Field::Country, Op::Eq, &["US"]),
                field(false, Field::App, Op::Eq, &["microsoft365"]),
                Term {
                    negated: false,
                    kind: TermKind::Time(TimeTerm::After(TimePoint::Day(day))),
                    column: 0
                },
                field(false, Field::Type, Op::Eq, &["download", "share"]),
                Term {
                    negated: true,
                    kind: TermKind::Flag(Flag::Admin),
                    column: 0
                },
            ]
        );
        let columns: Vec<usize> = f.terms.iter().map(|t| t.column).collect();
        assert_eq!(columns, [1, 22, 34, 51, 68, 90]);
    }

    // R-A2: prefix and contains operators, both spellings of prefix.
    #[test]
    fn prefix_and_contains() {
        let a = parse("ip:^10.1. object~=budget").expect("parses");
        assert_eq!(
            a.terms,
            [
                field(false, Field::Ip, Op::Prefix, &["10.1."]),
                field(false, Field::Object, Op::Contains, &["budget"]),
            ]
        );
        assert_eq!(parse("ip^=10.1.").expect("parses").terms, a.terms[..1]);
        // A quoted caret is a literal caret.
        assert_eq!(
            parse(r#"object:"^x""#).expect("parses").terms,
            [field(false, Field::Object, Op::Eq, &["^x"])]
        );
    }

    // R-A2: aliases, case, quotes with escapes, relative dates and ranges.
    #[test]
    fn aliases_quotes_and_dates() {
        let f = parse(r#"ACTOR:"say \"hi\" C:\dir\\" since:24h date:2026-11-01..2026-11-08"#)
            .expect("parses");
        assert_eq!(
            f.terms[0],
            field(false, Field::User, Op::Eq, &[r#"say "hi" C:\dir\"#])
        );
        assert_eq!(
            f.terms[1].kind,
            TermKind::Time(TimeTerm::After(TimePoint::Ago {
                amount: 24,
                unit: TimeUnit::Hours
            }))
        );
        assert!(matches!(
            f.terms[2].kind,
            TermKind::Time(TimeTerm::Between(..))
        ));
    }

    // R-A2, R-A4, issue 13: a bare OR or AND is an error at its column that shows the
    // any-of form, built from the terms around it where they compare one field; quoted,
    // it is free text.
    #[test]
    fn bare_or_and_and_show_the_any_of_form() {
        let e = err("country:US OR country:gb");
        assert_eq!(e.column, 12);
        assert_eq!(
            e.message,
            "filters have no OR: every term must hold; for any of several values write country:(US,GB)"
        );
        let e = err("admin and failed");
        assert_eq!(e.column, 7);
        assert!(
            e.message.starts_with("filters have no AND"),
            "{}",
            e.message
        );
        assert!(
            e.message.ends_with("write country:(US,GB)"),
            "{}",
            e.message
        );
        let e = err("type:download Or user:ann@x.com");
        assert!(
            e.message.ends_with("write country:(US,GB)"),
            "{}",
            e.message
        );
        assert_eq!(e.to_string().lines().count(), 1);
        assert_eq!(
            parse(r#""or" -"AND""#).expect("quoted").to_string(),
            r#""or" -"AND""#
        );
        assert!(parse("orange android").is_ok());
    }

    // R-A2: bare words are flags or free text; "-" negates either.
    #[test]
    fn bare_words() {
        let f = parse(r#"Admin -impersonated sign-in -budget "admin""#).expect("parses");
        let kinds: Vec<(bool, TermKind)> =
            f.terms.into_iter().map(|t| (t.negated, t.kind)).collect();
        assert_eq!(
            kinds,
            [
                (false, TermKind::Flag(Flag::Admin)),
                (true, TermKind::Flag(Flag::Impersonated)),
                (false, TermKind::Text(Value::new("sign-in"))),
                (true, TermKind::Text(Value::new("budget"))),
                (false, TermKind::Text(Value::new("admin"))),
            ]
        );
        assert_eq!(parse("   ").expect("parses"), Filter::default());
    }

    // R-A2: app names, action types, kinds and countries are normalised.
    #[test]
    fn fixed_vocabularies_are_normalised() {
        let f = parse(r#"app:"Google Workspace" app:OKTA action:Sign-In kind:FILE country:fr"#)
            .expect("parses");
        let texts: Vec<&str> = f
            .terms
            .iter()
            .map(|t| match &t.kind {
                TermKind::Match { values, .. } => values[0].text.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["google-workspace", "okta", "sign-in", "file", "FR"]);
    }

    // R-G10: Office apps are app values, by slug, short or full name, written
    // back as their slug; a typo suggests the closest app.
    #[test]
    fn office_apps_are_apps() {
        let f =
            parse(r#"app:"SharePoint Online" app:Teams app:"onedrive for business" -app:EXCHANGE"#)
                .expect("parses");
        let texts: Vec<&str> = f
            .terms
            .iter()
            .map(|t| match &t.kind {
                TermKind::Match { values, .. } => values[0].text.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["sharepoint", "teams", "onedrive", "exchange"]);
        let canonical = "app:sharepoint app:teams app:onedrive -app:exchange";
        assert_eq!(f.to_string(), canonical);
        assert_eq!(parse(canonical), Ok(f));

        let e = err("app:sharepont");
        assert_eq!(e.column, 5);
        assert!(
            e.message
                .starts_with("unknown app `sharepont` — did you mean `sharepoint`"),
            "{}",
            e.message
        );
        let e = err("-app:(box,temas)");
        assert_eq!(e.column, 11);
        assert!(e.message.contains("did you mean `teams`"), "{}", e.message);
    }

    // R-A2: every error names a column and says what to do.
    #[test]
    fn errors_point_at_the_token() {
        let cases: [(&str, usize, &str); 19] = [
            (
                "app:box contry:US",
                9,
                "unknown field `contry` — did you mean `country`?",
            ),
            ("user:\"alice", 6, "unclosed quote: end the value with \""),
            (
                "after:2026-13-01",
                7,
                "bad date `2026-13-01`: use YYYY-MM-DD",
            ),
            (
                "type:(download,share",
                6,
                "unclosed `(`: end the list with `)`",
            ),
            ("type:()", 7, "empty list: put values in it"),
            ("country~=U", 8, "`country` cannot use `~=` (contains)"),
            ("country:France", 9, "country takes a two-letter code"),
            ("app:lync", 5, "unknown app `lync`"),
            (
                "action:dowload",
                8,
                "unknown action type `dowload` — did you mean `download`",
            ),
            ("admin:yes", 1, "`admin` is a flag"),
            ("-country!=US", 1, "use `-` or `!=`, not both"),
            ("x - y", 3, "`-` must be followed"),
            (
                "country: US",
                9,
                "`country` needs a value, e.g. country!=US",
            ),
            ("app:box,okta", 8, "several values go in parentheses"),
            ("after:2026-11-01..2026-11-03", 7, "a range goes with date:"),
            ("http://x", 1, "quote free text that contains `:`"),
            ("admin (x)", 7, "a list follows a field"),
            ("after:(1d,2d)", 7, "`after` takes one date, e.g. after:7d"),
            ("before!=1d", 7, "`before` takes `:` then a date"),
        ];
        for (input, column, start) in cases {
            let e = err(input);
            assert_eq!(e.column, column, "{input}: {e}");
            assert!(
                e.message.starts_with(start) || e.message.contains(start),
                "{input}: {e}"
            );
        }
    }

    // issue 10, DESIGN §3: an error quotes what was typed on one line, with
    // line breaks and escapes made visible (found by the filter's fuzzing).
    #[test]
    fn errors_quote_text_on_one_clean_line() {
        let e = err("country:\"a\nb\"");
        assert_eq!(
            e.message,
            "country takes a two-letter code such as US or FR, not `a^Jb`"
        );
        let e = err("country:\u{1b}[31m");
        assert!(e.message.ends_with("not `^[[31m`"), "{}", e.message);
        let e = err("app:\"x\u{202e}y\"");
        assert!(
            e.message.starts_with("unknown app `x\\u{202e}y`"),
            "{}",
            e.message
        );
        let e = parse("group:\"Fin\nance\"")
            .expect("parses")
            .bind(&crate::domain::filter::arbitrary::TestNames, 0)
            .expect_err("no such group");
        assert!(
            e.message.starts_with("unknown group `Fin^Jance`"),
            "{}",
            e.message
        );
    }

    // R-A2: columns count characters, not bytes.
    #[test]
    fn columns_count_characters() {
        assert_eq!(err("Zoë contry:US").column, 5);
    }

    /// Text made of the grammar's own pieces, so that much of it parses.
    fn grammar_soup() -> impl Strategy<Value = String> {
        let pieces = vec![
            "type",
            "app",
            "Country",
            "user",
            "after",
            "date",
            "group",
            "admin",
            ":",
            "!=",
            "^",
            "^=",
            "~=",
            "(",
            ")",
            ",",
            "\"",
            "\\",
            "-",
            " ",
            " ",
            "us",
            "2026-11-01",
            "..",
            "7d",
            "x",
            "box",
            "download",
            "a b",
            "@",
            "é",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..14).prop_map(|p| p.concat())
    }

    proptest! {
        // R-A4: the parser never panics, whatever it is given.
        #[test]
        fn never_panics(input in any::<String>()) {
            let _ = parse(&input);
        }

        // R-A4: the same for input made of the grammar's own characters.
        #[test]
        fn never_panics_on_grammar_soup(input in grammar_soup()) {
            match parse(&input) {
                Err(e) => prop_assert!(
                    e.column >= 1 && e.column <= input.chars().count() + 1,
                    "{:?}",
                    e
                ),
                // R-A4: whatever parses is shown in a form that parses back the same.
                Ok(f) => prop_assert_eq!(parse(&f.to_string()), Ok(f)),
            }
        }
    }
}
