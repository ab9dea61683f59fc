//! The one export shape of an activity, for `casbah activities --json/--csv`
//! and the dashboard's export: stable field names, documented in the README.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Local, Result};
use crate::domain::{Activity, ActivityObject, GroupId, InstanceId, Micros, OfficeApp};

/// RFC 3339 in UTC, as every exported time is written.
pub fn rfc3339(t: Micros) -> String {
    DateTime::<Utc>::from_timestamp_micros(t)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The columns of the CSV export, in order; the JSON fields have the same names.
pub const CSV_HEADER: [&str; 22] = [
    "id",
    "time",
    "app",
    "instance",
    "actor",
    "actor_name",
    "activity_type",
    "action_type",
    "objects",
    "admin",
    "impersonated",
    "succeeded",
    "ip",
    "country",
    "isp",
    "device_type",
    "user_agent",
    "source",
    "groups",
    "office_app",
    "address_text",
    "activity_label",
];

/// One exported activity, with instance and group names instead of ids.
#[derive(Debug, Serialize)]
pub struct ActivityRow<'a> {
    pub id: &'a str,
    pub time: String,
    pub app: &'static str,
    pub instance: String,
    pub actor: &'a str,
    pub actor_name: &'a str,
    pub activity_type: &'a str,
    pub action_type: &'a str,
    pub objects: &'a [ActivityObject],
    pub admin: bool,
    pub impersonated: bool,
    pub succeeded: bool,
    pub ip: Option<&'a str>,
    pub country: Option<&'a str>,
    pub isp: Option<&'a str>,
    pub device_type: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub source: &'a str,
    pub groups: Vec<String>,
    /// R-G10: the Office app's slug for Office 365 records of its workload.
    /// Last, so that the columns before it keep their places.
    pub office_app: Option<&'static str>,
    /// What stood where an IP address belongs when it was not one, escaped
    /// (`ip` is null then). After `office_app`, for the same reason.
    pub address_text: Option<&'a str>,
    /// `activity_type` in casbah's one vocabulary, as the dashboard and tables show it
    /// (`domain::vocabulary`). Last, for the same reason.
    pub activity_label: std::borrow::Cow<'a, str>,
}

/// `value` as JSON (indented where `pretty`) whose strings, keys among them, are escaped as
/// vendor text is (DESIGN §3 "Untrusted text"): a script prints what a string decodes to,
/// so a control written as `\u001b`, or a right-to-left override, is as raw there as on
/// a terminal. A database written before an escape was known still holds such text; this
/// is the lock on the way out. Controls take caret notation, the rest `sanitize`'s escapes,
/// so a string reads as the dashboard shows it.
pub fn safe_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> serde_json::Result<String> {
    let mut out = Vec::new();
    if pretty {
        let formatter = SafeStrings(serde_json::ser::PrettyFormatter::new());
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
    } else {
        let formatter = SafeStrings(serde_json::ser::CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
    }
    // serde_json writes UTF-8 only, and the escapes are ASCII.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// A JSON formatter that escapes what strings hold as `sanitize` does, around another.
struct SafeStrings<F>(F);

/// Delegates a formatter's method to the one inside.
macro_rules! inner {
    ($($name:ident $(($arg:ident: $ty:ty))?),* $(,)?) => {
        $(
            fn $name<W: ?Sized + std::io::Write>(
                &mut self,
                writer: &mut W,
                $($arg: $ty)?
            ) -> std::io::Result<()> {
                self.0.$name(writer, $($arg)?)
            }
        )*
    };
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeStrings<F> {
    inner!(
        begin_array,
        end_array,
        begin_array_value(first: bool),
        end_array_value,
        begin_object,
        end_object,
        begin_object_key(first: bool),
        begin_object_value,
        end_object_value,
    );

    /// A run of a string with nothing JSON escapes: bidi, format and C1 characters and
    /// DEL become `sanitize`'s escapes, whose backslashes JSON escapes in turn.
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        match crate::domain::text::safe(fragment) {
            std::borrow::Cow::Borrowed(s) => writer.write_all(s.as_bytes()),
            std::borrow::Cow::Owned(s) => writer.write_all(s.replace('\\', "\\\\").as_bytes()),
        }
    }

    /// Quotes and backslashes as JSON escapes them; C0 controls in caret notation.
    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape;
        let control = match escape {
            CharEscape::Quote | CharEscape::ReverseSolidus | CharEscape::Solidus => {
                return self.0.write_char_escape(writer, escape);
            }
            CharEscape::Backspace => 0x08,
            CharEscape::Tab => 0x09,
            CharEscape::LineFeed => 0x0a,
            CharEscape::FormFeed => 0x0c,
            CharEscape::CarriageReturn => 0x0d,
            CharEscape::AsciiControl(byte) => byte,
        };
        match b'@' + (control & 0x1f) {
            // ^\ : the backslash escaped for JSON.
            b'\\' => writer.write_all(b"^\\\\"),
            caret => writer.write_all(&[b'^', caret]),
        }
    }
}

/// A cell a spreadsheet would run as a formula (OWASP's CSV injection rule: it
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is written as text,
/// behind a single quote.
fn as_text(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

impl ActivityRow<'_> {
    /// The CSV record, lists joined with "; ", in `CSV_HEADER` order, every cell
    /// escaped as vendor text is (DESIGN §3; see `safe_json`) and safe to open in a
    /// spreadsheet.
    pub fn csv_record(&self) -> [String; 22] {
        self.raw_record()
            .map(|cell| as_text(crate::domain::text::safe(&cell).into_owned()))
    }

    fn raw_record(&self) -> [String; 22] {
        let objects: Vec<&str> = self.objects.iter().map(|o| o.name.as_str()).collect();
        let opt = |v: Option<&str>| v.unwrap_or_default().to_owned();
        [
            self.id.to_owned(),
            self.time.clone(),
            self.app.to_owned(),
            self.instance.clone(),
            self.actor.to_owned(),
            self.actor_name.to_owned(),
            self.activity_type.to_owned(),
            self.action_type.to_owned(),
            objects.join("; "),
            self.admin.to_string(),
            self.impersonated.to_string(),
            self.succeeded.to_string(),
            opt(self.ip),
            opt(self.country),
            opt(self.isp),
            opt(self.device_type),
            opt(self.user_agent),
            self.source.to_owned(),
            self.groups.join("; "),
            opt(self.office_app),
            opt(self.address_text),
            self.activity_label.clone().into_owned(),
        ]
    }
}

/// Instance and group names, read once per export.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ExportNames {
    groups: HashMap<GroupId, String>,
    instances: HashMap<InstanceId, String>,
}

impl ExportNames {
    pub fn row<'a>(&self, a: &'a Activity) -> ActivityRow<'a> {
        ActivityRow {
            id: &a.id,
            time: rfc3339(a.time),
            app: a.app.slug(),
            instance: self
                .instances
                .get(&a.instance)
                .cloned()
                .unwrap_or_else(|| a.instance.0.to_string()),
            actor: &a.actor,
            actor_name: &a.actor_name,
            activity_type: &a.activity_type,
            action_type: &a.action_type,
            objects: &a.objects,
            admin: a.admin,
            impersonated: a.impersonated,
            succeeded: a.succeeded,
            ip: a.ip.as_deref(),
            country: a.country.as_deref(),
            isp: a.isp.as_deref(),
            device_type: a.device_type.as_deref(),
            user_agent: a.user_agent.as_deref(),
            source: &a.source,
            groups: a
                .groups
                .iter()
                .filter_map(|g| self.groups.get(g).cloned())
                .collect(),
            office_app: a.office_app.map(OfficeApp::slug),
            address_text: a.address_text.as_deref(),
            activity_label: a.label(),
        }
    }
}

impl Local {
    pub async fn export_names(&self) -> Result<ExportNames> {
        self.db(|s| {
            Ok(ExportNames {
                groups: s.groups()?.into_iter().map(|g| (g.id, g.name)).collect(),
                instances: s.instances()?.into_iter().map(|i| (i.id, i.name)).collect(),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AppKind;

    fn names() -> ExportNames {
        ExportNames {
            groups: HashMap::new(),
            instances: HashMap::from([(InstanceId(1), "contoso".to_owned())]),
        }
    }

    fn activity(office_app: Option<OfficeApp>) -> Activity {
        Activity {
            id: "a1".into(),
            app: AppKind::Microsoft365,
            instance: InstanceId(1),
            time: 0,
            actor: "ann@contoso.com".into(),
            actor_name: "Ann".into(),
            activity_type: "FileDownloaded".into(),
            action_type: "download".into(),
            objects: Vec::new(),
            admin: false,
            impersonated: false,
            succeeded: true,
            ip: None,
            address_text: None,
            country: None,
            isp: None,
            device_type: None,
            user_agent: None,
            source: "Office 365".into(),
            groups: Vec::new(),
            office_app,
        }
    }

    // Issue 10: vendor text that a spreadsheet would run as a formula is written as text.
    #[test]
    fn csv_cells_never_start_a_formula() {
        let mut a = activity(None);
        a.actor_name = "=HYPERLINK(\"http://evil\",\"x\")".into();
        a.user_agent = Some("@SUM(1+1)".into());
        a.activity_type = "+cmd|' /C calc'!A0".into();
        a.source = "-2+3".into();
        a.id = "\tx".into();
        let names = names();
        let record = names.row(&a).csv_record();
        for cell in &record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
        assert!(record.contains(&"'=HYPERLINK(\"http://evil\",\"x\")".to_string()));
        assert!(record.contains(&"'-2+3".to_string()));
    }

    // Issue 10, DESIGN §3 Untrusted text: JSON decodes to text as safe as the dashboard
    // shows: controls in caret notation, bidi and format characters escaped, keys too;
    // quotes and backslashes survive the round trip; the order of fields stays.
    #[test]
    fn json_strings_decode_to_safe_text() {
        let value = serde_json::json!({
            "b\u{202e}": ["a\x1b[31m\"q\"", "c:\\dir\u{1c}", "x\u{9b}y", "Zoë 👨\u{200d}👩"],
            "a": "plain",
        });
        for pretty in [false, true] {
            let text = safe_json(&value, pretty).expect("json");
            assert!(
                !text.contains('\u{202e}') && !text.contains("\\u001b"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(
                back,
                serde_json::json!({
                    "b\\u{202e}": ["a^[[31m\"q\"", "c:\\dir^\\", "x\\u{9b}y", "Zoë 👨\u{200d}👩"],
                    "a": "plain",
                })
            );
        }
        let a = activity(None);
        let row = names().row(&a);
        assert_eq!(
            safe_json(&row, false).expect("json"),
            serde_json::to_string(&row).expect("json"),
            "clean rows are written as before"
        );
    }

    // Issue 10: CSV cells are escaped as vendor text is before the formula rule applies,
    // so a tab or carriage return in front of a formula is visible and inert.
    #[test]
    fn csv_cells_are_escaped() {
        let mut a = activity(None);
        a.actor_name = "\t=1+1".into();
        a.user_agent = Some("\u{202e}fdp.exe".into());
        let names = names();
        let record = names.row(&a).csv_record();
        assert!(record.contains(&"^I=1+1".to_string()), "{record:?}");
        assert!(
            record.contains(&"\\u{202e}fdp.exe".to_string()),
            "{record:?}"
        );
    }

    // R-G10, R-A1: JSON and CSV name the Office app by slug, in the column
    // after the first twenty; a record of no Office app has null in JSON and
    // an empty CSV cell.
    #[test]
    fn rows_carry_the_office_app() {
        let names = names();
        let column = 19;
        assert_eq!(CSV_HEADER[column], "office_app");
        assert_eq!(CSV_HEADER[..4], ["id", "time", "app", "instance"]);

        let a = activity(Some(OfficeApp::SharePoint));
        let row = names.row(&a);
        let json = serde_json::to_value(&row).expect("serialize");
        assert_eq!(json["app"], "microsoft365");
        assert_eq!(json["office_app"], "sharepoint");
        assert_eq!(row.csv_record()[column], "sharepoint");

        let a = activity(None);
        let row = names.row(&a);
        let json = serde_json::to_value(&row).expect("serialize");
        assert!(json["office_app"].is_null(), "{json}");
        assert_eq!(row.csv_record()[column], "");

        // Every JSON field is a CSV column, by the same name.
        let fields = json.as_object().expect("object");
        assert_eq!(fields.len(), CSV_HEADER.len());
        assert!(CSV_HEADER.iter().all(|h| fields.contains_key(*h)));
    }

    // Issue 13: the activity type in casbah's vocabulary travels beside the vendor's
    // own name, in the last column, so every column before it keeps its place.
    #[test]
    fn rows_carry_the_activity_label_beside_the_vendors_name() {
        let a = activity(None);
        let row = names().row(&a);
        let json = serde_json::to_value(&row).expect("serialize");
        assert_eq!(json["activity_type"], "FileDownloaded");
        assert_eq!(json["activity_label"], "File downloaded");
        assert_eq!(CSV_HEADER[21], "activity_label");
        assert_eq!(row.csv_record()[21], "File downloaded");
        assert_eq!(row.csv_record()[6], "FileDownloaded");
    }

    // issue 10: what is not an IP address travels in its own column and
    // field, never as `ip`; the columns before it keep their places.
    #[test]
    fn rows_carry_address_text_apart_from_ip() {
        let names = names();
        let mut a = activity(None);
        a.address_text = Some("localhost:12345".into());
        let row = names.row(&a);
        let json = serde_json::to_value(&row).expect("serialize");
        assert!(json["ip"].is_null(), "{json}");
        assert_eq!(json["address_text"], "localhost:12345");
        let record = row.csv_record();
        assert_eq!(CSV_HEADER[20], "address_text");
        assert_eq!(record[20], "localhost:12345");
        assert_eq!(
            record[CSV_HEADER.iter().position(|h| *h == "ip").unwrap()],
            ""
        );
        assert_eq!(CSV_HEADER[12], "ip");
    }
}
