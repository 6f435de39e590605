//! Integration tests of `region-index`.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod brute_force;
