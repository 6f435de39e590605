//! Integration tests of `frame-backends`.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod caches;
mod common;
mod fixtures;
mod geometry;
mod hostile;
mod python_layouts;
mod readers;
#[cfg(feature = "remote")]
mod remote;
