//! `sampler`: `CocoSampler` — targets to windows with annotations, positive,
//! negative and grid regions, and a parallel batch loader.

pub mod error;
pub mod loader;
pub mod plan;
pub mod target;

pub use error::{Error, Result};
pub use target::{Pad, Scale, Target, WindowDims};
