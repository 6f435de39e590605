//! Integration tests of `coco-model`.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod fixtures_roundtrip;
mod model;
mod nan_strings;
mod proptest_roundtrip;
mod rle_reference;
