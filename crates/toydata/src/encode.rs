//! Image files with fixed encoder settings, so equal pixels give equal bytes.
//!
//! PNG: 8-bit RGB, `fdeflate` ("fast") compression, adaptive filtering, no
//! ancillary chunks (no time stamp). TIFF: little-endian, uncompressed, one image
//! directory, 1–3 interleaved samples of `u8` or `u16` (like kwcoco's demo assets).

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

use tiff::encoder::TiffEncoder;
use tiff::encoder::colortype::{self, ColorType};
use tiff::tags::{PhotometricInterpretation, SampleFormat, Tag};

use crate::error::{Error, Result};

/// Create `path` (and its directory) for buffered writing.
fn create(path: &Path) -> Result<BufWriter<File>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let f = File::create(path).map_err(|e| Error::io(path, e))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn png_encoder<'a, W: Write>(w: W, width: u32, height: u32) -> png::Encoder<'a, W> {
    let mut enc = png::Encoder::new(w, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Adaptive);
    enc
}

/// Write an interleaved 8-bit RGB image as PNG.
pub(crate) fn write_png_rgb(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    debug_assert_eq!(rgb.len(), width as usize * height as usize * 3);
    let png_err = |source| Error::Png {
        path: path.to_path_buf(),
        source,
    };
    let mut out = create(path)?;
    let mut writer = png_encoder(&mut out, width, height)
        .write_header()
        .map_err(png_err)?;
    writer.write_image_data(rgb).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    out.flush().map_err(|e| Error::io(path, e))
}

/// A PNG written strip by strip (for images too large to hold twice in memory).
/// The encoder writes 1 MiB chunks straight to the (unbuffered) file, so every
/// write error surfaces.
pub(crate) struct PngStripWriter<'p> {
    path: &'p Path,
    writer: png::StreamWriter<'static, File>,
}

impl<'p> PngStripWriter<'p> {
    pub(crate) fn create(path: &'p Path, width: u32, height: u32) -> Result<Self> {
        let png_err = |source| Error::Png {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let out = File::create(path).map_err(|e| Error::io(path, e))?;
        let writer = png_encoder(out, width, height)
            .write_header()
            .map_err(png_err)?
            .into_stream_writer_with_size(1 << 20)
            .map_err(png_err)?;
        Ok(PngStripWriter { path, writer })
    }

    /// Append whole interleaved RGB rows.
    pub(crate) fn write_rows(&mut self, rgb: &[u8]) -> Result<()> {
        self.writer
            .write_all(rgb)
            .map_err(|e| Error::io(self.path, e))
    }

    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path;
        self.writer.finish().map_err(|source| Error::Png {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Sample type of a TIFF asset.
pub(crate) trait Sample: Copy + Send + Sync + 'static {
    fn write_tiff<W: Write + Seek>(
        enc: &mut TiffEncoder<W>,
        width: u32,
        height: u32,
        bands: usize,
        data: &[Self],
    ) -> tiff::TiffResult<()>;
}

struct Gray8x2;
impl ColorType for Gray8x2 {
    type Inner = u8;
    const TIFF_VALUE: PhotometricInterpretation = PhotometricInterpretation::BlackIsZero;
    const BITS_PER_SAMPLE: &'static [u16] = &[8, 8];
    const SAMPLE_FORMAT: &'static [SampleFormat] = &[SampleFormat::Uint, SampleFormat::Uint];
    fn horizontal_predict(row: &[u8], result: &mut Vec<u8>) {
        predict(row, 2, result)
    }
}

struct Gray16x2;
impl ColorType for Gray16x2 {
    type Inner = u16;
    const TIFF_VALUE: PhotometricInterpretation = PhotometricInterpretation::BlackIsZero;
    const BITS_PER_SAMPLE: &'static [u16] = &[16, 16];
    const SAMPLE_FORMAT: &'static [SampleFormat] = &[SampleFormat::Uint, SampleFormat::Uint];
    fn horizontal_predict(row: &[u16], result: &mut Vec<u16>) {
        predict(row, 2, result)
    }
}

trait Wrapping: Copy {
    fn wsub(self, o: Self) -> Self;
}
impl Wrapping for u8 {
    fn wsub(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}
impl Wrapping for u16 {
    fn wsub(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}

/// Horizontal differencing (TIFF predictor 2); unused with the default settings.
fn predict<T: Wrapping>(row: &[T], samples: usize, out: &mut Vec<T>) {
    for (i, &v) in row.iter().enumerate() {
        out.push(if i < samples {
            v
        } else {
            v.wsub(row[i - samples])
        });
    }
}

/// Write the `ExtraSamples` tag a BlackIsZero image with 2 samples needs.
fn two_band<W: Write + Seek, C: ColorType>(
    enc: &mut TiffEncoder<W>,
    width: u32,
    height: u32,
    data: &[C::Inner],
) -> tiff::TiffResult<()>
where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut image = enc.new_image::<C>(width, height)?;
    image.encoder().write_tag(Tag::ExtraSamples, &[0u16][..])?;
    image.write_data(data)
}

impl Sample for u8 {
    fn write_tiff<W: Write + Seek>(
        enc: &mut TiffEncoder<W>,
        width: u32,
        height: u32,
        bands: usize,
        data: &[u8],
    ) -> tiff::TiffResult<()> {
        match bands {
            1 => enc.write_image::<colortype::Gray8>(width, height, data),
            2 => two_band::<W, Gray8x2>(enc, width, height, data),
            _ => enc.write_image::<colortype::RGB8>(width, height, data),
        }
    }
}

impl Sample for u16 {
    fn write_tiff<W: Write + Seek>(
        enc: &mut TiffEncoder<W>,
        width: u32,
        height: u32,
        bands: usize,
        data: &[u16],
    ) -> tiff::TiffResult<()> {
        match bands {
            1 => enc.write_image::<colortype::Gray16>(width, height, data),
            2 => two_band::<W, Gray16x2>(enc, width, height, data),
            _ => enc.write_image::<colortype::RGB16>(width, height, data),
        }
    }
}

/// Write an interleaved image of 1, 2 or 3 bands as an uncompressed TIFF.
pub(crate) fn write_tiff<T: Sample>(
    path: &Path,
    width: u32,
    height: u32,
    bands: usize,
    data: &[T],
) -> Result<()> {
    debug_assert!((1..=3).contains(&bands));
    debug_assert_eq!(data.len(), width as usize * height as usize * bands);
    let tiff_err = |source| Error::Tiff {
        path: path.to_path_buf(),
        source,
    };
    let mut out = create(path)?;
    {
        let mut enc = TiffEncoder::new(&mut out).map_err(tiff_err)?;
        T::write_tiff(&mut enc, width, height, bands, data).map_err(tiff_err)?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_roundtrip_and_stable_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let a = dir.path().join("a.png");
        let b = dir.path().join("sub/b.png");
        write_png_rgb(&a, w, h, &rgb).unwrap();
        let mut s = PngStripWriter::create(&b, w, h).unwrap();
        s.write_rows(&rgb[..(w * 3 * 2) as usize]).unwrap();
        s.write_rows(&rgb[(w * 3 * 2) as usize..]).unwrap();
        s.finish().unwrap();
        for p in [&a, &b] {
            let dec = png::Decoder::new(std::io::BufReader::new(File::open(p).unwrap()));
            let mut reader = dec.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (w, h));
            assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
        }
        let c = dir.path().join("c.png");
        write_png_rgb(&c, w, h, &rgb).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
    }

    #[test]
    fn tiff_roundtrip_all_band_counts() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (6u32, 4u32);
        for bands in 1..=3usize {
            let n = w as usize * h as usize * bands;
            let d16: Vec<u16> = (0..n).map(|i| (i * 2741) as u16).collect();
            let d8: Vec<u8> = (0..n).map(|i| (i * 13) as u8).collect();
            let p16 = dir.path().join(format!("b{bands}_16.tif"));
            let p8 = dir.path().join(format!("b{bands}_8.tif"));
            write_tiff(&p16, w, h, bands, &d16).unwrap();
            write_tiff(&p8, w, h, bands, &d8).unwrap();
            let mut dec = tiff::decoder::Decoder::new(File::open(&p16).unwrap()).unwrap();
            assert_eq!(dec.dimensions().unwrap(), (w, h));
            match dec.read_image().unwrap() {
                tiff::decoder::DecodingResult::U16(v) => assert_eq!(v, d16),
                other => panic!("unexpected {:?}", std::mem::discriminant(&other)),
            }
            let mut dec = tiff::decoder::Decoder::new(File::open(&p8).unwrap()).unwrap();
            match dec.read_image().unwrap() {
                tiff::decoder::DecodingResult::U8(v) => assert_eq!(v, d8),
                other => panic!("unexpected {:?}", std::mem::discriminant(&other)),
            }
        }
    }
}
