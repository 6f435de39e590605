//! Positive/negative regions of a dataset (filled in by its own change).
