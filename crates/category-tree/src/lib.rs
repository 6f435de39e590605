//! `category-tree`: flat or hierarchical class sets, and probabilities over them.
//!
//! A [`CategoryTree`] is a forest of classes (an edge `A → B` means *A is a
//! superclass of B*) stored in a [`petgraph`] graph. Every class has three
//! identities: its **name**, its integer **id** (as in a COCO file) and its
//! contiguous **index** (its position along the class axis of score arrays).
//! This is the `CategoryTree` of kwcoco 0.9.1 together with ndsampler's
//! hierarchical-softmax mixin, on [`ndarray`] instead of torch.
//!
//! # Building a tree from COCO categories
//!
//! ```
//! use category_tree::{CategoryTree, CocoCategory};
//!
//! let cats = vec![
//!     CocoCategory { id: Some(0), name: "background".into(), ..Default::default() },
//!     CocoCategory { id: Some(3), name: "star".into(), supercategory: Some("vector".into()), ..Default::default() },
//!     CocoCategory { id: Some(6), name: "superstar".into(), supercategory: Some("raster".into()), ..Default::default() },
//!     CocoCategory { id: Some(7), name: "eff".into(), supercategory: Some("raster".into()), ..Default::default() },
//! ];
//! let tree = CategoryTree::from_coco(cats)?;
//! // unknown supercategories become classes; index order is insertion order
//! assert_eq!(tree.names(), ["background", "star", "vector", "superstar", "raster", "eff"]);
//! // missing ids are max_id + 1 in node order
//! assert_eq!(tree.node_to_id("raster"), Some(9));
//! assert_eq!(tree.id_to_idx(6), Some(3));
//! // sibling groups: roots, then children depth first
//! assert_eq!(tree.idx_groups(), [vec![0, 2, 4], vec![1], vec![3, 5]]);
//! print!("{}", tree.forest_str());
//! # Ok::<(), category_tree::Error>(())
//! ```
//!
//! # Hierarchical softmax and decisions
//!
//! ```
//! use category_tree::{CategoryTree, DecisionOptions};
//! use ndarray::{Array2, Axis};
//!
//! let tree = CategoryTree::demo_animals();
//! let energy = Array2::<f32>::from_shape_fn((4, tree.len()), |(r, c)| ((r * 7 + c * 3) % 5) as f32);
//! let probs = tree.hierarchical_softmax(&energy, Axis(1))?;
//! // each parent's probability is the sum of its children's
//! let animal = tree.index("animal")?;
//! let kids: f32 = tree.children(animal).iter().map(|&c| probs[[0, c]]).sum();
//! assert!((probs[[0, animal]] - kids).abs() < 1e-5);
//! let decision = tree.decision(&probs, Axis(1), &DecisionOptions::default())?;
//! assert_eq!(decision.idxs.len(), 4);
//! # Ok::<(), category_tree::Error>(())
//! ```
//!
//! # Serialization
//!
//! [`CategoryTree::to_json`] writes the reference's state (`graph` as nested
//! `[node, attrs, children]` triples, `id_to_node`, `idx_to_node`) and
//! [`CategoryTree::from_json`] reads it back with integer ids (the reference
//! returns string ids after a JSON round trip). `CategoryTree` implements
//! `serde::Serialize`/`Deserialize` through that format.
//!
//! # Differences from the reference
//!
//! * Sibling groups, pre-order and the text rendering visit children in index
//!   order, so they depend only on the index order and the parent relation
//!   (and survive serialization unchanged).
//! * `subgraph`/`take` keep assigned ids; `to_coco` rewrites `supercategory`
//!   from the tree's edges (dropping a stale one).
//! * Duplicate names and ids are errors instead of silent overwrites.
//! * `decision` honours `ignore_class_idxs`/`always_refine_idxs` for every
//!   criterion (the reference ignores them for `prob`).
//!
//! # Feature flags
//!
//! None.

#![warn(missing_docs)]

mod builder;
mod coco;
mod construct;
mod decision;
mod error;
mod hierarchy;
mod json;
mod plan;
mod prob;
mod real;
mod tree;

pub use builder::{IndexOrder, TreeBuilder};
pub use coco::CocoCategory;
pub use decision::{Criterion, Decision, DecisionOptions};
pub use error::{Error, Result};
pub use hierarchy::Reduction;
pub use prob::{entropy, entropy_slice, gini, gini_slice, log_softmax, softmax};
pub use real::Real;
pub use tree::{Category, CategoryTree};
