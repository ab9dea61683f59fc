//! R-A3: the queries that come built in.

static SUGGESTED: [(&str, &str); 8] = [
    ("Admin activities", "admin"),
    ("Failed sign-ins", "action:sign-in failed"),
    ("Successful sign-ins", "action:sign-in succeeded"),
    ("Sharing", "action:share"),
    ("Downloads", "action:download"),
    (
        "Password changes",
        "action:(password-change,password-reset)",
    ),
    ("File and folder activities", "kind:(file,folder)"),
    ("Impersonation", "impersonated"),
];

/// (name, filter text), in the order the dashboard lists them.
pub fn suggested_queries() -> &'static [(&'static str, &'static str)] {
    &SUGGESTED
}

#[cfg(test)]
mod tests {
    use super::super::arbitrary::TestNames;
    use super::super::parse;
    use super::*;

    // R-A3: every suggested query parses, binds, and is written canonically.
    #[test]
    fn suggested_queries_parse() {
        for (name, text) in suggested_queries() {
            let f = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(f.bind(&TestNames, 0).is_ok(), "{name}");
            assert_eq!(&f.to_string(), text, "{name}");
        }
        let names: Vec<&str> = suggested_queries().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), 8);
        assert!(names.contains(&"Impersonation"));
    }
}
