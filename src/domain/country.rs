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

/// Where a country's people mostly are (its capital or largest city, in degrees), for
/// telling how far apart two sign-ins were (issue 12: impossible travel). Countries not
/// listed are not judged.
static POSITIONS: &[(&str, f64, f64)] = &[
    ("AE", 24.5, 54.4),
    ("AR", -34.6, -58.4),
    ("AT", 48.2, 16.4),
    ("AU", -33.9, 151.2),
    ("BD", 23.8, 90.4),
    ("BE", 50.8, 4.4),
    ("BG", 42.7, 23.3),
    ("BR", -23.5, -46.6),
    ("BY", 53.9, 27.6),
    ("CA", 43.7, -79.4),
    ("CH", 46.9, 7.4),
    ("CL", -33.4, -70.7),
    ("CN", 39.9, 116.4),
    ("CO", 4.7, -74.1),
    ("CZ", 50.1, 14.4),
    ("DE", 52.5, 13.4),
    ("DK", 55.7, 12.6),
    ("DZ", 36.8, 3.1),
    ("EE", 59.4, 24.7),
    ("EG", 30.0, 31.2),
    ("ES", 40.4, -3.7),
    ("FI", 60.2, 24.9),
    ("FR", 48.9, 2.35),
    ("GB", 51.5, -0.1),
    ("GR", 38.0, 23.7),
    ("HK", 22.3, 114.2),
    ("HR", 45.8, 16.0),
    ("HU", 47.5, 19.0),
    ("ID", -6.2, 106.8),
    ("IE", 53.3, -6.3),
    ("IL", 32.1, 34.8),
    ("IN", 28.6, 77.2),
    ("IR", 35.7, 51.4),
    ("IS", 64.1, -21.9),
    ("IT", 41.9, 12.5),
    ("JP", 35.7, 139.7),
    ("KE", -1.3, 36.8),
    ("KP", 39.0, 125.8),
    ("KR", 37.6, 127.0),
    ("KW", 29.4, 48.0),
    ("LT", 54.7, 25.3),
    ("LU", 49.6, 6.1),
    ("LV", 56.9, 24.1),
    ("MA", 34.0, -6.8),
    ("MX", 19.4, -99.1),
    ("MY", 3.1, 101.7),
    ("NG", 6.5, 3.4),
    ("NL", 52.4, 4.9),
    ("NO", 59.9, 10.8),
    ("NZ", -36.8, 174.8),
    ("PE", -12.0, -77.0),
    ("PH", 14.6, 121.0),
    ("PK", 24.9, 67.0),
    ("PL", 52.2, 21.0),
    ("PT", 38.7, -9.1),
    ("QA", 25.3, 51.5),
    ("RO", 44.4, 26.1),
    ("RS", 44.8, 20.5),
    ("RU", 55.8, 37.6),
    ("SA", 24.7, 46.7),
    ("SE", 59.3, 18.1),
    ("SG", 1.35, 103.8),
    ("SI", 46.1, 14.5),
    ("SK", 48.1, 17.1),
    ("TH", 13.8, 100.5),
    ("TN", 36.8, 10.2),
    ("TR", 41.0, 29.0),
    ("TW", 25.0, 121.5),
    ("UA", 50.5, 30.5),
    ("US", 39.8, -98.6),
    ("VE", 10.5, -66.9),
    ("VN", 21.0, 105.8),
    ("ZA", -26.2, 28.0),
];

/// The great-circle distance between two countries' positions, when both are known.
pub fn distance_km(a: &str, b: &str) -> Option<f64> {
    let at = |code: &str| {
        POSITIONS
            .iter()
            .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, lat, lon)| (lat.to_radians(), lon.to_radians()))
    };
    let ((lat1, lon1), (lat2, lon2)) = (at(a)?, at(b)?);
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * h.sqrt().asin())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 12: impossible travel measures between countries' positions.
    #[test]
    fn distances_between_countries() {
        let km = distance_km("FR", "jp").unwrap();
        assert!((9_600.0..9_900.0).contains(&km), "{km}");
        assert_eq!(distance_km("DE", "DE"), Some(0.0));
        assert_eq!(distance_km("DE", "XX"), None);
    }

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
