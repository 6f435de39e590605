//! Integration tests of `coco-geometry` (one binary per package keeps a cold
//! `cargo xtask test` small on disk).

mod fixtures;
mod props;
