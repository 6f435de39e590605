//! [`CocoDataset::stats`]: counts, per-category frequencies, box size summaries.

use std::fmt;

use serde::Serialize;

use crate::dataset::CocoDataset;

/// Longest category name printed in full by the report ([`Stats`]'s `Display`).
const NAME_COLUMN: usize = 60;

/// Summary statistics of a list of numbers (all zero when empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// How many values.
    pub count: usize,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Median (mean of the two middle values for an even count).
    pub median: f64,
}

impl Summary {
    /// Summarises `values` (non-finite values are skipped).
    ///
    /// ```
    /// let s = coco_model::stats::Summary::of([1.0, 2.0, 3.0, 10.0, f64::NAN]);
    /// assert_eq!((s.count, s.min, s.max, s.mean, s.median), (4, 1.0, 10.0, 4.0, 2.5));
    /// ```
    pub fn of(values: impl IntoIterator<Item = f64>) -> Summary {
        Self::of_in(values, &mut Vec::new())
    }

    /// [`Summary::of`] with `scratch` as its working buffer (cleared first):
    /// several summaries of a million values reuse one allocation.
    fn of_in(values: impl IntoIterator<Item = f64>, scratch: &mut Vec<f64>) -> Summary {
        scratch.clear();
        scratch.extend(values.into_iter().filter(|x| x.is_finite()));
        let v = scratch;
        if v.is_empty() {
            return Summary::default();
        }
        let n = v.len();
        let (min, max) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        // selection, not a sort: linear time on a million boxes
        let (below, &mut mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
        let median = if n % 2 == 1 {
            mid
        } else {
            // the largest value below the middle one
            let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lower + mid) / 2.0
        };
        Summary {
            count: n,
            min,
            max,
            mean,
            std: var.sqrt(),
            median,
        }
    }
}

/// Per-category counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryFreq {
    /// Category id.
    pub id: i64,
    /// Category name.
    pub name: String,
    /// Number of annotations.
    pub annotations: usize,
    /// Number of distinct images with at least one such annotation.
    pub images: usize,
}

/// Dataset statistics; `Display` prints a readable report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Number of categories.
    pub categories: usize,
    /// Number of keypoint categories.
    pub keypoint_categories: usize,
    /// Number of videos.
    pub videos: usize,
    /// Number of images.
    pub images: usize,
    /// Number of assets over all images.
    pub assets: usize,
    /// Number of tracks (records of the tracks table).
    pub tracks: usize,
    /// Number of annotations.
    pub annotations: usize,
    /// Annotations with a segmentation.
    pub with_segmentation: usize,
    /// Annotations with keypoints.
    pub with_keypoints: usize,
    /// Annotations without a category.
    pub uncategorized: usize,
    /// Images without annotations.
    pub images_without_annotations: usize,
    /// Annotations per image.
    pub annots_per_image: Summary,
    /// Frames per video.
    pub frames_per_video: Summary,
    /// Box widths (pixels).
    pub box_width: Summary,
    /// Box heights (pixels).
    pub box_height: Summary,
    /// Box areas `w * h` (pixels²).
    pub box_area: Summary,
    /// Image widths.
    pub image_width: Summary,
    /// Image heights.
    pub image_height: Summary,
    /// Per-category frequencies, in category table order.
    pub per_category: Vec<CategoryFreq>,
}

impl CocoDataset {
    /// Computes [`Stats`].
    ///
    /// ```
    /// use coco_model::CocoDataset;
    /// let ds = CocoDataset::from_json_str(r#"{"categories": [{"id": 1, "name": "a"}],
    ///   "images": [{"id": 1}, {"id": 2}],
    ///   "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 3]}]}"#, ".").unwrap();
    /// let s = ds.stats();
    /// assert_eq!((s.images, s.annotations, s.images_without_annotations), (2, 1, 1));
    /// assert_eq!(s.per_category[0].annotations, 1);
    /// assert_eq!(s.box_area.mean, 6.0);
    /// ```
    pub fn stats(&self) -> Stats {
        // one pass over images: distinct categories per image (small scratch)
        let mut images_per_cat: std::collections::HashMap<crate::CategoryId, usize> =
            Default::default();
        let mut scratch: Vec<crate::CategoryId> = Vec::new();
        for g in &self.images {
            scratch.clear();
            scratch.extend(self.image_annotations(g.id).filter_map(|a| a.category_id));
            scratch.sort_unstable();
            scratch.dedup();
            for c in &scratch {
                *images_per_cat.entry(*c).or_default() += 1;
            }
        }
        let per_category = self
            .categories
            .iter()
            .map(|c| CategoryFreq {
                id: c.id.0,
                name: c.name.clone(),
                annotations: self.annots_of_category(c.id).len(),
                images: images_per_cat.get(&c.id).copied().unwrap_or(0),
            })
            .collect();
        let boxes = || self.annotations.iter().filter_map(|a| a.bbox);
        // one working buffer for every summary
        let mut scratch = Vec::new();
        Stats {
            categories: self.categories.len(),
            keypoint_categories: self.keypoint_categories.len(),
            videos: self.videos.len(),
            images: self.images.len(),
            assets: self.images.iter().map(|g| g.assets().len()).sum(),
            tracks: self.tracks.len(),
            annotations: self.annotations.len(),
            with_segmentation: self
                .annotations
                .iter()
                .filter(|a| a.segmentation.as_deref().is_some_and(|r| r.get() != "null"))
                .count(),
            with_keypoints: self
                .annotations
                .iter()
                .filter(|a| a.keypoints().is_some_and(|r| r.get() != "null"))
                .count(),
            uncategorized: self
                .annotations
                .iter()
                .filter(|a| a.category_id.is_none())
                .count(),
            images_without_annotations: self
                .images
                .iter()
                .filter(|g| self.annots_of_image(g.id).is_empty())
                .count(),
            annots_per_image: Summary::of_in(
                self.images
                    .iter()
                    .map(|g| self.annots_of_image(g.id).len() as f64),
                &mut scratch,
            ),
            frames_per_video: Summary::of_in(
                self.videos
                    .iter()
                    .map(|v| self.images_of_video(v.id).len() as f64),
                &mut scratch,
            ),
            box_width: Summary::of_in(boxes().map(|b| b[2]), &mut scratch),
            box_height: Summary::of_in(boxes().map(|b| b[3]), &mut scratch),
            box_area: Summary::of_in(boxes().map(|b| b[2] * b[3]), &mut scratch),
            image_width: Summary::of_in(
                self.images.iter().filter_map(|g| g.width.map(f64::from)),
                &mut scratch,
            ),
            image_height: Summary::of_in(
                self.images.iter().filter_map(|g| g.height.map(f64::from)),
                &mut scratch,
            ),
            per_category,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count == 0 {
            return f.write_str("n=0");
        }
        write!(
            f,
            "n={} min={} max={} mean={:.2} std={:.2} median={}",
            self.count, self.min, self.max, self.mean, self.std, self.median
        )
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "categories:          {}", self.categories)?;
        writeln!(f, "keypoint categories: {}", self.keypoint_categories)?;
        writeln!(f, "videos:              {}", self.videos)?;
        writeln!(f, "images:              {}", self.images)?;
        writeln!(f, "assets:              {}", self.assets)?;
        writeln!(f, "tracks:              {}", self.tracks)?;
        writeln!(f, "annotations:         {}", self.annotations)?;
        writeln!(f, "  with segmentation: {}", self.with_segmentation)?;
        writeln!(f, "  with keypoints:    {}", self.with_keypoints)?;
        writeln!(f, "  uncategorized:     {}", self.uncategorized)?;
        writeln!(
            f,
            "images without annotations: {}",
            self.images_without_annotations
        )?;
        writeln!(f, "annotations per image: {}", self.annots_per_image)?;
        if self.videos > 0 {
            writeln!(f, "frames per video:      {}", self.frames_per_video)?;
        }
        writeln!(f, "image width:  {}", self.image_width)?;
        writeln!(f, "image height: {}", self.image_height)?;
        writeln!(f, "box width:    {}", self.box_width)?;
        writeln!(f, "box height:   {}", self.box_height)?;
        writeln!(f, "box area:     {}", self.box_area)?;
        if !self.per_category.is_empty() {
            // names are cut to NAME_COLUMN characters: a width from the data
            // could exceed what `format!` accepts (65,535) and makes no table
            let name = |c: &CategoryFreq| crate::text::shorten(&c.name, NAME_COLUMN).into_owned();
            let w = self
                .per_category
                .iter()
                .map(|c| name(c).chars().count())
                .max()
                .unwrap_or(4)
                .clamp(8, NAME_COLUMN + 30);
            writeln!(f, "per category:")?;
            writeln!(
                f,
                "  {:>6}  {:<w$}  {:>11}  {:>7}",
                "id", "name", "annotations", "images"
            )?;
            for c in &self.per_category {
                writeln!(
                    f,
                    "  {:>6}  {:<w$}  {:>11}  {:>7}",
                    c.id,
                    name(c),
                    c.annotations,
                    c.images
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn a_huge_category_name_is_cut_in_the_report() {
        let name = "n".repeat(65_536);
        let text = format!(
            r#"{{"categories": [{{"id": 1, "name": "{name}"}}, {{"id": 2, "name": "b"}}]}}"#
        );
        let ds = CocoDataset::from_json_str(&text, ".").unwrap();
        let report = ds.stats().to_string();
        assert!(report.contains("(65536 chars)"), "{report}");
        assert!(report.lines().all(|l| l.chars().count() < 200), "{report}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The selection-based summary equals the one from a full sort.
        #[test]
        fn summary_matches_a_sorted_summary(
            values in proptest::collection::vec(
                prop_oneof![-1e6f64..1e6, Just(f64::NAN), Just(3.0), Just(-2.5)], 0..200),
        ) {
            let s = Summary::of(values.iter().copied());
            let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
            prop_assert_eq!(s.count, v.len());
            if v.is_empty() {
                prop_assert_eq!(s, Summary::default());
                return Ok(());
            }
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
            prop_assert_eq!((s.min, s.max, s.median), (v[0], v[n - 1], median));
            let mean = v.iter().sum::<f64>() / n as f64;
            prop_assert!((s.mean - mean).abs() <= 1e-9 * (1.0 + mean.abs()));
        }
    }
}
