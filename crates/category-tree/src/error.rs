//! The crate's error type.

/// Everything that can go wrong when building or using a [`CategoryTree`](crate::CategoryTree).
///
/// Variants fall in three groups: the graph is not a forest (`Cycle`,
/// `MultipleParents`), the input names something inconsistent (`Duplicate*`,
/// `Unknown*`, `InvalidRecord`, `InvalidState`, `Coerce`), or an array argument
/// does not fit the tree (`Shape`, `IndexOutOfRange`, `InvalidArgument`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The category graph has a directed cycle (a category is its own ancestor).
    #[error(
        "the category graph must be a DAG, but category {node:?} lies on a cycle; \
         check the `supercategory`/`parents` fields that lead back to it"
    )]
    Cycle {
        /// A category on the cycle.
        node: String,
    },
    /// A category has more than one parent, so the graph is not a forest.
    #[error(
        "the category graph must be a forest, but category {node:?} has {} parents {parents:?}; \
         give each category at most one supercategory",
        parents.len()
    )]
    MultipleParents {
        /// The category with several parents.
        node: String,
        /// Its parents.
        parents: Vec<String>,
    },
    /// Two categories have the same name.
    #[error("duplicate category name {name:?}: category names must be unique")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// Two categories have the same integer id.
    #[error("duplicate category id {id}: used by both {first:?} and {second:?}")]
    DuplicateId {
        /// The repeated id.
        id: i64,
        /// The first category with this id.
        first: String,
        /// The second category with this id.
        second: String,
    },
    /// A category name that is not in the tree.
    #[error("unknown category name {name:?}")]
    UnknownNode {
        /// The name asked for.
        name: String,
    },
    /// A class index past the end of the tree.
    #[error("class index {idx} is out of range for a tree of {len} categories")]
    IndexOutOfRange {
        /// The index asked for.
        idx: usize,
        /// The number of categories.
        len: usize,
    },
    /// A COCO category record with a missing or mistyped field.
    #[error("invalid category record #{index}: field {field:?}: {reason}")]
    InvalidRecord {
        /// Position of the record in the input list.
        index: usize,
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A serialized `CategoryTree` state that cannot be loaded.
    #[error("invalid CategoryTree JSON state at `{path}`: {reason}")]
    InvalidState {
        /// JSON path of the offending item (e.g. `graph[0][2][1]`).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `coerce` was given a value it cannot interpret.
    #[error(
        "cannot coerce a JSON {kind} into a CategoryTree: expected a non-negative \
         integer (class count), a list of class names, or a CategoryTree state object"
    )]
    Coerce {
        /// The JSON type that was given.
        kind: &'static str,
    },
    /// An array does not have the shape the tree expects.
    #[error("array shape mismatch: {reason}")]
    Shape {
        /// Details, naming the axis and the sizes involved.
        reason: String,
    },
    /// An option value that cannot be used.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// JSON text that does not parse.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
