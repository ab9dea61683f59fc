//! The one vocabulary of the dashboard: keys, `:` commands, footer hints and
//! the `?` help all name these actions.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Quit,
    Help,
    Redraw,
    CommandLine,
    NextPane,
    PrevPane,
    Connectors,
    Groups,
    Members,
    Activities,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Filter,
    Import,
    Sync,
    Connect,
    ExportCsv,
    ExportJson,
    Queries,
    SaveQuery,
    ToggleNotify,
    Mark,
    Rename,
    Delete,
    History,
    Log,
    Submit,
    Complete,
    External,
    Expand,
    Collapse,
    AccessCheck,
    WhoCanSee,
    Refresh,
    Person,
    MoreLike,
    OnlyLike,
    ActivitiesOf,
    SpanIn,
    SpanOut,
    Earlier,
    Later,
    Goto,
    Zoom,
    CopyValue,
    CopyRow,
    Sort,
    SortReverse,
    Cancel,
    Audit,
    Act,
    Apps,
    Alerts,
    Policies,
    Acknowledge,
    Resolve,
    Dismiss,
    Toggle,
    NewPolicy,
    TestPolicy,
}

impl Action {
    pub const ALL: [Action; 66] = [
        Action::Quit,
        Action::Help,
        Action::Redraw,
        Action::CommandLine,
        Action::NextPane,
        Action::PrevPane,
        Action::Connectors,
        Action::Groups,
        Action::Members,
        Action::Activities,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::Back,
        Action::Filter,
        Action::Import,
        Action::Sync,
        Action::Connect,
        Action::ExportCsv,
        Action::ExportJson,
        Action::Queries,
        Action::SaveQuery,
        Action::ToggleNotify,
        Action::Mark,
        Action::Rename,
        Action::Delete,
        Action::History,
        Action::Log,
        Action::Submit,
        Action::Complete,
        Action::External,
        Action::Expand,
        Action::Collapse,
        Action::AccessCheck,
        Action::WhoCanSee,
        Action::Refresh,
        Action::Person,
        Action::MoreLike,
        Action::OnlyLike,
        Action::ActivitiesOf,
        Action::SpanIn,
        Action::SpanOut,
        Action::Earlier,
        Action::Later,
        Action::Goto,
        Action::Zoom,
        Action::CopyValue,
        Action::CopyRow,
        Action::Sort,
        Action::SortReverse,
        Action::Cancel,
        Action::Audit,
        Action::Act,
        Action::Apps,
        Action::Alerts,
        Action::Policies,
        Action::Acknowledge,
        Action::Resolve,
        Action::Dismiss,
        Action::Toggle,
        Action::NewPolicy,
        Action::TestPolicy,
    ];

    /// The name used in the keymap file and, for those that have one, as a
    /// `:` command.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Redraw => "redraw",
            Action::CommandLine => "command-line",
            Action::NextPane => "next-pane",
            Action::PrevPane => "prev-pane",
            Action::Connectors => "connectors",
            Action::Groups => "groups",
            Action::Members => "members",
            Action::Activities => "activities",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page-up",
            Action::PageDown => "page-down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Back => "back",
            Action::Filter => "filter",
            Action::Import => "import",
            Action::Sync => "sync",
            Action::Cancel => "cancel",
            Action::Connect => "connect",
            Action::ExportCsv => "export-csv",
            Action::ExportJson => "export-json",
            Action::Queries => "queries",
            Action::SaveQuery => "save-query",
            Action::ToggleNotify => "toggle-notify",
            Action::Mark => "mark",
            Action::Rename => "rename",
            Action::Delete => "delete",
            Action::History => "history",
            Action::Log => "log",
            Action::Submit => "submit",
            Action::Complete => "complete",
            Action::External => "external",
            Action::Expand => "expand",
            Action::Collapse => "collapse",
            Action::AccessCheck => "access-check",
            Action::WhoCanSee => "who-can-see",
            Action::Refresh => "refresh",
            Action::Person => "person",
            Action::MoreLike => "more-like-this",
            Action::OnlyLike => "only-like-this",
            Action::ActivitiesOf => "activities-of",
            Action::SpanIn => "span-in",
            Action::SpanOut => "span-out",
            Action::Earlier => "earlier",
            Action::Later => "later",
            Action::Goto => "goto",
            Action::Zoom => "zoom",
            Action::CopyValue => "copy",
            Action::CopyRow => "copy-row",
            Action::Sort => "sort",
            Action::SortReverse => "sort-reverse",
            Action::Audit => "audit",
            Action::Act => "act-on-accounts",
            Action::Apps => "apps",
            Action::Alerts => "alerts",
            Action::Policies => "policies",
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
            Action::Dismiss => "dismiss",
            Action::Toggle => "toggle",
            Action::NewPolicy => "new-policy",
            Action::TestPolicy => "test-policy",
        }
    }

    /// What the action does, for help and for keys a user maps without a description.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show the keys",
            Action::Redraw => "redraw the screen",
            Action::CommandLine => "command line",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Connectors => "connectors",
            Action::Groups => "groups",
            Action::Members => "members (of GROUP)",
            Action::Activities => "activities (matching FILTER)",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Open => "open",
            Action::Back => "back",
            Action::Filter => "filter",
            Action::Import => "import groups",
            Action::Sync => "sync now",
            Action::Cancel => "cancel the work running",
            Action::Connect => "connect an app",
            Action::ExportCsv => "export CSV",
            Action::ExportJson => "export JSON",
            Action::Queries => "saved and suggested queries",
            Action::SaveQuery => "save the filter as a query",
            Action::ToggleNotify => "notify when done",
            Action::Mark => "mark / unmark",
            Action::Rename => "rename",
            Action::Delete => "delete",
            Action::History => "who joined and left (of GROUP)",
            Action::Log => "casbah's recent warnings and errors",
            Action::Submit => "apply",
            Action::Complete => "complete",
            Action::External => "external groups (of CONNECTION)",
            Action::Expand => "expand",
            Action::Collapse => "collapse / parent",
            Action::AccessCheck => "check a user's access to an item",
            Action::WhoCanSee => "who can see the item",
            Action::Refresh => "read the connections from Graph again",
            Action::Person => "the actor's person view",
            Action::MoreLike => "more like this: add a field to the filter",
            Action::OnlyLike => "only like this: filter on a field alone",
            Action::ActivitiesOf => "their activities",
            Action::SpanIn => "timeline: a shorter span",
            Action::SpanOut => "timeline: a longer span",
            Action::Earlier => "timeline: earlier",
            Action::Later => "timeline: later",
            Action::Goto => "activities from a moment (2026-11-28 14:00, or now)",
            Action::Zoom => "zoom the pane to the full screen and back",
            Action::CopyValue => "copy a value",
            Action::CopyRow => "copy the row as JSON",
            Action::Sort => "sort by the next column",
            Action::SortReverse => "reverse the sort",
            Action::Audit => "every account action taken, and the app's answer",
            Action::Act => "act on the account (or the marked ones): suspend, sign out…",
            Action::Apps => "the apps granted access, riskiest first",
            Action::Alerts => "the alerts policies raised",
            Action::Policies => "the policies: what is watched for",
            Action::Acknowledge => "acknowledge: someone looks into it",
            Action::Resolve => "resolve: dealt with",
            Action::Dismiss => "dismiss: nothing to deal with",
            Action::Toggle => "switch on / off",
            Action::NewPolicy => "new policy",
            Action::TestPolicy => "test: what it would have raised in 7 days",
        }
    }

    /// Moves within a list: the cursor's, not worth a hint.
    pub fn is_navigation(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
        )
    }

    /// The actions reachable as `:name [ARG]`.
    pub fn is_command(self) -> bool {
        matches!(
            self,
            Action::Quit
                | Action::Help
                | Action::Connectors
                | Action::Groups
                | Action::Members
                | Action::History
                | Action::Log
                | Action::Activities
                | Action::Import
                | Action::Sync
                | Action::Connect
                | Action::ExportCsv
                | Action::ExportJson
                | Action::Queries
                | Action::External
                | Action::AccessCheck
                | Action::Goto
                | Action::Audit
                | Action::Apps
                | Action::Alerts
                | Action::Policies
        )
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Short names of a command, as k9s has them (`:g`, `:act`).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Action::Quit => &["q", "q!"],
            Action::Connectors => &["conn"],
            Action::Groups => &["g"],
            Action::Members => &["m"],
            Action::Activities => &["a", "act"],
            Action::External => &["ext"],
            Action::AccessCheck => &["check"],
            Action::Queries => &["qu"],
            _ => &[],
        }
    }

    /// The command a word names, by its name or an alias.
    pub fn command(word: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.is_command())
            .find(|a| a.name() == word || a.aliases().contains(&word))
    }

    /// How the help lists a command: its name, aliases and argument.
    pub fn command_usage(self) -> String {
        let arg = match self {
            Action::Members | Action::History => " GROUP",
            Action::Activities => " FILTER",
            Action::Groups => " [TEXT]",
            Action::Sync => " [INSTANCE]",
            Action::External => " [CONNECTION]",
            Action::Help => " [filter]",
            _ => "",
        };
        let mut usage = format!(":{}{arg}", self.name());
        for alias in self.aliases() {
            usage.push_str(&format!(", :{alias}"));
        }
        usage
    }

    /// Parses a command line (`members Finance EMEA`): the action and its argument.
    pub fn parse_command(line: &str) -> Option<(Action, Option<String>)> {
        let line = line.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let action = Action::command(word)?;
        let rest = rest.trim();
        Some((action, (!rest.is_empty()).then(|| rest.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_its_name() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
    }

    #[test]
    fn commands_carry_their_argument() {
        assert_eq!(
            Action::parse_command("members  Finance EMEA "),
            Some((Action::Members, Some("Finance EMEA".into())))
        );
        assert_eq!(Action::parse_command("q"), Some((Action::Quit, None)));
        assert_eq!(
            Action::parse_command("up"),
            None,
            "navigation is not a command"
        );
        assert_eq!(Action::parse_command("nonsense"), None);
        // issue 13: k9s's short names.
        for (line, action) in [
            ("g", Action::Groups),
            ("m Sales", Action::Members),
            ("a", Action::Activities),
            ("act country:DE", Action::Activities),
            ("ext", Action::External),
        ] {
            assert_eq!(
                Action::parse_command(line).map(|c| c.0),
                Some(action),
                "{line}"
            );
        }
        for a in Action::ALL {
            for alias in a.aliases() {
                assert_eq!(Action::command(alias), Some(a), "{alias} names one command");
            }
        }
    }
}
