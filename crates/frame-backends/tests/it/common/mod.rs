//! Helpers shared by the integration tests: known-pixel images written here.
#![allow(dead_code)]

#[cfg(feature = "remote")]
pub mod range_server;

use std::path::Path;

use frame_backends::{Backend, CogOptions};

/// The known value of pixel (y, x, c).
pub fn val(y: usize, x: usize, c: usize) -> u16 {
    ((y * 131 + x * 7 + c * 1000) % 60000) as u16
}

/// Write a tiled (or, with `tile = None`, one-strip-per-row), little-endian,
/// uncompressed u16 TIFF of `bands` bands with the pixels of [`val`].
pub fn write_u16_tiff(
    path: &Path,
    h: usize,
    w: usize,
    bands: usize,
    tile: Option<usize>,
    planar: bool,
) {
    let mut data: Vec<u8> = vec![0; 8];
    let (th, tw) = match tile {
        Some(t) => (t, t),
        None => (1, w),
    };
    let across = w.div_ceil(tw);
    let down = h.div_ceil(th);
    let planes = if planar { bands } else { 1 };
    let spp_in_chunk = if planar { 1 } else { bands };
    let mut offsets = Vec::new();
    let mut counts = Vec::new();
    for p in 0..planes {
        for ty in 0..down {
            for tx in 0..across {
                let start = data.len();
                // Tiles are full-size (padded); strips are cropped to the image.
                let rows = if tile.is_some() {
                    th
                } else {
                    th.min(h - ty * th)
                };
                for r in 0..rows {
                    for cc in 0..tw {
                        for b in 0..spp_in_chunk {
                            let (y, x) = (ty * th + r, tx * tw + cc);
                            let band = if planar { p } else { b };
                            let v = if y < h && x < w { val(y, x, band) } else { 0 };
                            data.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                }
                offsets.push(start as u32);
                counts.push((data.len() - start) as u32);
            }
        }
    }
    // tag, type (3 = SHORT, 4 = LONG), values
    let mut entries: Vec<(u16, u16, Vec<u32>)> = vec![
        (256, 4, vec![w as u32]),
        (257, 4, vec![h as u32]),
        (258, 3, vec![16; bands]),
        (259, 3, vec![1]),
        (262, 3, vec![1]),
        (277, 3, vec![bands as u32]),
        (284, 3, vec![if planar { 2 } else { 1 }]),
    ];
    if tile.is_some() {
        entries.push((322, 4, vec![tw as u32]));
        entries.push((323, 4, vec![th as u32]));
        entries.push((324, 4, offsets));
        entries.push((325, 4, counts));
    } else {
        entries.insert(4, (273, 4, offsets));
        entries.insert(6, (278, 4, vec![th as u32]));
        entries.insert(7, (279, 4, counts));
    }
    entries.push((339, 3, vec![1; bands]));
    entries.sort_by_key(|e| e.0);
    // Out-of-line values first.
    let mut inline: Vec<[u8; 4]> = Vec::new();
    for (_, ty, vals) in &entries {
        let size = if *ty == 3 { 2 } else { 4 };
        let mut bytes = Vec::new();
        for v in vals {
            if size == 2 {
                bytes.extend_from_slice(&(*v as u16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        if bytes.len() <= 4 {
            bytes.resize(4, 0);
            inline.push(bytes.try_into().unwrap());
        } else {
            if data.len() % 2 == 1 {
                data.push(0);
            }
            let off = data.len() as u32;
            data.extend_from_slice(&bytes);
            inline.push(off.to_le_bytes());
        }
    }
    if data.len() % 2 == 1 {
        data.push(0);
    }
    let ifd = data.len() as u32;
    data.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for ((tag, ty, vals), v) in entries.iter().zip(&inline) {
        data.extend_from_slice(&tag.to_le_bytes());
        data.extend_from_slice(&ty.to_le_bytes());
        data.extend_from_slice(&(vals.len() as u32).to_le_bytes());
        data.extend_from_slice(v);
    }
    data.extend_from_slice(&0u32.to_le_bytes());
    data[0..2].copy_from_slice(b"II");
    data[2..4].copy_from_slice(&42u16.to_le_bytes());
    data[4..8].copy_from_slice(&ifd.to_le_bytes());
    std::fs::write(path, data).unwrap();
}

/// Write an RGB u8 PNG with channel c = val(y, x, c) % 256.
pub fn write_rgb_png(path: &Path, h: usize, w: usize) {
    image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
        image::Rgb([0, 1, 2].map(|c| (val(y as usize, x as usize, c) % 256) as u8))
    })
    .save(path)
    .unwrap();
}

/// Write a one-band f32 TIFF (striped, via the `tiff` encoder) with value val(y,x,0) / 4.
pub fn write_f32_tiff(path: &Path, h: usize, w: usize) {
    let data: Vec<f32> = (0..h * w)
        .map(|i| val(i / w, i % w, 0) as f32 / 4.0)
        .collect();
    let f = std::fs::File::create(path).unwrap();
    let mut enc = tiff::encoder::TiffEncoder::new(f).unwrap();
    enc.write_image::<tiff::encoder::colortype::Gray32Float>(w as u32, h as u32, &data)
        .unwrap();
}

/// Write a one-band i16 TIFF with value val(y,x,0) as i16 - 20000.
pub fn write_i16_tiff(path: &Path, h: usize, w: usize) {
    let data: Vec<i16> = (0..h * w)
        .map(|i| (val(i / w, i % w, 0) as i32 - 20000).clamp(-32768, 32767) as i16)
        .collect();
    let f = std::fs::File::create(path).unwrap();
    let mut enc = tiff::encoder::TiffEncoder::new(f).unwrap();
    enc.write_image::<tiff::encoder::colortype::GrayI16>(w as u32, h as u32, &data)
        .unwrap();
}

/// Every backend this build has, caches under `workdir` (COG with `cog`).
pub fn backends_in(workdir: &Path, cog: CogOptions) -> Vec<Backend> {
    let mut v = vec![
        Backend::Raw,
        Backend::Npy {
            workdir: workdir.to_path_buf(),
        },
    ];
    if cfg!(feature = "gdal") {
        v.push(Backend::Cog {
            workdir: workdir.to_path_buf(),
            options: cog,
        });
    }
    v
}

/// [`backends_in`] with caches under `dir/work` and default COG options.
pub fn backends(dir: &Path) -> Vec<Backend> {
    backends_in(&dir.join("work"), CogOptions::default())
}
