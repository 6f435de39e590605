//! Negative mining: random windows that overlap no indexed box by more than a threshold.
//!
//! Follows the reference's `FrameIntersectionIndex.random_negatives`: a candidate window is
//! drawn on a random frame with a random size, placed uniformly so that it lies inside the
//! frame, and kept when every box touching it covers less than `thresh` of the window's area.
//! Differences, on purpose: windows always have exactly the requested size (the reference's
//! are one pixel too large for absolute sizes), the random stream is a seeded ChaCha8 (same
//! seed → same windows on every platform), a frame too small for a window size is never
//! drawn for it (instead of silently wasting the draw), and the patience is counted in
//! candidates, not wall-clock time.

use std::fmt::Debug;
use std::hash::Hash;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Aabb, Error, RegionIndex};

/// Default [`NegativeConfig::patience`]: consecutive rejected candidates before giving up.
pub const DEFAULT_PATIENCE: usize = 10_000;

/// A frame that negatives may be drawn from, with the size of its pixel domain. Windows lie
/// inside `[0, width] × [0, height]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameExtent<F> {
    /// The frame (image id).
    pub frame: F,
    /// Width of the frame in pixels.
    pub width: f64,
    /// Height of the frame in pixels.
    pub height: f64,
}

impl<F> FrameExtent<F> {
    /// A frame of `width × height` pixels.
    pub fn new(frame: F, width: f64, height: f64) -> Self {
        FrameExtent {
            frame,
            width,
            height,
        }
    }
}

/// How big the candidate windows are. Each candidate picks one entry uniformly at random.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowSizes {
    /// `[width, height]` in pixels, each finite and positive. A frame smaller than a size is
    /// never drawn for it.
    Absolute(Vec<[f64; 2]>),
    /// Anchors: `[width, height]` as fractions in `(0, 1]` of the frame's width and height
    /// (the reference's `anchors`, which it scales by the frame's `(width, height)`). With
    /// [`NegativeConfig::pixel_aligned`] the pixel size is rounded down, and is at least 1.
    Relative(Vec<[f64; 2]>),
}

/// What to do when windows are hard to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MiningMode {
    /// Keep drawing until `count` windows are found; fail with
    /// [`Error::NotEnoughNegatives`] after `patience` rejected candidates in a row.
    #[default]
    Exact,
    /// Like `Exact`, but when patience runs out return the windows found so far.
    BestEffort,
    /// Draw exactly `count` candidates and return those that pass (the reference's
    /// `exact=False`).
    SinglePass,
}

/// Settings for [`RegionIndex::random_negatives`]. Build with [`NegativeConfig::absolute`] or
/// [`NegativeConfig::relative`] and the `with_*` methods.
///
/// ```
/// use region_index::{MiningMode, NegativeConfig};
/// let cfg = NegativeConfig::absolute(64.0, 32.0)
///     .with_count(100)
///     .with_thresh(0.1)
///     .with_seed(7)
///     .with_mode(MiningMode::BestEffort);
/// assert_eq!(cfg.count, 100);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeConfig {
    /// Window sizes to draw from.
    pub sizes: WindowSizes,
    /// Number of windows wanted (default 1).
    pub count: usize,
    /// A window is kept when every box overlapping it (touching included) covers a fraction
    /// **strictly less** than `thresh` of the window's area. `0.0` (default): no box may even
    /// touch the window; above `1.0`: anything goes.
    pub thresh: f64,
    /// Seed of the ChaCha8 random stream (default 0).
    pub seed: u64,
    /// See [`MiningMode`] (default `Exact`).
    pub mode: MiningMode,
    /// Rejected candidates in a row before `Exact`/`BestEffort` stop (default
    /// [`DEFAULT_PATIENCE`]; must be at least 1).
    pub patience: usize,
    /// Put windows on whole-pixel positions (default `true`), so a sampler reading
    /// `[x0, x0 + w)` reads exactly the window. When `false`, positions are continuous.
    pub pixel_aligned: bool,
}

impl NegativeConfig {
    fn with_sizes(sizes: WindowSizes) -> Self {
        NegativeConfig {
            sizes,
            count: 1,
            thresh: 0.0,
            seed: 0,
            mode: MiningMode::Exact,
            patience: DEFAULT_PATIENCE,
            pixel_aligned: true,
        }
    }

    /// Windows of exactly `width × height` pixels.
    pub fn absolute(width: f64, height: f64) -> Self {
        Self::with_sizes(WindowSizes::Absolute(vec![[width, height]]))
    }

    /// Windows sized by anchors: `[width, height]` fractions of the frame's size.
    pub fn relative(anchors: Vec<[f64; 2]>) -> Self {
        Self::with_sizes(WindowSizes::Relative(anchors))
    }

    /// Sets [`NegativeConfig::count`].
    pub fn with_count(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// Sets [`NegativeConfig::thresh`].
    pub fn with_thresh(mut self, thresh: f64) -> Self {
        self.thresh = thresh;
        self
    }

    /// Sets [`NegativeConfig::seed`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`NegativeConfig::mode`].
    pub fn with_mode(mut self, mode: MiningMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets [`NegativeConfig::patience`].
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Sets [`NegativeConfig::pixel_aligned`].
    pub fn with_pixel_aligned(mut self, pixel_aligned: bool) -> Self {
        self.pixel_aligned = pixel_aligned;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |field, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.thresh.is_nan() {
            return bad("thresh", "is NaN".into());
        }
        if self.patience == 0 && self.mode != MiningMode::SinglePass {
            return bad("patience", "must be at least 1".into());
        }
        let (sizes, relative) = match &self.sizes {
            WindowSizes::Absolute(s) => (s, false),
            WindowSizes::Relative(s) => (s, true),
        };
        if sizes.is_empty() {
            return bad("sizes", "no window size given".into());
        }
        for &[w, h] in sizes {
            let ok = if relative {
                w > 0.0 && w <= 1.0 && h > 0.0 && h <= 1.0
            } else {
                w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0
            };
            if !ok {
                let want = if relative {
                    "relative sizes must lie in (0, 1]"
                } else {
                    "absolute sizes must be finite and positive"
                };
                return bad("sizes", format!("[{w}, {h}]: {want}"));
            }
        }
        Ok(())
    }
}

/// A mined negative window.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeWindow<F> {
    /// The frame it lies on.
    pub frame: F,
    /// The window, inside `[0, width] × [0, height]` of its frame.
    pub window: Aabb,
}

/// For each window size, the frames it fits in (indices into the caller's frame list).
struct Plan {
    /// `(size index, frames it fits)`; only sizes that fit somewhere.
    choices: Vec<(usize, Vec<usize>)>,
}

impl<F, I> RegionIndex<F, I>
where
    F: Hash + Eq + Clone + Debug,
    I: Hash + Eq + Clone + Debug,
{
    /// Mines random negative windows on the given frames (see the [module docs](self) for the
    /// differences with the reference).
    ///
    /// Each candidate picks a window size uniformly, then uniformly one of the frames that size
    /// fits in, then a position uniformly so the window lies inside the frame; it is kept when
    /// [`RegionIndex::is_negative`] with `config.thresh` holds. Windows come in the order they
    /// were found. Frames need no boxes in the index (then every candidate passes).
    ///
    /// Errors: [`Error::InvalidConfig`] for a bad setting, a frame with a non-finite or
    /// negative size, or (in `Exact` mode, `count > 0`) when no window size fits any frame;
    /// [`Error::NotEnoughNegatives`] when `Exact` runs out of patience.
    ///
    /// ```
    /// use region_index::{Aabb, FrameExtent, NegativeConfig, RegionIndex};
    /// let idx = RegionIndex::from_rows([(1_u32, 1_u32, Aabb::from_xywh(0.0, 0.0, 50.0, 100.0))])?;
    /// let frames = [FrameExtent::new(1, 100.0, 100.0)];
    /// let cfg = NegativeConfig::absolute(20.0, 20.0).with_count(5).with_seed(3);
    /// let negs = idx.random_negatives(&frames, &cfg)?;
    /// assert_eq!(negs.len(), 5);
    /// for n in &negs {
    ///     assert_eq!((n.window.width(), n.window.height()), (20.0, 20.0));
    ///     assert!(n.window.x0 > 50.0); // never touches the box
    /// }
    /// assert_eq!(negs, idx.random_negatives(&frames, &cfg)?); // same seed, same windows
    /// # Ok::<(), region_index::Error>(())
    /// ```
    pub fn random_negatives(
        &self,
        frames: &[FrameExtent<F>],
        config: &NegativeConfig,
    ) -> Result<Vec<NegativeWindow<F>>, Error> {
        config.validate()?;
        for f in frames {
            if !(f.width.is_finite() && f.height.is_finite() && f.width >= 0.0 && f.height >= 0.0) {
                return Err(Error::InvalidConfig {
                    field: "frames",
                    reason: format!(
                        "frame {:?} has size {} x {}; sizes must be finite and non-negative",
                        f.frame, f.width, f.height
                    ),
                });
            }
        }
        let mut out = Vec::new();
        if config.count == 0 {
            return Ok(out);
        }
        let plan = make_plan(frames, config);
        if plan.choices.is_empty() {
            return match config.mode {
                MiningMode::Exact => Err(Error::InvalidConfig {
                    field: "sizes",
                    reason: format!(
                        "no window size fits in any of the {} frames given",
                        frames.len()
                    ),
                }),
                MiningMode::BestEffort | MiningMode::SinglePass => Ok(out),
            };
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut draw = || {
            let (k, fits) = &plan.choices[pick(&mut rng, plan.choices.len())];
            let fi = fits[pick(&mut rng, fits.len())];
            let extent = &frames[fi];
            let [w, h] = window_size(&config.sizes, *k, extent, config.pixel_aligned);
            let x0 = position(&mut rng, extent.width - w, config.pixel_aligned);
            let y0 = position(&mut rng, extent.height - h, config.pixel_aligned);
            (fi, Aabb::new(x0, y0, x0 + w, y0 + h))
        };
        match config.mode {
            MiningMode::SinglePass => {
                for _ in 0..config.count {
                    let (fi, window) = draw();
                    if self.is_negative(&frames[fi].frame, &window, config.thresh) {
                        out.push(NegativeWindow {
                            frame: frames[fi].frame.clone(),
                            window,
                        });
                    }
                }
            }
            MiningMode::Exact | MiningMode::BestEffort => {
                let mut misses = 0usize;
                while out.len() < config.count {
                    let (fi, window) = draw();
                    if self.is_negative(&frames[fi].frame, &window, config.thresh) {
                        out.push(NegativeWindow {
                            frame: frames[fi].frame.clone(),
                            window,
                        });
                        misses = 0;
                        continue;
                    }
                    misses += 1;
                    if misses >= config.patience {
                        if config.mode == MiningMode::BestEffort {
                            break;
                        }
                        return Err(Error::NotEnoughNegatives {
                            found: out.len(),
                            wanted: config.count,
                            thresh: config.thresh,
                            patience: config.patience,
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A uniform index in `0..n` (`n > 0`), drawn as `u64` so the stream is the same on every
/// platform.
fn pick(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.random_range(0..n as u64) as usize
}

/// A uniform offset in `[0, slack]` (`slack >= 0`): a whole number when pixel aligned.
fn position(rng: &mut ChaCha8Rng, slack: f64, pixel_aligned: bool) -> f64 {
    if pixel_aligned {
        // slack >= 0 and finite, so the floor is a small non-negative whole number
        let steps = slack.floor() as u64;
        rng.random_range(0..=steps) as f64
    } else {
        rng.random::<f64>() * slack
    }
}

/// The pixel size of window size `k` on a frame.
fn window_size(
    sizes: &WindowSizes,
    k: usize,
    extent: &FrameExtent<impl Sized>,
    aligned: bool,
) -> [f64; 2] {
    match sizes {
        WindowSizes::Absolute(s) => s[k],
        WindowSizes::Relative(s) => {
            let [fw, fh] = s[k];
            let (w, h) = (fw * extent.width, fh * extent.height);
            if aligned {
                [w.floor().max(1.0), h.floor().max(1.0)]
            } else {
                [w, h]
            }
        }
    }
}

fn make_plan<F>(frames: &[FrameExtent<F>], config: &NegativeConfig) -> Plan {
    let n_sizes = match &config.sizes {
        WindowSizes::Absolute(s) | WindowSizes::Relative(s) => s.len(),
    };
    let fits = |k: usize, f: &FrameExtent<F>| {
        let [w, h] = window_size(&config.sizes, k, f, config.pixel_aligned);
        w > 0.0 && h > 0.0 && w <= f.width && h <= f.height
    };
    let choices = match &config.sizes {
        WindowSizes::Absolute(_) => (0..n_sizes)
            .map(|k| {
                let ok: Vec<usize> = (0..frames.len()).filter(|&i| fits(k, &frames[i])).collect();
                (k, ok)
            })
            .filter(|(_, ok)| !ok.is_empty())
            .collect(),
        // A relative size fits a frame iff its pixel size is positive and not larger than the
        // frame; that depends on the frame only (fractions are <= 1 and rounding is down, to at
        // least 1 pixel), so one frame list serves every anchor.
        WindowSizes::Relative(_) => {
            let ok: Vec<usize> = (0..frames.len()).filter(|&i| fits(0, &frames[i])).collect();
            if ok.is_empty() {
                Vec::new()
            } else {
                (0..n_sizes).map(|k| (k, ok.clone())).collect()
            }
        }
    };
    Plan { choices }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RegionIndex<u32, u32> {
        RegionIndex::from_rows([
            (1, 1, Aabb::from_xywh(0.0, 0.0, 60.0, 60.0)),
            (1, 2, Aabb::from_xywh(70.0, 70.0, 30.0, 30.0)),
            (2, 3, Aabb::from_xywh(-10.0, -10.0, 500.0, 500.0)), // covers all of frame 2
        ])
        .unwrap()
    }

    fn frames() -> Vec<FrameExtent<u32>> {
        vec![
            FrameExtent::new(1, 100.0, 100.0),
            FrameExtent::new(2, 100.0, 100.0),
            FrameExtent::new(3, 40.0, 30.0), // no boxes
        ]
    }

    fn brute_ok(idx: &RegionIndex<u32, u32>, n: &NegativeWindow<u32>, thresh: f64) -> bool {
        idx.frame_boxes(&n.frame).iter().all(|(_, b)| {
            !b.intersects(&n.window) || n.window.intersection_area(b) / n.window.area() < thresh
        })
    }

    #[test]
    fn absolute_windows_are_exact_size_inside_and_clear() {
        let idx = index();
        let frames = frames();
        let cfg = NegativeConfig::absolute(10.0, 20.0)
            .with_count(200)
            .with_thresh(0.05)
            .with_seed(11);
        let negs = idx.random_negatives(&frames, &cfg).unwrap();
        assert_eq!(negs.len(), 200);
        for n in &negs {
            assert_eq!(n.window.width(), 10.0);
            assert_eq!(n.window.height(), 20.0);
            assert_eq!(n.window.x0.fract(), 0.0);
            assert_eq!(n.window.y0.fract(), 0.0);
            let f = frames.iter().find(|f| f.frame == n.frame).unwrap();
            assert!(Aabb::new(0.0, 0.0, f.width, f.height).contains(&n.window));
            assert!(brute_ok(&idx, n, 0.05), "{n:?}");
            assert_ne!(n.frame, 2, "frame 2 is fully covered");
        }
        // both frames with room are used
        assert!(negs.iter().any(|n| n.frame == 1));
        assert!(negs.iter().any(|n| n.frame == 3));
    }

    #[test]
    fn same_seed_same_windows_other_seed_differs() {
        let idx = index();
        let frames = frames();
        let cfg = NegativeConfig::absolute(8.0, 8.0)
            .with_count(50)
            .with_seed(5);
        let a = idx.random_negatives(&frames, &cfg).unwrap();
        let b = idx.random_negatives(&frames, &cfg).unwrap();
        let c = idx
            .random_negatives(&frames, &cfg.clone().with_seed(6))
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn relative_sizes_scale_with_the_frame() {
        let idx = index();
        let frames = [
            FrameExtent::new(1, 100.0, 100.0),
            FrameExtent::new(3, 40.0, 30.0),
        ];
        let cfg = NegativeConfig::relative(vec![[0.1, 0.2], [0.25, 0.25]])
            .with_count(100)
            .with_seed(1)
            .with_thresh(0.5);
        let negs = idx.random_negatives(&frames, &cfg).unwrap();
        assert_eq!(negs.len(), 100);
        for n in &negs {
            let f = frames.iter().find(|f| f.frame == n.frame).unwrap();
            let (w, h) = (n.window.width(), n.window.height());
            let want = [
                [(0.1 * f.width).floor(), (0.2 * f.height).floor()],
                [(0.25 * f.width).floor(), (0.25 * f.height).floor()],
            ];
            assert!(want.contains(&[w, h]), "{n:?}");
            assert!(Aabb::new(0.0, 0.0, f.width, f.height).contains(&n.window));
            assert!(brute_ok(&idx, n, 0.5));
        }
        // continuous placement keeps the exact fractional size
        let cfg = cfg.with_pixel_aligned(false);
        for n in idx.random_negatives(&frames, &cfg).unwrap() {
            let f = frames.iter().find(|f| f.frame == n.frame).unwrap();
            let ok = [[0.1, 0.2], [0.25, 0.25]].iter().any(|[a, b]| {
                (n.window.width() - a * f.width).abs() < 1e-9
                    && (n.window.height() - b * f.height).abs() < 1e-9
            });
            assert!(ok, "{n:?}");
            assert!(Aabb::new(0.0, 0.0, f.width, f.height).contains(&n.window));
        }
    }

    #[test]
    fn exact_mode_fails_when_impossible_and_best_effort_returns_partial() {
        let idx = index();
        let covered = [FrameExtent::new(2, 100.0, 100.0)];
        let cfg = NegativeConfig::absolute(10.0, 10.0)
            .with_count(3)
            .with_patience(50);
        let err = idx.random_negatives(&covered, &cfg).unwrap_err();
        assert_eq!(
            err,
            Error::NotEnoughNegatives {
                found: 0,
                wanted: 3,
                thresh: 0.0,
                patience: 50
            }
        );
        let best = cfg.clone().with_mode(MiningMode::BestEffort);
        assert!(idx.random_negatives(&covered, &best).unwrap().is_empty());
        // frame 1 has a 30-pixel-wide free band: an 8x8 window is possible but rarely drawn
        // with a wide one; best effort returns what it found and never more than asked
        let some = [FrameExtent::new(1, 100.0, 100.0)];
        let best = NegativeConfig::absolute(8.0, 8.0)
            .with_count(1000)
            .with_patience(3)
            .with_mode(MiningMode::BestEffort);
        let got = idx.random_negatives(&some, &best).unwrap();
        assert!(got.len() < 1000);
        assert!(got.iter().all(|n| brute_ok(&idx, n, 0.0)));
    }

    #[test]
    fn single_pass_draws_count_candidates() {
        let idx = index();
        let frames = frames();
        let cfg = NegativeConfig::absolute(10.0, 10.0)
            .with_count(300)
            .with_mode(MiningMode::SinglePass)
            .with_seed(2);
        let got = idx.random_negatives(&frames, &cfg).unwrap();
        assert!(!got.is_empty() && got.len() < 300, "{}", got.len());
        // the accepted ones are a prefix-consistent subset of the exact run's stream
        let exact = idx
            .random_negatives(&frames, &cfg.clone().with_mode(MiningMode::Exact))
            .unwrap();
        assert_eq!(exact.len(), 300);
        assert_eq!(&exact[..got.len()], &got[..]);
    }

    #[test]
    fn too_large_windows_and_bad_configs() {
        let idx = index();
        let frames = frames();
        let cfg = NegativeConfig::absolute(101.0, 10.0).with_count(1);
        assert!(matches!(
            idx.random_negatives(&frames, &cfg),
            Err(Error::InvalidConfig { field: "sizes", .. })
        ));
        let best = cfg.with_mode(MiningMode::BestEffort);
        assert!(idx.random_negatives(&frames, &best).unwrap().is_empty());
        // a size only frame 1/2 can hold is never drawn on frame 3 (40x30)
        let cfg = NegativeConfig::absolute(35.0, 35.0)
            .with_count(20)
            .with_thresh(2.0);
        let got = idx.random_negatives(&frames, &cfg).unwrap();
        assert!(got.iter().all(|n| n.frame != 3));
        for bad in [
            NegativeConfig::absolute(0.0, 10.0),
            NegativeConfig::absolute(f64::INFINITY, 10.0),
            NegativeConfig::relative(vec![[1.5, 0.5]]),
            NegativeConfig::relative(vec![]),
            NegativeConfig::absolute(1.0, 1.0).with_thresh(f64::NAN),
            NegativeConfig::absolute(1.0, 1.0).with_patience(0),
        ] {
            assert!(
                matches!(
                    idx.random_negatives(&frames, &bad),
                    Err(Error::InvalidConfig { .. })
                ),
                "{bad:?}"
            );
        }
        let bad_frame = [FrameExtent::new(9, f64::NAN, 10.0)];
        let err = idx
            .random_negatives(&bad_frame, &NegativeConfig::absolute(1.0, 1.0))
            .unwrap_err();
        assert!(err.to_string().contains("frame 9"), "{err}");
        // nothing asked, nothing to do
        let zero = NegativeConfig::absolute(1000.0, 1000.0).with_count(0);
        assert!(idx.random_negatives(&frames, &zero).unwrap().is_empty());
        assert!(idx.random_negatives(&[], &zero).unwrap().is_empty());
    }

    #[test]
    fn thresh_zero_forbids_touching() {
        // a 100x100 frame whose left half is one box: 10-wide windows at x0 = 50 touch it
        let idx = RegionIndex::from_rows([(0u8, 0u8, Aabb::new(0.0, 0.0, 50.0, 100.0))]).unwrap();
        let frames = [FrameExtent::new(0, 100.0, 100.0)];
        let cfg = NegativeConfig::absolute(10.0, 10.0)
            .with_count(500)
            .with_seed(9);
        for n in idx.random_negatives(&frames, &cfg).unwrap() {
            assert!(n.window.x0 > 50.0, "{n:?}");
        }
    }
}
