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
pub mod live;
pub mod openapi;
pub mod platform;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod web;

pub use config::Settings;
pub use state::AppState;
