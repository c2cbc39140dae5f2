//! wirefeed: polls news wire feeds, cleans and enriches every article, and
//! publishes JSON records to Kafka.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library, so the
//! end-to-end tests and other embedders can run the same pipeline with
//! [`pipeline::run`] and stop it with a cancellation token instead of a
//! signal.

pub mod check;
pub mod config;
pub mod health;
pub mod metrics;
pub mod pipeline;
pub mod process;
pub mod schedule;
pub mod shutdown;
pub mod status;

pub use config::Settings;
pub use pipeline::{RunMode, RunSummary, run};
