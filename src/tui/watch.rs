//! Issue 12: the dashboard's calls for alerts and policies, and their answers. The
//! runtime runs them; the Alerts pane and its policy editor ask for them.

use crate::domain::policy::{Alert, AlertState, Policy};
use crate::service::{AlertCounts, PolicyTest, PolicyView, Service, TEST_DAYS};

use super::msg::{Failure, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub enum WatchCmd {
    /// The header's count.
    LoadCounts,
    LoadAlerts,
    LoadPolicies,
    ChangeAlert {
        id: u64,
        state: AlertState,
    },
    SetEnabled {
        name: String,
        enabled: bool,
    },
    /// Checks a draft as saving would, without saving it.
    Check(Box<Policy>),
    /// What a draft would have raised over the last `TEST_DAYS` days.
    Test(Box<Policy>),
    Save {
        policy: Box<Policy>,
        confirmed: bool,
    },
}

#[derive(Debug)]
pub enum WatchDone {
    Counts(Outcome<AlertCounts>),
    Alerts(Outcome<Vec<Alert>>),
    Policies(Outcome<Vec<PolicyView>>),
    Changed(Outcome<Alert>),
    Enabled(Outcome<Policy>),
    /// Why saving would ask for confirmation, if it would.
    Checked(Outcome<Option<String>>),
    Tested(Outcome<PolicyTest>),
    Saved(Outcome<Policy>),
}

pub async fn run(svc: Service, cmd: WatchCmd) -> WatchDone {
    match cmd {
        WatchCmd::LoadCounts => WatchDone::Counts(svc.alert_counts().await.map_err(Failure::from)),
        WatchCmd::LoadAlerts => WatchDone::Alerts(svc.alerts().await.map_err(Failure::from)),
        WatchCmd::LoadPolicies => WatchDone::Policies(svc.policies().await.map_err(Failure::from)),
        WatchCmd::ChangeAlert { id, state } => WatchDone::Changed(
            svc.change_alert(id, state, None)
                .await
                .map_err(Failure::from),
        ),
        WatchCmd::SetEnabled { name, enabled } => WatchDone::Enabled(
            svc.set_policy_enabled(&name, enabled)
                .await
                .map_err(Failure::from),
        ),
        WatchCmd::Check(p) => WatchDone::Checked(svc.check_policy(*p).await.map_err(Failure::from)),
        WatchCmd::Test(p) => WatchDone::Tested(
            svc.test_policy(*p, TEST_DAYS as u32)
                .await
                .map_err(Failure::from),
        ),
        WatchCmd::Save { policy, confirmed } => WatchDone::Saved(
            svc.save_policy(*policy, confirmed)
                .await
                .map_err(Failure::from),
        ),
    }
}
