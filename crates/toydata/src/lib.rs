//! `toydata`: deterministic synthetic kwcoco datasets for tests, demos and
//! benchmarks — the same kind of data as kwcoco's demo generators, but fully
//! determined by a key and a seed: the same key and seed give byte-identical
//! JSON and images on every machine.
//!
//! # Keys
//!
//! | key | what |
//! |---|---|
//! | `shapes{N}` (`-gsize{S}`, `-seed{K}`) | N gray images (600² by default) with up to 49 non-overlapping `star` / `superstar` / `eff` objects each, polygons traced from the rendered masks (with holes), keypoints, PNG |
//! | `vidshapes{N}-…` | N videos (`frames{F}` = 2, `tracks{T}` = 2, `gsize{S}` = 600, `speed{F}` = 0.01) of boids-moving tracks; `msi` (bands B1, B8, B8a, B10, B11 as uint16 TIFF at scales 1, 1/6, 1/3, 1, 1/3, no main image), `aux` (`disparity`, `flowx\|flowy`), `multisensor`, `randgsize` (per-frame sizes with `warp_img_to_vid`), `timestamps` |
//! | `big{N}-gsize{S}-annots{K}` (`-seed{K}`) | N large RGB images (default 4096², up to 65536², rendered in strips so memory stays small) with image-like texture (multi-octave value noise, PNG ratio ≈ 1.6 like photographs) and K small annotations each (default 1000), for benchmarks |
//!
//! See [`DatasetKey`] for the exact grammar; unknown tokens are rejected.
//!
//! # Output
//!
//! A bundle directory with `data.kwcoco.json` (paths relative to the bundle,
//! kwcoco's layout) and the images (`images/` for `shapes` and `big`,
//! `_assets/images/` and `_assets/auxiliary/aux_{channels}/` for videos).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let s = toydata::generate("vidshapes1-frames2-tracks1-gsize32-msi", Some(7), dir.path()).unwrap();
//! assert_eq!((s.videos, s.images, s.annotations), (1, 2, 2));
//! assert!(dir.path().join("_assets/auxiliary/aux_B8/img_00001.tif").exists());
//! ```
//!
//! # Determinism
//!
//! Every random stream is a ChaCha8 stream seeded from the canonical key, the
//! seed, and the stream's label and index (one stream per image or video, so
//! rendering runs in parallel without changing any byte). Per-pixel noise is a
//! counter-based hash. Only exactly rounded float operations (`+ - * / sqrt`)
//! touch output values; PNG and TIFF encoders run with fixed settings. (The
//! bytes are pinned for a given `Cargo.lock`: a new release of the PNG encoder or
//! of `coco-model`'s writer may change the compressed bytes or the layout, never
//! the pixels or the records.)
//!
//! # Features
//!
//! None.

mod annot;
mod bundle;
mod encode;
mod error;
mod generate;
mod key;
mod motion;
mod progress;
mod render;
mod rng;
mod shape;
mod texture;

pub use bundle::DATASET_FILE;
pub use error::{Error, Result};
pub use generate::{
    GenerateOptions, MAX_OUTPUT_BYTES, PROGRESS_PIXELS, Summary, estimated_bytes, generate,
    generate_key, generate_with, generate_with_progress,
};
pub use key::{
    BigSpec, DatasetKey, ExtraChannels, MAX_ANNOTS, MAX_COUNT, MAX_IN_MEMORY_PIXELS, MAX_SIDE,
    ShapesSpec, VidShapesSpec,
};
pub use progress::{Progress, ProgressFn};
pub use shape::{KEYPOINT_CATEGORIES, KeypointCategory, Shape};

/// Fraction of the frame size by which a `vidshapes` box may extend past each
/// side of its frame (boxes may leave the frame, but only this far).
pub const BOX_PAD_FRACTION: f64 = generate::BOX_PAD_FRACTION;
