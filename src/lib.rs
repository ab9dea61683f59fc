//! casbah: a cloud-access-security console for the terminal.

pub mod cli;
pub mod connectors;
pub mod domain;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod tui;

#[cfg(test)]
mod test_support;

// Ingestion allocates many small strings and maps per record (vendor JSON,
// records, index entries); glibc's allocator took two fifths of a backfill's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
