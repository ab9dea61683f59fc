//! Completion in the filter line (R-A4): field names, then the values the
//! dashboard knows for the field named.

use crate::domain::filter::{Field, Syntax, fields, lookup};

/// Values offered by completion (R-A4): groups, instances, and what the log shows.
#[derive(Debug, Default, Clone)]
pub struct KnownValues {
    pub groups: Vec<String>,
    pub instances: Vec<String>,
    pub countries: Vec<String>,
    pub types: Vec<String>,
    pub sources: Vec<String>,
}

fn quote(value: &str) -> String {
    if value
        .chars()
        .any(|c| c == ' ' || c == ',' || c == '(' || c == ')' || c == '"')
    {
        format!("\"{}\"", value.replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// What may replace `word`: field names, or values of the field it names.
pub fn completions(word: &str, known: &KnownValues) -> Vec<String> {
    let (neg, body) = match word.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", word),
    };
    let op = ["!=", "^=", "~=", ":"]
        .iter()
        .filter_map(|op| body.find(op).map(|at| (at, *op)))
        .min();
    let Some((at, op)) = op else {
        let lower = body.to_lowercase();
        return fields()
            .iter()
            .filter(|f| f.name.starts_with(&lower))
            .map(|f| match f.syntax {
                Syntax::Flag(_) => format!("{neg}{}", f.name),
                _ => format!("{neg}{}:", f.name),
            })
            .collect();
    };
    let name = &body[..at];
    let value_part = &body[at + op.len()..];
    let (head, partial) = match value_part.rfind([',', '(']) {
        Some(i) => value_part.split_at(i + 1),
        None => ("", value_part),
    };
    let partial = partial.trim_start_matches('"').to_lowercase();
    let values: Vec<String> = match lookup(name).map(|f| f.syntax) {
        Some(Syntax::Values { field, .. }) => match field {
            Field::Group | Field::TargetGroup | Field::PersonGroup => known.groups.clone(),
            Field::Instance => known.instances.clone(),
            Field::Country => known.countries.clone(),
            Field::Type => known.types.clone(),
            Field::Source => known.sources.clone(),
            other => other
                .fixed_values()
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        _ => Vec::new(),
    };
    values
        .into_iter()
        .filter(|v| v.to_lowercase().starts_with(&partial))
        .map(|v| format!("{neg}{name}{op}{head}{}", quote(&v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownValues {
        KnownValues {
            groups: vec!["Finance EMEA".into(), "Sales".into()],
            countries: vec!["DE".into(), "US".into()],
            ..KnownValues::default()
        }
    }

    // R-A4: completion of field names and of known values, quoted when needed.
    #[test]
    fn completes_fields_then_values() {
        let k = known();
        assert_eq!(completions("cou", &k), ["country:"]);
        assert!(
            completions("ad", &k).contains(&"admin".to_owned()),
            "flags complete bare"
        );
        assert_eq!(completions("group:fin", &k), ["group:\"Finance EMEA\""]);
        assert_eq!(completions("-country!=u", &k), ["-country!=US"]);
        assert_eq!(completions("country:(DE,u", &k), ["country:(DE,US"]);
        assert!(completions("action:dow", &k).contains(&"action:download".to_owned()));
        // issue 13: the target's and either's group take the same names.
        assert_eq!(completions("targetgroup:sa", &k), ["targetgroup:Sales"]);
        assert_eq!(
            completions("persongroup:fin", &k),
            ["persongroup:\"Finance EMEA\""]
        );
    }

    // R-G10: the Office apps of Microsoft 365 complete after `app:`.
    #[test]
    fn completes_office_apps() {
        let k = known();
        assert_eq!(completions("app:share", &k), ["app:sharepoint"]);
        assert_eq!(completions("-app:tea", &k), ["-app:teams"]);
        assert!(completions("app:", &k).contains(&"app:onedrive".to_owned()));
    }
}
