//! `sampler`: `CocoSampler` — targets to windows with annotations, positive,
//! negative and grid regions, and a parallel batch loader.

pub mod error;
pub mod grid;
pub mod loader;
pub mod pixels;
pub mod plan;
pub mod regions;
mod sampler;
pub mod target;

pub use error::{Error, Result};
pub use pixels::Pixels;
pub use sampler::{
    CocoSampler, Resolved, Sample, SampleAnnot, SampleFrame, SampleOptions, SampleParams,
    SamplerConfig, WithAnnots,
};
pub use target::{Pad, Scale, Target, WindowDims};
