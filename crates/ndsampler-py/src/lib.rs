//! `ndsampler_rs._native`: the Rust sampler for Python (PyO3).
//!
//! The Python package (`python/ndsampler_rs`) wraps this module in the
//! reference's API (docs/DESIGN.md §8); this layer stays small: targets come
//! in as JSON text, pixels go out as numpy arrays that own the Rust buffer (no
//! copy), and everything else (resolved target, window parameters,
//! annotations) as the JSON of `sample.json`. Every call that reads pixels
//! releases the GIL; batches load in parallel on a rayon pool created on first
//! use in each process (never inherited across a fork).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

mod training;

use numpy::IntoPyArray;
use pyo3::exceptions::{PyKeyError, PyOSError, PyValueError};
use pyo3::prelude::*;
use sampler::{
    CocoSampler, NegativeOptions, Pixels, Regions, Sample, SampleOptions, SamplerConfig, Target,
    WithAnnots,
};

/// The Rust side's allocator, as the CLI's (see the root `Cargo.toml`). In
/// a one-thread stacked loop, glibc's malloc/free of the samples' small
/// parts and the first window's buffer took 3.8% of the profile (with
/// `malloc_consolidate` on every large request), mimalloc about 2%.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A sampler error as the Python exception that fits, with the CLI's
/// one-line message.
fn to_py(e: sampler::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        sampler::Error::UnknownId { .. } => PyKeyError::new_err(msg),
        sampler::Error::Io { .. } | sampler::Error::Read { .. } | sampler::Error::Backend(_) => {
            PyOSError::new_err(msg)
        }
        sampler::Error::Dataset(inner) if matches!(*inner, coco_model::Error::Io { .. }) => {
            PyOSError::new_err(msg)
        }
        _ => PyValueError::new_err(msg),
    }
}

fn region_err(e: sampler::RegionError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The pixels as a numpy array owning the Rust buffer.
fn pixels_to_py(py: Python<'_>, im: Pixels) -> Py<PyAny> {
    match im {
        Pixels::U8(a) => a.into_pyarray(py).into_any().unbind(),
        Pixels::U16(a) => a.into_pyarray(py).into_any().unbind(),
        Pixels::I16(a) => a.into_pyarray(py).into_any().unbind(),
        Pixels::F32(a) => a.into_pyarray(py).into_any().unbind(),
        Pixels::F64(a) => a.into_pyarray(py).into_any().unbind(),
    }
}

/// Buffers of stacked batches that Python has let go of, kept to be filled
/// again: a fresh multi-megabyte buffer per batch costs a page fault per 4 KiB
/// when first written (as much as the reads of the batch's windows on small
/// windows), a recycled one does not.
#[derive(Default)]
struct StoragePool {
    free: Mutex<Vec<sampler::batch::PixelStorage>>,
}

impl StoragePool {
    /// Buffers kept at most (the rest are freed).
    const MAX_BUFFERS: usize = 4;

    fn take(&self) -> Option<sampler::batch::PixelStorage> {
        self.free.lock().ok()?.pop()
    }

    fn put(&self, s: sampler::batch::PixelStorage) {
        if let Ok(mut free) = self.free.lock()
            && free.len() < Self::MAX_BUFFERS
        {
            free.push(s);
        }
    }
}

/// The owner of a stacked batch's pixels: numpy arrays borrow its buffer and
/// keep it alive; when the last of them goes, the buffer returns to the
/// sampler's [`StoragePool`].
#[pyclass(module = "ndsampler_rs._native", frozen)]
struct BatchBuffer {
    pixels: Mutex<Option<Pixels>>,
    pool: Arc<StoragePool>,
}

impl Drop for BatchBuffer {
    fn drop(&mut self) {
        if let Some(px) = self.pixels.get_mut().ok().and_then(Option::take) {
            self.pool.put(sampler::batch::PixelStorage::from_pixels(px));
        }
    }
}

/// The batch's pixels as a numpy array over `owner`'s buffer (no copy).
#[allow(unsafe_code)] // numpy's borrow of a buffer owned by a Python object; see SAFETY
fn batch_to_py<'py>(owner: Bound<'py, BatchBuffer>) -> PyResult<Bound<'py, PyAny>> {
    use numpy::PyArray;
    let guard = owner
        .get()
        .pixels
        .lock()
        .map_err(|_| PyValueError::new_err("batch buffer lock poisoned"))?;
    let Some(px) = guard.as_ref() else {
        return Err(PyValueError::new_err("batch buffer already released"));
    };
    let container = owner.clone().into_any();
    // SAFETY: `container` owns the array whose memory the numpy array views
    // and is set as that array's base, so it lives as long as the view; the
    // array is never mutated or reallocated while it is owned (only
    // `BatchBuffer::drop` takes it, once the last view is gone).
    let arr = unsafe {
        match px {
            Pixels::U8(a) => PyArray::borrow_from_array(a, container).into_any(),
            Pixels::U16(a) => PyArray::borrow_from_array(a, container).into_any(),
            Pixels::I16(a) => PyArray::borrow_from_array(a, container).into_any(),
            Pixels::F32(a) => PyArray::borrow_from_array(a, container).into_any(),
            Pixels::F64(a) => PyArray::borrow_from_array(a, container).into_any(),
        }
    };
    Ok(arr)
}

/// One call's options (the reference's `load_sample` keywords).
fn options(
    with_annots: &str,
    visible_thresh: f64,
    annot_ids: Option<Vec<i64>>,
) -> PyResult<SampleOptions> {
    let with = if with_annots.is_empty() {
        WithAnnots::NONE
    } else {
        WithAnnots::parse(with_annots).map_err(to_py)?
    };
    Ok(SampleOptions {
        visible_thresh: (visible_thresh > 0.0).then_some(visible_thresh),
        with_annots: Some(with),
        annot_ids,
        clip: false,
        skip_pixels: false,
    })
}

fn parse_target(json: &str) -> PyResult<Target> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("target: {e}")))
}

/// Targets parsed once, for batches that name them by position
/// (`SamplerDataset`'s plan): no JSON text crosses into Rust per sample.
#[pyclass(module = "ndsampler_rs._native", frozen)]
struct NativeTargets {
    /// Each target, or the error its text gave (raised when it is loaded,
    /// as `load_batch_stacked` raises for a bad text).
    targets: Arc<[Result<Target, String>]>,
}

#[pymethods]
impl NativeTargets {
    /// Parse `texts` (JSON targets, `target_to_json`) with the GIL released.
    #[new]
    fn new(py: Python<'_>, texts: Vec<String>) -> Self {
        let targets = py.detach(move || {
            texts
                .iter()
                .map(|t| serde_json::from_str(t).map_err(|e| format!("target: {e}")))
                .collect()
        });
        NativeTargets { targets }
    }

    fn __len__(&self) -> usize {
        self.targets.len()
    }
}

impl NativeTargets {
    /// Positions of `keys` as `SamplerDataset._index` reads them: a key is
    /// `i` or `(epoch, i)`, `i` anything `int()` takes, negative from the
    /// end; out of range is an `IndexError` naming the key. A target whose
    /// text did not parse is a `ValueError`, the first in `keys`' order.
    fn positions(&self, keys: &Bound<'_, pyo3::types::PyList>) -> PyResult<Vec<usize>> {
        use pyo3::types::{PyInt, PyTuple};
        let n = self.targets.len();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys.iter() {
            let i = match key.cast::<PyTuple>() {
                Ok(t) => t.get_item(1)?,
                Err(_) => key.clone(),
            };
            let i = match i.extract::<i64>() {
                Ok(i) => Some(i),
                // `int()` of floats, strings…; an int past i64 is out of range
                Err(_) => key
                    .py()
                    .get_type::<PyInt>()
                    .call1((i,))?
                    .extract::<i64>()
                    .ok(),
            };
            let pos = i.and_then(|i| {
                let n = i64::try_from(n).ok()?;
                let p = if i < 0 { i.checked_add(n)? } else { i };
                (0..n).contains(&p).then_some(p as usize)
            });
            let Some(pos) = pos else {
                return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                    "key {} out of range for {n} targets",
                    key.repr()?
                )));
            };
            out.push(pos);
        }
        if let Some(msg) = out.iter().find_map(|&p| self.targets[p].as_ref().err()) {
            return Err(PyValueError::new_err(msg.clone()));
        }
        Ok(out)
    }
}

/// The targets of a stacked batch: its own, or positions in a plan (all of
/// them parsed targets).
enum BatchTargets {
    Own(Vec<Target>),
    Plan(Arc<[Result<Target, String>]>, Vec<usize>),
}

impl BatchTargets {
    fn refs(&self) -> Vec<&Target> {
        match self {
            BatchTargets::Own(v) => v.iter().collect(),
            BatchTargets::Plan(plan, at) => {
                at.iter().filter_map(|&i| plan[i].as_ref().ok()).collect()
            }
        }
    }
}

/// The sampler behind `ndsampler_rs.CocoSampler`.
#[pyclass(module = "ndsampler_rs._native", frozen)]
struct NativeSampler {
    inner: Arc<CocoSampler>,
    regions: OnceLock<Result<Arc<Regions>, String>>,
    /// `(pid, pool)`: the batch pool of the process that made it.
    pool: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>>,
    /// Batch threads (0: one per core).
    threads: usize,
    /// Buffers of stacked batches to fill again.
    storage: Arc<StoragePool>,
}

impl NativeSampler {
    fn regions(&self) -> PyResult<Arc<Regions>> {
        self.regions
            .get_or_init(|| {
                Regions::from_sampler(&self.inner)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(PyValueError::new_err)
    }

    /// Batch threads, `0` resolved to one per core.
    fn batch_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Where this process loads batches: with one thread, on the calling
    /// thread (no pool: handing each batch to a one-thread pool and waiting
    /// for it cost two thread wake-ups per batch), else on the batch pool.
    fn runner(&self) -> PyResult<Option<Arc<rayon::ThreadPool>>> {
        if self.batch_threads() == 1 {
            return Ok(None);
        }
        self.pool().map(Some)
    }

    /// The batch pool of this process (a pool made before a fork is not used
    /// by the child: its threads did not survive the fork).
    fn pool(&self) -> PyResult<Arc<rayon::ThreadPool>> {
        let pid = std::process::id();
        let mut slot = self
            .pool
            .lock()
            .map_err(|_| PyValueError::new_err("batch pool lock poisoned"))?;
        if let Some((p, pool)) = slot.as_ref()
            && *p == pid
        {
            return Ok(pool.clone());
        }
        let threads = self.batch_threads();
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("ndsampler-batch-{i}"))
                .build()
                .map_err(|e| PyOSError::new_err(format!("batch threads: {e}")))?,
        );
        *slot = Some((pid, pool.clone()));
        Ok(pool)
    }
}

/// `sample.json` of a sample (`Sample::to_json`'s keys), written straight to
/// text without building a `serde_json::Value` first.
#[derive(serde::Serialize)]
struct Meta<'a> {
    target: &'a Target,
    params: &'a sampler::SampleParams,
    frames: &'a [sampler::SampleFrame],
    shape: &'a [usize],
    dtype: &'static str,
    /// Native-resolution parts without pixels (`use_native_scale`).
    #[serde(skip_serializing_if = "Option::is_none")]
    native: Option<serde_json::Value>,
}

/// `(im, meta_json)`; `im` is a list (frames) of lists (parts) of arrays for
/// a native-resolution sample.
fn sample_to_py(py: Python<'_>, s: Sample) -> PyResult<(Py<PyAny>, String)> {
    let meta = serde_json::to_string(&Meta {
        target: &s.target,
        params: &s.params,
        frames: &s.frames,
        shape: s.im.shape(),
        dtype: s.im.dtype().name(),
        native: s.native.as_deref().map(sampler::native_json),
    })
    .map_err(|e| PyValueError::new_err(format!("sample: {e}")))?;
    if let Some(native) = s.native {
        let frames = native
            .into_iter()
            .map(|parts| {
                let arrays: Vec<Py<PyAny>> =
                    parts.into_iter().map(|p| pixels_to_py(py, p.im)).collect();
                pyo3::types::PyList::new(py, arrays).map(|l| l.into_any().unbind())
            })
            .collect::<PyResult<Vec<_>>>()?;
        let list = pyo3::types::PyList::new(py, frames)?;
        return Ok((list.into_any().unbind(), meta));
    }
    Ok((pixels_to_py(py, s.im), meta))
}

impl NativeSampler {
    /// The body of `load_batch_stacked` and `load_plan_stacked`.
    fn stacked<'py>(
        &self,
        py: Python<'py>,
        targets: BatchTargets,
        with_annots: &str,
        visible_thresh: f64,
        with_meta: bool,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let opts = options(with_annots, visible_thresh, None)?;
        let geometry = opts
            .with_annots
            .is_some_and(|w| w.segmentation || w.keypoints);
        let inner = self.inner.clone();
        let runner = self.runner()?;
        let reuse = self.storage.take();
        let batch = py
            .detach(move || {
                let targets = targets.refs();
                match runner {
                    None => inner.load_stacked_sequential(&targets, &opts, reuse),
                    Some(pool) => pool.install(|| inner.load_stacked(&targets, &opts, reuse)),
                }
            })
            .map_err(to_py)?;
        let (mut aids, mut cids, mut bidx, mut fidx) = (vec![], vec![], vec![], vec![]);
        let mut boxes: Vec<f64> = Vec::new();
        let mut geom: Vec<serde_json::Value> = Vec::new();
        for (b, frames) in batch.frames.iter().enumerate() {
            for (f, frame) in frames.iter().enumerate() {
                for a in &frame.annots {
                    aids.push(a.id);
                    cids.push(a.category_id.unwrap_or(-1));
                    bidx.push(b as i64);
                    fidx.push(f as i64);
                    boxes.extend_from_slice(&a.bbox);
                    if geometry {
                        geom.push(serde_json::json!({
                            "segmentation": a.segmentation.as_ref().map(|g| g.to_json()),
                            "keypoints": a.keypoints.as_ref().map(|k| k.to_json()),
                            "keypoint_names": a.keypoint_names.as_deref(),
                        }));
                    }
                }
            }
        }
        let n = aids.len();
        let out = pyo3::types::PyDict::new(py);
        let rel_boxes = ndarray::Array2::from_shape_vec((n, 4), boxes)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        out.set_item("aids", aids.into_pyarray(py))?;
        out.set_item("cids", cids.into_pyarray(py))?;
        out.set_item("batch_index", bidx.into_pyarray(py))?;
        out.set_item("frame_index", fidx.into_pyarray(py))?;
        out.set_item("rel_boxes", rel_boxes.into_pyarray(py))?;
        if geometry {
            out.set_item("geometry", serde_json::Value::Array(geom).to_string())?;
        }
        if with_meta {
            let meta: Vec<serde_json::Value> = batch
                .targets
                .iter()
                .zip(&batch.params)
                .map(|(t, p)| serde_json::json!({"target": t, "params": p}))
                .collect();
            out.set_item("meta", serde_json::Value::Array(meta).to_string())?;
        }
        let owner = Bound::new(
            py,
            BatchBuffer {
                pixels: Mutex::new(Some(batch.im)),
                pool: self.storage.clone(),
            },
        )?;
        out.set_item("im", batch_to_py(owner)?)?;
        Ok(out)
    }
}

#[pymethods]
impl NativeSampler {
    /// Open a dataset file or bundle (`path`), or a dataset given as JSON
    /// text (`json`, with `bundle_dir` for its relative file names).
    /// `backend`: `None`/`"raw"`, `"npy"` or `"cog"` (needs `workdir`).
    /// `threads`: threads of `load_batch` (0: one per core; 1 in each of
    /// several worker processes). `max_sample_bytes`: most bytes one
    /// sample's pixels may take (None: `SamplerConfig`'s default).
    #[new]
    #[pyo3(signature = (path=None, json=None, bundle_dir=None, backend=None, workdir=None, threads=0, max_sample_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: Option<PathBuf>,
        json: Option<String>,
        bundle_dir: Option<PathBuf>,
        backend: Option<String>,
        workdir: Option<PathBuf>,
        threads: usize,
        max_sample_bytes: Option<u64>,
    ) -> PyResult<Self> {
        let backend = match (backend.as_deref(), workdir) {
            (None | Some("raw"), _) => frame_backends::Backend::Raw,
            (Some("npy"), Some(workdir)) => frame_backends::Backend::Npy { workdir },
            (Some("cog"), Some(workdir)) => frame_backends::Backend::Cog {
                workdir,
                options: frame_backends::CogOptions::default(),
            },
            (Some(b @ ("npy" | "cog")), None) => {
                return Err(PyValueError::new_err(format!(
                    "backend {b:?} needs a workdir for its cache"
                )));
            }
            (Some(other), _) => {
                return Err(PyValueError::new_err(format!(
                    "unknown backend {other:?} (None, \"npy\" or \"cog\")"
                )));
            }
        };
        let inner = py.detach(move || -> PyResult<CocoSampler> {
            let defaults = SamplerConfig::default();
            let config = SamplerConfig {
                backend,
                max_sample_bytes: max_sample_bytes.unwrap_or(defaults.max_sample_bytes),
                ..defaults
            };
            match (path, json) {
                // a valid snapshot of the file (`ndsampler index`) is mapped
                // instead of parsing the JSON: worker processes share it
                (Some(p), None) => CocoSampler::open_with(&p, config).map_err(to_py),
                (None, Some(text)) => {
                    let dset = coco_model::CocoDataset::from_json_str(
                        &text,
                        bundle_dir.unwrap_or_else(|| PathBuf::from(".")),
                    )
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                    CocoSampler::new(Arc::new(dset), config).map_err(to_py)
                }
                _ => Err(PyValueError::new_err(
                    "give exactly one of a dataset path or its JSON text",
                )),
            }
        })?;
        Ok(NativeSampler {
            inner: Arc::new(inner),
            regions: OnceLock::new(),
            pool: Mutex::new(None),
            threads,
            storage: Arc::default(),
        })
    }

    /// `(im, meta_json)` for one target (JSON text). `with_annots`,
    /// `visible_thresh` and `annot_ids` override the target's own keys of
    /// those names; `None` leaves them to the target (whose defaults are
    /// every geometry, 0 and a spatial lookup). `skip_pixels`: no pixels are
    /// read (`im` is empty; annotations and parameters only).
    #[pyo3(signature = (target, with_annots=None, visible_thresh=None, annot_ids=None, skip_pixels=false))]
    fn load_sample(
        &self,
        py: Python<'_>,
        target: &str,
        with_annots: Option<&str>,
        visible_thresh: Option<f64>,
        annot_ids: Option<Vec<i64>>,
        skip_pixels: bool,
    ) -> PyResult<(Py<PyAny>, String)> {
        let t = parse_target(target)?;
        let with = match with_annots {
            None => None,
            Some("") => Some(WithAnnots::NONE),
            Some(w) => Some(WithAnnots::parse(w).map_err(to_py)?),
        };
        let opts = SampleOptions {
            visible_thresh,
            with_annots: with,
            annot_ids,
            clip: false,
            skip_pixels,
        };
        let inner = self.inner.clone();
        let s = py
            .detach(move || inner.load_sample_with(&t, &opts))
            .map_err(to_py)?;
        sample_to_py(py, s)
    }

    /// `[(im, meta_json), ...]` for many targets, loaded in parallel with the
    /// GIL released (one call per batch). The first error fails the batch.
    #[pyo3(signature = (targets, with_annots="boxes+segmentation+keypoints", visible_thresh=0.0))]
    fn load_batch(
        &self,
        py: Python<'_>,
        targets: Vec<String>,
        with_annots: &str,
        visible_thresh: f64,
    ) -> PyResult<Vec<(Py<PyAny>, String)>> {
        let parsed = targets
            .iter()
            .map(|t| parse_target(t))
            .collect::<PyResult<Vec<Target>>>()?;
        let opts = options(with_annots, visible_thresh, None)?;
        let inner = self.inner.clone();
        let runner = self.runner()?;
        let samples = py
            .detach(move || {
                use rayon::prelude::*;
                let load = |t: &Target| inner.load_sample_with(t, &opts);
                match runner {
                    None => parsed.iter().map(load).collect::<Result<Vec<Sample>, _>>(),
                    Some(pool) => pool.install(|| parsed.par_iter().map(load).collect()),
                }
            })
            .map_err(to_py)?;
        samples.into_iter().map(|s| sample_to_py(py, s)).collect()
    }

    /// A whole batch stacked for a training step, in one call with the GIL
    /// released: `{"im": (N, …) array, "aids", "cids", "batch_index",
    /// "frame_index" (int64, one per annotation), "rel_boxes" (float64,
    /// annotations × 4, xywh in each window), "geometry": JSON text of
    /// `[{"segmentation", "keypoints", "keypoint_names"}, …]` per annotation
    /// (only when segmentation or keypoints are asked for), "meta": JSON text
    /// of `[{"target", "params"}, …]` per sample (only when `with_meta`)}`.
    /// Every window must have one shape and dtype.
    #[pyo3(signature = (targets, with_annots="boxes", visible_thresh=0.0, with_meta=false))]
    fn load_batch_stacked<'py>(
        &self,
        py: Python<'py>,
        targets: Vec<String>,
        with_annots: &str,
        visible_thresh: f64,
        with_meta: bool,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let parsed = targets
            .iter()
            .map(|t| parse_target(t))
            .collect::<PyResult<Vec<Target>>>()?;
        self.stacked(
            py,
            BatchTargets::Own(parsed),
            with_annots,
            visible_thresh,
            with_meta,
        )
    }

    /// `load_batch_stacked` of the targets of `plan` at `keys` (as
    /// `SamplerDataset` keys them: `i` or `(epoch, i)`, see
    /// `NativeTargets`): the texts are parsed once, not per batch.
    #[pyo3(signature = (plan, keys, with_annots="boxes", visible_thresh=0.0, with_meta=false))]
    fn load_plan_stacked<'py>(
        &self,
        py: Python<'py>,
        plan: &Bound<'py, NativeTargets>,
        keys: &Bound<'py, pyo3::types::PyList>,
        with_annots: &str,
        visible_thresh: f64,
        with_meta: bool,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let plan = plan.get();
        let at = plan.positions(keys)?;
        self.stacked(
            py,
            BatchTargets::Plan(plan.targets.clone(), at),
            with_annots,
            visible_thresh,
            with_meta,
        )
    }

    /// Number of positives (annotations with a box).
    fn n_positives(&self) -> PyResult<usize> {
        Ok(self.regions()?.n_positives())
    }

    /// The target (JSON) of positive `index`.
    fn positive_target(&self, index: usize) -> PyResult<String> {
        let r = self.regions()?;
        let t = r.positive(index).ok_or_else(|| {
            pyo3::exceptions::PyIndexError::new_err(format!(
                "positive {index} out of range (there are {})",
                r.n_positives()
            ))
        })?;
        serde_json::to_string(&t).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// `count` negative targets (JSON) mined with random stream `seed`, windows
    /// of `[h, w]` (`None`: sizes learned from the positives).
    #[pyo3(signature = (count, seed, window=None, thresh=0.0))]
    fn negative_targets(
        &self,
        py: Python<'_>,
        count: usize,
        seed: u64,
        window: Option<[i64; 2]>,
        thresh: f64,
    ) -> PyResult<Vec<String>> {
        let r = self.regions()?;
        let mut opts = match window {
            Some(hw) => NegativeOptions::absolute(hw),
            None => NegativeOptions::default(),
        };
        opts = opts.with_thresh(thresh);
        let found = py
            .detach(move || r.negatives(&opts, count, seed))
            .map_err(region_err)?;
        found
            .iter()
            .map(|t| serde_json::to_string(t).map_err(|e| PyValueError::new_err(e.to_string())))
            .collect()
    }

    /// The reference's `new_sample_grid`: `task` is `"image_detection"`
    /// (`window_dims = [h, w]`) or `"video_detection"` (`[t, h, w]`).
    /// Returns JSON `{"targets", "positives_indexes", "negatives_indexes",
    /// "ignored_indexes"}`.
    #[pyo3(signature = (task, window_dims, window_overlap=0.0, classes_of_interest=None, ignore_classes=None))]
    fn sample_grid(
        &self,
        py: Python<'_>,
        task: &str,
        window_dims: Vec<i64>,
        window_overlap: f64,
        classes_of_interest: Option<Vec<String>>,
        ignore_classes: Option<Vec<String>>,
    ) -> PyResult<String> {
        let mut cfg = match (task, window_dims.as_slice()) {
            ("image_detection", &[h, w]) => sampler::GridConfig::new([h, w]),
            ("video_detection", &[t, h, w]) => sampler::GridConfig::new([h, w]).with_video(t),
            ("image_detection" | "video_detection", dims) => {
                return Err(PyValueError::new_err(format!(
                    "window_dims {dims:?}: {task} needs {}",
                    if task == "image_detection" {
                        "[h, w]"
                    } else {
                        "[t, h, w]"
                    }
                )));
            }
            (other, _) => {
                return Err(PyValueError::new_err(format!(
                    "unknown task {other:?} (image_detection or video_detection)"
                )));
            }
        }
        .with_overlap(window_overlap);
        cfg.classes.of_interest = classes_of_interest;
        cfg.classes.ignore = ignore_classes.unwrap_or_default();
        let inner = self.inner.clone();
        let grid = py
            .detach(move || sampler::sample_grid(inner.dataset(), &cfg))
            .map_err(region_err)?;
        Ok(serde_json::json!({
            "targets": grid.targets,
            "positives_indexes": grid.positives,
            "negatives_indexes": grid.negatives,
            "ignored_indexes": grid.ignored,
        })
        .to_string())
    }

    /// The categories as JSON (`[{"id", "name", "supercategory"}, ...]`).
    fn categories_json(&self) -> String {
        let cats: Vec<serde_json::Value> = self
            .inner
            .dataset()
            .categories()
            .iter()
            .map(|c| serde_json::json!({"id": c.id.0, "name": c.name, "supercategory": c.supercategory}))
            .collect();
        serde_json::Value::Array(cats).to_string()
    }

    /// Every file the dataset's images read (main files and assets), of
    /// images `image_ids` (None: all; an unknown id is a `KeyError`),
    /// resolved, sorted, without repeats: what `frames.prepare` caches.
    #[pyo3(signature = (image_ids=None))]
    fn cache_files(&self, image_ids: Option<Vec<i64>>) -> PyResult<Vec<PathBuf>> {
        let ds = self.inner.dataset();
        let wanted: Option<std::collections::HashSet<i64>> = match image_ids {
            None => None,
            Some(ids) => {
                let known: std::collections::HashSet<i64> =
                    ds.images().iter().map(|i| i.id.0).collect();
                if let Some(bad) = ids.iter().find(|g| !known.contains(g)) {
                    return Err(PyKeyError::new_err(format!("no image with id {bad}")));
                }
                Some(ids.into_iter().collect())
            }
        };
        let mut files: Vec<PathBuf> = ds
            .referenced_files()
            .into_iter()
            .filter(|(g, _)| wanted.as_ref().is_none_or(|w| w.contains(&g.0)))
            .map(|(_, p)| p)
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// Build the backend's cache of these files on `workers` threads (0: one
    /// per core), GIL released; the first failure is an `OSError` naming the
    /// file.
    #[pyo3(signature = (files, workers=0))]
    fn prepare_files(&self, py: Python<'_>, files: Vec<PathBuf>, workers: usize) -> PyResult<()> {
        let inner = self.inner.clone();
        py.detach(move || {
            let threads = if workers == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                workers
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| PyOSError::new_err(e.to_string()))?;
            use rayon::prelude::*;
            pool.install(|| {
                files
                    .par_iter()
                    .map(|f| inner.reader().prepare(f).map(|_| ()))
                    .collect::<Result<Vec<()>, _>>()
            })
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
            Ok(())
        })
    }

    /// The resolved target (JSON) of `target` (JSON): every inferred key
    /// filled in, as `load_sample` resolves it, without reading anything.
    fn resolve_target(&self, py: Python<'_>, target: &str) -> PyResult<String> {
        let t = parse_target(target)?;
        let inner = self.inner.clone();
        let r = py.detach(move || inner.resolve(&t)).map_err(to_py)?;
        serde_json::to_string(&r.target).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Ids of the annotations of image `image_id` whose box overlaps
    /// `ltrb = [x0, y0, x1, y1]` (image space; touching included), in the
    /// dataset's order; with `visible_thresh > 0` only those whose
    /// visibility (intersection over own box area) is strictly greater.
    #[pyo3(signature = (image_id, ltrb, visible_thresh=0.0))]
    fn overlapping_aids(
        &self,
        image_id: i64,
        ltrb: [f64; 4],
        visible_thresh: f64,
    ) -> PyResult<Vec<i64>> {
        let [x0, y0, x1, y1] = ltrb;
        if !(x0 <= x1 && y0 <= y1) {
            return Err(PyValueError::new_err(format!(
                "region [x0, y0, x1, y1] = {ltrb:?} has x0 > x1 or y0 > y1"
            )));
        }
        let r = self.regions()?;
        let query = region_index::Aabb::new(x0, y0, x1, y1);
        Ok(r.index()
            .overlapping_visible(&image_id, &query, visible_thresh)
            .into_iter()
            .map(|h| h.id)
            .collect())
    }

    /// `[height, width]` of image `image_id` (from the dataset, else its
    /// file's header), `None` when neither tells.
    fn image_dims(&self, image_id: i64) -> PyResult<Option<[i64; 2]>> {
        Ok(self.regions()?.image_dims(image_id))
    }

    /// The positive table as columns (JSON): `{"aid", "gid", "category_id",
    /// "cx", "cy", "width", "height"}`, one row per positive.
    fn positives_table(&self) -> PyResult<String> {
        let r = self.regions()?;
        let p = r.positives();
        let col_i = |f: &dyn Fn(&sampler::regions::Positive) -> Option<i64>| -> Vec<Option<i64>> {
            p.iter().map(f).collect()
        };
        let col_f = |f: &dyn Fn(&sampler::regions::Positive) -> f64| -> Vec<f64> {
            p.iter().map(f).collect()
        };
        Ok(serde_json::json!({
            "aid": col_i(&|q| Some(q.annot_id)),
            "gid": col_i(&|q| Some(q.image_id)),
            "category_id": col_i(&|q| q.category_id),
            "cx": col_f(&|q| q.cx),
            "cy": col_f(&|q| q.cy),
            "width": col_f(&|q| q.width),
            "height": col_f(&|q| q.height),
        })
        .to_string())
    }

    /// One epoch's preselection (`Regions::preselect`), JSON `{"positives":
    /// [rows], "positive_window": [h, w] | null, "negatives": [targets]}`.
    /// `n_neg` (a count) or `neg_to_pos_ratio` sizes the negative pool;
    /// `window` (`[h, w]`) sizes the negatives (None: learned from the
    /// positives); `cover` (`[h, w]`): a covering subset of positives.
    #[pyo3(signature = (seed, epoch, n_neg=None, neg_to_pos_ratio=None, window=None, thresh=0.3, cover=None))]
    #[allow(clippy::too_many_arguments)]
    fn preselect(
        &self,
        py: Python<'_>,
        seed: u64,
        epoch: u64,
        n_neg: Option<usize>,
        neg_to_pos_ratio: Option<f64>,
        window: Option<[i64; 2]>,
        thresh: f64,
        cover: Option<[i64; 2]>,
    ) -> PyResult<String> {
        use sampler::regions::{NegativeCount, PositiveSelection};
        let negatives = match (n_neg, neg_to_pos_ratio) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "give n_neg or neg_to_pos_ratio, not both",
                ));
            }
            (Some(n), None) => NegativeCount::Count(n),
            (None, Some(r)) => NegativeCount::Ratio(r),
            (None, None) => NegativeCount::Count(0),
        };
        let negative = match window {
            Some(hw) => NegativeOptions::absolute(hw),
            None => NegativeOptions::default(),
        }
        .with_thresh(thresh);
        let cfg = sampler::PreselectConfig {
            positives: cover.map_or(PositiveSelection::All, PositiveSelection::Covering),
            negatives,
            negative,
        };
        let r = self.regions()?;
        let sel = py
            .detach(move || r.preselect(&cfg, seed, epoch))
            .map_err(region_err)?;
        Ok(serde_json::json!({
            "positives": sel.positives,
            "positive_window": sel.positive_window,
            "negatives": sel.negatives,
        })
        .to_string())
    }

    /// Rows of the positive table whose windows of `[h, w]` centred on them
    /// contain every positive's centre (greedy set cover seeded by `seed`).
    fn covering_positives(
        &self,
        py: Python<'_>,
        window: [i64; 2],
        seed: u64,
    ) -> PyResult<Vec<usize>> {
        let r = self.regions()?;
        py.detach(move || r.covering_positives(window, seed))
            .map_err(region_err)
    }

    /// `count` random windows of `[h, w]` (JSON targets with `image_id` and
    /// `space_slice`) over `image_ids` (None: every image with a size),
    /// window `i` of epoch `epoch` a pure function of `(seed, epoch, i)`.
    #[pyo3(signature = (window, count, seed, epoch=0, image_ids=None))]
    fn random_windows(
        &self,
        window: [i64; 2],
        count: usize,
        seed: u64,
        epoch: u64,
        image_ids: Option<Vec<i64>>,
    ) -> PyResult<Vec<String>> {
        use sampler::plan::PlanSource;
        if window[0] < 1 || window[1] < 1 {
            return Err(PyValueError::new_err(format!(
                "window [h, w] = {window:?}: both must be at least 1"
            )));
        }
        let r = self.regions()?;
        let ids: Vec<i64> = match image_ids {
            Some(ids) => ids,
            None => self
                .inner
                .dataset()
                .images()
                .iter()
                .map(|i| i.id.0)
                .collect(),
        };
        let mut frames = Vec::with_capacity(ids.len());
        for gid in ids {
            match r.image_dims(gid) {
                Some([h, w]) => frames.push((gid, h, w)),
                None => {
                    return Err(PyKeyError::new_err(format!(
                        "image {gid}: no such image, or its size is unknown"
                    )));
                }
            }
        }
        let plan = sampler::plan::RandomWindows {
            frames,
            window,
            count,
        };
        (0..plan.len())
            .map(|i| {
                serde_json::to_string(&plan.target(seed, epoch, i))
                    .map_err(|e| PyValueError::new_err(e.to_string()))
            })
            .collect()
    }

    /// Every image id, in dataset order.
    fn image_ids(&self) -> Vec<i64> {
        self.inner
            .dataset()
            .images()
            .iter()
            .map(|i| i.id.0)
            .collect()
    }

    /// Number of annotations.
    fn n_annots(&self) -> usize {
        self.inner.dataset().annotations().len()
    }

    /// Image ids of video `video_id`'s frames in `frame_index` order.
    fn video_frames(&self, video_id: i64) -> PyResult<Vec<i64>> {
        let ds = self.inner.dataset();
        if !ds.videos().iter().any(|v| v.id.0 == video_id) {
            return Err(PyKeyError::new_err(format!("no video with id {video_id}")));
        }
        Ok(ds
            .images_of_video(coco_model::VideoId(video_id))
            .iter()
            .map(|g| g.0)
            .collect())
    }

    /// The dataset's JSON text (for pickling a dataset given as data).
    fn dataset_json(&self) -> String {
        self.inner
            .dataset()
            .to_json_string(coco_model::DumpStyle::Compact)
    }
}

/// The tile-locality order of `targets` (JSON texts): the positions to visit
/// them in so that windows reading the same `tile = [h, w]` of an image come
/// together, each moved by less than `window` places (`sampler::locality`).
#[pyfunction]
#[pyo3(signature = (targets, tile=[256, 256], window=64, seed=0))]
fn locality_order(
    targets: Vec<String>,
    tile: [i64; 2],
    window: usize,
    seed: u64,
) -> PyResult<Vec<usize>> {
    if tile[0] < 1 || tile[1] < 1 {
        return Err(PyValueError::new_err(format!(
            "tile [h, w] = {tile:?}: both must be at least 1"
        )));
    }
    if window < 1 {
        return Err(PyValueError::new_err("window must be at least 1"));
    }
    let parsed = targets
        .iter()
        .map(|t| parse_target(t))
        .collect::<PyResult<Vec<Target>>>()?;
    Ok(sampler::locality::LocalityOrder { tile, window, seed }.order(&parsed))
}

/// Options of the object store serving URLs under `store` (e.g.
/// `"s3://bucket"`): `aws_endpoint`, `aws_allow_http`, `aws_region`,
/// credentials…, as object_store names them; they take precedence over the
/// environment (`AWS_ENDPOINT`, …) for that store. Never logged.
#[cfg(feature = "remote")]
#[pyfunction]
fn set_store_options(store: &str, options: std::collections::HashMap<String, String>) {
    frame_backends::remote::set_store_options(store, options);
}

/// The `ndsampler_rs._native` module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeSampler>()?;
    m.add_function(wrap_pyfunction!(locality_order, m)?)?;
    m.add("HAS_REMOTE", cfg!(feature = "remote"))?;
    #[cfg(feature = "remote")]
    m.add_function(wrap_pyfunction!(set_store_options, m)?)?;
    m.add_class::<NativeTargets>()?;
    m.add_class::<training::NativeStitcher>()?;
    m.add_class::<training::NativeBalancedPlan>()?;
    m.add_function(wrap_pyfunction!(training::load_sample_masks, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
