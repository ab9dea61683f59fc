//! "Did you mean": the closest existing names to a mistyped one.

/// Up to three candidates, closest first, that look like `name`.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let wanted = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| {
            let lower = c.to_lowercase();
            let mut score = strsim::jaro_winkler(&wanted, &lower);
            if lower.contains(&wanted) || wanted.contains(&lower) {
                score = score.max(0.9);
            }
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typo_finds_the_intended_name() {
        let names = ["Finance EMEA", "Sales NA", "Engineering Platform"];
        assert_eq!(closest("finance emae", names), vec!["Finance EMEA"]);
    }

    #[test]
    fn unrelated_names_are_not_suggested() {
        assert!(closest("zzzz", ["Finance EMEA", "Sales NA"]).is_empty());
    }
}
