//! "Did you mean" for mistyped fields, apps, groups and instances.

/// Up to three of `options` that look like `word`, closest first.
pub(super) fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let word = word.to_lowercase();
    let mut scored: Vec<(f64, &str)> = options
        .into_iter()
        .map(|option| {
            let lower = option.to_lowercase();
            let mut score = strsim::normalized_damerau_levenshtein(&word, &lower);
            // "fin" for "Finance EMEA": a fragment of a long name is a good hint.
            if word.len() >= 3 && lower.contains(&word) {
                score = score.max(0.75);
            }
            (score, option)
        })
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, o)| o).collect()
}

/// " — did you mean `a`, `b` or `c`?", or "" when nothing is close.
pub(super) fn did_you_mean(close: &[&str]) -> String {
    let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!(" — did you mean {one}?"),
        [init @ .., last] => format!(" — did you mean {} or {last}?", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-A2: typos get the closest names, best first.
    #[test]
    fn closest_names_first() {
        let fields = ["country", "source", "device", "user"];
        assert_eq!(closest("contry", fields), ["country"]);
        assert_eq!(
            did_you_mean(&closest("contry", fields)),
            " — did you mean `country`?"
        );
        assert!(closest("zzzzzz", fields).is_empty());
        let groups = ["Finance", "Finance EMEA", "Sales"];
        assert_eq!(closest("finanse", groups)[0], "Finance");
        assert_eq!(
            did_you_mean(&["a", "b", "c"]),
            " — did you mean `a`, `b` or `c`?"
        );
    }
}
