//! Integration tests of `toydata`.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod generate;
mod python_reference;
