//! The crate's error type.

use crate::Aabb;

/// Everything that can go wrong building or querying a [`RegionIndex`](crate::RegionIndex) or
/// mining negatives. Frames and ids are rendered with `Debug` so messages name the record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A box with a non-finite coordinate or with `x0 > x1` / `y0 > y1` (validation: fix the
    /// record). Degenerate (zero width or height) boxes are accepted.
    #[error(
        "box of id {id} on frame {frame} is invalid: {bbox:?} (coordinates must be finite with x0 <= x1 and y0 <= y1)"
    )]
    InvalidBox {
        /// The frame, `Debug`-formatted.
        frame: String,
        /// The id, `Debug`-formatted.
        id: String,
        /// The refused box.
        bbox: Aabb,
    },

    /// The id is already indexed on this frame (validation: ids must be unique within a frame;
    /// `remove` it first to move a box).
    #[error("id {id} is already indexed on frame {frame}; ids must be unique within a frame")]
    DuplicateId {
        /// The frame, `Debug`-formatted.
        frame: String,
        /// The id, `Debug`-formatted.
        id: String,
    },

    /// A negative-mining setting cannot work (validation: fix the named field).
    #[error("negative mining: invalid `{field}`: {reason}")]
    InvalidConfig {
        /// The field of [`NegativeConfig`](crate::NegativeConfig) or the frame list at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// [`MiningMode::Exact`](crate::MiningMode::Exact) ran out of patience (retry with a larger
    /// `thresh`, smaller windows or more patience, or use `BestEffort`).
    #[error(
        "negative mining found only {found} of {wanted} windows with thresh {thresh}: {patience} candidates in a row overlapped annotations too much"
    )]
    NotEnoughNegatives {
        /// Windows found before giving up.
        found: usize,
        /// Windows asked for.
        wanted: usize,
        /// The overlap threshold in use.
        thresh: f64,
        /// The patience that ran out.
        patience: usize,
    },
}
