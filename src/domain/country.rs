//! Countries as ISO 3166-1 alpha-2 codes: every record stores one, whatever
//! the vendor sent (Okta sends English names), so that `country:US` means the
//! same for every app.

use std::str::FromStr;

use celes::Country;

/// The alpha-2 code (upper case) of a code or an English name as vendors
/// write them ("us", "United States", "South Korea", "Côte d'Ivoire" aside);
/// `None` for text that names no country.
pub fn code_of(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() == 2 {
        return Country::from_alpha2(text)
            .ok()
            .map(|c| c.alpha2.to_string());
    }
    // celes matches names and aliases written without spaces or punctuation.
    let squeezed: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    Country::from_str(&squeezed)
        .ok()
        .filter(|_| !squeezed.is_empty())
        .map(|c| c.alpha2.to_string())
}

/// The English name of an alpha-2 code, for where there is room.
pub fn name_of(code: &str) -> Option<&'static str> {
    let country = Country::from_alpha2(code.trim()).ok()?;
    let name = country.long_name;
    Some(name.strip_prefix("The ").unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-A1: Okta's country names (MaxMind's English names) become codes.
    #[test]
    fn english_names_become_codes() {
        for (name, code) in [
            ("United States", "US"),
            ("United Kingdom", "GB"),
            ("Germany", "DE"),
            ("South Korea", "KR"),
            ("Netherlands", "NL"),
            ("Russia", "RU"),
            ("United Arab Emirates", "AE"),
            ("New Zealand", "NZ"),
            ("South Africa", "ZA"),
            ("Switzerland", "CH"),
            ("Brazil", "BR"),
            ("Mexico", "MX"),
            ("Japan", "JP"),
            ("China", "CN"),
            ("India", "IN"),
        ] {
            assert_eq!(code_of(name).as_deref(), Some(code), "{name}");
        }
    }

    // R-A1: codes pass through in upper case; nonsense names nothing.
    #[test]
    fn codes_pass_and_nonsense_does_not() {
        assert_eq!(code_of("us").as_deref(), Some("US"));
        assert_eq!(code_of(" GB ").as_deref(), Some("GB"));
        assert_eq!(code_of("ZZ"), None);
        assert_eq!(code_of(""), None);
        assert_eq!(code_of("Atlantis"), None);
        assert_eq!(code_of("--"), None);
    }

    #[test]
    fn names_are_shown_without_the_article() {
        assert_eq!(name_of("DE"), Some("Germany"));
        assert_eq!(name_of("US"), Some("United States Of America"));
        assert_eq!(name_of("XX"), None);
    }
}
