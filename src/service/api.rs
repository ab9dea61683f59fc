//! The service's calls, listed once. Each becomes a method of `Service`, answered
//! in this process when casbah runs embedded, or sent over the socket of a `casbah
//! serve` (tarpc, MessagePack frames) when one runs for the database; and the handler that
//! answers it there with the same `Local` method. One list keeps the two modes from
//! drifting apart: a call added here works attached and embedded alike.
//!
//! Each argument says how it travels: `borrow` (the caller lends it, the wire owns a
//! copy), `opt` (an `Option<&str>`) or `val` (moved as it is). Each reply is `plain`
//! (sent as it is) or `job` (job handles, which the server keeps so that the client
//! can wait on them). Calls marked `change` alter something: the server logs who
//! made them (issue 9: the audit trail names a person).

use std::path::{Path, PathBuf};

use futures::FutureExt;
use tarpc::context::Context;

use super::remote::Remote;
use super::server::Session;
use super::{
    AccessAnswer, ActionPlan, ActionReport, AppDetail, AppSummary, AudienceView, AvailableGroup,
    ConnectRequest, ConnectionSummary, Event, ExternalGroupView, GeoIpSources, InstanceSummary,
    ItemView, JobHandle, JobId, ListedGroup, MemberRef, Result, RunningJob, Service, ServiceError,
    VisibleItem,
};
use super::{
    AlertCounts, AlertView, NoticeSettings, PolicyTest, PolicyView, SmtpConfig, TestChannel,
    WebhookConfig,
};
use crate::connectors::{ConnectionCheck, DeviceCode};
use crate::domain::external::{
    Connection, DirectoryUser, ExternalGroup, ItemDocument, Member as ExternalMember,
};
use crate::domain::filter::Query;
use crate::domain::governance::{AccountAction, AuditEntry};
use crate::domain::grants::Grant;
use crate::domain::notice::Delivery;
use crate::domain::policy::{Alert, AlertState, Policy};
use crate::domain::{Group, GroupId, Instance, Micros, Secret};
use crate::store::{
    ActivityCursor, ActivityPage, Checked, Member, MembershipChange, NewInstance, Person, ScanKind,
};

use super::activities::Timeline;
use super::export::ExportNames;
use super::server::ServerInfo;

/// How the reply of one call travels; `plain` replies are sent as they are.
pub(super) trait Reply: Sized {
    type Wire: serde::Serialize + serde::de::DeserializeOwned + Send + 'static;
    fn to_wire(self, session: &Session) -> Self::Wire;
    fn from_wire(wire: Self::Wire, remote: &Remote) -> Self;
}

/// A job as the client learns of it; the server keeps the handle.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JobTicket {
    pub id: JobId,
    pub label: String,
}

impl Reply for JobHandle {
    type Wire = JobTicket;
    fn to_wire(self, session: &Session) -> JobTicket {
        let ticket = JobTicket {
            id: self.id,
            label: self.label.clone(),
        };
        session.keep_job(self);
        ticket
    }
    fn from_wire(wire: JobTicket, remote: &Remote) -> JobHandle {
        JobHandle::on_server(wire.id, wire.label, remote.clone())
    }
}

impl Reply for Vec<JobHandle> {
    type Wire = Vec<JobTicket>;
    fn to_wire(self, session: &Session) -> Vec<JobTicket> {
        self.into_iter().map(|j| j.to_wire(session)).collect()
    }
    fn from_wire(wire: Vec<JobTicket>, remote: &Remote) -> Vec<JobHandle> {
        wire.into_iter()
            .map(|t| JobHandle::from_wire(t, remote))
            .collect()
    }
}

impl Reply for (Group, JobHandle) {
    type Wire = (Group, JobTicket);
    fn to_wire(self, session: &Session) -> (Group, JobTicket) {
        (self.0, self.1.to_wire(session))
    }
    fn from_wire(wire: (Group, JobTicket), remote: &Remote) -> (Group, JobHandle) {
        (wire.0, JobHandle::from_wire(wire.1, remote))
    }
}

impl Reply for (ActionReport, Vec<JobHandle>) {
    type Wire = (ActionReport, Vec<JobTicket>);
    fn to_wire(self, session: &Session) -> Self::Wire {
        (self.0, self.1.to_wire(session))
    }
    fn from_wire(wire: Self::Wire, remote: &Remote) -> Self {
        (wire.0, Reply::from_wire(wire.1, remote))
    }
}

/// A service error as it crosses the socket: its line, whether it is a usage error
/// (exit 2), and a filter error's column for the dashboard's caret.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum WireError {
    Filter { message: String, column: usize },
    Usage(String),
    Failed(String),
}

impl From<ServiceError> for WireError {
    fn from(e: ServiceError) -> WireError {
        match e {
            ServiceError::Filter(f) => WireError::Filter {
                message: f.message,
                column: f.column,
            },
            e if e.is_usage() => WireError::Usage(e.to_string()),
            e => WireError::Failed(e.to_string()),
        }
    }
}

impl From<WireError> for ServiceError {
    fn from(e: WireError) -> ServiceError {
        match e {
            WireError::Filter { message, column } => {
                ServiceError::Filter(crate::domain::filter::FilterError { message, column })
            }
            WireError::Usage(line) => ServiceError::Invalid(line),
            WireError::Failed(line) => ServiceError::Failed(line),
        }
    }
}

/// The answer of a handler that panicked: logged, answered, and the server goes on.
fn panicked(call: &str) -> WireError {
    tracing::error!(call, "a request handler panicked; the server goes on");
    WireError::Failed(format!(
        "internal error in the casbah server ({call}); see its log file"
    ))
}

/// What an attached client learns from the event stream.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Events {
    /// The events since the last call, oldest first (none when the wait ran out).
    Some(Vec<Event>),
    /// The client fell behind and events were dropped: reload what it shows.
    Reload,
    /// The server is stopping.
    Stopped,
}

/// Whether a call changes something (and is audited), checked when the list compiles.
macro_rules! changes {
    (change) => {
        true
    };
    (read) => {
        false
    };
}

macro_rules! wire_ty {
    (plain, $t:ty) => {
        $t
    };
    (job, $t:ty) => {
        <$t as Reply>::Wire
    };
}

macro_rules! to_wire {
    (borrow, $a:ident) => {
        $a.to_owned()
    };
    (opt, $a:ident) => {
        $a.map(ToOwned::to_owned)
    };
    (val, $a:ident) => {
        $a
    };
}

macro_rules! lend {
    (borrow, $a:ident) => {
        &$a
    };
    (opt, $a:ident) => {
        $a.as_deref()
    };
    (val, $a:ident) => {
        $a
    };
}

macro_rules! reply_to_wire {
    (plain, $v:expr, $s:expr) => {
        $v
    };
    (job, $v:expr, $s:expr) => {
        Reply::to_wire($v, $s)
    };
}

macro_rules! reply_from_wire {
    (plain, $v:expr, $r:expr) => {
        $v
    };
    (job, $v:expr, $r:expr) => {
        Reply::from_wire($v, $r)
    };
}

macro_rules! calls {
    ($(
        $(#[$doc:meta])*
        $access:ident fn $name:ident($($arg:ident: $fty:ty => $wty:ty as $pass:ident),* $(,)?)
            -> $mode:ident $ret:ty;
    )*) => {
        // tarpc also generates a stub trait, for clients that build requests by hand.
        #[allow(dead_code)]
        mod wire {
            use super::*;
            /// The socket protocol: the calls below, plus the server's own.
            #[tarpc::service]
            pub trait Rpc {
                /// Who the server is (`casbah status`, the client's intervals).
                async fn hello() -> ServerInfo;
                /// The next events for this client, waiting a while for the first.
                async fn events() -> Events;
                /// The end of a job the server runs: its summary or its error.
                async fn wait_job(id: JobId) -> std::result::Result<String, String>;
                $(
                    async fn $name($($arg: $wty),*)
                        -> std::result::Result<wire_ty!($mode, $ret), WireError>;
                )*
            }
        }
        pub use wire::{Rpc, RpcClient};

        impl Service {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $fty),*) -> Result<$ret> {
                    match &self.backend {
                        super::Backend::Embedded(local) => local.$name($($arg),*).await,
                        super::Backend::Attached(remote) => {
                            let reply = remote
                                .client()
                                .$name(remote.context(), $(to_wire!($pass, $arg)),*)
                                .await
                                .map_err(|e| remote.lost(e))?;
                            let wire = reply.map_err(ServiceError::from)?;
                            Ok(reply_from_wire!($mode, wire, remote))
                        }
                    }
                }
            )*
        }

        impl Rpc for Session {
            async fn hello(self, _: Context) -> ServerInfo {
                self.info()
            }
            async fn events(self, _: Context) -> Events {
                self.next_events().await
            }
            async fn wait_job(self, _: Context, id: JobId) -> std::result::Result<String, String> {
                self.job_end(id).await
            }
            $(
                async fn $name(self, _: Context, $($arg: $wty),*)
                    -> std::result::Result<wire_ty!($mode, $ret), WireError> {
                    self.audit(changes!($access), stringify!($name));
                    let local = self.local().clone();
                    let answer = std::panic::AssertUnwindSafe(self.as_caller(async move {
                        #[cfg(debug_assertions)]
                        super::server::debug_panic(stringify!($name));
                        local.$name($(lend!($pass, $arg)),*).await
                    }))
                    .catch_unwind()
                    .await
                    .map_err(|_| panicked(stringify!($name)))?;
                    answer
                        .map(|v| reply_to_wire!($mode, v, &self))
                        .map_err(WireError::from)
                }
            )*
        }
    };
}

calls! {
    // Activities and saved queries.
    read fn compile_filter(text: &str => String as borrow) -> plain Query;
    /// The newest activities matching `text`, `limit` at a time from `after`.
    read fn activities(
        text: &str => String as borrow,
        limit: usize => usize as val,
        after: Option<ActivityCursor> => Option<ActivityCursor> as val,
    ) -> plain ActivityPage;
    read fn activity_count() -> plain u64;
    /// How many activities `text` selects over [`from`, `to`), in about `buckets` buckets.
    read fn timeline(
        text: &str => String as borrow,
        from: Micros => Micros as val,
        to: Micros => Micros as val,
        buckets: usize => usize as val,
    ) -> plain Timeline;
    change fn save_query(name: &str => String as borrow, text: &str => String as borrow) -> plain ();
    read fn saved_queries() -> plain Vec<(String, String)>;
    change fn delete_query(name: &str => String as borrow) -> plain ();
    read fn export_names() -> plain ExportNames;

    // The database.
    read fn check_database() -> plain Checked;
    /// A consistent copy at `dest`, written by the process that holds the database.
    read fn backup_database(dest: &Path => PathBuf as borrow) -> plain Checked;
    read fn geoip_sources() -> plain GeoIpSources;
    read fn settings() -> plain Vec<(String, String, String)>;
    change fn set_setting(key: &str => String as borrow, value: &str => String as borrow) -> plain ();

    // Groups and people.
    read fn available_groups(
        instance: &str => String as borrow,
        search: Option<&str> => Option<String> as opt,
    ) -> plain Vec<AvailableGroup>;
    change fn import_group(
        instance: &str => String as borrow,
        group: &str => String as borrow,
        notify: bool => bool as val,
    ) -> job (Group, JobHandle);
    change fn sync_group(group: GroupId => GroupId as val, name: &str => String as borrow)
        -> job JobHandle;
    read fn groups() -> plain Vec<Group>;
    read fn listed_groups(app: Option<&str> => Option<String> as opt) -> plain Vec<ListedGroup>;
    read fn find_group(name: &str => String as borrow) -> plain Group;
    change fn remove_group(name: &str => String as borrow) -> plain Group;
    read fn members(group: GroupId => GroupId as val) -> plain Vec<Member>;
    read fn membership_history(group: GroupId => GroupId as val) -> plain Vec<MembershipChange>;
    read fn person(key: &str => String as borrow) -> plain Person;

    // Instances.
    change fn connect(req: ConnectRequest => ConnectRequest as val) -> plain Instance;
    change fn reconnect(req: ConnectRequest => ConnectRequest as val) -> plain Instance;
    read fn begin_sign_in(new: &NewInstance => NewInstance as borrow) -> plain DeviceCode;
    read fn finish_sign_in(
        new: &NewInstance => NewInstance as borrow,
        code: DeviceCode => DeviceCode as val,
    ) -> plain Secret;
    change fn set_secret(instance: &str => String as borrow, secret: Secret => Secret as val)
        -> plain Instance;
    read fn test(instance: &str => String as borrow) -> plain ConnectionCheck;
    change fn remove_instance(instance: &str => String as borrow) -> plain Instance;
    read fn instances() -> plain Vec<InstanceSummary>;
    read fn find_instance(name: &str => String as borrow) -> plain Instance;

    // Scans.
    change fn run_due() -> job Vec<JobHandle>;
    change fn scan_now(instance: &str => String as borrow, kind: ScanKind => ScanKind as val)
        -> job Vec<JobHandle>;
    change fn sync_now(instance: Option<&str> => Option<String> as opt) -> job Vec<JobHandle>;
    change fn cancel_job(id: JobId => JobId as val) -> plain String;
    read fn running_jobs() -> plain Vec<RunningJob>;

    // Graph connectors' external groups, items and access (R-X1…R-X6).
    read fn directory_users(connection: &str => String as borrow) -> plain Vec<DirectoryUser>;
    read fn access_check(
        connection: &str => String as borrow,
        item: &str => String as borrow,
        user: &str => String as borrow,
    ) -> plain AccessAnswer;
    read fn access_who(connection: &str => String as borrow, item: &str => String as borrow)
        -> plain AudienceView;
    read fn access_items(connection: &str => String as borrow, user: &str => String as borrow)
        -> plain Vec<VisibleItem>;
    read fn external_connections(instance: Option<&str> => Option<String> as opt)
        -> plain Vec<ConnectionSummary>;
    change fn refresh_connections(instance: &str => String as borrow)
        -> plain Vec<ConnectionSummary>;
    change fn add_connection(
        instance: &str => String as borrow,
        id: &str => String as borrow,
        name: &str => String as borrow,
        description: Option<&str> => Option<String> as opt,
    ) -> plain Connection;
    change fn delete_connection(connection: &str => String as borrow) -> plain ();
    change fn sync_entra_groups(connection: &str => String as borrow) -> plain usize;
    read fn external_groups(connection: &str => String as borrow) -> plain Vec<ExternalGroupView>;
    change fn create_external_group(
        connection: &str => String as borrow,
        id: &str => String as borrow,
        name: Option<&str> => Option<String> as opt,
        description: Option<&str> => Option<String> as opt,
    ) -> plain ExternalGroup;
    change fn update_external_group(
        connection: &str => String as borrow,
        id: &str => String as borrow,
        name: Option<&str> => Option<String> as opt,
        description: Option<&str> => Option<String> as opt,
    ) -> plain ExternalGroup;
    change fn delete_external_group(connection: &str => String as borrow, id: &str => String as borrow)
        -> plain ();
    change fn add_external_member(
        connection: &str => String as borrow,
        group: &str => String as borrow,
        member: MemberRef => MemberRef as val,
    ) -> plain ExternalMember;
    change fn remove_external_member(
        connection: &str => String as borrow,
        group: &str => String as borrow,
        member: MemberRef => MemberRef as val,
    ) -> plain ExternalMember;
    read fn external_items(connection: &str => String as borrow) -> plain Vec<ItemView>;
    read fn external_item(connection: &str => String as borrow, item: &str => String as borrow)
        -> plain ItemView;
    change fn set_item_acl(
        connection: &str => String as borrow,
        item: &str => String as borrow,
        document: ItemDocument => ItemDocument as val,
    ) -> plain ItemView;
    change fn delete_item(connection: &str => String as borrow, item: &str => String as borrow)
        -> plain ();
    change fn mirror_group(
        connection: &str => String as borrow,
        group: &str => String as borrow,
        from: &str => String as borrow,
    ) -> job JobHandle;
    change fn sync_mirrors() -> job Vec<JobHandle>;

    // Acting on accounts, on the record (issue 11).
    /// Whether every action is refused here (the setting, or `serve --read-only`).
    read fn read_only() -> plain bool;
    /// What `act` would do, sending nothing.
    read fn plan_action(
        instance: &str => String as borrow,
        action: AccountAction => AccountAction as val,
        users: Vec<String> => Vec<String> as val,
    ) -> plain ActionPlan;
    change fn act(
        instance: &str => String as borrow,
        action: AccountAction => AccountAction as val,
        users: Vec<String> => Vec<String> as val,
        reason: &str => String as borrow,
    ) -> job (ActionReport, Vec<JobHandle>);
    read fn audit_trail() -> plain Vec<AuditEntry>;
    /// Every app granted access, riskiest first (issue 11: app permissions).
    read fn apps(instance: Option<&str> => Option<String> as opt) -> plain Vec<AppSummary>;
    read fn app_grants(instance: &str => String as borrow, app: &str => String as borrow)
        -> plain AppDetail;
    read fn person_grants(key: &str => String as borrow) -> plain Vec<(String, Grant)>;

    // Policies, alerts and notices (issue 12).
    read fn policies() -> plain Vec<PolicyView>;
    read fn find_policy(name: &str => String as borrow) -> plain Policy;
    /// Why saving `policy` would ask for confirmation, if it would; its mistakes as errors.
    read fn check_policy(policy: Policy => Policy as val) -> plain Option<String>;
    change fn save_policy(policy: Policy => Policy as val, confirmed: bool => bool as val)
        -> plain Policy;
    change fn set_policy_enabled(name: &str => String as borrow, enabled: bool => bool as val)
        -> plain Policy;
    change fn delete_policy(name: &str => String as borrow) -> plain Policy;
    read fn test_policy(policy: Policy => Policy as val, days: u32 => u32 as val)
        -> plain PolicyTest;
    read fn alerts() -> plain Vec<Alert>;
    read fn alert(id: u64 => u64 as val) -> plain AlertView;
    read fn alert_counts() -> plain AlertCounts;
    change fn change_alert(
        id: u64 => u64 as val,
        state: AlertState => AlertState as val,
        comment: Option<String> => Option<String> as val,
    ) -> plain Alert;
    read fn notice_settings() -> plain NoticeSettings;
    change fn set_smtp(
        config: Option<SmtpConfig> => Option<SmtpConfig> as val,
        password: Option<Secret> => Option<Secret> as val,
    ) -> plain ();
    change fn set_webhook(
        config: Option<WebhookConfig> => Option<WebhookConfig> as val,
        secret: Option<Secret> => Option<Secret> as val,
    ) -> plain ();
    change fn send_test_notice(channel: TestChannel => TestChannel as val) -> plain String;
    read fn deliveries() -> plain Vec<Delivery>;
    change fn retry_notices() -> plain usize;
    /// Sends the notices due now; for a process with no worker (`casbah sync`).
    change fn deliver_notices() -> plain usize;
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;

    use tarpc::tokio_serde::{Deserializer, Serializer};

    use super::super::server::Pack;
    use super::*;
    use crate::service::{JobKind, Level};

    fn round_trip<T>(value: &T) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let mut pack = Pack;
        let bytes = Serializer::<T>::serialize(Pin::new(&mut pack), value).expect("encodes");
        Deserializer::<T>::deserialize(Pin::new(&mut pack), &bytes::BytesMut::from(&bytes[..]))
            .expect("decodes")
    }

    // issue 9: what crosses the socket comes out as it went in, tagged enums and
    // flattened structs included (a compact array form would lose their field names).
    #[tokio::test]
    async fn replies_and_events_cross_the_socket_unchanged() {
        let events = vec![
            Event::JobStarted {
                id: JobId(3),
                job: JobKind::SyncGroup { group: GroupId(7) },
                label: "sync group Finance".into(),
            },
            Event::Notification {
                level: Level::Warning,
                text: "a\u{1b}[31m".into(),
            },
            Event::Reload,
            Event::ServerStopped,
        ];
        assert_eq!(round_trip(&events), events);
        let dir = tempfile::tempdir().expect("dir");
        let svc = Service::with_store(
            crate::store::Store::open_with_keys(
                &dir.path().join("c.redb"),
                crate::store::KeyStore::File(dir.path().join("key")),
            )
            .expect("store"),
            super::super::Intervals::default(),
        );
        let query = svc
            .compile_filter(
                "country:DE country!=US type:(download,share) failed after:7d \"free text\"",
            )
            .await
            .expect("compiles");
        assert_eq!(round_trip(&query), query);
        let error = WireError::from(svc.compile_filter("country!=").await.expect_err("refused"));
        assert!(matches!(
            ServiceError::from(round_trip(&error)),
            ServiceError::Filter(f) if f.column > 0
        ));
    }
}
