//! One paging mechanism for every dialect. A list is a sequence of items with
//! stable keys in list order; a page is the items after a cursor's key; the
//! cursor is an opaque token naming the list it belongs to, so one list's
//! cursor is refused by another. Dialects differ only in where the cursor
//! travels (Graph's `$skiptoken` inside `@odata.nextLink`, Okta's and GitHub's
//! `after` inside a `Link` header, Google's `pageToken` and `nextPageToken`)
//! and in their page-size rules.

/// A list's page-size rule: its default, its documented maximum, and what
/// asking for more does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    pub default: usize,
    pub max: usize,
    /// Asking for more than `max` gets `max` (Okta, GitHub) instead of an
    /// error (Graph, Google).
    pub cap: bool,
}

impl PageSize {
    /// The size to serve, or `Err` with the refused value (0, or over the
    /// maximum where it is not capped).
    pub fn resolve(self, asked: Option<usize>) -> Result<usize, usize> {
        match asked {
            None => Ok(self.default),
            Some(0) => Err(0),
            Some(n) if n <= self.max => Ok(n),
            Some(_) if self.cap => Ok(self.max),
            Some(n) => Err(n),
        }
    }
}

/// An opaque cursor: the list's scope and a position, hex-encoded.
pub fn encode_cursor(scope: &str, position: &str) -> String {
    format!(
        "X{}",
        format!("{scope}|{position}")
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// The position in a cursor of `scope`; `None` for anything else.
pub fn decode_cursor(token: &str, scope: &str) -> Option<String> {
    let hex = token.strip_prefix('X')?;
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    // The scope may hold anything (a query's text); positions hold no `|`.
    let (s, position) = text.rsplit_once('|')?;
    (s == scope).then(|| position.to_string())
}

/// A cursor that does not belong to the list it was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCursor;

/// A page of a keyed list and the cursor to the next, when more remain.
pub type Page<'a, T> = (&'a [(u64, T)], Option<String>);

/// One page of a keyed list (keys ascending): at most `size` items after the
/// cursor's key, and the cursor to the next page when more remain.
pub fn page<'a, T>(
    items: &'a [(u64, T)],
    scope: &str,
    cursor: Option<&str>,
    size: usize,
) -> Result<Page<'a, T>, BadCursor> {
    let start = match cursor {
        None => 0,
        Some(token) => {
            let key: u64 = decode_cursor(token, scope)
                .and_then(|p| p.parse().ok())
                .ok_or(BadCursor)?;
            items.partition_point(|&(k, _)| k <= key)
        }
    };
    let end = start.saturating_add(size).min(items.len());
    let page = &items[start..end];
    let next = match page.last() {
        Some((last, _)) if end < items.len() => Some(encode_cursor(scope, &last.to_string())),
        _ => None,
    };
    Ok((page, next))
}

/// Percent-encodes a query component, keeping what vendors leave readable
/// (`$`, quotes, parentheses, commas and colons, as in OData queries).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b','
            | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The absolute URL of `path` on the sandbox with the request's parameters,
/// `param` set to `value` (replacing any it had): the next page's link.
pub fn url_with(
    base_url: &str,
    path: &str,
    pairs: &[(String, String)],
    param: &str,
    value: &str,
) -> String {
    let mut link = format!("{base_url}{path}?");
    for (k, v) in pairs.iter().filter(|(k, _)| k != param) {
        link.push_str(&encode_component(k));
        link.push('=');
        link.push_str(&encode_component(v));
        link.push('&');
    }
    link.push_str(&encode_component(param));
    link.push('=');
    link.push_str(&encode_component(value));
    link
}

/// An RFC 8288 `Link` header: `next` when there is one, and `self`, which
/// Okta always sends.
pub fn link_header(self_url: &str, next: Option<&str>) -> String {
    let mut links = vec![(self_url, "self")];
    links.extend(next.map(|n| (n, "next")));
    links_of(&links)
}

/// An RFC 8288 `Link` header of (target, relation) pairs, in order.
pub fn links_of(links: &[(&str, &str)]) -> String {
    links
        .iter()
        .map(|(url, rel)| format!("<{url}>; rel=\"{rel}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Numbered pages (GitHub's `page`, from 1): the items of page `page` of
/// `size` in a list of `len`, and the number of the last page (at least 1).
/// A page past the end is empty.
pub fn numbered(len: usize, page: usize, size: usize) -> (std::ops::Range<usize>, usize) {
    let size = size.max(1);
    let last = len.div_ceil(size).max(1);
    let start = page.saturating_sub(1).saturating_mul(size).min(len);
    (start..start.saturating_add(size).min(len), last)
}

/// The request's parameters as sent, in order.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_scopes() {
        let t = encode_cursor("groups", "42");
        assert_eq!(decode_cursor(&t, "groups").as_deref(), Some("42"));
        assert_eq!(decode_cursor(&t, "users"), None);
        assert_eq!(decode_cursor("garbage", "users"), None);
        assert_eq!(decode_cursor("Xzz", "users"), None);
        let scoped = encode_cursor("/groups|name:'a|b*'", "7");
        assert_eq!(
            decode_cursor(&scoped, "/groups|name:'a|b*'").as_deref(),
            Some("7")
        );
    }

    #[test]
    fn pages_cover_a_list_once() {
        let items: Vec<(u64, u32)> = (0..10u32).map(|i| (u64::from(i) * 3, i)).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = page(&items, "l", cursor.as_deref(), 4).unwrap();
            seen.extend(page.iter().map(|(_, v)| *v));
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(
            page(&items, "other", Some(&encode_cursor("l", "3")), 4).err(),
            Some(BadCursor)
        );
        let (_, next) = page(&items, "l", None, 10).unwrap();
        assert_eq!(next, None, "a last page that fills up has no next");
    }

    #[test]
    fn page_sizes_cap_or_refuse() {
        let okta = PageSize {
            default: 200,
            max: 200,
            cap: true,
        };
        let google = PageSize {
            default: 200,
            max: 200,
            cap: false,
        };
        assert_eq!(okta.resolve(None), Ok(200));
        assert_eq!(okta.resolve(Some(1000)), Ok(200));
        assert_eq!(google.resolve(Some(1000)), Err(1000));
        assert_eq!(google.resolve(Some(0)), Err(0));
        assert_eq!(google.resolve(Some(50)), Ok(50));
    }

    #[test]
    fn numbered_pages_cover_a_list_once() {
        assert_eq!(numbered(250, 1, 100), (0..100, 3));
        assert_eq!(numbered(250, 3, 100), (200..250, 3));
        assert_eq!(numbered(250, 4, 100), (250..250, 3));
        assert_eq!(numbered(0, 1, 30), (0..0, 1));
        assert_eq!(numbered(30, 0, 30), (0..30, 1), "page 0 is the first");
    }

    #[test]
    fn links_replace_the_cursor_and_keep_the_rest() {
        let pairs = vec![
            ("limit".to_string(), "2".to_string()),
            ("after".to_string(), "old".to_string()),
            ("q".to_string(), "Fin Ops".to_string()),
        ];
        assert_eq!(
            url_with("http://h", "/api/v1/groups", &pairs, "after", "X1"),
            "http://h/api/v1/groups?limit=2&q=Fin%20Ops&after=X1"
        );
        assert_eq!(
            link_header("http://h/a", Some("http://h/b")),
            "<http://h/a>; rel=\"self\", <http://h/b>; rel=\"next\""
        );
    }
}
