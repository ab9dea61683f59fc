//! casbah: a cloud-access-security console for the terminal.

pub mod cli;
pub mod connectors;
pub mod domain;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod tui;
