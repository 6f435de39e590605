//! Integration tests of the `ndsampler` CLI, run as the real binary on real files.
//!
//! One test binary per package (each binary links every dependency, so one
//! binary instead of many keeps a cold `cargo xtask test` small on disk).

mod cli_bench;
mod cli_cache;
mod cli_export_wds;
mod cli_grid;
mod cli_hardening;
mod cli_index;
mod cli_masks;
mod cli_options;
#[cfg(feature = "remote")]
mod cli_remote;
mod cli_sample_draw;
mod cli_stats_validate;
mod cli_toydata;
mod compat_fixtures;
mod forms_fixture;
mod hostile;
mod native_scale;
mod python_video;
