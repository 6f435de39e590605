//! Batches: samples stacked along a new leading axis for a training step.
//!
//! [`Batch::stack`] turns `N` samples whose pixels share one shape and dtype
//! into one `(N, H, W, C)` (or `(N, T, H, W, C)`) array, keeping each sample's
//! target, window geometry and annotations alongside in the same order.
//! Samples of different shapes or dtypes are refused with an error naming the
//! first sample that differs (pad or resize them to one window size first).
//!
//! ```
//! use frame_backends::DType;
//! use sampler::batch::Batch;
//! # use sampler::{Pixels, Sample, SampleParams, Target};
//! # fn sample(v: u8) -> Sample {
//! #     let im = Pixels::U8(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[4, 5, 3]), v));
//! #     let params = SampleParams { offset: [0, 0], sample_ltrb: [0, 0, 5, 4], st_dims: [[0, 4], [0, 5]],
//! #         data_dims: [4, 5], time_span: None, scale: [1.0, 1.0], channels: vec![], warps: vec![] };
//! #     Sample { im, target: Target::default(), params, frames: vec![], native: None }
//! # }
//! let batch = Batch::stack(vec![sample(1), sample(2)])?;
//! assert_eq!(batch.im.shape(), &[2, 4, 5, 3]);
//! assert_eq!(batch.im.dtype(), DType::U8);
//! assert_eq!(batch.len(), 2);
//! # Ok::<(), sampler::Error>(())
//! ```

use std::borrow::Borrow;

use ndarray::{ArrayD, ArrayViewD, Axis};

use crate::error::{Error, Result};
use crate::pixels::Pixels;
use crate::sampler::{CocoSampler, Sample, SampleFrame, SampleOptions, SampleParams};
use crate::target::Target;

/// Samples stacked for a training step: pixels `(N, …)` plus each sample's
/// target, geometry and annotations, index `i` of each list being sample `i`.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The samples' pixels stacked along a new leading axis.
    pub im: Pixels,
    /// Each sample's resolved target.
    pub targets: Vec<Target>,
    /// Each sample's window geometry.
    pub params: Vec<SampleParams>,
    /// Each sample's per-frame annotations.
    pub frames: Vec<Vec<SampleFrame>>,
}

fn stack_arrays<T: Clone>(arrays: Vec<ArrayD<T>>) -> Result<ArrayD<T>> {
    let views: Vec<ArrayViewD<'_, T>> = arrays.iter().map(|a| a.view()).collect();
    ndarray::stack(Axis(0), &views).map_err(|e| Error::BadTarget {
        key: "space_slice",
        msg: format!("batch samples cannot be stacked: {e}"),
    })
}

impl Batch {
    /// Stack `samples` (at least one) into a batch.
    ///
    /// Errors when `samples` is empty, or when a sample's pixel shape or dtype
    /// differs from the first sample's (the message names the sample's index,
    /// both shapes or dtypes, and the sample's target).
    pub fn stack(samples: Vec<Sample>) -> Result<Batch> {
        let Some(first) = samples.first() else {
            return Err(Error::BadTarget {
                key: "batch",
                msg: "has no samples to stack".into(),
            });
        };
        let (shape0, dtype0) = (first.im.shape().to_vec(), first.im.dtype());
        for (i, s) in samples.iter().enumerate().skip(1) {
            if s.im.dtype() != dtype0 || s.im.shape() != shape0.as_slice() {
                return Err(mismatch(i, s, &shape0, dtype0));
            }
        }
        let n = samples.len();
        let mut ims = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        let mut params = Vec::with_capacity(n);
        let mut frames = Vec::with_capacity(n);
        for s in samples {
            ims.push(s.im);
            targets.push(s.target);
            params.push(s.params);
            frames.push(s.frames);
        }
        macro_rules! stack_as {
            ($variant:ident) => {{
                let arrays = ims
                    .into_iter()
                    .map(|p| match p {
                        Pixels::$variant(a) => a,
                        _ => unreachable!("dtypes were checked to be equal"),
                    })
                    .collect();
                Pixels::$variant(stack_arrays(arrays)?)
            }};
        }
        let im = match dtype0 {
            frame_backends::DType::U8 => stack_as!(U8),
            frame_backends::DType::U16 => stack_as!(U16),
            frame_backends::DType::I16 => stack_as!(I16),
            frame_backends::DType::F32 => stack_as!(F32),
            frame_backends::DType::F64 => stack_as!(F64),
        };
        Ok(Batch {
            im,
            targets,
            params,
            frames,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when the batch holds no sample (never, for a batch from [`Batch::stack`]).
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Total number of annotations over all samples and frames.
    pub fn num_annots(&self) -> usize {
        self.frames
            .iter()
            .flat_map(|f| f.iter())
            .map(|f| f.annots.len())
            .sum()
    }
}

/// The storage of a stacked batch's pixels, handed back to
/// [`CocoSampler::load_stacked`] to be filled again instead of allocating (and
/// page-faulting in) a fresh buffer for every batch.
///
/// A buffer of another dtype, or too small, is dropped and a new one made.
#[derive(Debug)]
pub enum PixelStorage {
    /// Unsigned 8-bit.
    U8(Vec<u8>),
    /// Unsigned 16-bit.
    U16(Vec<u16>),
    /// Signed 16-bit.
    I16(Vec<i16>),
    /// 32-bit float.
    F32(Vec<f32>),
    /// 64-bit float.
    F64(Vec<f64>),
}

impl PixelStorage {
    /// The storage of `pixels` (its buffer, for reuse).
    pub fn from_pixels(pixels: Pixels) -> PixelStorage {
        fn raw<T>(a: ArrayD<T>) -> Vec<T> {
            a.into_raw_vec_and_offset().0
        }
        match pixels {
            Pixels::U8(a) => PixelStorage::U8(raw(a)),
            Pixels::U16(a) => PixelStorage::U16(raw(a)),
            Pixels::I16(a) => PixelStorage::I16(raw(a)),
            Pixels::F32(a) => PixelStorage::F32(raw(a)),
            Pixels::F64(a) => PixelStorage::F64(raw(a)),
        }
    }

    /// Capacity in bytes.
    pub fn capacity_bytes(&self) -> usize {
        match self {
            PixelStorage::U8(v) => v.capacity(),
            PixelStorage::U16(v) => v.capacity() * 2,
            PixelStorage::I16(v) => v.capacity() * 2,
            PixelStorage::F32(v) => v.capacity() * 4,
            PixelStorage::F64(v) => v.capacity() * 8,
        }
    }
}

/// A buffer of exactly `n` elements: `reuse` when it has the room (only
/// elements past its current length are written), else a fresh zeroed one
/// (`calloc`: pages are mapped when first written).
fn buffer_of<T: Copy + Default>(reuse: Option<Vec<T>>, n: usize) -> Vec<T> {
    match reuse {
        Some(mut v) if v.capacity() >= n => {
            if v.len() >= n {
                v.truncate(n);
            } else {
                v.resize(n, T::default());
            }
            v
        }
        _ => vec![T::default(); n],
    }
}

/// Copies `a` (any layout) into `dst`, which has exactly its element count.
fn copy_into<T: Copy>(a: &ArrayD<T>, dst: &mut [T]) {
    match a.as_slice() {
        Some(src) => dst.copy_from_slice(src),
        None => dst.iter_mut().zip(a.iter()).for_each(|(d, s)| *d = *s),
    }
}

/// `(H, W, C)` views of a sample's slot (`shape` is `[H, W, C]` or
/// `[T, H, W, C]`), one per frame; `None` for any other shape.
fn frame_views<'a, T, F>(
    shape: &[usize],
    slot: &'a mut [T],
    wrap: F,
) -> Option<Vec<frame_backends::WindowMut<'a>>>
where
    F: Fn(ndarray::ArrayViewMut3<'a, T>) -> frame_backends::WindowMut<'a>,
{
    let view = ndarray::ArrayViewMutD::from_shape(ndarray::IxDyn(shape), slot).ok()?;
    match shape.len() {
        3 => Some(vec![wrap(view.into_dimensionality().ok()?)]),
        4 => {
            let mut out = Vec::with_capacity(shape[0]);
            let mut rest = view;
            for _ in 0..shape[0] {
                let (head, tail) = rest.split_at(Axis(0), 1);
                out.push(wrap(
                    head.index_axis_move(Axis(0), 0)
                        .into_dimensionality()
                        .ok()?,
                ));
                rest = tail;
            }
            Some(out)
        }
        _ => None,
    }
}

/// What a sample keeps besides its pixels once copied into the batch.
type SampleMeta = (Target, SampleParams, Vec<SampleFrame>);

fn mismatch(i: usize, s: &Sample, shape0: &[usize], dtype0: frame_backends::DType) -> Error {
    let target = serde_json::to_string(&s.target).unwrap_or_default();
    if s.im.dtype() != dtype0 {
        Error::BadTarget {
            key: "dtype",
            msg: format!(
                "of batch sample {i} is {} but sample 0 is {} (target {target}); \
                 ask every target for one dtype",
                s.im.dtype().name(),
                dtype0.name()
            ),
        }
    } else {
        Error::BadTarget {
            key: "space_slice",
            msg: format!(
                "of batch sample {i} gives shape {:?} but sample 0 gives {shape0:?} \
                 (target {target}); batches need one window size",
                s.im.shape()
            ),
        }
    }
}

impl CocoSampler {
    /// Load `targets` and stack them into one batch, as [`Batch::stack`] of
    /// [`CocoSampler::load_sample_with`] each would, but without holding every
    /// sample's pixels at once: each sample is copied into its slot of the
    /// batch array as soon as it is loaded (while it is still in the CPU's
    /// cache) and its own buffer freed. Samples `1..` load in parallel on the
    /// current rayon pool (run it inside `pool.install` to choose the
    /// threads). `reuse` is the storage of an earlier batch to fill again
    /// (see [`PixelStorage`]). `targets` are owned or borrowed (`&[Target]`,
    /// `&[&Target]`: positions picked from a plan).
    ///
    /// Errors as [`Batch::stack`] does (empty list, a sample of another shape
    /// or dtype, naming the sample), or with the first sample's load error.
    ///
    /// ```no_run
    /// # use sampler::{CocoSampler, SampleOptions, Target};
    /// # let sampler = CocoSampler::open("data.kwcoco.json")?;
    /// # let targets: Vec<Target> = vec![];
    /// let batch = sampler.load_stacked(&targets, &SampleOptions::default(), None)?;
    /// // … hand batch.im to the model, then recycle its buffer:
    /// let storage = sampler::batch::PixelStorage::from_pixels(batch.im);
    /// let next = sampler.load_stacked(&targets, &SampleOptions::default(), Some(storage))?;
    /// # Ok::<(), sampler::Error>(())
    /// ```
    pub fn load_stacked<T: Borrow<Target> + Sync>(
        &self,
        targets: &[T],
        opts: &SampleOptions,
        reuse: Option<PixelStorage>,
    ) -> Result<Batch> {
        self.stack_loads(targets, opts, reuse, true)
    }

    /// [`CocoSampler::load_stacked`] with every sample loaded in turn on the
    /// calling thread, never handed to a rayon pool: for one loading thread
    /// (a DataLoader worker, `threads=1`), where the hand-off to a one-thread
    /// pool and back costs two thread wake-ups per batch and gains nothing.
    /// The batch is the same as [`CocoSampler::load_stacked`]'s.
    pub fn load_stacked_sequential<T: Borrow<Target> + Sync>(
        &self,
        targets: &[T],
        opts: &SampleOptions,
        reuse: Option<PixelStorage>,
    ) -> Result<Batch> {
        self.stack_loads(targets, opts, reuse, false)
    }

    /// The body of both: samples `1..` in parallel on the current rayon pool
    /// when `parallel`, else in order on the calling thread.
    fn stack_loads<T: Borrow<Target> + Sync>(
        &self,
        targets: &[T],
        opts: &SampleOptions,
        reuse: Option<PixelStorage>,
        parallel: bool,
    ) -> Result<Batch> {
        use rayon::prelude::*;
        let Some(t0) = targets.first() else {
            return Err(Error::BadTarget {
                key: "batch",
                msg: "has no samples to stack".into(),
            });
        };
        let first = self.load_sample_with(t0.borrow(), opts)?;
        let shape0 = first.im.shape().to_vec();
        let dtype0 = first.im.dtype();
        let per: usize = shape0.iter().product();
        let n = targets.len();
        let total = per.checked_mul(n).ok_or_else(|| Error::BadTarget {
            key: "batch",
            msg: format!("{n} samples of shape {shape0:?} overflow"),
        })?;
        let mut full_shape = Vec::with_capacity(shape0.len() + 1);
        full_shape.push(n);
        full_shape.extend_from_slice(&shape0);

        macro_rules! fill {
            ($variant:ident, $t:ty) => {{
                let reuse = match reuse {
                    Some(PixelStorage::$variant(v)) => Some(v),
                    _ => None,
                };
                let mut buf: Vec<$t> = buffer_of(reuse, total);
                let mut metas: Vec<Option<SampleMeta>> = (0..n).map(|_| None).collect();
                {
                    let Pixels::$variant(a) = &first.im else {
                        unreachable!("dtype0 is the first sample's dtype")
                    };
                    if per > 0 {
                        copy_into(a, &mut buf[..per]);
                    }
                }
                metas[0] = Some((first.target, first.params, first.frames));
                // Straight into the slot where the target allows; a failure
                // there (another dtype or band count…) is loaded again the
                // plain way, which says why.
                let into_slot = |(i, (slot, meta)): (
                    usize,
                    (&mut [$t], &mut Option<SampleMeta>),
                )|
                 -> Result<()> {
                    let mut frames =
                        frame_views(&shape0, slot, |v| frame_backends::WindowMut::$variant(v));
                    let first_try = match frames.as_deref_mut() {
                        Some(f) => self.load_sample_dest(targets[i].borrow(), opts, Some(f)),
                        None => Err(Error::BadTarget {
                            key: "batch",
                            msg: "no frame views".into(),
                        }),
                    };
                    drop(frames);
                    let (s, written) = match first_try {
                        Ok(x) => x,
                        Err(_) => (self.load_sample_with(targets[i].borrow(), opts)?, false),
                    };
                    if !written {
                        match &s.im {
                            Pixels::$variant(a) if a.shape() == shape0.as_slice() => {
                                copy_into(a, slot)
                            }
                            _ => return Err(mismatch(i, &s, &shape0, dtype0)),
                        }
                    }
                    *meta = Some((s.target, s.params, s.frames));
                    Ok(())
                };
                // Empty windows: nothing to copy, only the shapes to check.
                let no_pixels = |(i, meta): (usize, &mut Option<SampleMeta>)| -> Result<()> {
                    let s = self.load_sample_with(targets[i].borrow(), opts)?;
                    if s.im.dtype() != dtype0 || s.im.shape() != shape0.as_slice() {
                        return Err(mismatch(i, &s, &shape0, dtype0));
                    }
                    *meta = Some((s.target, s.params, s.frames));
                    Ok(())
                };
                match (per > 0, parallel) {
                    (true, true) => buf
                        .par_chunks_mut(per)
                        .zip(metas.par_iter_mut())
                        .enumerate()
                        .skip(1)
                        .try_for_each(into_slot)?,
                    (true, false) => buf
                        .chunks_mut(per)
                        .zip(metas.iter_mut())
                        .enumerate()
                        .skip(1)
                        .try_for_each(into_slot)?,
                    (false, true) => metas
                        .par_iter_mut()
                        .enumerate()
                        .skip(1)
                        .try_for_each(no_pixels)?,
                    (false, false) => metas
                        .iter_mut()
                        .enumerate()
                        .skip(1)
                        .try_for_each(no_pixels)?,
                }
                let im = ArrayD::from_shape_vec(ndarray::IxDyn(&full_shape), buf).map_err(|e| {
                    Error::BadTarget {
                        key: "batch",
                        msg: format!("cannot shape the batch: {e}"),
                    }
                })?;
                (Pixels::$variant(im), metas)
            }};
        }
        let (im, metas) = match dtype0 {
            frame_backends::DType::U8 => fill!(U8, u8),
            frame_backends::DType::U16 => fill!(U16, u16),
            frame_backends::DType::I16 => fill!(I16, i16),
            frame_backends::DType::F32 => fill!(F32, f32),
            frame_backends::DType::F64 => fill!(F64, f64),
        };
        let mut targets_out = Vec::with_capacity(n);
        let mut params = Vec::with_capacity(n);
        let mut frames = Vec::with_capacity(n);
        for (target, p, f) in metas.into_iter().flatten() {
            targets_out.push(target);
            params.push(p);
            frames.push(f);
        }
        Ok(Batch {
            im,
            targets: targets_out,
            params,
            frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::SampleAnnot;
    use ndarray::IxDyn;

    fn sample(shape: &[usize], fill: f64, dtype: frame_backends::DType, id: i64) -> Sample {
        let n: usize = shape.iter().product();
        let vals: Vec<f64> = (0..n).map(|k| fill + k as f64).collect();
        let f = ArrayD::from_shape_vec(IxDyn(shape), vals).unwrap();
        let im = match dtype {
            frame_backends::DType::U8 => Pixels::U8(f.mapv(|v| v as u8)),
            frame_backends::DType::U16 => Pixels::U16(f.mapv(|v| v as u16)),
            frame_backends::DType::I16 => Pixels::I16(f.mapv(|v| v as i16)),
            frame_backends::DType::F32 => Pixels::F32(f.mapv(|v| v as f32)),
            frame_backends::DType::F64 => Pixels::F64(f),
        };
        Sample {
            im,
            target: Target {
                image_id: Some(coco_model::ImageId(id)),
                ..Target::default()
            },
            params: SampleParams {
                offset: [-id, 0],
                sample_ltrb: [id, 0, id + 4, 3],
                st_dims: [[0, 3], [id, id + 4]],
                data_dims: [100, 100],
                time_span: None,
                scale: [1.0, 1.0],
                channels: vec![],
                warps: vec![],
            },
            frames: vec![SampleFrame {
                image_id: Some(id),
                annots: (0..id)
                    .map(|a| SampleAnnot {
                        id: a,
                        category_id: None,
                        bbox: [0.0, 0.0, 1.0, 1.0],
                        visibility: 1.0,
                        segmentation: None,
                        keypoints: None,
                        keypoint_names: None,
                    })
                    .collect(),
            }],
            native: None,
        }
    }

    /// Which targets are written straight into a slot, and that what is
    /// written equals the plain load.
    #[test]
    fn eligible_targets_are_written_into_the_slot() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/shapes4/data.kwcoco.json");
        let sampler = CocoSampler::open(path).unwrap();
        let opts = SampleOptions::default();
        let target = |extra: serde_json::Value| -> Target {
            let mut v = serde_json::json!({"image_id": 1, "space_slice": [[-4, 12], [390, 410]]});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(v).unwrap()
        };
        for (extra, eligible) in [
            (serde_json::json!({}), true),
            (serde_json::json!({"scale": 0.5}), false), // another output size than the slot
            (serde_json::json!({"padkw": {"mode": "edge"}}), false),
        ] {
            let t = target(extra.clone());
            let want = sampler.load_sample_with(&t, &opts).unwrap();
            let mut buf = vec![7u8; 16 * 20 * 3];
            let mut frames =
                frame_views(&[16, 20, 3], &mut buf, frame_backends::WindowMut::U8).unwrap();
            let (s, written) = sampler
                .load_sample_dest(&t, &opts, Some(&mut frames))
                .unwrap();
            drop(frames);
            assert_eq!(written, eligible, "{extra}");
            if written {
                assert_eq!(s.im.shape(), &[0]);
                let Pixels::U8(a) = &want.im else { panic!() };
                assert_eq!(a.as_slice().unwrap(), &buf[..], "{extra}");
            } else {
                assert_eq!(s.im, want.im, "{extra}");
                assert!(
                    buf.iter().all(|&v| v == 7),
                    "{extra}: the slot is untouched"
                );
            }
            assert_eq!(s.frames[0].annots.len(), want.frames[0].annots.len());
        }
    }

    #[test]
    fn stacks_pixels_and_keeps_metadata_in_order() {
        use frame_backends::DType;
        for dtype in [DType::U8, DType::U16, DType::I16, DType::F32, DType::F64] {
            let samples: Vec<Sample> = (1..=3)
                .map(|i| sample(&[3, 4, 2], 10.0 * i as f64, dtype, i))
                .collect();
            let singles: Vec<ArrayD<f64>> = samples.iter().map(|s| s.im.to_f64()).collect();
            let b = Batch::stack(samples).unwrap();
            assert_eq!(b.im.shape(), &[3, 3, 4, 2]);
            assert_eq!(b.im.dtype(), dtype);
            assert_eq!(b.len(), 3);
            assert!(!b.is_empty());
            let all = b.im.to_f64();
            for (i, one) in singles.iter().enumerate() {
                assert_eq!(
                    all.index_axis(Axis(0), i),
                    one.view(),
                    "{dtype:?} sample {i}"
                );
                assert_eq!(
                    b.targets[i].image_id,
                    Some(coco_model::ImageId(i as i64 + 1))
                );
                assert_eq!(b.params[i].offset, [-(i as i64 + 1), 0]);
                assert_eq!(b.frames[i][0].annots.len(), i + 1);
            }
            assert_eq!(b.num_annots(), 1 + 2 + 3);
        }
    }

    #[test]
    fn stacks_videos_on_a_new_leading_axis() {
        use frame_backends::DType;
        let b = Batch::stack(vec![
            sample(&[2, 3, 4, 1], 0.0, DType::F32, 1),
            sample(&[2, 3, 4, 1], 5.0, DType::F32, 2),
        ])
        .unwrap();
        assert_eq!(b.im.shape(), &[2, 2, 3, 4, 1]);
        assert_eq!(b.im.to_f64()[[1, 0, 0, 0, 0]], 5.0);
    }

    #[test]
    fn refuses_empty_and_mismatched_batches() {
        use frame_backends::DType;
        let e = Batch::stack(vec![]).unwrap_err().to_string();
        assert!(e.contains("batch") && e.contains("no samples"), "{e}");

        let e = Batch::stack(vec![
            sample(&[3, 4, 2], 0.0, DType::U8, 1),
            sample(&[3, 4, 2], 0.0, DType::U8, 2),
            sample(&[3, 5, 2], 0.0, DType::U8, 7),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("sample 2") && e.contains("[3, 5, 2]") && e.contains("\"image_id\":7"),
            "{e}"
        );

        let e = Batch::stack(vec![
            sample(&[3, 4, 2], 0.0, DType::U8, 1),
            sample(&[3, 4, 2], 0.0, DType::F32, 2),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("dtype") && e.contains("float32") && e.contains("uint8"),
            "{e}"
        );
    }
}
