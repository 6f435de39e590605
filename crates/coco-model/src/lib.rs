//! `coco-model`: the kwcoco 0.9.1 / MS-COCO data model.
//!
//! A [`CocoDataset`] holds the tables of a kwcoco file (`info`, `licenses`,
//! `categories`, `keypoint_categories`, `videos`, `images`, `tracks`,
//! `annotations`) as typed records, an index over them (id → record, image →
//! annotations, video → frames sorted by `frame_index`, name → record, …) and
//! the bundle directory that file names are relative to.
//!
//! * **Open records.** Every record keeps its unknown keys in an ordered
//!   [`Extra`] map and remembers its key order ([`KeyOrder`]); tables keep their
//!   order. Writing a loaded file back reproduces it (numbers compared by value).
//! * **Fast and small.** A streaming splitter cuts the file at record boundaries
//!   and hand-written serde visitors parse each record from its slice (the text
//!   is never held whole); hot fields are typed,
//!   `segmentation`/`keypoints`/warps stay raw JSON text until asked for.
//! * **Python's JSON.** `NaN`, `Infinity` and `-Infinity` are read and written
//!   back as such (see [`json`]).
//! * **Files.** [`CocoDataset::load`] takes a `.json` file, a `.zip` holding one,
//!   or a bundle directory with `data.kwcoco.json`; [`CocoDataset::dump`] writes
//!   atomically, pretty (kwcoco's one-record-per-line layout) or compact.
//! * **Errors** ([`Error`]) name the file, line and column, the table, the
//!   record's position and id, and the field; bad input never panics.
//!
//! # Map of the API
//! | task | items |
//! |---|---|
//! | read / write | [`CocoDataset::load`], [`CocoDataset::from_json_str`], [`CocoDataset::from_reader`], [`CocoDataset::dump`], [`CocoDataset::to_json_string`], [`DumpStyle`] |
//! | records | [`Image`] (+ [`Asset`], [`Image::channel_sources`], [`Image::warp_img_to_vid`]), [`Annotation`] (+ [`Annotation::parse_segmentation`], [`Annotation::parse_keypoints`]), [`Category`], [`KeypointCategory`], [`Video`], [`Track`]; unknown keys in [`Extra`] |
//! | ids | [`ImageId`], [`AnnotId`], [`CategoryId`], [`VideoId`], [`KeypointCategoryId`], [`TrackId`] (integer or string) |
//! | lookups | [`CocoDataset::image`], [`CocoDataset::annotation`], …, [`CocoDataset::annots_of_image`], [`CocoDataset::annots_of_category`], [`CocoDataset::annots_of_track`], [`CocoDataset::images_of_video`], [`CocoDataset::category_by_name`], [`CocoDataset::image_by_file_name`], … |
//! | mutation ([`mutate`], [`remove`]) | `add_*` (fresh id), `insert_*` (given id), `ensure_*` (by name), `*_mut` guards, `remove_*` with cascades, [`CocoDataset::rename_categories`], [`CocoDataset::merge_categories`] |
//! | combining | [`CocoDataset::union`], [`CocoDataset::subset`], [`CocoDataset::reroot`] ([`paths`]) |
//! | checking | [`CocoDataset::validate`] → [`ValidationReport`] of [`Diagnostic`]s; [`CocoDataset::stats`] → [`Stats`] |
//! | hierarchy | [`CocoDataset::category_tree`] (a [`category_tree::CategoryTree`]) |
//! | geometry, channels | [`geometry`] (the `coco-geometry` crate: boxes, polygons, masks, RLE, keypoints, affine warps), [`channels`] (the `channel-spec` crate: kwcoco channel codes), both re-exported |
//!
//! # Example
//! ```
//! use coco_model::{Annotation, CocoDataset, DumpStyle, ImageId};
//!
//! let text = r#"{
//!   "categories": [{"id": 1, "name": "cat"}],
//!   "videos": [{"id": 1, "name": "v"}],
//!   "images": [
//!     {"id": 2, "file_name": "b.png", "video_id": 1, "frame_index": 1},
//!     {"id": 1, "file_name": "a.png", "video_id": 1, "frame_index": 0, "my_key": [1, 2]}
//!   ],
//!   "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]
//! }"#;
//! let mut ds = CocoDataset::from_json_str(text, "/data/bundle").unwrap();
//!
//! // index queries
//! let vid = ds.video_by_name("v").unwrap().id;
//! assert_eq!(ds.images_of_video(vid), &[ImageId(1), ImageId(2)]);
//! let aid = ds.annots_of_image(ImageId(1))[0];
//! let ann = ds.annotation(aid).unwrap();
//! assert_eq!(ann.bbox, Some([1.0, 2.0, 3.0, 4.0]));
//! assert!(ann.score().unwrap().is_nan());
//! assert_eq!(ds.image(ImageId(1)).unwrap().extra["my_key"], serde_json::json!([1, 2]));
//! assert_eq!(ds.resolve_path("a.png"), std::path::Path::new("/data/bundle/a.png"));
//!
//! // mutation keeps the index up to date
//! let mut ann = Annotation::new(ImageId(2));
//! ann.category_id = ds.category_by_name("cat").map(|c| c.id);
//! let new_id = ds.add_annotation(ann).unwrap();
//! assert_eq!(ds.annots_of_image(ImageId(2)), &[new_id]);
//!
//! // writing back: kwcoco's layout, unknown keys and NaN preserved
//! let out = ds.to_json_string(DumpStyle::Pretty);
//! assert!(out.contains(r#""score": NaN"#));
//! assert!(out.contains(r#""my_key": [1, 2]"#));
//! let again = CocoDataset::from_json_str(&out, ".").unwrap();
//! assert_eq!(again.annotations().len(), 2);
//! ```
//!
//! # Feature flags
//! None.

mod combine;
mod conform;
pub mod dataset;
pub mod error;
mod idpos;
pub mod ids;
mod index;
pub mod io;
pub mod json;
pub mod mutate;
pub mod paths;
pub mod record;
pub mod remove;
pub mod stats;
pub mod text;
mod tree;
pub mod validate;

/// kwcoco channel codes: the [`channel_spec`] crate, re-exported.
pub use channel_spec as channels;
/// Annotation geometry (boxes, polygons, masks, RLE, keypoints, affine warps):
/// the [`coco_geometry`] crate, re-exported.
pub use coco_geometry as geometry;

pub use conform::{ConformOptions, ConformReport};
pub use dataset::CocoDataset;
pub use error::{Error, Result};
pub use ids::{AnnotId, CategoryId, ImageId, KeypointCategoryId, TrackId, VideoId};
pub use io::{BUNDLE_FILE_NAME, BUNDLE_MANIFEST_NAMES, find_bundle_manifest};
pub use json::DumpStyle;
pub use mutate::RecordMut;
pub use record::{
    Annotation, AnnotationRare, Asset, Category, ChannelSource, Extra, Image, KeyOrder,
    KeypointCategory, Track, Video,
};
pub use remove::{KeepAnnots, Removed};
pub use stats::Stats;
pub use validate::{Diagnostic, Severity, ValidateOptions, ValidationReport};
