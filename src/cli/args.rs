//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::domain::governance::AccountAction;

#[derive(Debug, Parser)]
#[command(
    name = "casbah",
    version,
    about = "A cloud-access-security console for the terminal"
)]
pub struct Cli {
    /// The database file [default: casbah.redb in the user's data folder]
    #[arg(long, global = true, env = "CASBAH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The socket of the `casbah serve` of the database [default: beside the database]
    #[arg(long, global = true, env = "CASBAH_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Refuse every account action, and hide them from the dashboard
    #[arg(long, global = true)]
    pub read_only: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a generated organisation through the vendors' APIs on loopback
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Connect, list, check and remove app instances
    #[command(subcommand)]
    Connectors(ConnectorsCommand),
    /// Import and list user groups
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// List the members of a group
    Members(MembersArgs),
    /// Show a person across apps: accounts, groups and an activity summary
    Person(PersonArgs),
    /// Query the activity log
    Activities(ActivitiesArgs),
    /// Save, list and delete named activity queries
    #[command(subcommand)]
    Queries(QueriesCommand),
    /// Scan users, groups and activities now
    Sync(SyncArgs),
    /// Start the sandbox, connect every app it serves and keep syncing: the dashboard on a
    /// terminal, else a live summary. Run again on the same database (--db), it reconnects
    /// the saved instances to the new sandbox and keeps what they collected
    Demo(DemoArgs),
    /// Show or change settings such as scan intervals
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Graph connections: external groups, their members, item ACLs and mirrors
    #[command(subcommand)]
    External(ExternalCommand),
    /// Who can see an external item, and why
    #[command(subcommand)]
    Access(AccessCommand),
    /// Check the database file for damage, or back it up
    #[command(subcommand)]
    Db(DbCommand),
    /// Keep collecting in the background: own the database and the schedule, and let
    /// dashboards and commands attach over a Unix socket
    Serve(ServeArgs),
    /// Whether a casbah server runs for the database, and each instance's scans
    Status(JsonFlag),
    /// Act on accounts of a connected app (suspend, unsuspend, sign-out,
    /// require-password-change): shows the plan, asks, and records it in the audit trail
    Act(ActArgs),
    /// Every action attempted, with who, when, why and the app's answer
    Audit(JsonFlag),
    /// The OAuth apps people and the organisation granted access, and their scopes
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Activity policies: what to watch for as activities arrive, and where to send alerts
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// The alerts policies raised: list, show, acknowledge, resolve or dismiss them
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Where notices go: an SMTP relay for e-mail, and a webhook
    #[command(subcommand)]
    Notify(NotifyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Every policy: its filter, rule, severity, notices and open alerts
    List(JsonFlag),
    /// The built-in templates `add --template` starts from
    Templates(JsonFlag),
    /// Add a policy (off unless --enable), from a filter or a template
    Add(PolicyArgs),
    /// Change a policy: only what is given changes
    Edit(PolicyArgs),
    /// Start watching with a policy
    Enable(PolicyName),
    /// Stop watching with a policy; its alerts stay
    Disable(PolicyName),
    /// Remove a policy and its half-counted windows; its alerts stay
    Delete(PolicyName),
    /// What a policy would have raised over the stored activities, raising nothing
    Test {
        name: String,
        /// How many days back to look
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct PolicyName {
    /// The policy's name or number
    pub name: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The policy's name (for edit: its name or number)
    pub name: String,
    /// Start from a built-in template (see `policies templates`)
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// Which activities count, in the filter language of `activities --filter`
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,
    /// Raise when at least N matching activities fall within the window (default 1)
    #[arg(long, value_name = "N")]
    pub threshold: Option<u32>,
    /// The window the threshold counts in, and repeats join one alert: 90s, 5m, 1h, 7d
    #[arg(long, value_name = "WINDOW")]
    pub window: Option<String>,
    /// Count per actor, ip, group or overall (default actor)
    #[arg(long, value_name = "PER")]
    pub per: Option<String>,
    /// low, medium, high or critical (default medium)
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Send alerts by e-mail: to these addresses, or alone to the SMTP setting's recipients
    #[arg(long, value_name = "ADDRESS", num_args = 0.., value_delimiter = ',')]
    pub email: Option<Vec<String>>,
    /// Stop sending alerts by e-mail
    #[arg(long, conflicts_with = "email")]
    pub no_email: bool,
    /// Send alerts to the webhook (`casbah notify webhook`)
    #[arg(long)]
    pub webhook: bool,
    /// Stop sending alerts to the webhook
    #[arg(long, conflicts_with = "webhook")]
    pub no_webhook: bool,
    /// The organisation's countries, for the admin-abroad template (default: the most
    /// frequent country of the stored activities)
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub countries: Option<Vec<String>>,
    /// Watch at once (add)
    #[arg(long)]
    pub enable: bool,
    /// A new name (edit)
    #[arg(long, value_name = "NAME")]
    pub rename: Option<String>,
    /// Keep a policy that matches almost every activity
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first
    List {
        /// Only alerts in this state: open, acknowledged, resolved, dismissed, or active
        /// (open or acknowledged)
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only this policy's alerts
        #[arg(long, value_name = "POLICY")]
        policy: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One alert: its activities, actors, history and notices
    Show {
        id: u64,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge: someone is looking into it
    Ack(AlertChange),
    /// Resolve: dealt with
    Resolve(AlertChange),
    /// Dismiss: nothing to deal with
    Dismiss(AlertChange),
}

#[derive(Debug, Args)]
pub struct AlertChange {
    pub id: u64,
    /// Why, for the alert's history
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Where notices go now (never a secret), and notices that could not be sent
    Show(JsonFlag),
    /// Send e-mail through an SMTP relay; the password is read like other secrets
    Smtp(SmtpArgs),
    /// Post alerts to a webhook; its URL (which may hold a token) and signing secret are
    /// read like other secrets, never from the command line
    Webhook(WebhookArgs),
    /// Send again, now, every notice not delivered (after fixing the relay or receiver)
    Retry,
    /// Send one test notice now
    Test {
        /// By e-mail (default)
        #[arg(long, conflicts_with = "webhook")]
        email: bool,
        /// To the webhook
        #[arg(long)]
        webhook: bool,
    },
}

#[derive(Debug, Args)]
pub struct SmtpArgs {
    /// The relay's host name or address
    #[arg(long, required_unless_present = "remove")]
    pub host: Option<String>,
    /// Default: 465 for tls, 587 for starttls, 25 for plain
    #[arg(long)]
    pub port: Option<u16>,
    /// tls, starttls (default) or plain (only to a relay on this machine)
    #[arg(long, default_value = "starttls")]
    pub security: String,
    /// Sign in as this user; the password comes from --password-file, CASBAH_SECRET,
    /// stdin or a prompt
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    /// The sender's address
    #[arg(long, required_unless_present = "remove")]
    pub from: Option<String>,
    /// Default recipients, comma-separated
    #[arg(long, value_delimiter = ',')]
    pub to: Vec<String>,
    /// Stop sending e-mail
    #[arg(long, conflicts_with_all = ["host", "from"])]
    pub remove: bool,
}

#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// json (the alert's document) or text (`{"text": …}`, for Slack and Teams)
    #[arg(long, default_value = "json")]
    pub format: String,
    /// Read the URL from this file (else CASBAH_WEBHOOK_URL, stdin or a prompt)
    #[arg(long, value_name = "PATH")]
    pub url_file: Option<PathBuf>,
    /// Sign each post (X-Casbah-Signature: HMAC-SHA256 of the body); the secret comes
    /// from --secret-file, CASBAH_SECRET, stdin or a prompt
    #[arg(long)]
    pub sign: bool,
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Stop posting to the webhook
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Each app granted access, with how many granted it and its riskiest scopes
    List {
        /// Only this instance's
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Who granted an app what, and when
    Show {
        #[arg(long, value_name = "NAME")]
        instance: String,
        /// The app's name or client id
        app: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ActArgs {
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(
        AccountAction::EVERY.map(AccountAction::name)
    ).try_map(|name: String| AccountAction::parse(&name).ok_or("unknown action")))]
    pub action: AccountAction,
    /// The connected instance whose accounts to act on
    #[arg(long, value_name = "NAME")]
    pub instance: String,
    /// revoke-grant: the app (name or client id) whose grants to revoke; the
    /// grants of the USERs given, or else every grant it holds
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// Accounts, by e-mail, sign-in name or the app's id
    #[arg(value_name = "USER")]
    pub users: Vec<String>,
    /// More accounts, one per line, from a file, or - for stdin
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Why, for the audit trail (asked for on a terminal)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Go on without asking (needed when stdin is not a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Show what would be done, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// The plan (with --dry-run) or the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Let this group's members attach too (socket 0660 in a 0750 folder)
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Run redb's integrity check over every page; exit 1 with the damage if it fails
    Check,
    /// Copy the database, consistently, to PATH: a new file readable by you only, checked
    Backup {
        /// Where to write the copy; an existing file is never replaced
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting with its value
    List(JsonFlag),
    /// Change a setting: a scan interval in seconds (from the next start), or a GeoIP
    /// database's path (from the next activity scan; empty forgets it)
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve until interrupted; the first line printed is "listening on URL"
    Serve(SandboxArgs),
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Loopback address to listen on
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Seed of the generated organisation
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of users to generate
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// New activities per second in the live stream
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub rate: f64,
    /// Faults to inject, e.g. "latency=20ms,429=0.1,5xx=0.05,drop=0.01,truncate=0.01"
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConnectorsCommand {
    /// Connect an app instance; the secret comes from CASBAH_SECRET, stdin or a prompt
    Add(Box<AddArgs>),
    /// Connected instances with their status and last scans
    List(JsonFlag),
    /// Check an instance's credentials now (a token, then the user list)
    Test { name: String },
    /// Replace an instance's secret (checked with the vendor first); it comes from
    /// --secret-file, CASBAH_SECRET, stdin or a prompt, or a new sign-in
    SetSecret {
        name: String,
        /// Read the secret from this file (a private key or a service account's key)
        #[arg(long, value_name = "PATH")]
        secret_file: Option<std::path::PathBuf>,
    },
    /// Remove an instance with its credentials, users and imported groups
    Remove { name: String },
    /// The catalog of apps casbah knows
    Catalog(JsonFlag),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The app, e.g. microsoft365 (see `casbah connectors catalog`)
    pub app: String,
    /// Instance name, unique within the app
    #[arg(long)]
    pub name: String,
    /// Microsoft 365: the Entra directory (tenant) id
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,
    /// Microsoft 365: the app registration; Okta: an API service app (the secret is then
    /// its private key); GitHub: an OAuth app to sign in with the device flow (no secret)
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Okta: the organisation's domain, e.g. example.okta.com
    #[arg(long, value_name = "HOST")]
    pub domain: Option<String>,
    /// Google Workspace: the administrator the service account acts as
    #[arg(long, value_name = "ADDRESS")]
    pub admin_email: Option<String>,
    /// Google Workspace: the customer id (Admin console, Account settings), e.g. C01abc2de
    #[arg(long, value_name = "ID")]
    pub customer_id: Option<String>,
    /// GitHub: the organization's login name
    #[arg(long, value_name = "LOGIN")]
    pub organization: Option<String>,
    /// Replaces every vendor host (national clouds, the sandbox); paths stay the vendor's
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Microsoft 365 components, comma-separated [default: all but azure-ad-files]
    #[arg(long, value_name = "LIST")]
    pub components: Option<String>,
    /// Read the secret (a token, a private key, a key file's JSON) from this file
    /// instead of CASBAH_SECRET, stdin or the prompt
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<std::path::PathBuf>,
}

impl AddArgs {
    /// The credential fields given, by the catalog's names.
    pub fn fields(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("tenant-id", &self.tenant_id),
            ("client-id", &self.client_id),
            ("domain", &self.domain),
            ("admin-email", &self.admin_email),
            ("customer-id", &self.customer_id),
            ("organization", &self.organization),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
        .collect()
    }
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// The import picker's list: the first 50 groups, or the app's search results
    Available(AvailableArgs),
    /// Import a group by the app's group id or exact name
    Import(ImportArgs),
    /// Imported and automatic groups with their apps, status and counts
    List(GroupListArgs),
    /// Sync an imported group's members now
    Sync(GroupSyncArgs),
    /// Stop importing a group and forget its members
    Remove { group: String },
    /// Who joined and who left a group, and when, oldest first
    History(MembersArgs),
}

#[derive(Debug, Args)]
pub struct GroupListArgs {
    /// Only the groups of this app: a catalog app (microsoft365, box, …) or
    /// an Office app of Microsoft 365 (sharepoint, onedrive, exchange, teams)
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
    /// Print JSON for scripts
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AvailableArgs {
    #[arg(long)]
    pub instance: String,
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    pub instance: String,
    /// The app's group id or exact name
    pub group: String,
    /// Tell me when the import is done
    #[arg(long)]
    pub notify: bool,
    /// Wait for the first sync and print its summary
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct GroupSyncArgs {
    pub group: String,
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct MembersArgs {
    /// Group name or casbah group id
    pub group: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PersonArgs {
    /// E-mail or UPN
    pub user: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ActivitiesArgs {
    /// Filter expression, e.g. 'group:"Finance EMEA" country!=US after:7d'
    #[arg(long, short, default_value = "", value_name = "EXPR")]
    pub filter: String,
    /// Run a saved or suggested query by name (combined with --filter)
    #[arg(long, short, value_name = "NAME")]
    pub query: Option<String>,
    /// How many activities, newest first
    #[arg(long, short = 'n', default_value_t = 50)]
    pub limit: usize,
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueriesCommand {
    /// Saved and suggested queries
    List(JsonFlag),
    /// Save a filter under a name
    Save {
        name: String,
        filter: String,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this instance
    #[arg(long)]
    pub instance: Option<String>,
    /// Wait until every scan has finished and print what each did
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of users in the sandbox organisation
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// New sandbox activities per second
    #[arg(long, default_value_t = 5.0, value_name = "N")]
    pub rate: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum ExternalCommand {
    /// Graph connections of Microsoft 365 instances
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// External groups of a connection
    #[command(subcommand)]
    Groups(ExternalGroupsCommand),
    /// Add or remove members of an external group
    #[command(subcommand)]
    Members(ExternalMembersCommand),
    /// External items of a connection
    #[command(subcommand)]
    Items(ItemsCommand),
    /// Set or show an item's ACL
    #[command(subcommand)]
    Acl(AclCommand),
    /// Publish a casbah group as an external group and keep it in sync
    Mirror(MirrorArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Connections casbah knows, with their groups, items and pending groups
    List(ConnectionsListArgs),
    /// Create a connection in the instance's tenant
    Add(ConnectionAddArgs),
    /// Delete a connection with its groups and items, at Graph and here
    Delete(ConnectionArg),
}

#[derive(Debug, Args)]
pub struct ConnectionsListArgs {
    /// Only this Microsoft 365 instance
    #[arg(long)]
    pub instance: Option<String>,
    /// Read the list from Graph first (of every Microsoft 365 instance without --instance)
    #[arg(long)]
    pub refresh: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConnectionAddArgs {
    /// The Microsoft 365 instance
    #[arg(long)]
    pub instance: String,
    /// 3 to 32 letters and digits, not starting with "Microsoft", not reserved
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConnectionArg {
    /// The connection id
    #[arg(long, value_name = "ID")]
    pub connection: String,
}

#[derive(Debug, Subcommand)]
pub enum ExternalGroupsCommand {
    /// External groups as a tree: nested members indented, pending groups marked
    List {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long)]
        json: bool,
    },
    /// Create an external group
    Create(GroupFields),
    /// Change an external group's display name or description (empty text clears it)
    Update(GroupFields),
    /// Delete an external group
    Delete {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "GID")]
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct GroupFields {
    #[command(flatten)]
    pub connection: ConnectionArg,
    /// 1 to 128 characters from A–Z a–z 0–9 - _
    #[arg(long, value_name = "GID")]
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExternalMembersCommand {
    /// Add a user, an Entra group or a nested external group
    Add(MemberArgs),
    /// Remove a member
    Remove(MemberArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("member").required(true).args(["user", "entra_group", "external"])))]
pub struct MemberArgs {
    #[command(flatten)]
    pub connection: ConnectionArg,
    /// The external group
    #[arg(long, value_name = "GID")]
    pub group: String,
    /// A synced user: UPN, e-mail or Entra object id
    #[arg(long, value_name = "UPN_OR_ID")]
    pub user: Option<String>,
    /// An Entra group: exact name or object id
    #[arg(long, value_name = "NAME_OR_ID")]
    pub entra_group: Option<String>,
    /// A nested external group of the same connection
    #[arg(long, value_name = "GID")]
    pub external: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ItemsCommand {
    /// Items casbah has put, with their ACL size and pending groups
    List {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long)]
        json: bool,
    },
    /// Delete an item
    Delete {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "IID")]
        item: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Put the item with the ACL of a file in Graph's JSON shape (`-` reads stdin)
    Set {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "IID")]
        item: String,
        #[arg(long, value_name = "ACL.json")]
        file: PathBuf,
    },
    /// An item's ACL, each entry resolved to who it names
    Show {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "IID")]
        item: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    #[command(flatten)]
    pub connection: ConnectionArg,
    /// The external group (created when missing)
    #[arg(long, value_name = "GID")]
    pub group: String,
    /// The casbah group to publish: name or casbah id
    #[arg(long, value_name = "GROUP")]
    pub from: String,
    /// Wait for the first sync and print what it sent
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Grant, deny or none for one user and item, with the path that decided it
    Check {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "IID")]
        item: String,
        /// UPN, e-mail or Entra object id
        #[arg(long, value_name = "UPN_OR_ID")]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// The items a user can see, each with the path that grants it
    Items {
        #[command(flatten)]
        connection: ConnectionArg,
        /// UPN, e-mail or Entra object id
        #[arg(long, value_name = "UPN_OR_ID")]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Everyone granted or denied the item, with counts
    Who {
        #[command(flatten)]
        connection: ConnectionArg,
        #[arg(long, value_name = "IID")]
        item: String,
        #[arg(long)]
        json: bool,
    },
}
