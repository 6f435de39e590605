//! Choosing the finest confident class from hierarchical probabilities
//! (ndsampler's `CategoryTree.decision`).

use std::str::FromStr;

use ndarray::{Array, ArrayBase, Axis, Data, Dimension, RemoveAxis, Zip};

use crate::error::{Error, Result};
use crate::prob::{check_axis, entropy_slice, gini_slice};
use crate::real::Real;
use crate::tree::CategoryTree;

/// How [`CategoryTree::decision`] judges whether to refine a coarse class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Criterion {
    /// Refine when the Gini impurity after expanding the class into its
    /// children is well below the worst case (default).
    #[default]
    Gini,
    /// Like `Gini`, with Shannon entropy.
    Entropy,
    /// Refine while the best child's probability is above the threshold.
    Prob,
}

impl FromStr for Criterion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "gini" => Ok(Self::Gini),
            "entropy" => Ok(Self::Entropy),
            "prob" => Ok(Self::Prob),
            other => Err(Error::InvalidArgument {
                name: "criterion",
                reason: format!("unknown criterion {other:?}; expected gini, entropy or prob"),
            }),
        }
    }
}

/// Options of [`CategoryTree::decision`]; the default is the reference's
/// (`thresh = 0.5`, `criterion = gini`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionOptions {
    /// For `Gini`/`Entropy`: minimum simplicity ratio
    /// `1 − h(expanded) / h(worst expanded)` to refine (smaller thresholds give
    /// finer classes). For `Prob`: minimum probability to refine.
    pub thresh: f64,
    /// The refinement criterion.
    pub criterion: Criterion,
    /// Classes that may never be predicted: decisions proceed as if they were
    /// not in the tree. Ignoring every root is an error. Applies to every
    /// criterion (the reference skips it, and `always_refine_idxs`, for `Prob`).
    pub ignore_class_idxs: Vec<usize>,
    /// Classes that, once chosen, are always refined into a child (useful for a
    /// dummy root).
    pub always_refine_idxs: Vec<usize>,
}

impl Default for DecisionOptions {
    fn default() -> Self {
        Self {
            thresh: 0.5,
            criterion: Criterion::Gini,
            ignore_class_idxs: Vec::new(),
            always_refine_idxs: Vec::new(),
        }
    }
}

impl DecisionOptions {
    /// Default options with this criterion and threshold.
    pub fn new(criterion: Criterion, thresh: f64) -> Self {
        Self {
            thresh,
            criterion,
            ..Self::default()
        }
    }
}

/// Output of [`CategoryTree::decision`]: a class index and its probability for
/// every item (the input's shape without the class axis).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<T, D: Dimension> {
    /// Chosen class index per item.
    pub idxs: Array<usize, D>,
    /// Probability of the chosen class per item.
    pub conf: Array<T, D>,
}

/// First index of the largest value (NaN never wins).
fn argmax<T: Real>(row: &[T], idxs: &[usize]) -> (usize, T) {
    let mut best = idxs[0];
    let mut conf = row[best];
    for &i in &idxs[1..] {
        if row[i] > conf || (conf.is_nan() && !row[i].is_nan()) {
            best = i;
            conf = row[i];
        }
    }
    (best, conf)
}

struct Ctx<'a> {
    tree: &'a CategoryTree,
    ignore: Vec<bool>,
    always: Vec<bool>,
}

impl Ctx<'_> {
    fn allowed(&self, idxs: &[usize]) -> Vec<usize> {
        idxs.iter().copied().filter(|&i| !self.ignore[i]).collect()
    }

    /// Impurity-based descent (gini / entropy).
    fn refine<T: Real>(&self, row: &[T], thresh: T, crit: fn(&[T]) -> T) -> (usize, T) {
        let mut idxs = self.allowed(self.tree.roots());
        let mut expanded: Vec<T> = Vec::new();
        let eps = T::from_f64(1e-30);
        loop {
            let (pred, conf) = argmax(row, &idxs);
            let children = self.allowed(self.tree.children(pred));
            if children.is_empty() {
                return (pred, conf);
            }
            // Distribution with `pred` replaced by its children, and the worst
            // case where `pred`'s mass is spread evenly over them.
            expanded.clear();
            expanded.extend(idxs.iter().filter(|&&i| i != pred).map(|&i| row[i]));
            let n_ommer = expanded.len();
            expanded.extend(children.iter().map(|&c| row[c]));
            let h = crit(&expanded);
            let share = row[pred] / T::from_usize(children.len());
            for v in &mut expanded[n_ommer..] {
                *v = share;
            }
            let h_worst = crit(&expanded);
            let simplicity = T::ONE - h / (h_worst + eps);
            if simplicity > thresh || self.always[pred] {
                idxs = children;
            } else {
                return (pred, conf);
            }
        }
    }

    /// Probability-threshold descent.
    fn prob<T: Real>(&self, row: &[T], thresh: T) -> (usize, T) {
        let (mut pred, mut conf) = argmax(row, &self.allowed(self.tree.roots()));
        loop {
            if !(conf > thresh || self.always[pred]) {
                return (pred, conf);
            }
            let children = self.allowed(self.tree.children(pred));
            if children.is_empty() {
                return (pred, conf);
            }
            let (sub, sub_conf) = argmax(row, &children);
            if sub_conf > thresh || self.always[pred] {
                pred = sub;
                conf = sub_conf;
            } else {
                return (pred, conf);
            }
        }
    }
}

impl CategoryTree {
    /// Choose, for every item, the finest-grained class the probabilities
    /// support. Starting at the roots, take the most probable class among the
    /// candidates, then decide whether to refine into its children:
    ///
    /// * `Gini` / `Entropy`: compare the impurity `h` of the distribution with
    ///   the class replaced by its children to the worst case (its probability
    ///   spread evenly); refine when `1 − h / h_worst > thresh`.
    /// * `Prob`: refine while the class and its best child are above `thresh`.
    ///
    /// `probs` holds absolute class probabilities (e.g. from
    /// [`hierarchical_softmax`](Self::hierarchical_softmax)) along `axis`.
    ///
    /// ```
    /// use category_tree::{CategoryTree, Criterion, DecisionOptions};
    /// use ndarray::{array, Axis};
    /// let tree = CategoryTree::from_adjacency([
    ///     ("background", vec![]), ("vector", vec!["star"]), ("raster", vec!["superstar", "eff"]),
    /// ])?;
    /// // classes: background, vector, raster, star, superstar, eff
    /// let probs = array![[0.05f64, 0.9, 0.9, 0.1, 0.1, 0.05]];
    /// let d = tree.decision(&probs, Axis(1), &DecisionOptions::default())?;
    /// assert_eq!(tree.idx_to_node(d.idxs[0]), Some("star"));
    /// let d = tree.decision(&probs, Axis(1), &DecisionOptions::new(Criterion::Prob, 0.1))?;
    /// assert_eq!(tree.idx_to_node(d.idxs[0]), Some("vector"));
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn decision<T, S, D>(
        &self,
        probs: &ArrayBase<S, D>,
        axis: Axis,
        opts: &DecisionOptions,
    ) -> Result<Decision<T, D::Smaller>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension + RemoveAxis,
    {
        check_axis(probs, axis, Some(self.len()))?;
        let n = self.len();
        let mut ignore = vec![false; n];
        for &i in &opts.ignore_class_idxs {
            *ignore
                .get_mut(i)
                .ok_or(Error::IndexOutOfRange { idx: i, len: n })? = true;
        }
        let mut always = vec![false; n];
        for &i in &opts.always_refine_idxs {
            *always
                .get_mut(i)
                .ok_or(Error::IndexOutOfRange { idx: i, len: n })? = true;
        }
        if self.roots().iter().all(|&r| ignore[r]) {
            return Err(Error::InvalidArgument {
                name: "ignore_class_idxs",
                reason: if n == 0 {
                    "the tree has no classes to decide between".to_string()
                } else {
                    "cannot ignore all top-level classes".to_string()
                },
            });
        }
        let ctx = Ctx {
            tree: self,
            ignore,
            always,
        };
        let thresh = T::from_f64(opts.thresh);
        let dim = probs.raw_dim().remove_axis(axis);
        let mut idxs = Array::from_elem(dim.clone(), 0usize);
        let mut conf = Array::from_elem(dim, T::ZERO);
        let mut buf = vec![T::ZERO; n];
        Zip::from(probs.lanes(axis))
            .and(&mut idxs)
            .and(&mut conf)
            .for_each(|lane, i, c| {
                let row: &[T] = match lane.as_slice() {
                    Some(s) => s,
                    None => {
                        buf.iter_mut().zip(lane.iter()).for_each(|(d, v)| *d = *v);
                        &buf
                    }
                };
                let (pi, pc) = match opts.criterion {
                    Criterion::Gini => ctx.refine(row, thresh, gini_slice::<T>),
                    Criterion::Entropy => ctx.refine(row, thresh, entropy_slice::<T>),
                    Criterion::Prob => ctx.prob(row, thresh),
                };
                *i = pi;
                *c = pc;
            });
        Ok(Decision { idxs, conf })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[0.2f64, 0.5, 0.5], &[0, 1, 2]), (1, 0.5));
        assert_eq!(argmax(&[f64::NAN, 0.1, 0.3], &[0, 1, 2]), (2, 0.3));
        assert_eq!(argmax(&[0.9f64, 0.1, 0.3], &[1, 2]), (2, 0.3));
    }

    #[test]
    fn empty_tree_has_nothing_to_decide() {
        let t = CategoryTree::default();
        let probs = ndarray::Array2::<f32>::zeros((2, 0));
        let err = t
            .decision(&probs, Axis(1), &DecisionOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("no classes"), "{err}");
    }

    #[test]
    fn criterion_parses() {
        assert_eq!("entropy".parse::<Criterion>().unwrap(), Criterion::Entropy);
        assert_eq!("prob".parse::<Criterion>().unwrap(), Criterion::Prob);
        assert!("Gini".parse::<Criterion>().is_err());
    }
}
