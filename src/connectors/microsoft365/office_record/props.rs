//! Issue 10: the Management API record mapping, fuzzed.
use super::*;
use crate::domain::AppKind;
use crate::test_support::{check_activity, fixture, fuzz};

/// Every field the mapping reads, at any depth.
const KEYS: &[&str] = &[
    "Id",
    "CreationTime",
    "Operation",
    "Workload",
    "RecordType",
    "UserId",
    "UserType",
    "LogonType",
    "ResultStatus",
    "LoginStatus",
    "ErrorCode",
    "LogonError",
    "ClientIP",
    "ClientIPAddress",
    "ActorIpAddress",
    "ClientRegion",
    "UserAgent",
    "ClientInfoString",
    "ExtendedProperties",
    "DeviceProperties",
    "Name",
    "Value",
    "Client",
    "Target",
    "Type",
    "ID",
    "Folder",
    "DestFolder",
    "Folders",
    "FolderItems",
    "Item",
    "AffectedItems",
    "ParentFolder",
    "Path",
    "InternetMessageId",
    "Subject",
    "SharePointMetaData",
    "FilePathUrl",
    "UniqueID",
    "FileName",
    "ExchangeMetaData",
    "MessageID",
    "SourceFileName",
    "ObjectId",
    "ItemType",
];

// issue 10, DESIGN §3: any JSON shaped like a record, and real records
// (Microsoft's, Elastic's, the sandbox's) with fields replaced, removed,
// retyped or laced with hostile text, are read without a panic, the same
// way twice, into a clean activity with at most MAX_OBJECTS objects, or none.
#[test]
fn records_are_read_safely() {
    let seeds = [
        "office365/microsoft-docs.jsonl",
        "office365/elastic-o365-audit.jsonl",
        "sandbox/microsoft-office.jsonl",
    ]
    .into_iter()
    .flat_map(fixture)
    .collect();
    fuzz(file!(), KEYS, seeds, record, |a, instance| {
        check_activity(a, AppKind::Microsoft365, instance)?;
        proptest::prop_assert!(a.objects.len() <= MAX_OBJECTS);
        Ok(())
    });
}
