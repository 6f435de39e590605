//! Integration tests of `sampler`.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod augment_read;
mod balanced;
mod geometry_cache;
mod limits;
mod masks;
mod native;
mod plan_loader;
mod python_assets;
mod regions_grid;
mod regions_select;
mod sampler_props;
mod snapshot;
mod stitch;
mod target_options;
mod video;
mod warped_assets;
