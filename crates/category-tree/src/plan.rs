//! Precomputed index layout for the per-row softmax kernels.
//!
//! Sibling groups are usually contiguous index ranges (children are inserted
//! together), so the kernels work on sub-slices when they can and fall back
//! to gathers otherwise.

use crate::prob::{logsumexp, logsumexp_at};
use crate::real::Real;

/// A set of class indices: a contiguous range or an explicit sorted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Span {
    Range(usize, usize),
    Idxs(Vec<usize>),
}

impl Span {
    pub(crate) fn new(idxs: &[usize]) -> Self {
        match (idxs.first(), idxs.last()) {
            (Some(&a), Some(&b))
                if b + 1 - a == idxs.len() && idxs.windows(2).all(|w| w[0] < w[1]) =>
            {
                Span::Range(a, b + 1)
            }
            _ => Span::Idxs(idxs.to_vec()),
        }
    }

    #[inline]
    fn logsumexp<T: Real>(&self, x: &[T]) -> T {
        match self {
            Span::Range(a, b) => logsumexp(&x[*a..*b]),
            Span::Idxs(v) => logsumexp_at(x, v),
        }
    }

    /// `y[i] = x[i] - logsumexp(x[span])` for `i` in the span.
    #[inline]
    fn log_softmax<T: Real>(&self, x: &[T], y: &mut [T]) {
        self.log_softmax_plus(x, y, T::ZERO);
    }

    /// `y[i] = x[i] - logsumexp(x[span]) + offset` for `i` in the span.
    #[inline]
    fn log_softmax_plus<T: Real>(&self, x: &[T], y: &mut [T], offset: T) {
        let off = offset - self.logsumexp(x);
        match self {
            Span::Range(a, b) => {
                for (o, &v) in y[*a..*b].iter_mut().zip(&x[*a..*b]) {
                    *o = v + off;
                }
            }
            Span::Idxs(v) => {
                for &i in v {
                    y[i] = x[i] + off;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SoftmaxPlan {
    groups: Vec<Span>,
    /// Parent of every group (`None` for the roots); a group comes after its
    /// parent's group.
    group_parent: Vec<Option<usize>>,
    leaves: Option<Span>,
    /// `(node, children)` for inner nodes, children before parents.
    sink: Vec<(usize, Span)>,
}

impl SoftmaxPlan {
    pub(crate) fn new(
        groups: &[Vec<usize>],
        leaves: &[usize],
        preorder: &[usize],
        parent: &[Option<usize>],
        children: &[Vec<usize>],
    ) -> Self {
        Self {
            groups: groups.iter().map(|g| Span::new(g)).collect(),
            group_parent: groups
                .iter()
                .map(|g| g.first().and_then(|&i| parent[i]))
                .collect(),
            leaves: (!leaves.is_empty()).then(|| Span::new(leaves)),
            sink: preorder
                .iter()
                .rev()
                .filter(|&&i| !children[i].is_empty())
                .map(|&i| (i, Span::new(&children[i])))
                .collect(),
        }
    }

    /// Conditional log-softmax of one row (`x`, `y` have the tree's length).
    #[inline]
    pub(crate) fn conditional<T: Real>(&self, x: &[T], y: &mut [T]) {
        for g in &self.groups {
            g.log_softmax(x, y);
        }
    }

    /// Top-down (source) log-softmax of one row: each group's conditional
    /// log-softmax plus its parent's absolute log-probability (the parent's
    /// group is always done first).
    #[inline]
    pub(crate) fn source<T: Real>(&self, x: &[T], y: &mut [T]) {
        for (g, p) in self.groups.iter().zip(&self.group_parent) {
            let up = p.map_or(T::ZERO, |p| y[p]);
            g.log_softmax_plus(x, y, up);
        }
    }

    /// Bottom-up (sink) log-softmax of one row; `q` is scratch of the row's
    /// length. Leaf probabilities are summed upward in linear space (one `ln`
    /// per inner node); a node whose mass underflows falls back to a
    /// log-sum-exp of its children.
    #[inline]
    pub(crate) fn sink<T: Real>(&self, x: &[T], y: &mut [T], q: &mut [T]) {
        if let Some(leaves) = &self.leaves {
            let lse = leaves.exp_shifted(x, q);
            match leaves {
                Span::Range(a, b) => {
                    for i in *a..*b {
                        y[i] = x[i] - lse.0;
                        q[i] = q[i] / lse.1;
                    }
                }
                Span::Idxs(v) => {
                    for &i in v {
                        y[i] = x[i] - lse.0;
                        q[i] = q[i] / lse.1;
                    }
                }
            }
        }
        for (i, kids) in &self.sink {
            let mass = kids.sum(q);
            q[*i] = mass;
            y[*i] = if mass >= T::MIN_POSITIVE {
                mass.ln()
            } else {
                kids.logsumexp(y)
            };
        }
    }
}

impl Span {
    /// Writes `exp(x[i] - max)` into `q` over the span and returns
    /// `(logsumexp, Σ exp(x[i] - max))`.
    #[inline]
    fn exp_shifted<T: Real>(&self, x: &[T], q: &mut [T]) -> (T, T) {
        fn run<T: Real>(x: &[T], q: &mut [T], idxs: impl Iterator<Item = usize> + Clone) -> (T, T) {
            let mut m = T::NEG_INFINITY;
            for i in idxs.clone() {
                if x[i] > m {
                    m = x[i];
                }
            }
            let mut s = T::ZERO;
            for i in idxs {
                let e = (x[i] - m).exp();
                q[i] = e;
                s += e;
            }
            (m + s.ln(), s)
        }
        match self {
            Span::Range(a, b) => run(x, q, *a..*b),
            Span::Idxs(v) => run(x, q, v.iter().copied()),
        }
    }

    #[inline]
    fn sum<T: Real>(&self, q: &[T]) -> T {
        let mut s = T::ZERO;
        match self {
            Span::Range(a, b) => q[*a..*b].iter().for_each(|&v| s += v),
            Span::Idxs(v) => v.iter().for_each(|&i| s += q[i]),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_detect_ranges() {
        assert_eq!(Span::new(&[3, 4, 5]), Span::Range(3, 6));
        assert_eq!(Span::new(&[3, 5]), Span::Idxs(vec![3, 5]));
        assert_eq!(Span::new(&[7]), Span::Range(7, 8));
        let x = [0.0f64, 1.0, 2.0, 3.0];
        let (r, g) = (Span::new(&[1, 2]), Span::Idxs(vec![1, 2]));
        assert_eq!(r.logsumexp(&x), g.logsumexp(&x));
        let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
        r.log_softmax(&x, &mut a);
        g.log_softmax(&x, &mut b);
        assert_eq!(a, b);
        assert_eq!(a[0], 0.0);
        assert!((a[1].exp() + a[2].exp() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sink_survives_underflowing_subtrees() {
        use crate::CategoryTree;
        use ndarray::{Axis, array};
        // classes: a, p, b, c  (b and c under p)
        let t = CategoryTree::from_adjacency([("a", vec![]), ("p", vec!["b", "c"])]).unwrap();
        let e = array![[0.0f32, 0.0, -200.0, -200.0]];
        let y = t.sink_log_softmax(&e, Axis(1)).unwrap();
        // exp(-200) underflows in f32, but the log-probabilities stay finite
        assert!((y[[0, 2]] + 200.0).abs() < 1e-3);
        assert!((y[[0, 1]] - (-200.0 + 2f32.ln())).abs() < 1e-3, "{y}");
        assert!(y[[0, 0]].abs() < 1e-6);
    }
}
