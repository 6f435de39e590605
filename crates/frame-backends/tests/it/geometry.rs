//! Geometry beyond axis-aligned scales, held to brute-force oracles written
//! here: pixel-box intersection against per-pixel membership, rotated and
//! sheared reads (and assets whose warp to the image rotates) against a
//! per-pixel bilinear / nearest evaluation of the known source image, and a
//! reader shared by many threads (one chunk cache) against the known pixels.

use std::sync::Arc;

use crate::common::*;
use frame_backends::{
    Affine, AssetSource, Backend, Channels, DType, FrameReader, ImageSource, Interpolation,
    PixelBox, ReadOptions, ReaderOptions,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn intersect_holds_exactly_the_common_pixels(
        a in -12i64..12, b in 0i64..10, c in -12i64..12, d in 0i64..10,
        e in -12i64..12, f in 0i64..10, g in -12i64..12, h in 0i64..10,
    ) {
        let p = PixelBox::new(a, a + b, c, c + d).unwrap();
        let q = PixelBox::new(e, e + f, g, g + h).unwrap();
        let i = p.intersect(&q);
        let inside = |r: &PixelBox, y: i64, x: i64| y >= r.y0 && y < r.y1 && x >= r.x0 && x < r.x1;
        let mut common = 0;
        for y in -15..25 {
            for x in -15..25 {
                let both = inside(&p, y, x) && inside(&q, y, x);
                prop_assert_eq!(inside(&i, y, x), both, "({}, {})", y, x);
                common += usize::from(both);
            }
        }
        prop_assert_eq!(i.height() * i.width(), common);
        prop_assert_eq!(i.is_empty(), common == 0);
        prop_assert!(i.y0 <= i.y1 && i.x0 <= i.x1);
    }
}

const H: usize = 60;
const W: usize = 80;

/// `val` of band 0, with padding (`None`) outside the image.
fn px(y: i64, x: i64) -> Option<f64> {
    (y >= 0 && x >= 0 && (y as usize) < H && (x as usize) < W)
        .then(|| val(y as usize, x as usize, 0) as f64)
}

/// Bilinear at source position `(u, v)` (edge coordinates), `None` when a
/// tap with non-zero weight falls outside the image.
fn bilinear(u: f64, v: f64) -> Option<f64> {
    let (cx, cy) = (u - 0.5, v - 0.5);
    let (fx, fy) = (cx.floor(), cy.floor());
    let (ax, ay) = (cx - fx, cy - fy);
    let (x0, y0) = (fx as i64, fy as i64);
    let mut acc = 0.0;
    for (yy, wy) in [(y0, 1.0 - ay), (y0 + 1, ay)] {
        for (xx, wx) in [(x0, 1.0 - ax), (x0 + 1, ax)] {
            if wy * wx != 0.0 {
                acc += wy * wx * px(yy, xx)?;
            }
        }
    }
    Some(acc)
}

fn rows6(m: [f64; 6]) -> Affine {
    Affine::from_rows([m[0], m[1], m[2]], [m[3], m[4], m[5]])
}

/// Rotation by `deg` about the origin, then a shear `x += k·y`, then a scale.
fn rot_shear(deg: f64, k: f64, s: f64) -> Affine {
    let (sn, cs) = deg.to_radians().sin_cos();
    let r = rows6([cs, -sn, 0.0, sn, cs, 0.0]);
    let sh = rows6([1.0, k, 0.0, 0.0, 1.0, 0.0]);
    r.then(&sh).then(&Affine::scale(s, s))
}

fn invert(m: &Affine) -> Affine {
    // By hand (Cramer), not with the crate's inverse.
    let [[a, b, c], [d, e, f], _] = m.m;
    let det = a * e - b * d;
    rows6([
        e / det,
        -b / det,
        (b * f - c * e) / det,
        -d / det,
        a / det,
        (c * d - a * f) / det,
    ])
}

fn source(dir: &std::path::Path, tile: Option<usize>) -> ImageSource {
    let p = dir.join(format!("img{}.tif", tile.unwrap_or(0)));
    write_u16_tiff(&p, H, W, 1, tile, false);
    ImageSource {
        width: W,
        height: H,
        assets: vec![AssetSource::new(&p, &["b0"])],
    }
}

/// Compare a warped read with the oracle on every output pixel whose taps lie
/// inside the image; returns how many pixels were compared.
fn check_warped(
    got: &ndarray::Array3<f64>,
    out_from_image: &Affine,
    interp: Interpolation,
) -> usize {
    let inv = invert(out_from_image);
    let mut compared = 0;
    for ((i, j, _), &g) in got.indexed_iter() {
        let [u, v] = inv.apply([j as f64 + 0.5, i as f64 + 0.5]);
        let want = match interp {
            Interpolation::Nearest => px(v.floor() as i64, u.floor() as i64),
            Interpolation::Linear => bilinear(u, v),
            _ => unreachable!(),
        };
        match want {
            Some(w) => {
                assert!(
                    (g - w).abs() <= 1e-3 * w.abs().max(1.0),
                    "{interp:?} out ({i}, {j}) ← src ({v:.3}, {u:.3}): got {g}, want {w}"
                );
                compared += 1;
            }
            // Fully outside the image (no tap inside): the fill value (NaN as float).
            None if px(v.floor() as i64, u.floor() as i64).is_none()
                && bilinear(u + 1.0, v + 1.0).is_none()
                && bilinear(u - 1.0, v - 1.0).is_none()
                && bilinear(u + 1.0, v - 1.0).is_none()
                && bilinear(u - 1.0, v + 1.0).is_none() =>
            {
                assert!(g.is_nan(), "out ({i}, {j}) far outside: got {g}");
            }
            None => {}
        }
    }
    compared
}

#[test]
fn rotated_and_sheared_reads_match_a_per_pixel_oracle() {
    let dir = tempfile::tempdir().unwrap();
    for tile in [None, Some(16)] {
        let src = source(dir.path(), tile);
        for backend in [
            Backend::Raw,
            Backend::Npy {
                workdir: dir.path().join("work"),
            },
        ] {
            let reader = FrameReader::new(backend).unwrap();
            for (deg, k, s, tx, ty) in [
                (30.0, 0.0, 1.0, 10.0, -20.0),
                (-17.0, 0.25, 1.3, 40.0, 5.0),
                (90.0, 0.0, 1.0, 70.0, 0.0),
                (0.0, 0.4, 1.0, -3.5, 2.25),
            ] {
                let m = rot_shear(deg, k, s).then(&Affine::translate(tx, ty));
                for interp in [Interpolation::Linear, Interpolation::Nearest] {
                    let opts = ReadOptions {
                        interpolation: interp,
                        dtype: Some(DType::F32),
                        ..ReadOptions::default()
                    };
                    let w = reader
                        .read_warped(&src, 70, 90, &m, &Channels::All, &opts)
                        .unwrap();
                    assert_eq!(w.shape(), (70, 90, 1));
                    let n = check_warped(&w.to_f64(), &m, interp);
                    assert!(n > 1000, "{deg}° {k}: only {n} pixels compared");
                }
            }
        }
    }
}

#[test]
fn integer_output_rounds_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), Some(16));
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let m = rot_shear(23.0, 0.1, 1.1).then(&Affine::translate(15.0, -5.0));
    let w = reader
        .read_warped(&src, 50, 60, &m, &Channels::All, &ReadOptions::default())
        .unwrap();
    assert_eq!(w.dtype(), DType::U16);
    let inv = invert(&m);
    let mut compared = 0;
    for ((i, j, _), &g) in w.to_f64().indexed_iter() {
        let [u, v] = inv.apply([j as f64 + 0.5, i as f64 + 0.5]);
        if let Some(want) = bilinear(u, v) {
            assert!((g - want).abs() <= 0.5 + 1e-3, "({i}, {j}): {g} vs {want}");
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared}");
}

#[test]
fn an_asset_rotated_into_the_image_is_resampled_through_its_warp() {
    let dir = tempfile::tempdir().unwrap();
    let asset = source(dir.path(), Some(16)).assets.remove(0);
    // The asset (60×80) sits rotated by 20° and sheared inside a 120×120 image.
    let to_image = rot_shear(20.0, 0.2, 1.2).then(&Affine::translate(30.0, 10.0));
    let src = ImageSource {
        width: 120,
        height: 120,
        assets: vec![AssetSource { to_image, ..asset }],
    };
    let reader = FrameReader::new(Backend::Raw).unwrap();
    let b = PixelBox::new(5, 95, 12, 110).unwrap();
    let opts = ReadOptions {
        dtype: Some(DType::F32),
        ..ReadOptions::default()
    };
    let w = reader.read_window(&src, b, &Channels::All, &opts).unwrap();
    // Output pixel (i, j) ← image (x0 + j, y0 + i) ← asset through the inverse warp.
    let out_from_asset = to_image.then(&Affine::translate(-b.x0 as f64, -b.y0 as f64));
    let n = check_warped(&w.to_f64(), &out_from_asset, Interpolation::Linear);
    assert!(n > 2000, "{n}");
}

#[test]
fn many_threads_share_one_chunk_cache_and_read_true_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.tif");
    let (h, w, bands) = (160usize, 200usize, 2usize);
    write_u16_tiff(&p, h, w, bands, Some(16), false);
    let src = Arc::new(ImageSource {
        width: w,
        height: h,
        assets: vec![AssetSource::new(&p, &["a", "b"])],
    });
    // A budget of ~12 tiles of 16×16×2 u16 (1 KiB each): constant eviction.
    let reader = Arc::new(
        FrameReader::with_options(
            Backend::Raw,
            ReaderOptions {
                chunk_cache_bytes: 12 << 10,
                ..ReaderOptions::default()
            },
        )
        .unwrap(),
    );
    let threads = 8;
    let per_thread = 120;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (reader, src) = (Arc::clone(&reader), Arc::clone(&src));
            std::thread::spawn(move || {
                let mut state = 0x9E37_79B9u64.wrapping_mul(t as u64 + 1);
                let mut next = |n: i64| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) % n as u64) as i64
                };
                for _ in 0..per_thread {
                    let (y0, x0) = (next(h as i64 + 10) - 5, next(w as i64 + 10) - 5);
                    let (hh, ww) = (1 + next(40), 1 + next(40));
                    let b = PixelBox::new(y0, y0 + hh, x0, x0 + ww).unwrap();
                    let win = reader
                        .read_window(&src, b, &Channels::All, &ReadOptions::default())
                        .unwrap();
                    for ((y, x, c), &v) in win.to_f64().indexed_iter() {
                        let (iy, ix) = (b.y0 + y as i64, b.x0 + x as i64);
                        let want = if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            val(iy as usize, ix as usize, c) as f64
                        } else {
                            0.0
                        };
                        assert_eq!(v, want, "thread {t} window {b:?} at ({y}, {x}, {c})");
                    }
                }
            })
        })
        .collect();
    for hd in handles {
        hd.join().unwrap();
    }
    let s = reader.stats();
    // Every lookup was counted once (no lost update): at least one chunk per
    // window that touches the image; with 12 of 130 tiles cached most miss.
    assert!(s.chunk_misses >= 130, "{s:?}");
    assert!(s.chunk_hits > 0, "{s:?}");
}
