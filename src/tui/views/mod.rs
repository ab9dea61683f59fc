//! The panes and the dialogs over them, each owning its state, keys and
//! drawing (see `pane`). None of them knows another: what they share is in
//! `pane::Env`, and `App` routes between them.

pub mod act;
pub mod activities;
pub mod alerts;
pub mod apps;
pub mod audit;
pub mod connect;
pub mod connectors;
pub mod external;
pub mod groups;
pub mod history;
pub mod instance;
pub mod members;
pub mod person;
pub mod picker;
pub mod policy_editor;
