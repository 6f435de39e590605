//! Sliding-window sample grids over images and videos (filled in by its own change).
