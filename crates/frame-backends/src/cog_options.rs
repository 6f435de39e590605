//! Settings of the COG cache backend (the types exist without the `gdal` feature,
//! so a [`Backend`](crate::Backend) can name them everywhere).

/// Compression of the COG cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CogCompression {
    /// ZSTD with a predictor (lossless, fastest to decode). `level` 1–22.
    Zstd {
        /// Compression level.
        level: u8,
    },
    /// DEFLATE with a predictor (lossless).
    Deflate,
    /// JPEG (lossy; only for 8-bit data with 1 or 3 bands, and only when asked).
    Jpeg {
        /// Quality 1–100.
        quality: u8,
    },
}

/// Default ZSTD level of the COG cache.
///
/// Level 1 rather than GDAL's 9: on `big2-gsize4096` (imagery-like texture, ZSTD +
/// predictor), random 256² windows without tile reuse decoded 1.3× faster at level 1
/// (733 vs 564 windows/s, one thread, three alternating runs on a 2-core machine) for a
/// 25% larger file (36 vs 29 MB per 4096² RGB image); decoding is dominated by
/// ZSTD's sequence execution, and level 1 leaves fewer, simpler sequences. Higher
/// levels (15, 19) were no faster to decode. Pick a higher level with
/// [`CogCompression::Zstd`] when disk matters more than read speed.
pub const DEFAULT_ZSTD_LEVEL: u8 = 1;

/// Options of the COG cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CogOptions {
    /// Compression (default lossless ZSTD at [`DEFAULT_ZSTD_LEVEL`] with a predictor).
    pub compression: CogCompression,
    /// Tile edge in pixels (default 256; GDAL wants a multiple of 16).
    pub tile_size: usize,
    /// Whether to build overviews (default true).
    pub overviews: bool,
}

impl Default for CogOptions {
    fn default() -> Self {
        CogOptions {
            compression: CogCompression::Zstd {
                level: DEFAULT_ZSTD_LEVEL,
            },
            tile_size: 256,
            overviews: true,
        }
    }
}

impl CogOptions {
    /// A stable text form of the options, part of the cache key.
    pub fn key(&self) -> String {
        format!(
            "{:?}-t{}-o{}",
            self.compression, self.tile_size, self.overviews
        )
    }
}
