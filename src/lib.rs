//! # ndsampler
//!
//! Fast random access to small windows of large images and videos, with the
//! COCO/kwcoco annotations that fall inside each window. A Rust
//! reimplementation of Kitware's Python `ndsampler`.
//!
//! This facade re-exports the workspace crates, from the lowest layer up:
//!
//! | crate | layer | owns |
//! |---|---|---|
//! | [`category_tree`] | L0 | hierarchical category graph, hierarchical softmax |
//! | [`region_index`] | L0 | per-frame R-tree of boxes, overlap queries, negative mining |
//! | [`coco_model`] | L1 | kwcoco data model, index, geometry, transforms, channels |
//! | [`frame_backends`] | L2 | window reads from raw files, npy and COG caches |
//! | [`sampler`] | L2 | `CocoSampler`: targets → windows + annotations, regions, loader |
//! | [`toydata`] | L2 | deterministic synthetic datasets |

pub mod render;

pub use category_tree;
pub use channel_spec;
pub use coco_geometry;
pub use coco_model;
pub use frame_backends;
pub use region_index;
pub use sampler;
pub use toydata;
