//! The `tenderhall` program: HTTP API, command line, and the wiring of the platform.
//!
//! [`platform::open`] turns settings into an [`AppState`] (database, migrations, keys);
//! [`server::serve`] runs the API on a listener until a shutdown signal.

pub mod bidder;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod platform;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;

pub use config::Settings;
pub use state::AppState;

/// mimalloc instead of the system allocator, for the program and everything built on this crate
/// (its tests and benchmarks measure the platform as it runs). glibc's allocator spent a quarter of
/// the process's time under concurrent requests (`perf`, bank notifications, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
