//! `frame-backends`: Window reads from raw images, a memory-mapped npy cache and a COG cache.
