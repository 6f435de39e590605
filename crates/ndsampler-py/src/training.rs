//! Training helpers for Python (`ndsampler_rs.training` wraps them):
//! the [`Stitcher`] of sliding-window inference, the masks / heatmaps of
//! a sample, and class-balanced plans. Predictions are read through numpy views (no copy) and every
//! result array owns the Rust buffer it was computed in (no copy either);
//! the work runs with the GIL released.

use std::collections::BTreeMap;

use numpy::{IntoPyArray, PyArray2, PyArray3, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sampler::SampleOptions;
use sampler::masks::{HeatmapOptions, MaskOptions};
use sampler::plan::{BalancedPlan, ClassBalance, LabelledItem};
use sampler::stitch::{Blend, Stitcher};

use crate::{NativeSampler, parse_target, pixels_to_py, to_py};

/// `Stitcher(height, width, channels=1, blend="mean"|"gaussian",
/// sigma_scale=0.125)`: accumulates `(h, w, C)` float32 window predictions
/// into an `(H, W, C)` image.
#[pyclass(module = "ndsampler_rs._native")]
pub(crate) struct NativeStitcher {
    inner: Stitcher,
}

#[pymethods]
impl NativeStitcher {
    #[new]
    #[pyo3(signature = (height, width, channels=1, blend="mean", sigma_scale=0.125))]
    fn new(
        height: usize,
        width: usize,
        channels: usize,
        blend: &str,
        sigma_scale: f64,
    ) -> PyResult<Self> {
        let blend = match blend {
            "mean" => Blend::Mean,
            "gaussian" => Blend::Gaussian { sigma_scale },
            other => {
                return Err(PyValueError::new_err(format!(
                    "blend {other:?}: expected \"mean\" or \"gaussian\""
                )));
            }
        };
        let inner = Stitcher::new(height, width, channels, blend).map_err(to_py)?;
        Ok(NativeStitcher { inner })
    }

    /// `[H, W, C]`.
    #[getter]
    fn shape(&self) -> (usize, usize, usize) {
        let [h, w, c] = self.inner.shape();
        (h, w, c)
    }

    /// Add a window's `(h, w, C)` float32 prediction with its top-left pixel
    /// at row `y0`, column `x0` (may lie outside the image), optionally with
    /// an `(h, w)` float32 weight map instead of the blend's.
    #[pyo3(signature = (y0, x0, pred, weights=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        y0: i64,
        x0: i64,
        pred: PyReadonlyArray3<'_, f32>,
        weights: Option<PyReadonlyArray2<'_, f32>>,
    ) -> PyResult<()> {
        let view = pred.as_array();
        let inner = &mut self.inner;
        match &weights {
            None => py.detach(|| inner.add(y0, x0, view)),
            Some(w) => {
                let wv = w.as_array();
                py.detach(|| inner.add_weighted(y0, x0, view, wv))
            }
        }
        .map_err(to_py)
    }

    /// The stitched `(H, W, C)` float32 image (NaN where no window landed),
    /// as a new numpy array owning its buffer.
    fn finalize<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray3<f32>> {
        let inner = &self.inner;
        py.detach(|| inner.finalize()).into_pyarray(py)
    }

    /// The accumulated `(H, W)` weights (a copy).
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        self.inner.weights().to_owned().into_pyarray(py)
    }
}

/// The window of `target` with the masks asked for: a dict with `im` (unless
/// `skip_pixels`), `meta` (the sample's JSON text) and any of `class_mask`
/// (int32), `instance_masks` (uint8 `(N, H, W)`, or bit-packed with
/// `packed`) with `instance_ids` / `instance_category_ids` /
/// `instance_frames`, and `heatmaps` (float32).
#[pyfunction]
#[pyo3(signature = (
    sampler, target, class_mask=true, instances=false, packed=false,
    heatmap_sigma=None, heatmap_categories=None, fill="centers", ignore_value=-1,
    ignore_padding=false, ignore_categories=None, skip_pixels=false
))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
pub(crate) fn load_sample_masks<'py>(
    py: Python<'py>,
    sampler: &NativeSampler,
    target: &str,
    class_mask: bool,
    instances: bool,
    packed: bool,
    heatmap_sigma: Option<f64>,
    heatmap_categories: Option<Vec<i64>>,
    fill: &str,
    ignore_value: i32,
    ignore_padding: bool,
    ignore_categories: Option<Vec<i64>>,
    skip_pixels: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let t = parse_target(target)?;
    let fill = match fill {
        "centers" => coco_model::geometry::FillRule::Centers,
        "cv2" => coco_model::geometry::FillRule::Cv2Points,
        other => {
            return Err(PyValueError::new_err(format!(
                "fill {other:?}: expected \"centers\" or \"cv2\""
            )));
        }
    };
    let mopts = MaskOptions {
        fill,
        ignore_value,
        ignore_padding,
        ignore_category_ids: ignore_categories.unwrap_or_default(),
        ..MaskOptions::default()
    };
    let hopts = heatmap_sigma.map(|sigma| HeatmapOptions {
        keypoint_category_ids: heatmap_categories,
        ..HeatmapOptions::new(sigma)
    });
    let inner = sampler.inner.clone();
    let opts = SampleOptions {
        skip_pixels,
        ..SampleOptions::default()
    };
    let (sample, cls, inst, hm) = py
        .detach(move || -> sampler::Result<_> {
            let s = inner.load_sample_with(&t, &opts)?;
            let cls = class_mask.then(|| s.class_mask(&mopts)).transpose()?;
            let inst = instances.then(|| s.instance_masks(&mopts)).transpose()?;
            let hm = hopts.map(|h| s.keypoint_heatmaps(&h)).transpose()?;
            Ok((s, cls, inst, hm))
        })
        .map_err(to_py)?;
    let out = PyDict::new(py);
    out.set_item("meta", sample.to_json().to_string())?;
    if !skip_pixels {
        out.set_item("im", pixels_to_py(py, sample.im))?;
    }
    if let Some(c) = cls {
        out.set_item("class_mask", c.into_pyarray(py))?;
    }
    if let Some(i) = inst {
        let masks = if packed { i.packed() } else { i.masks };
        out.set_item("instance_masks", masks.into_pyarray(py))?;
        out.set_item("instance_ids", i.ids)?;
        out.set_item("instance_category_ids", i.category_ids)?;
        out.set_item("instance_frames", i.frames)?;
    }
    if let Some(h) = hm {
        out.set_item("heatmaps", h.into_pyarray(py))?;
    }
    Ok(out)
}

/// `BalancedPlan(sampler, unit="images"|"positives", balance=..., ...)`: a
/// class-balanced plan whose epochs are lists of target JSON texts, a pure
/// function of `(seed, epoch)` (see `sampler::plan::BalancedPlan`).
#[pyclass(module = "ndsampler_rs._native")]
pub(crate) struct NativeBalancedPlan {
    inner: BalancedPlan,
}

#[pymethods]
impl NativeBalancedPlan {
    #[new]
    #[pyo3(signature = (
        sampler, unit="images", balance="repeat_factor", threshold=0.001, weights=None,
        default_weight=1.0, epoch_size=None, negatives=None, negative_ratio=0.0
    ))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of one Python call
    fn new(
        sampler: &NativeSampler,
        unit: &str,
        balance: &str,
        threshold: f64,
        weights: Option<BTreeMap<i64, f64>>,
        default_weight: f64,
        epoch_size: Option<usize>,
        negatives: Option<Vec<String>>,
        negative_ratio: f64,
    ) -> PyResult<Self> {
        let items = match unit {
            "images" => LabelledItem::from_images(sampler.inner.try_dataset().map_err(to_py)?),
            "positives" => LabelledItem::from_positives(&*sampler.regions()?),
            other => {
                return Err(PyValueError::new_err(format!(
                    "unit {other:?}: expected \"images\" or \"positives\""
                )));
            }
        };
        let balance = match balance {
            "uniform" => ClassBalance::Uniform,
            "repeat_factor" => ClassBalance::RepeatFactor { threshold },
            "inverse_frequency" => ClassBalance::InverseFrequency,
            "weights" => ClassBalance::ClassWeights {
                weights: weights.unwrap_or_default(),
                default: default_weight,
            },
            other => {
                return Err(PyValueError::new_err(format!(
                    "balance {other:?}: expected \"uniform\", \"repeat_factor\", \
                     \"inverse_frequency\" or \"weights\""
                )));
            }
        };
        let mut plan = BalancedPlan::new(items, balance).map_err(to_py)?;
        if let Some(n) = epoch_size {
            plan = plan.with_epoch_size(n);
        }
        let pool = negatives
            .unwrap_or_default()
            .iter()
            .map(|t| parse_target(t))
            .collect::<PyResult<Vec<_>>>()?;
        if !pool.is_empty() || negative_ratio != 0.0 {
            plan = plan.with_negatives(pool, negative_ratio).map_err(to_py)?;
        }
        Ok(NativeBalancedPlan { inner: plan })
    }

    /// Number of labelled items (images or positives).
    fn num_items(&self) -> usize {
        self.inner.items().len()
    }

    /// Each item's repeat factor (`balance="repeat_factor"`), else `None`.
    fn repeat_factors(&self) -> Option<Vec<f64>> {
        self.inner.repeat_factors().map(<[f64]>::to_vec)
    }

    /// Epoch `epoch`'s targets (JSON texts), shuffled.
    fn epoch(&self, py: Python<'_>, seed: u64, epoch: u64) -> PyResult<Vec<String>> {
        let inner = &self.inner;
        let list = py.detach(|| inner.epoch(seed, epoch));
        list.targets
            .iter()
            .map(|t| serde_json::to_string(t).map_err(|e| PyValueError::new_err(e.to_string())))
            .collect()
    }
}
