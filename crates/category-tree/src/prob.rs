//! Flat (tree-free) probability helpers along any axis: softmax, log-softmax,
//! and the `gini` / `entropy` impurity measures used by
//! [`CategoryTree::decision`](crate::CategoryTree::decision).

use ndarray::{Array, ArrayBase, Axis, Data, Dimension, RemoveAxis, Zip};

use crate::error::{Error, Result};
use crate::real::Real;

/// Check that `axis` exists in `a` and, if `expect` is given, has that length.
pub(crate) fn check_axis<S: Data, D: Dimension>(
    a: &ArrayBase<S, D>,
    axis: Axis,
    expect: Option<usize>,
) -> Result<()> {
    if axis.index() >= a.ndim() {
        return Err(Error::Shape {
            reason: format!(
                "class axis {} does not exist in a {}-d array of shape {:?}",
                axis.index(),
                a.ndim(),
                a.shape()
            ),
        });
    }
    if let Some(n) = expect {
        let got = a.len_of(axis);
        if got != n {
            return Err(Error::Shape {
                reason: format!(
                    "class axis {} of the array of shape {:?} has length {got}, \
                     but the tree has {n} classes",
                    axis.index(),
                    a.shape()
                ),
            });
        }
    }
    Ok(())
}

/// Apply `f(x_lane, y_lane)` to every 1-D lane along `axis`; lanes are given
/// as contiguous slices (copied through a scratch buffer when strided).
pub(crate) fn map_lanes<T, S, D, F>(a: &ArrayBase<S, D>, axis: Axis, mut f: F) -> Array<T, D>
where
    T: Real,
    S: Data<Elem = T>,
    D: Dimension,
    F: FnMut(&[T], &mut [T]),
{
    let n = a.len_of(axis);
    let mut out = Array::from_elem(a.raw_dim(), T::ZERO);
    let mut xbuf = vec![T::ZERO; n];
    let mut ybuf = vec![T::ZERO; n];
    Zip::from(a.lanes(axis))
        .and(out.lanes_mut(axis))
        .for_each(|x, mut y| {
            let xs: &[T] = match x.as_slice() {
                Some(s) => s,
                None => {
                    xbuf.iter_mut().zip(x.iter()).for_each(|(d, v)| *d = *v);
                    &xbuf
                }
            };
            match y.as_slice_mut() {
                Some(ys) => f(xs, ys),
                None => {
                    f(xs, &mut ybuf);
                    y.iter_mut().zip(&ybuf).for_each(|(d, v)| *d = *v);
                }
            }
        });
    out
}

/// Reduce every 1-D lane along `axis` to one value.
pub(crate) fn reduce_lanes<T, U, S, D, F>(
    a: &ArrayBase<S, D>,
    axis: Axis,
    init: U,
    mut f: F,
) -> Array<U, D::Smaller>
where
    T: Real,
    U: Clone,
    S: Data<Elem = T>,
    D: Dimension + RemoveAxis,
    F: FnMut(&[T]) -> U,
{
    let n = a.len_of(axis);
    let mut out = Array::from_elem(a.raw_dim().remove_axis(axis), init);
    let mut xbuf = vec![T::ZERO; n];
    Zip::from(a.lanes(axis)).and(&mut out).for_each(|x, o| {
        let xs: &[T] = match x.as_slice() {
            Some(s) => s,
            None => {
                xbuf.iter_mut().zip(x.iter()).for_each(|(d, v)| *d = *v);
                &xbuf
            }
        };
        *o = f(xs);
    });
    out
}

/// `log Σ exp(x[i])` over `idxs`, stable (max-shifted).
#[inline]
pub(crate) fn logsumexp_at<T: Real>(x: &[T], idxs: &[usize]) -> T {
    let mut m = T::NEG_INFINITY;
    for &i in idxs {
        if x[i] > m {
            m = x[i];
        }
    }
    let mut s = T::ZERO;
    for &i in idxs {
        s += (x[i] - m).exp();
    }
    m + s.ln()
}

/// `log Σ exp(x)` over a slice, stable (max-shifted).
#[inline]
pub(crate) fn logsumexp<T: Real>(x: &[T]) -> T {
    let mut m = T::NEG_INFINITY;
    for &v in x {
        if v > m {
            m = v;
        }
    }
    let mut s = T::ZERO;
    for &v in x {
        s += (v - m).exp();
    }
    m + s.ln()
}

/// Log-softmax of one lane into `y` (same length).
#[inline]
pub(crate) fn log_softmax_slice<T: Real>(x: &[T], y: &mut [T]) {
    let lse = logsumexp(x);
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v - lse;
    }
}

/// Flat log-softmax along `axis` (every lane sums to 1 in probability).
///
/// ```
/// use ndarray::{array, Axis};
/// let logp = category_tree::log_softmax(&array![[0.0f64, 0.0], [1.0, 3.0]], Axis(1))?;
/// let p = logp.mapv(f64::exp);
/// assert!((p[[0, 0]] - 0.5).abs() < 1e-12);
/// assert!((p.row(1).sum() - 1.0).abs() < 1e-12);
/// assert!(p[[1, 1]] > p[[1, 0]]);
/// # Ok::<(), category_tree::Error>(())
/// ```
pub fn log_softmax<T, S, D>(a: &ArrayBase<S, D>, axis: Axis) -> Result<Array<T, D>>
where
    T: Real,
    S: Data<Elem = T>,
    D: Dimension,
{
    check_axis(a, axis, None)?;
    Ok(map_lanes(a, axis, log_softmax_slice))
}

/// Flat softmax along `axis`.
pub fn softmax<T, S, D>(a: &ArrayBase<S, D>, axis: Axis) -> Result<Array<T, D>>
where
    T: Real,
    S: Data<Elem = T>,
    D: Dimension,
{
    Ok(log_softmax(a, axis)?.mapv_into(T::exp))
}

/// Gini impurity of one distribution: `1 − Σ p²`.
#[inline]
pub fn gini_slice<T: Real>(p: &[T]) -> T {
    let mut s = T::ZERO;
    for &v in p {
        s += v * v;
    }
    T::ONE - s
}

/// Shannon entropy in bits of one distribution: `−Σ p log₂ p`, where terms
/// with a non-positive `p` count as 0 (the reference's `nan_to_num`).
#[inline]
pub fn entropy_slice<T: Real>(p: &[T]) -> T {
    let mut s = T::ZERO;
    for &v in p {
        if v > T::ZERO {
            s += v * v.log2();
        } else if v.is_nan() {
            s += v;
        }
    }
    -s
}

/// Gini impurity `1 − Σ p²` of every lane along `axis` (a fast stand-in for entropy).
///
/// ```
/// use ndarray::{array, Axis};
/// let g = category_tree::gini(&array![[0.5f64, 0.5], [1.0, 0.0]], Axis(1))?;
/// assert_eq!(g, array![0.5, 0.0]);
/// # Ok::<(), category_tree::Error>(())
/// ```
pub fn gini<T, S, D>(probs: &ArrayBase<S, D>, axis: Axis) -> Result<Array<T, D::Smaller>>
where
    T: Real,
    S: Data<Elem = T>,
    D: Dimension + RemoveAxis,
{
    check_axis(probs, axis, None)?;
    Ok(reduce_lanes(probs, axis, T::ZERO, gini_slice))
}

/// Shannon entropy `−Σ p log₂ p` (bits) of every lane along `axis`; `0 log 0 = 0`.
///
/// ```
/// use ndarray::{array, Axis};
/// let h = category_tree::entropy(&array![[0.5f64, 0.5], [1.0, 0.0]], Axis(1))?;
/// assert_eq!(h, array![1.0, 0.0]);
/// # Ok::<(), category_tree::Error>(())
/// ```
pub fn entropy<T, S, D>(probs: &ArrayBase<S, D>, axis: Axis) -> Result<Array<T, D::Smaller>>
where
    T: Real,
    S: Data<Elem = T>,
    D: Dimension + RemoveAxis,
{
    check_axis(probs, axis, None)?;
    Ok(reduce_lanes(probs, axis, T::ZERO, entropy_slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn strided_lanes_match_contiguous_lanes() {
        let a = Array2::from_shape_fn((3, 5), |(r, c)| (r * 5 + c) as f64 * 0.3);
        let by_row = log_softmax(&a, Axis(1)).unwrap();
        let by_col = log_softmax(&a.t(), Axis(0)).unwrap();
        assert_eq!(by_row, by_col.t());
        let g_row = gini(&softmax(&a, Axis(1)).unwrap(), Axis(1)).unwrap();
        let g_col = gini(&softmax(&a.t(), Axis(0)).unwrap(), Axis(0)).unwrap();
        assert_eq!(g_row, g_col);
    }

    #[test]
    fn entropy_edge_cases() {
        assert_eq!(entropy_slice(&[0.0f64, 0.0]), 0.0);
        assert_eq!(entropy_slice(&[-0.5f64, 1.0]), 0.0);
        assert!(entropy_slice(&[f64::NAN, 1.0]).is_nan());
        assert_eq!(gini_slice::<f32>(&[]), 1.0);
    }

    #[test]
    fn bad_axes_are_reported() {
        let a = array![[1.0f32, 2.0]];
        let err = log_softmax(&a, Axis(2)).unwrap_err();
        assert!(err.to_string().contains("axis 2"), "{err}");
        assert!(entropy(&a, Axis(3)).is_err());
    }
}
