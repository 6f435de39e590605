//! Native-resolution sampling: the reference's `use_native_scale` and
//! `realign_native="largest"` (ndsampler 0.8.1 `_load_slice_3d` with
//! delayed_image 0.4.7's `undo_warps(remove=['scale'], squash_nans=True)`).
//!
//! A frame's requested bands are split into **parts**: runs of consecutive
//! requested bands stored in one asset (a run of bands the image lacks is a
//! part of its own). Each part is the window of the sampled space (the padded
//! `space_slice`, video space for video targets) seen through its asset with
//! the *scale* of the asset → window transform undone, so its pixels keep the
//! asset's resolution:
//!
//! - `U` = `scale(sx, sy)` of kwimage's decomposition of the window → asset
//!   transform (`offset`, `theta` and `shearx` are kept, only the scale goes);
//! - the part's size is `ceil(U · (w, h))` for a `w × h` window (delayed_image's
//!   automatic size: the largest corner, rounded up), then `ceil(E · size)`
//!   for the target's extra `scale` `E`;
//! - its pixels are the asset read through `E · U · window_from_image` with the
//!   target's interpolation;
//! - a part of missing bands is one NaN pixel (float64), as the reference
//!   "squashes" it.
//!
//! Each part carries the reference's two warps, kept as it computes them even
//! where they look odd, so code written against it keeps working: `align` is
//! `scale(1/W, 1/H) · U` (delayed_image normalises the undo warp by the part's
//! size `W × H` before `E`), and `grid_to_part` is `E · window_from_grid` (the
//! reference leaves the part's native scale out of it). `part_from_image` is
//! the exact map from the frame's image pixels to the part's pixels, which the
//! reference does not give.
//!
//! With `realign_native = "largest"`, every part is resampled to the size of
//! the part with the most pixels (`scale(Wmax/W, Hmax/H) · U`), the parts are
//! concatenated along bands into `im`, and the frame's window transform gains
//! the first real part's `scale(Wmax/W₀, Hmax/H₀) · U₀` (what the reference's
//! `get_transform_from` finds through the first shared leaf); annotations
//! follow it.

use coco_model::ImageId;
use coco_model::geometry::Affine;
use frame_backends::{Channels, DType, ImageSource, Window};

use super::{CocoSampler, FrameInfo, FramePlan};
use crate::error::{Error, Result};
use crate::pixels::Pixels;

/// One band group of a native-resolution frame (see [`crate::Sample::native`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NativePart {
    /// `(h, w, c)` pixels at the asset's own resolution (times the target's
    /// `scale`); a run of bands the image lacks is one NaN pixel (float64).
    pub im: Pixels,
    /// The part's band names, in request order.
    pub channels: Vec<String>,
    /// The reference's `jagged_meta.align`: `scale(1/W, 1/H) · U`, `U` the
    /// undone scale and `W × H` the part's size before the target's `scale`.
    pub align: [[f64; 3]; 3],
    /// The reference's `jagged_meta.grid_to_part_warps`: the target's scale
    /// times the window offset (without the part's native scale).
    pub grid_to_part: [[f64; 3]; 3],
    /// The exact transform from the frame's image pixels to this part's
    /// pixels (`E · U · window_from_image`).
    pub part_from_image: [[f64; 3]; 3],
}

/// A run of requested bands from one asset (`None`: bands the image lacks).
struct Run {
    asset: Option<usize>,
    names: Option<Vec<String>>,
}

/// Splits `names` into runs of consecutive bands held by one asset (the
/// first asset naming a band wins, as in plain reads). `None` names: every
/// band of an image with one undeclared file.
fn runs(src: &ImageSource, names: Option<&[String]>) -> Vec<Run> {
    let Some(names) = names else {
        return vec![Run {
            asset: Some(0),
            names: None,
        }];
    };
    let single_undeclared = src.assets.len() == 1 && src.assets[0].channels.is_empty();
    let mut out: Vec<Run> = Vec::new();
    for name in names {
        let asset = if single_undeclared {
            Some(0)
        } else {
            src.assets
                .iter()
                .position(|a| a.channels.iter().any(|c| c == name))
        };
        match out.last_mut() {
            Some(run) if run.asset == asset => {
                if let Some(n) = run.names.as_mut() {
                    n.push(name.clone());
                }
            }
            _ => out.push(Run {
                asset,
                names: Some(vec![name.clone()]),
            }),
        }
    }
    out
}

/// delayed_image's automatic output size of `t` applied to a `w × h` canvas:
/// the largest transformed corner, rounded up (a hair of float error below
/// an integer is not rounded up).
fn auto_size(t: &Affine, w: usize, h: usize) -> Result<(usize, usize)> {
    let (w, h) = (w as f64, h as f64);
    let corners = [[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]];
    let (mut mx, mut my) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for c in corners {
        let [x, y] = t.apply(c);
        mx = mx.max(x);
        my = my.max(y);
    }
    let round = |v: f64, axis: &str| -> Result<usize> {
        let n = (v - 1e-9).ceil().max(0.0);
        if !n.is_finite() || n > crate::target::MAX_COORD as f64 {
            return Err(Error::BadTarget {
                key: "use_native_scale",
                msg: format!("a native part {v} pixels {axis} is beyond the size limit"),
            });
        }
        Ok(n as usize)
    };
    Ok((round(mx, "wide")?, round(my, "high")?))
}

/// The scale kwimage's `decompose` finds in `t`, as a pure scale.
fn scale_part(t: &Affine) -> Affine {
    let [sx, sy] = t.decompose().scale;
    Affine::scale(sx, sy)
}

/// A part before the target's extra scale: its bands, undone scale and size.
struct Undone {
    run: Run,
    /// `U` (identity for missing bands).
    undo: Affine,
    /// `(W, H)` before the extra scale (the window's size for missing bands).
    size: (usize, usize),
}

impl CocoSampler {
    /// The parts of frame `gid` before the target's extra scale.
    fn undone_parts<'i>(
        &self,
        gid: ImageId,
        info: &'i FrameInfo,
        plan: &FramePlan<'_>,
        grid: &Affine,
        (w, h): (usize, usize),
    ) -> Result<(&'i ImageSource, Vec<Undone>)> {
        let source = info.source.as_ref().ok_or_else(|| Error::BadTarget {
            key: "image_id",
            msg: format!("image {} has neither a file_name nor assets", gid.0),
        })?;
        // `<all>` over declared assets: every band in declared order, as
        // plain reads; `None`: one undeclared file, read whole.
        let all: Vec<String>;
        let names = match &plan.channels {
            Channels::Names(n) => Some(n.as_slice()),
            Channels::All if source.assets.iter().all(|a| !a.channels.is_empty()) => {
                let mut v: Vec<String> = Vec::new();
                for c in source.assets.iter().flat_map(|a| &a.channels) {
                    if !v.contains(c) {
                        v.push(c.clone());
                    }
                }
                all = v;
                Some(all.as_slice())
            }
            Channels::All => None,
        };
        let window_from_img = plan.space_from_img(info).then(grid);
        let mut parts = Vec::new();
        for run in runs(source, names) {
            let (undo, size) = match run.asset {
                None => (Affine::identity(), (w, h)),
                Some(ai) => {
                    let asset = &source.assets[ai];
                    let root_from_leaf = asset.to_image.then(&window_from_img);
                    let leaf_from_root =
                        root_from_leaf.inverse().map_err(|e| Error::BadTarget {
                            key: "use_native_scale",
                            msg: format!(
                                "the transform of {} into the window is singular: {e}",
                                asset.path.display()
                            ),
                        })?;
                    let undo = scale_part(&leaf_from_root);
                    (undo, auto_size(&undo, w, h)?)
                }
            };
            parts.push(Undone { run, undo, size });
        }
        Ok((source, parts))
    }

    /// The one-asset source and the bands a part reads (`None` for a part
    /// of missing bands).
    fn part_source(source: &ImageSource, part: &Undone) -> Option<(ImageSource, Channels)> {
        let ai = part.run.asset?;
        let sub = ImageSource {
            width: source.width,
            height: source.height,
            assets: vec![source.assets[ai].clone()],
        };
        let channels = match &part.run.names {
            Some(n) => Channels::Names(n.clone()),
            None => Channels::All,
        };
        Some((sub, channels))
    }

    /// The dtype and band count a part's read gives (missing bands: float64).
    fn part_kind(
        &self,
        gid: ImageId,
        source: &ImageSource,
        part: &Undone,
        plan: &FramePlan<'_>,
    ) -> Result<(DType, usize)> {
        match Self::part_source(source, part) {
            None => Ok((DType::F64, part.run.names.as_ref().map_or(1, Vec::len))),
            Some((sub, channels)) => self
                .reader
                .window_kind(&sub, &channels, &plan.read_opts)
                .map_err(|e| Error::Read {
                    image_id: gid.0,
                    source: Box::new(e),
                }),
        }
    }

    /// Takes `(w, h)` pixels of `bands` bands of `dtype` from what is left
    /// of the sample's `budget` (bytes), or refuses the sample, naming what
    /// it would take with this part.
    fn take_budget(
        &self,
        budget: &mut u64,
        (w, h): (usize, usize),
        bands: usize,
        dtype: DType,
    ) -> Result<()> {
        let bytes = (w as u64)
            .checked_mul(h as u64)
            .and_then(|v| v.checked_mul(bands as u64))
            .and_then(|v| v.checked_mul(dtype.size() as u64));
        match bytes.and_then(|b| budget.checked_sub(b)) {
            Some(left) => {
                *budget = left;
                Ok(())
            }
            None => Err(Error::TooLarge {
                shape: vec![h, w, bands],
                bytes: bytes.and_then(|b| b.checked_add(self.max_sample_bytes - *budget)),
                limit: self.max_sample_bytes,
            }),
        }
    }

    /// Reads one part through `part_from_img` into `(out_h, out_w)`.
    fn read_part(
        &self,
        gid: ImageId,
        source: &ImageSource,
        part: &Undone,
        part_from_img: &Affine,
        (out_w, out_h): (usize, usize),
        plan: &FramePlan<'_>,
    ) -> Result<Window> {
        let Some((sub, channels)) = Self::part_source(source, part) else {
            let n = part.run.names.as_ref().map_or(1, Vec::len);
            return Ok(Window::filled(DType::F64, (out_h, out_w, n)));
        };
        self.reader
            .read_warped(
                &sub,
                out_h,
                out_w,
                part_from_img,
                &channels,
                &plan.read_opts,
            )
            .map_err(|e| Error::Read {
                image_id: gid.0,
                source: Box::new(e),
            })
    }

    /// The jagged parts of frame `gid` (`grid`: sampled space → window,
    /// `extra`: the target's scale, `(w, h)`: the padded window's size).
    pub(super) fn native_parts(
        &self,
        gid: ImageId,
        plan: &FramePlan<'_>,
        grid: &Affine,
        extra: &Affine,
        (w, h): (usize, usize),
        budget: &mut u64,
    ) -> Result<Vec<NativePart>> {
        let info = self.frame(gid)?;
        let (source, parts) = self.undone_parts(gid, &info, plan, grid, (w, h))?;
        let grid_to_part = grid.then(extra).matrix();
        let window_from_img = plan.space_from_img(&info).then(grid);
        let mut out = Vec::with_capacity(parts.len());
        for part in &parts {
            let (pw, ph) = part.size;
            let align = part
                .undo
                .then(&Affine::scale(
                    1.0 / pw.max(1) as f64,
                    1.0 / ph.max(1) as f64,
                ))
                .matrix();
            let part_from_img = window_from_img.then(&part.undo).then(extra);
            let size = if part.run.asset.is_none() {
                (1, 1)
            } else {
                auto_size(extra, pw, ph)?
            };
            let (dtype, bands) = self.part_kind(gid, source, part, plan)?;
            self.take_budget(budget, size, bands, dtype)?;
            let win = self.read_part(gid, source, part, &part_from_img, size, plan)?;
            let names = match &part.run.names {
                Some(n) => n.clone(),
                None => frame_backends::default_band_names(win.shape().2),
            };
            out.push(NativePart {
                im: Pixels::from_frames(vec![win], false)?,
                channels: names,
                align,
                grid_to_part,
                part_from_image: part_from_img.matrix(),
            });
        }
        Ok(out)
    }

    /// Frame `gid` realigned to its largest part: the `(H, W, C)` window and
    /// the realign transform (window → realigned grid, before `extra`).
    pub(super) fn realigned_frame(
        &self,
        gid: ImageId,
        plan: &FramePlan<'_>,
        grid: &Affine,
        extra: &Affine,
        (w, h): (usize, usize),
        budget: &mut u64,
    ) -> Result<(Window, Affine)> {
        let info = self.frame(gid)?;
        let (source, parts) = self.undone_parts(gid, &info, plan, grid, (w, h))?;
        // Missing bands were squashed to 1×1 before the reference compares sizes.
        let size_of = |p: &Undone| {
            if p.run.asset.is_none() {
                (1, 1)
            } else {
                p.size
            }
        };
        let mut largest = (0usize, 0usize);
        for p in &parts {
            let s = size_of(p);
            if s.0 * s.1 > largest.0 * largest.1 {
                largest = s;
            }
        }
        let (mw, mh) = largest;
        let rescale = |p: &Undone| {
            let (pw, ph) = size_of(p);
            Affine::scale(mw as f64 / pw.max(1) as f64, mh as f64 / ph.max(1) as f64)
        };
        let realign = parts
            .iter()
            .find(|p| p.run.asset.is_some())
            .map_or_else(Affine::identity, |p| p.undo.then(&rescale(p)));
        let out_size = auto_size(extra, mw, mh)?;
        // the parts concatenated: every band, one (promoted) dtype
        let mut kind: Option<(DType, usize)> = None;
        for p in &parts {
            let (d, n) = self.part_kind(gid, source, p, plan)?;
            kind = Some(kind.map_or((d, n), |(d0, n0)| (d0.promote(d), n0 + n)));
        }
        if let Some((dtype, bands)) = kind {
            self.take_budget(budget, out_size, bands, dtype)?;
        }
        let window_from_img = plan.space_from_img(&info).then(grid);
        let mut wins = Vec::with_capacity(parts.len());
        for p in &parts {
            let part_from_img = window_from_img.then(&p.undo).then(&rescale(p)).then(extra);
            wins.push(self.read_part(gid, source, p, &part_from_img, out_size, plan)?);
        }
        Ok((concat_bands(wins, out_size)?, realign))
    }

    fn frame(&self, gid: ImageId) -> Result<super::tables::Rec<'_, FrameInfo>> {
        self.tables.frame(gid)?.ok_or(Error::UnknownId {
            key: "image_id",
            table: "image",
            id: gid.0,
        })
    }
}

/// Windows of one size concatenated along bands, promoted to one dtype.
fn concat_bands(wins: Vec<Window>, (w, h): (usize, usize)) -> Result<Window> {
    let dtype = wins
        .iter()
        .map(Window::dtype)
        .reduce(DType::promote)
        .unwrap_or(DType::F32);
    if let Some(bad) = wins.iter().find(|x| {
        let (wh, ww, _) = x.shape();
        (wh, ww) != (h, w)
    }) {
        return Err(Error::BadTarget {
            key: "realign_native",
            msg: format!("a part came back {:?}, expected {h}×{w}", bad.shape()),
        });
    }
    fn cat<T: frame_backends::Pixel>(wins: Vec<Window>, (w, h): (usize, usize)) -> Result<Window> {
        let arrays: Vec<ndarray::Array3<T>> = wins
            .into_iter()
            .filter_map(|x| x.into_array::<T>().ok())
            .collect();
        if arrays.is_empty() {
            return Ok(Window::filled(T::DTYPE, (h, w, 0)));
        }
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        ndarray::concatenate(ndarray::Axis(2), &views)
            .map(T::wrap)
            .map_err(|e| Error::BadTarget {
                key: "realign_native",
                msg: format!("parts cannot be concatenated: {e}"),
            })
    }
    let wins: Vec<Window> = wins.into_iter().map(|x| x.convert(dtype)).collect();
    match dtype {
        DType::U8 => cat::<u8>(wins, (w, h)),
        DType::U16 => cat::<u16>(wins, (w, h)),
        DType::I16 => cat::<i16>(wins, (w, h)),
        DType::F32 => cat::<f32>(wins, (w, h)),
        DType::F64 => cat::<f64>(wins, (w, h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_size_rounds_up_the_largest_corner() {
        assert_eq!(
            auto_size(&Affine::scale(1.0 / 6.0, 1.0 / 6.0), 36, 47).unwrap(),
            (6, 8)
        );
        assert_eq!(auto_size(&Affine::scale(0.5, 2.0), 7, 3).unwrap(), (4, 6));
        assert_eq!(auto_size(&Affine::identity(), 0, 5).unwrap(), (0, 5));
        assert!(auto_size(&Affine::scale(1e300, 1.0), 10, 10).is_err());
    }

    #[test]
    fn runs_group_consecutive_bands_of_one_asset() {
        let mut a = frame_backends::AssetSource::new("a.tif", &["r", "g", "b"]);
        a.width = 4;
        let b = frame_backends::AssetSource::new("b.tif", &["n"]);
        let src = ImageSource {
            width: 4,
            height: 4,
            assets: vec![a, b],
        };
        let names: Vec<String> = ["r", "g", "n", "x", "y", "b"].map(String::from).to_vec();
        let got: Vec<(Option<usize>, Vec<String>)> = runs(&src, Some(&names))
            .into_iter()
            .map(|r| (r.asset, r.names.unwrap()))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (Some(0), s(&["r", "g"])),
                (Some(1), s(&["n"])),
                (None, s(&["x", "y"])),
                (Some(0), s(&["b"])),
            ]
        );
    }

    #[test]
    fn the_undone_scale_is_decomposed_like_kwimage() {
        // window → asset of a 6× coarser asset, rotated: only the scale is kept.
        let t = Affine::scale(1.0 / 6.0, 1.0 / 3.0)
            .then(&Affine::rotate(0.3))
            .then(&Affine::translate(5.0, -2.0));
        let u = scale_part(&t).matrix();
        assert!((u[0][0] - 1.0 / 6.0).abs() < 1e-12, "{u:?}");
        assert!((u[1][1] - 1.0 / 3.0).abs() < 1e-12, "{u:?}");
        assert_eq!((u[0][1], u[1][0], u[0][2], u[1][2]), (0.0, 0.0, 0.0, 0.0));
    }
}
