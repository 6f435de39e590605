//! `ndsampler sample`: one window with its annotations, written as `im.npy` +
//! `sample.json` (docs/DESIGN.md §6).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use ndarray_npy::WriteNpyExt;
use sampler::masks::{HeatmapOptions, MaskOptions};
use sampler::{CocoSampler, Sample, SampleOptions, WithAnnots};

#[derive(Args, Debug)]
pub struct SampleArgs {
    #[command(flatten)]
    pub dataset: super::DatasetArg,
    /// The target as JSON (docs/DESIGN.md §4), or `@FILE`.
    #[arg(long)]
    pub target: String,
    #[command(flatten)]
    pub backend: super::BackendArg,
    /// Keep annotations whose visibility is strictly greater than this.
    #[arg(long)]
    pub visible_thresh: Option<f64>,
    /// Annotation geometry to return: `boxes+segmentation+keypoints` (any subset), or `none`.
    #[arg(long, value_parser = parse_with_annots)]
    pub with_annots: Option<WithAnnots>,
    /// Only these annotation ids (comma-separated); skips the spatial lookup.
    #[arg(long, value_delimiter = ',')]
    pub annot_ids: Option<Vec<i64>>,
    /// Clip boxes and polygons to the window.
    #[arg(long)]
    pub clip: bool,
    /// Output directory (created): `im.npy` and `sample.json` (with
    /// `use_native_scale`, also `part_<frame>_<part>.npy`).
    #[arg(long)]
    pub out: PathBuf,
    /// Also rasterize the annotations (comma-separated): `class`
    /// (`class_mask.npy`, int32 `(H, W)` / `(T, H, W)`), `instance`
    /// (`instance_masks.npy`, uint8 `(N, H, W)`), `instance-packed`
    /// (`instance_masks_packed.npy`, `np.packbits(axis=-1)`), `heatmap`
    /// (`heatmaps.npy`, float32 `(K, H, W)` / `(T, K, H, W)`); `sample.json`
    /// gets a `masks` entry naming the files and each instance's id.
    #[arg(long, value_delimiter = ',')]
    pub masks: Vec<MaskKind>,
    /// How polygon vertices meet pixels: `centers` (pixel corners, a pixel
    /// set when its centre is inside) or `cv2` (kwimage's default `to_mask`:
    /// vertices at pixel centres, boundary included).
    #[arg(long, value_enum, default_value_t = FillArg::Centers)]
    pub mask_fill: FillArg,
    /// Class-mask value of ignored pixels (ignored categories, padding with
    /// `--ignore-padding`).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub ignore_value: i32,
    /// Class-mask pixels outside the image (padding) get `--ignore-value`.
    #[arg(long)]
    pub ignore_padding: bool,
    /// Categories painted with `--ignore-value` (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore_categories: Vec<i64>,
    /// Standard deviation of the keypoint Gaussians, output pixels.
    #[arg(long, default_value_t = 2.0)]
    pub heatmap_sigma: f64,
    /// One heatmap channel per keypoint category id (comma-separated), in
    /// this order; default one channel for every keypoint.
    #[arg(long, value_delimiter = ',')]
    pub heatmap_categories: Option<Vec<i64>>,
}

/// What `--masks` rasterizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MaskKind {
    /// `class_mask.npy`.
    Class,
    /// `instance_masks.npy`.
    Instance,
    /// `instance_masks_packed.npy`.
    InstancePacked,
    /// `heatmaps.npy`.
    Heatmap,
}

/// `--mask-fill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FillArg {
    /// Pixel corners (the project's convention).
    Centers,
    /// kwimage / cv2 `fillPoly`.
    Cv2,
}

/// Build a sampler from the common dataset/backend arguments: on the
/// dataset's snapshot under the workdir (`ndsampler index`) when one matches
/// the JSON's content, else on the JSON.
pub fn open_sampler(
    dataset: &super::DatasetArg,
    backend: &super::BackendArg,
) -> Result<CocoSampler> {
    let path = &dataset.dataset;
    let bundle = super::index::bundle_dir(path)?;
    let config = backend.sampler_config(&bundle);
    CocoSampler::open_with(path, config)
        .with_context(|| format!("loading dataset {}", path.display()))
}

/// `--with-annots`: `boxes+segmentation+keypoints` (any subset) or `none`.
fn parse_with_annots(s: &str) -> Result<WithAnnots, String> {
    WithAnnots::parse(s).map_err(|e| e.to_string())
}

pub fn run(args: SampleArgs) -> Result<ExitCode> {
    let target = super::parse_target(&args.target)?;
    let sampler = open_sampler(&args.dataset, &args.backend)?;
    let opts = SampleOptions {
        visible_thresh: args.visible_thresh,
        with_annots: args.with_annots,
        annot_ids: args.annot_ids.clone(),
        clip: args.clip,
        skip_pixels: false,
    };
    let sample = sampler.load_sample_with(&target, &opts)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    sample.im.write_npy(&args.out.join("im.npy"))?;
    // Native-resolution parts (`use_native_scale`): one file per frame and part.
    for (t, parts) in sample.native.iter().flatten().enumerate() {
        for (k, part) in parts.iter().enumerate() {
            part.im
                .write_npy(&args.out.join(format!("part_{t}_{k}.npy")))?;
        }
    }
    let mut json = sample.to_json();
    if !args.masks.is_empty() {
        let masks = write_masks(&args, &sample)?;
        if let Some(obj) = json.as_object_mut() {
            obj.insert("masks".into(), masks);
        }
    }
    let json = serde_json::to_string_pretty(&json)?;
    let path = args.out.join("sample.json");
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    let nannots: usize = sample.frames.iter().map(|f| f.annots.len()).sum();
    eprintln!(
        "sample: shape {:?} {} with {} annotation(s) → {}",
        sample.im.shape(),
        sample.im.dtype().name(),
        nannots,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_npy<T: WriteNpyExt + ?Sized>(a: &T, path: &std::path::Path) -> Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    a.write_npy(std::io::BufWriter::new(f))
        .with_context(|| format!("writing {}", path.display()))
}

/// The `--masks` files; returns the `masks` entry of `sample.json`.
fn write_masks(args: &SampleArgs, sample: &Sample) -> Result<serde_json::Value> {
    let opts = MaskOptions {
        fill: match args.mask_fill {
            FillArg::Centers => coco_model::geometry::FillRule::Centers,
            FillArg::Cv2 => coco_model::geometry::FillRule::Cv2Points,
        },
        ignore_value: args.ignore_value,
        ignore_padding: args.ignore_padding,
        ignore_category_ids: args.ignore_categories.clone(),
        // masks are bounded like the sample's pixels (--max-sample-mb)
        max_bytes: args.backend.max_sample_mb.saturating_mul(1 << 20),
        ..MaskOptions::default()
    };
    let mut out = serde_json::Map::new();
    let mut kinds = args.masks.clone();
    kinds.sort_by_key(|k| *k as u8);
    kinds.dedup();
    let mut instances = None;
    for kind in kinds {
        match kind {
            MaskKind::Class => {
                write_npy(&sample.class_mask(&opts)?, &args.out.join("class_mask.npy"))?;
                out.insert("class".into(), "class_mask.npy".into());
            }
            MaskKind::Instance | MaskKind::InstancePacked => {
                if instances.is_none() {
                    instances = Some(sample.instance_masks(&opts)?);
                }
                let Some(inst) = instances.as_ref() else {
                    continue;
                };
                let (key, file) = if kind == MaskKind::Instance {
                    write_npy(&inst.masks, &args.out.join("instance_masks.npy"))?;
                    ("instances", "instance_masks.npy")
                } else {
                    write_npy(&inst.packed(), &args.out.join("instance_masks_packed.npy"))?;
                    ("instances_packed", "instance_masks_packed.npy")
                };
                out.insert(
                    key.into(),
                    serde_json::json!({
                        "file": file,
                        "ids": inst.ids,
                        "category_ids": inst.category_ids,
                        "frames": inst.frames,
                        "width": inst.masks.dim().2,
                    }),
                );
            }
            MaskKind::Heatmap => {
                let hopts = HeatmapOptions {
                    keypoint_category_ids: args.heatmap_categories.clone(),
                    max_bytes: opts.max_bytes,
                    ..HeatmapOptions::new(args.heatmap_sigma)
                };
                write_npy(
                    &sample.keypoint_heatmaps(&hopts)?,
                    &args.out.join("heatmaps.npy"),
                )?;
                out.insert(
                    "heatmaps".into(),
                    serde_json::json!({
                        "file": "heatmaps.npy",
                        "sigma": args.heatmap_sigma,
                        "keypoint_category_ids": args.heatmap_categories,
                    }),
                );
            }
        }
    }
    Ok(serde_json::Value::Object(out))
}
