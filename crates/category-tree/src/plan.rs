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
        let lse = self.logsumexp(x);
        match self {
            Span::Range(a, b) => {
                for (o, &v) in y[*a..*b].iter_mut().zip(&x[*a..*b]) {
                    *o = v - lse;
                }
            }
            Span::Idxs(v) => {
                for &i in v {
                    y[i] = x[i] - lse;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SoftmaxPlan {
    groups: Vec<Span>,
    leaves: Option<Span>,
    /// `(child, parent)` for every non-root, parents before children.
    chain: Vec<(usize, usize)>,
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
            leaves: (!leaves.is_empty()).then(|| Span::new(leaves)),
            chain: preorder
                .iter()
                .filter_map(|&i| parent[i].map(|p| (i, p)))
                .collect(),
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

    /// Top-down (source) log-softmax of one row.
    #[inline]
    pub(crate) fn source<T: Real>(&self, x: &[T], y: &mut [T]) {
        self.conditional(x, y);
        for &(c, p) in &self.chain {
            let up = y[p];
            y[c] += up;
        }
    }

    /// Bottom-up (sink) log-softmax of one row.
    #[inline]
    pub(crate) fn sink<T: Real>(&self, x: &[T], y: &mut [T]) {
        if let Some(leaves) = &self.leaves {
            leaves.log_softmax(x, y);
        }
        for (i, kids) in &self.sink {
            y[*i] = kids.logsumexp(y);
        }
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
}
