//! [`CocoDataset::validate`]: structured diagnostics naming the record and field.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;

use serde::Serialize;

use crate::dataset::CocoDataset;
use crate::ids::{ImageId, VideoId};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Suspicious but usable (e.g. an annotation without a category).
    Warning,
    /// The dataset is invalid (dangling reference, duplicate id, bad geometry, missing file…).
    Error,
}

/// What kind of problem a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Two records of a table share an id.
    DuplicateId,
    /// Two records share a name that must be unique.
    DuplicateName,
    /// A reference to a record that does not exist.
    DanglingReference,
    /// A required value is absent (e.g. `frame_index` of a video frame).
    MissingField,
    /// A value does not parse or is out of range (geometry, warp, channels, bbox).
    BadValue,
    /// A file named by the dataset does not exist.
    MissingFile,
}

/// One finding of [`CocoDataset::validate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The kind of problem.
    pub problem: Problem,
    /// The table of the record.
    pub table: &'static str,
    /// The record's id (for assets: the image id).
    pub id: Option<String>,
    /// The field at fault.
    pub field: Option<String>,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // echoed values (a 50 MB file name) are cut to a readable length
        use crate::text::{shorten, shorten_words};
        write!(f, "{sev}: {}", self.table)?;
        if let Some(id) = &self.id {
            write!(f, " id {}", shorten(id, 80))?;
        }
        if let Some(field) = &self.field {
            write!(f, " field `{}`", shorten(field, 80))?;
        }
        write!(f, ": {}", shorten_words(&self.message, 200, 1000))
    }
}

/// What [`CocoDataset::validate_with`] checks besides structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Check that every referenced file exists.
    pub check_files: bool,
    /// Parse every segmentation, keypoints, warp and channel code.
    pub check_geometry: bool,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            check_files: true,
            check_geometry: true,
        }
    }
}

/// The findings of a validation, in a deterministic order (by check, then table order).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValidationReport {
    /// Every finding.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValidationReport {
    /// Whether no finding is an error.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

struct Out(Vec<Diagnostic>);

impl Out {
    fn push(
        &mut self,
        severity: Severity,
        problem: Problem,
        table: &'static str,
        id: Option<String>,
        field: Option<&str>,
        message: String,
    ) {
        self.0.push(Diagnostic {
            severity,
            problem,
            table,
            id,
            field: field.map(str::to_owned),
            message,
        });
    }
}

fn duplicates<K: Hash + Eq + Clone>(keys: impl Iterator<Item = K>) -> Vec<(K, usize)> {
    let mut count: HashMap<K, usize> = HashMap::new();
    let mut order = Vec::new();
    for k in keys {
        let c = count.entry(k.clone()).or_insert(0);
        *c += 1;
        if *c == 2 {
            order.push(k);
        }
    }
    order.into_iter().map(|k| (k.clone(), count[&k])).collect()
}

impl CocoDataset {
    /// Validates with every check ([`ValidateOptions::default`]).
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// use coco_model::validate::{Problem, ValidateOptions};
    /// let ds = CocoDataset::from_json_str(r#"{"images": [{"id": 1, "file_name": "a.png"}],
    ///   "annotations": [{"id": 1, "image_id": 2, "bbox": [0, 0, -1, 3]}]}"#, ".").unwrap();
    /// let report = ds.validate_with(ValidateOptions { check_files: false, check_geometry: true });
    /// assert!(!report.is_valid());
    /// let d = report.errors().find(|d| d.problem == Problem::DanglingReference).unwrap();
    /// assert_eq!(d.to_string(), "error: annotations id 1 field `image_id`: image 2 does not exist");
    /// ```
    pub fn validate(&self) -> ValidationReport {
        self.validate_with(ValidateOptions::default())
    }

    /// Validates with the given checks. Diagnostics come in a fixed order:
    /// duplicate ids, duplicate names, categories, images, annotations, files,
    /// empty sizes, then (with `check_geometry`) singular warps and keypoint
    /// categories.
    pub fn validate_with(&self, opts: ValidateOptions) -> ValidationReport {
        let mut out = Out(Vec::new());
        self.check_duplicate_ids(&mut out);
        self.check_duplicate_names(&mut out);
        self.check_categories(&mut out);
        self.check_images(opts, &mut out);
        self.check_annotations(opts, &mut out);
        if opts.check_files {
            self.check_files(&mut out);
        }
        self.check_zero_sizes(&mut out);
        if opts.check_geometry {
            self.check_warps_invertible(&mut out);
            self.check_keypoint_categories(&mut out);
        }
        ValidationReport { diagnostics: out.0 }
    }

    /// Ids used by more than one record of a table.
    fn check_duplicate_ids(&self, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        macro_rules! dup_ids {
            ($tbl:expr, $name:literal) => {
                for (id, n) in duplicates($tbl.iter().map(|r| r.id.clone())) {
                    out.push(
                        Error,
                        DuplicateId,
                        $name,
                        Some(id.to_string()),
                        Some("id"),
                        format!("id used by {n} records"),
                    );
                }
            };
        }
        dup_ids!(self.categories, "categories");
        dup_ids!(self.keypoint_categories, "keypoint_categories");
        dup_ids!(self.videos, "videos");
        dup_ids!(self.images, "images");
        dup_ids!(self.tracks, "tracks");
        dup_ids!(self.annotations, "annotations");
        dup_ids!(self.annotations, "annotations");
    }

    /// Names (and image file names) used by more than one record of a table.
    fn check_duplicate_names(&self, out: &mut Out) {
        use Severity::*;
        push_duplicate_names(
            out,
            "categories",
            "name",
            Error,
            self.categories
                .iter()
                .map(|c| (c.name.as_str(), c.id.to_string()))
                .collect(),
        );
        push_duplicate_names(
            out,
            "keypoint_categories",
            "name",
            Error,
            self.keypoint_categories
                .iter()
                .map(|c| (c.name.as_str(), c.id.to_string()))
                .collect(),
        );
        push_duplicate_names(
            out,
            "videos",
            "name",
            Error,
            self.videos
                .iter()
                .filter_map(|v| Some((v.name.as_deref()?, v.id.to_string())))
                .collect(),
        );
        push_duplicate_names(
            out,
            "images",
            "name",
            Error,
            self.images
                .iter()
                .filter_map(|g| Some((g.name.as_deref()?, g.id.to_string())))
                .collect(),
        );
        push_duplicate_names(
            out,
            "images",
            "file_name",
            Warning,
            self.images
                .iter()
                .filter_map(|g| Some((g.file_name.as_deref()?, g.id.to_string())))
                .collect(),
        );
        push_duplicate_names(
            out,
            "tracks",
            "name",
            Error,
            self.tracks
                .iter()
                .filter_map(|t| Some((t.name.as_deref()?, t.id.to_string())))
                .collect(),
        );
    }

    /// Supercategories and keypoint reflections that name nothing.
    fn check_categories(&self, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let cat_names: HashSet<&str> = self.categories.iter().map(|c| c.name.as_str()).collect();
        for c in &self.categories {
            if let Some(s) = &c.supercategory
                && !cat_names.contains(s.as_str())
            {
                out.push(
                    Warning,
                    DanglingReference,
                    "categories",
                    Some(c.id.to_string()),
                    Some("supercategory"),
                    format!("supercategory {s:?} is not a category"),
                );
            }
        }
        for k in &self.keypoint_categories {
            if let Some(r) = k.reflection_id
                && self.keypoint_category(r).is_none()
            {
                out.push(
                    Error,
                    DanglingReference,
                    "keypoint_categories",
                    Some(k.id.to_string()),
                    Some("reflection_id"),
                    format!("keypoint category {r} does not exist"),
                );
            }
        }
    }

    /// Per-image references, required fields and (with `check_geometry`) warps
    /// and channel codes; then frames of one video sharing a `frame_index`.
    fn check_images(&self, opts: ValidateOptions, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let mut frames: HashMap<(VideoId, i64), Vec<ImageId>> = HashMap::new();
        for g in &self.images {
            let id = Some(g.id.to_string());
            if let Some(v) = g.video_id {
                if self.video(v).is_none() {
                    out.push(
                        Error,
                        DanglingReference,
                        "images",
                        id.clone(),
                        Some("video_id"),
                        format!("video {v} does not exist"),
                    );
                }
                match g.frame_index {
                    None => out.push(
                        Error,
                        MissingField,
                        "images",
                        id.clone(),
                        Some("frame_index"),
                        format!("frame of video {v} has no frame_index"),
                    ),
                    Some(fi) => frames.entry((v, fi)).or_default().push(g.id),
                }
            }
            check_image_fields(g, out);
            if opts.check_geometry {
                self.check_image_geometry(g, out);
            }
        }
        check_frame_indexes(frames, out);
    }

    /// An image's `warp_img_to_vid`, channel codes and asset warps parse.
    fn check_image_geometry(&self, g: &crate::Image, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let id = Some(g.id.to_string());
        let mut bad = |field: &str, msg: String| {
            out.push(Error, BadValue, "images", id.clone(), Some(field), msg)
        };
        if g.warp_img_to_vid.is_some()
            && let Err(e) = g.warp_img_to_vid()
        {
            bad("warp_img_to_vid", field_message(&e));
        }
        if let Some(ch) = &g.channels
            && let Err(e) = crate::channels::ChannelSpec::parse(ch)
        {
            bad("channels", e.to_string());
        }
        for (i, a) in g.assets().iter().enumerate() {
            if a.warp_aux_to_img.is_some()
                && let Err(e) = a.warp_aux_to_img()
            {
                bad(&format!("assets[{i}].warp_aux_to_img"), field_message(&e));
            }
            if let Some(ch) = &a.channels
                && let Err(e) = crate::channels::ChannelSpec::parse(ch)
            {
                bad(&format!("assets[{i}].channels"), e.to_string());
            }
        }
    }

    /// Per-annotation references, boxes and (with `check_geometry`) geometry.
    fn check_annotations(&self, opts: ValidateOptions, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let has_tracks = !self.tracks.is_empty();
        for a in &self.annotations {
            let id = Some(a.id.to_string());
            if self.image(a.image_id).is_none() {
                out.push(
                    Error,
                    DanglingReference,
                    "annotations",
                    id.clone(),
                    Some("image_id"),
                    format!("image {} does not exist", a.image_id),
                );
            }
            match a.category_id {
                Some(c) if self.category(c).is_none() => {
                    out.push(
                        Error,
                        DanglingReference,
                        "annotations",
                        id.clone(),
                        Some("category_id"),
                        format!("category {c} does not exist"),
                    );
                }
                None => out.push(
                    Warning,
                    MissingField,
                    "annotations",
                    id.clone(),
                    Some("category_id"),
                    "annotation has no category".into(),
                ),
                _ => {}
            }
            if has_tracks
                && let Some(t) = a.track_id()
                && self.track(t).is_none()
            {
                out.push(
                    Error,
                    DanglingReference,
                    "annotations",
                    id.clone(),
                    Some("track_id"),
                    format!("track {t} is not in the tracks table"),
                );
            }
            if let Some(b) = &a.bbox
                && (b.iter().any(|x| !x.is_finite()) || b[2] < 0.0 || b[3] < 0.0)
            {
                out.push(
                    Error,
                    BadValue,
                    "annotations",
                    id.clone(),
                    Some("bbox"),
                    format!("bbox {b:?} must be finite with non-negative width and height"),
                );
            }
            if opts.check_geometry {
                a.check_geometry_into(out);
            }
        }
    }

    /// Files of images and assets that do not exist (each path checked once).
    fn check_files(&self, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let mut seen: HashSet<std::path::PathBuf> = HashSet::new();
        for g in &self.images {
            for src in g.channel_sources() {
                let p = self.resolve_path(src.file_name);
                if seen.insert(p.clone()) && !p.exists() {
                    let field = match src.asset_index {
                        Some(i) => format!("assets[{i}].file_name"),
                        None => "file_name".into(),
                    };
                    out.push(
                        Error,
                        MissingFile,
                        "images",
                        Some(g.id.to_string()),
                        Some(&field),
                        format!("file {} does not exist", p.display()),
                    );
                }
            }
        }
    }
}

impl crate::Annotation {
    /// An annotation's segmentation and keypoints parse.
    fn check_geometry_into(&self, out: &mut Out) {
        use Problem::*;
        use Severity::*;
        let a = self;
        let id = Some(a.id.to_string());
        if let Err(e) = a.parse_segmentation() {
            out.push(
                Error,
                BadValue,
                "annotations",
                id.clone(),
                Some("segmentation"),
                field_message(&e),
            );
        }
        if let Err(e) = a.parse_keypoints() {
            out.push(
                Error,
                BadValue,
                "annotations",
                id.clone(),
                Some("keypoints"),
                field_message(&e),
            );
        }
    }
}

/// An image's own required fields: a file (or assets, each with a file), and
/// its size.
fn check_image_fields(g: &crate::Image, out: &mut Out) {
    use Problem::*;
    use Severity::*;
    let id = Some(g.id.to_string());
    if g.file_name.is_none() && g.assets().is_empty() {
        out.push(
            Error,
            MissingField,
            "images",
            id.clone(),
            Some("file_name"),
            "image has neither a file_name nor assets".into(),
        );
    }
    if g.width.is_none() || g.height.is_none() {
        out.push(
            Warning,
            MissingField,
            "images",
            id.clone(),
            Some("width"),
            "image has no width/height".into(),
        );
    }
    for (i, a) in g.assets().iter().enumerate() {
        if a.file_name.is_none() {
            out.push(
                Error,
                MissingField,
                "images",
                id.clone(),
                Some(&format!("assets[{i}].file_name")),
                "asset has no file_name".into(),
            );
        }
    }
}

/// Frames of one video that share a `frame_index`, in (video, index) order.
fn check_frame_indexes(frames: HashMap<(VideoId, i64), Vec<ImageId>>, out: &mut Out) {
    use Problem::*;
    use Severity::*;
    let mut dups: Vec<_> = frames.into_iter().filter(|(_, g)| g.len() > 1).collect();
    dups.sort();
    for ((v, fi), gids) in dups {
        out.push(
            Error,
            DuplicateId,
            "images",
            Some(gids[0].to_string()),
            Some("frame_index"),
            format!(
                "images {} share frame_index {fi} of video {v}",
                gids.iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// One diagnostic per name that more than one record of `table` uses in
/// `field`; `names` pairs each name with its record's id.
fn push_duplicate_names(
    out: &mut Out,
    table: &'static str,
    field: &str,
    sev: Severity,
    names: Vec<(&str, String)>,
) {
    let by_name = names.iter().map(|(n, _)| *n);
    for (name, n) in duplicates(by_name) {
        let ids: Vec<&str> = names
            .iter()
            .filter(|(m, _)| *m == name)
            .map(|(_, id)| id.as_str())
            .collect();
        out.push(
            sev,
            Problem::DuplicateName,
            table,
            Some(ids[0].to_owned()),
            Some(field),
            format!(
                "{field} {name:?} is used by {n} records (ids {})",
                ids.join(", ")
            ),
        );
    }
}

impl CocoDataset {
    /// Errors for images, assets and videos whose `width` or `height` is 0: no
    /// window can be read from them.
    fn check_zero_sizes(&self, out: &mut Out) {
        let zero = |w: Option<u32>, h: Option<u32>| w == Some(0) || h == Some(0);
        let msg = |what: &str, w: Option<u32>, h: Option<u32>| {
            let show = |v: Option<u32>| v.map_or("?".to_owned(), |v| v.to_string());
            format!(
                "{what} size {}x{} is empty (width and height must be at least 1)",
                show(w),
                show(h)
            )
        };
        for v in &self.videos {
            if zero(v.width, v.height) {
                let m = msg("video", v.width, v.height);
                out.push(
                    Severity::Error,
                    Problem::BadValue,
                    "videos",
                    Some(v.id.to_string()),
                    Some("width"),
                    m,
                );
            }
        }
        for g in &self.images {
            if zero(g.width, g.height) {
                let m = msg("image", g.width, g.height);
                out.push(
                    Severity::Error,
                    Problem::BadValue,
                    "images",
                    Some(g.id.to_string()),
                    Some("width"),
                    m,
                );
            }
            for (i, a) in g.assets().iter().enumerate() {
                if zero(a.width, a.height) {
                    let field = format!("assets[{i}].width");
                    let m = msg("asset", a.width, a.height);
                    out.push(
                        Severity::Error,
                        Problem::BadValue,
                        "images",
                        Some(g.id.to_string()),
                        Some(&field),
                        m,
                    );
                }
            }
        }
    }

    /// Errors for warps that parse but cannot be used: singular (`scale 0`) or
    /// with a non-finite determinant or inverse (`scale 1e308`). Sampling maps
    /// windows through the inverse, so such a frame could never be sampled.
    fn check_warps_invertible(&self, out: &mut Out) {
        for g in &self.images {
            let id = Some(g.id.to_string());
            if g.warp_img_to_vid.is_some()
                && let Ok(w) = g.warp_img_to_vid()
                && let Some(m) = unusable_warp(&w)
            {
                out.push(
                    Severity::Error,
                    Problem::BadValue,
                    "images",
                    id.clone(),
                    Some("warp_img_to_vid"),
                    m,
                );
            }
            for (i, a) in g.assets().iter().enumerate() {
                if a.warp_aux_to_img.is_some()
                    && let Ok(w) = a.warp_aux_to_img()
                    && let Some(m) = unusable_warp(&w)
                {
                    let field = format!("assets[{i}].warp_aux_to_img");
                    out.push(
                        Severity::Error,
                        Problem::BadValue,
                        "images",
                        id.clone(),
                        Some(&field),
                        m,
                    );
                }
            }
        }
    }

    /// Errors for keypoints naming a keypoint category (by `keypoint_category_id`
    /// or `keypoint_category` name) that is not in `keypoint_categories`.
    fn check_keypoint_categories(&self, out: &mut Out) {
        for a in &self.annotations {
            let Ok(Some(kps)) = a.parse_keypoints() else {
                continue;
            };
            for (i, p) in kps.points.iter().enumerate() {
                let missing = if let Some(k) = p.category_id {
                    self.keypoint_category(crate::ids::KeypointCategoryId(k))
                        .is_none()
                        .then(|| {
                            format!(
                                "keypoint {i} names keypoint category {k}, which does not exist"
                            )
                        })
                } else if let Some(crate::json::Decoded::Str(name)) = p
                    .extra
                    .get("keypoint_category")
                    .and_then(|v| v.as_str())
                    .map(crate::json::decode_str)
                {
                    self.resolve_keypoint_category(name).is_none().then(|| {
                        format!(
                            "keypoint {i} names keypoint category {name:?}, which does not exist"
                        )
                    })
                } else {
                    None
                };
                if let Some(m) = missing {
                    out.push(
                        Severity::Error,
                        Problem::DanglingReference,
                        "annotations",
                        Some(a.id.to_string()),
                        Some("keypoints"),
                        m,
                    );
                    break;
                }
            }
        }
    }
}

/// Why a parsed warp cannot be used (singular, or a non-finite determinant or
/// inverse), or `None` when it is usable.
fn unusable_warp(w: &crate::geometry::Affine) -> Option<String> {
    let det = w.det();
    match w.inverse() {
        Ok(inv) if det.is_finite() && inv.is_finite() => None,
        _ => Some(format!(
            "transform is singular or not finite (determinant {det:e}); windows cannot be mapped through it"
        )),
    }
}

/// The message of a field error without its table/id/field prefix (the
/// diagnostic carries those).
fn field_message(e: &crate::Error) -> String {
    match e {
        crate::Error::Field { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_FILES: ValidateOptions = ValidateOptions {
        check_files: false,
        check_geometry: true,
    };

    fn errors_of(text: &str) -> Vec<String> {
        let ds = CocoDataset::from_json_str(text, ".").unwrap();
        ds.validate_with(NO_FILES)
            .errors()
            .map(|d| d.to_string())
            .collect()
    }

    fn one_error(text: &str, expected: &str) {
        let errs = errors_of(text);
        assert!(
            errs.iter().any(|e| e.contains(expected)),
            "expected an error containing {expected:?}, got {errs:?}"
        );
    }

    #[test]
    fn a_clean_video_dataset_has_no_errors() {
        let text = r#"{"videos": [{"id": 1, "width": 8, "height": 8}],
            "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8, "video_id": 1, "frame_index": 0,
                        "warp_img_to_vid": {"type": "affine", "scale": 2}},
                       {"id": 2, "file_name": "b.png", "width": 8, "height": 8, "video_id": 1, "frame_index": 1}],
            "categories": [{"id": 1, "name": "c"}], "keypoint_categories": [{"id": 1, "name": "k"}],
            "tracks": [{"id": 1}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "track_id": 1,
                             "keypoints": [{"xy": [1, 2], "keypoint_category_id": 1}, {"xy": [1, 2], "keypoint_category": "k"}]}]}"#;
        assert_eq!(errors_of(text), Vec::<String>::new());
    }

    #[test]
    fn singular_and_non_finite_warps_are_errors() {
        for scale in ["0", "1e308", "[1, 0]", "1e-320"] {
            let text = format!(
                r#"{{"images": [{{"id": 1, "file_name": "a.png", "warp_img_to_vid": {{"type": "affine", "scale": {scale}}}}},
                {{"id": 2, "assets": [{{"file_name": "b.tif", "warp_aux_to_img": {{"type": "affine", "scale": {scale}}}}}]}}]}}"#
            );
            one_error(
                &text,
                "images id 1 field `warp_img_to_vid`: transform is singular",
            );
            one_error(
                &text,
                "images id 2 field `assets[0].warp_aux_to_img`: transform is singular",
            );
        }
    }

    #[test]
    fn keypoints_naming_a_missing_keypoint_category_are_errors() {
        let base = r#"{"images": [{"id": 1, "file_name": "a.png"}], "keypoint_categories": [{"id": 1, "name": "k"}],
            "annotations": [{"id": 5, "image_id": 1, "category_id": null, "keypoints": KP}]}"#;
        one_error(
            &base.replace("KP", r#"[{"xy": [1, 2], "keypoint_category_id": 7}]"#),
            "annotations id 5 field `keypoints`: keypoint 0 names keypoint category 7",
        );
        one_error(
            &base.replace("KP", r#"[{"xy": [1, 2], "keypoint_category_id": 1}, {"xy": [1, 2], "keypoint_category": "nose"}]"#),
            "keypoint 1 names keypoint category \"nose\"",
        );
    }

    #[test]
    fn a_missing_track_is_an_error() {
        one_error(
            r#"{"images": [{"id": 1, "file_name": "a.png"}], "tracks": [{"id": 1}],
                "annotations": [{"id": 3, "image_id": 1, "track_id": 2}]}"#,
            "annotations id 3 field `track_id`: track 2",
        );
    }

    #[test]
    fn a_duplicate_frame_index_is_an_error() {
        one_error(
            r#"{"videos": [{"id": 1}], "images": [
                {"id": 1, "file_name": "a.png", "video_id": 1, "frame_index": 0},
                {"id": 2, "file_name": "b.png", "video_id": 1, "frame_index": 0}]}"#,
            "images 1, 2 share frame_index 0 of video 1",
        );
    }

    #[test]
    fn empty_sizes_are_errors() {
        let text = r#"{"videos": [{"id": 1, "width": 0, "height": 0}], "images": [
            {"id": 1, "file_name": "a.png", "width": 0, "height": 0, "video_id": 1, "frame_index": 0},
            {"id": 2, "file_name": "a.png", "width": 5, "height": 0},
            {"id": 3, "assets": [{"file_name": "b.tif", "width": 0, "height": 3}]}]}"#;
        one_error(text, "videos id 1 field `width`: video size 0x0 is empty");
        one_error(text, "images id 1 field `width`: image size 0x0 is empty");
        one_error(text, "images id 2 field `width`: image size 5x0 is empty");
        one_error(
            text,
            "images id 3 field `assets[0].width`: asset size 0x3 is empty",
        );
    }
}
