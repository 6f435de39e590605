//! Hierarchical (tree-structured) softmaxes and losses on `ndarray` arrays,
//! along any class axis (the ndsampler torch mixin, without torch).

use ndarray::{Array, ArrayBase, Axis, Data, Dimension, RemoveAxis, Zip};

use crate::error::{Error, Result};
use crate::prob::{check_axis, map_lanes};
use crate::real::Real;
use crate::tree::CategoryTree;

/// How per-item losses are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Average over items (NaN when there are none), like torch's default.
    #[default]
    Mean,
    /// Sum over items.
    Sum,
}

impl CategoryTree {
    /// Log-probability of each class *given its parent*: a log-softmax over
    /// every sibling group ([`idx_groups`](Self::idx_groups)) along `axis`.
    /// In probability space each group sums to 1.
    pub fn conditional_log_softmax<T, S, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
    ) -> Result<Array<T, D>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension,
    {
        check_axis(energy, axis, Some(self.len()))?;
        Ok(map_lanes(energy, axis, |x, y| {
            self.plan().conditional(x, y)
        }))
    }

    /// Top-down hierarchical log-softmax: conditional log-softmax per sibling
    /// group, then the chain rule `log P(node) = log P(node | parent) + log P(parent)`.
    /// Each parent's probability equals the sum of its children's, and the
    /// roots sum to 1.
    ///
    /// ```
    /// use ndarray::{array, Axis};
    /// let tree = category_tree::CategoryTree::from_adjacency([("a", vec!["b", "c"]), ("d", vec![])])?;
    /// // classes: a, d, b, c
    /// let logp = tree.source_log_softmax(&array![[0.0f64, 0.0, 1.0, 1.0]], Axis(1))?;
    /// let p = logp.mapv(f64::exp);
    /// assert!((p[[0, 0]] - 0.5).abs() < 1e-12); // a
    /// assert!((p[[0, 2]] - 0.25).abs() < 1e-12); // b = P(b|a) P(a)
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn source_log_softmax<T, S, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
    ) -> Result<Array<T, D>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension,
    {
        check_axis(energy, axis, Some(self.len()))?;
        Ok(map_lanes(energy, axis, |x, y| self.plan().source(x, y)))
    }

    /// Bottom-up hierarchical log-softmax: a softmax over the leaves only,
    /// then each parent is the log-sum-exp of its children (the energies of
    /// inner nodes are ignored).
    pub fn sink_log_softmax<T, S, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
    ) -> Result<Array<T, D>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension,
    {
        check_axis(energy, axis, Some(self.len()))?;
        let mut scratch = vec![T::ZERO; self.len()];
        Ok(map_lanes(energy, axis, |x, y| {
            self.plan().sink(x, y, &mut scratch)
        }))
    }

    /// The default hierarchical log-softmax ([`source_log_softmax`](Self::source_log_softmax)).
    pub fn hierarchical_log_softmax<T, S, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
    ) -> Result<Array<T, D>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension,
    {
        self.source_log_softmax(energy, axis)
    }

    /// Class probabilities: `exp` of [`hierarchical_log_softmax`](Self::hierarchical_log_softmax).
    pub fn hierarchical_softmax<T, S, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
    ) -> Result<Array<T, D>>
    where
        T: Real,
        S: Data<Elem = T>,
        D: Dimension,
    {
        Ok(self.source_log_softmax(energy, axis)?.mapv_into(T::exp))
    }

    fn check_targets<S2, E>(&self, lanes_dim: &E, targets: &ArrayBase<S2, E>) -> Result<()>
    where
        S2: Data<Elem = usize>,
        E: Dimension,
    {
        if targets.raw_dim() != *lanes_dim {
            return Err(Error::Shape {
                reason: format!(
                    "targets have shape {:?}, expected {:?} (the scores without their class axis)",
                    targets.shape(),
                    lanes_dim.slice()
                ),
            });
        }
        if let Some(&bad) = targets.iter().find(|&&t| t >= self.len()) {
            return Err(Error::IndexOutOfRange {
                idx: bad,
                len: self.len(),
            });
        }
        Ok(())
    }

    /// Per-item negative log-likelihood `-logprobs[.., target, ..]`, where
    /// `targets` has the shape of `logprobs` without its class axis.
    ///
    /// With hierarchical log-probabilities a coarse target (e.g. `dog`) only
    /// scores the levels at and above it: finer classes (`boxer` vs `beagle`)
    /// do not enter the loss.
    pub fn hierarchical_nll<T, S, S2, D>(
        &self,
        logprobs: &ArrayBase<S, D>,
        axis: Axis,
        targets: &ArrayBase<S2, D::Smaller>,
    ) -> Result<Array<T, D::Smaller>>
    where
        T: Real,
        S: Data<Elem = T>,
        S2: Data<Elem = usize>,
        D: Dimension + RemoveAxis,
    {
        check_axis(logprobs, axis, Some(self.len()))?;
        let dim = logprobs.raw_dim().remove_axis(axis);
        self.check_targets(&dim, targets)?;
        let mut out = Array::from_elem(dim, T::ZERO);
        Zip::from(logprobs.lanes(axis))
            .and(targets)
            .and(&mut out)
            .for_each(|lane, &t, o| *o = -lane[t]);
        Ok(out)
    }

    /// Reduced negative log-likelihood of hierarchical log-probabilities
    /// (`F.nll_loss`); see [`hierarchical_nll`](Self::hierarchical_nll).
    ///
    /// ```
    /// use ndarray::{array, Axis};
    /// let tree = category_tree::CategoryTree::from_adjacency([
    ///     ("background", vec![]), ("animal", vec!["dog", "cat"]), ("dog", vec!["boxer", "beagle"]),
    /// ])?;
    /// let energy = array![[0.1f64, 0.2, 0.3, 0.4, 0.5, 0.6]];
    /// let dog = tree.index("dog")?;
    /// let logp = tree.hierarchical_log_softmax(&energy, Axis(1))?;
    /// let loss = tree.hierarchical_nll_loss(&logp, Axis(1), &array![dog], Default::default())?;
    /// // changing the energies of dog's children does not change the loss for target `dog`
    /// let mut e2 = energy.clone();
    /// e2[[0, tree.index("boxer")?]] = 9.0;
    /// let logp2 = tree.hierarchical_log_softmax(&e2, Axis(1))?;
    /// let loss2 = tree.hierarchical_nll_loss(&logp2, Axis(1), &array![dog], Default::default())?;
    /// assert_eq!(loss, loss2);
    /// # Ok::<(), category_tree::Error>(())
    /// ```
    pub fn hierarchical_nll_loss<T, S, S2, D>(
        &self,
        logprobs: &ArrayBase<S, D>,
        axis: Axis,
        targets: &ArrayBase<S2, D::Smaller>,
        reduction: Reduction,
    ) -> Result<T>
    where
        T: Real,
        S: Data<Elem = T>,
        S2: Data<Elem = usize>,
        D: Dimension + RemoveAxis,
    {
        let per_item = self.hierarchical_nll(logprobs, axis, targets)?;
        let count = per_item.len();
        let mut total = T::ZERO;
        for &v in per_item.iter() {
            total += v;
        }
        Ok(match reduction {
            Reduction::Sum => total,
            Reduction::Mean => total / T::from_usize(count),
        })
    }

    /// [`hierarchical_log_softmax`](Self::hierarchical_log_softmax) followed by
    /// [`hierarchical_nll_loss`](Self::hierarchical_nll_loss).
    pub fn hierarchical_cross_entropy<T, S, S2, D>(
        &self,
        energy: &ArrayBase<S, D>,
        axis: Axis,
        targets: &ArrayBase<S2, D::Smaller>,
        reduction: Reduction,
    ) -> Result<T>
    where
        T: Real,
        S: Data<Elem = T>,
        S2: Data<Elem = usize>,
        D: Dimension + RemoveAxis,
    {
        let logprobs = self.hierarchical_log_softmax(energy, axis)?;
        self.hierarchical_nll_loss(&logprobs, axis, targets, reduction)
    }
}
