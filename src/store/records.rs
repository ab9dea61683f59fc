//! The stored form of an activity: its fields (postcard), then its tags.
//!
//! Tags (R-G6) come last because they are the one part that needs the write transaction:
//! a page's records are encoded while the previous page commits, and only the tags are
//! appended under the write lock (see `prepare`).

use serde::{Deserialize, Serialize};

use super::{Result, StoreError};
use crate::domain::{
    Activity, ActivityObject, AppKind, GroupId, InstanceId, Micros, OfficeApp, UserKey,
};

/// Every field but the tags, borrowed for encoding.
#[derive(Serialize)]
struct Head<'a> {
    id: &'a str,
    app: AppKind,
    instance: InstanceId,
    time: Micros,
    actor: &'a str,
    actor_name: &'a str,
    activity_type: &'a str,
    action_type: &'a str,
    objects: &'a [ActivityObject],
    admin: bool,
    impersonated: bool,
    succeeded: bool,
    ip: Option<&'a str>,
    address_text: Option<&'a str>,
    country: Option<&'a str>,
    isp: Option<&'a str>,
    device_type: Option<&'a str>,
    user_agent: Option<&'a str>,
    source: &'a str,
    office_app: Option<OfficeApp>,
}

/// `Head`, owned, for decoding.
#[derive(Deserialize)]
struct OwnedHead {
    id: String,
    app: AppKind,
    instance: InstanceId,
    time: Micros,
    actor: UserKey,
    actor_name: String,
    activity_type: String,
    action_type: String,
    objects: Vec<ActivityObject>,
    admin: bool,
    impersonated: bool,
    succeeded: bool,
    ip: Option<String>,
    address_text: Option<String>,
    country: Option<String>,
    isp: Option<String>,
    device_type: Option<String>,
    user_agent: Option<String>,
    source: String,
    office_app: Option<OfficeApp>,
}

fn encode_error(e: postcard::Error) -> StoreError {
    StoreError::Internal(format!("cannot encode: {e}"))
}

/// Appends every field of `a` but its tags to `out`.
pub fn encode_head(a: &Activity, out: Vec<u8>) -> Result<Vec<u8>> {
    let head = Head {
        id: &a.id,
        app: a.app,
        instance: a.instance,
        time: a.time,
        actor: &a.actor,
        actor_name: &a.actor_name,
        activity_type: &a.activity_type,
        action_type: &a.action_type,
        objects: &a.objects,
        admin: a.admin,
        impersonated: a.impersonated,
        succeeded: a.succeeded,
        ip: a.ip.as_deref(),
        address_text: a.address_text.as_deref(),
        country: a.country.as_deref(),
        isp: a.isp.as_deref(),
        device_type: a.device_type.as_deref(),
        user_agent: a.user_agent.as_deref(),
        source: &a.source,
        office_app: a.office_app,
    };
    postcard::to_extend(&head, out).map_err(encode_error)
}

/// Appends the tags that complete a record begun by `encode_head`.
pub fn encode_tags(tags: &[GroupId], out: Vec<u8>) -> Result<Vec<u8>> {
    postcard::to_extend(tags, out).map_err(encode_error)
}

pub fn decode(bytes: &[u8]) -> Result<Activity> {
    let damaged = |e: postcard::Error| {
        StoreError::Corrupt(format!("an activity record does not decode: {e}"))
    };
    let (h, rest) = postcard::take_from_bytes::<OwnedHead>(bytes).map_err(damaged)?;
    let groups: Vec<GroupId> = postcard::from_bytes(rest).map_err(damaged)?;
    Ok(Activity {
        id: h.id,
        app: h.app,
        instance: h.instance,
        time: h.time,
        actor: h.actor,
        actor_name: h.actor_name,
        activity_type: h.activity_type,
        action_type: h.action_type,
        objects: h.objects,
        admin: h.admin,
        impersonated: h.impersonated,
        succeeded: h.succeeded,
        ip: h.ip,
        address_text: h.address_text,
        country: h.country,
        isp: h.isp,
        device_type: h.device_type,
        user_agent: h.user_agent,
        source: h.source,
        groups,
        office_app: h.office_app,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ObjectKind;

    // R-A1: every field of an activity survives the stored form, tags included.
    #[test]
    fn a_record_round_trips() {
        let a = Activity {
            id: "evt-1".into(),
            app: AppKind::Microsoft365,
            instance: InstanceId(3),
            time: -5,
            actor: "a@corp.example".into(),
            actor_name: "A".into(),
            activity_type: "Download file".into(),
            action_type: "download".into(),
            objects: vec![ActivityObject {
                kind: ObjectKind::File,
                id: "f".into(),
                name: "F.xlsx".into(),
            }],
            admin: true,
            impersonated: false,
            succeeded: true,
            ip: Some("10.0.0.1".into()),
            address_text: Some("[cool.client.local]:443".into()),
            country: None,
            isp: Some("ISP".into()),
            device_type: None,
            user_agent: Some("UA".into()),
            source: "Office 365".into(),
            groups: vec![GroupId(2), GroupId(900)],
            office_app: Some(OfficeApp::ALL[0]),
        };
        let bytes = encode_head(&a, Vec::new()).unwrap();
        let bytes = encode_tags(&a.groups, bytes).unwrap();
        assert_eq!(decode(&bytes).unwrap(), a);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
