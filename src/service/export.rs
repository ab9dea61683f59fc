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
pub const CSV_HEADER: [&str; 21] = [
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
    /// safe to open in a spreadsheet.
    pub fn csv_record(&self) -> [String; 21] {
        self.raw_record().map(as_text)
    }

    fn raw_record(&self) -> [String; 21] {
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
