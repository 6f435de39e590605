//! The `padkw` fills other than the default constant (docs/DESIGN.md §4): the
//! part of a window outside its image filled the way `numpy.pad` fills it,
//! which is what the reference does for `image_id` targets
//! (`CocoSampler._load_slice_2d`: `np.pad(data_clipped, extra_padding, **padkw)`
//! on the in-image part of the window).

use frame_backends::Affine;
use frame_backends::{Pixel, Window};
use ndarray::Array3;

use crate::error::{Error, Result};
use crate::target::{PadKw, PadMode};

/// For each of `out` output positions, the position it copies: itself inside
/// the data `[lo, lo + n)`, its `mode` source outside it, `None` for a constant.
fn sources(out: usize, lo: i64, n: i64, mode: PadMode) -> Vec<Option<usize>> {
    // 0 <= lo, 0 <= n and lo + n <= out (clamped by the caller).
    let (lo, n) = (lo as usize, n as usize);
    mode.sources(lo, n, out - lo - n)
        .into_iter()
        .map(|q| q.map(|q| lo + q))
        .collect()
}

/// Refill the outside of `win` (a frame read at `sample_from_img`, an image of
/// `[h, w]` pixels) as `kw` says. The window must be at image resolution (an
/// integer translation of image space) and overlap the image (numpy cannot
/// pad from nothing in modes other than constant).
pub(crate) fn repad(
    win: Window,
    sample_from_img: &Affine,
    [h, w]: [i64; 2],
    kw: PadKw,
    image_id: i64,
) -> Result<Window> {
    let bad = |msg: String| Error::BadTarget { key: "padkw", msg };
    let Some((tx, ty)) = sample_from_img.integer_translation() else {
        return Err(bad(format!(
            "mode {:?} needs a window at image resolution (no scale, no warp to video space); image {image_id} is resampled",
            kw.mode
        )));
    };
    let (oh, ow, _) = win.shape();
    // The image's extent in the window, clipped to it.
    let span = |t: i64, n: i64, out: usize| {
        let lo = t.clamp(0, out as i64);
        let hi = t.saturating_add(n).clamp(0, out as i64);
        (lo, hi - lo)
    };
    let (y0, ny) = span(ty, h, oh);
    let (x0, nx) = span(tx, w, ow);
    if (ny == 0 || nx == 0) && kw.mode != PadMode::Constant {
        return Err(bad(format!(
            "mode {:?}: the window does not overlap image {image_id}",
            kw.mode
        )));
    }
    let rows = sources(oh, y0, ny, kw.mode);
    let cols = sources(ow, x0, nx, kw.mode);
    let fill = kw.constant_values;
    fn go<T: Pixel>(
        a: &Array3<T>,
        rows: &[Option<usize>],
        cols: &[Option<usize>],
        fill: Option<f64>,
    ) -> Window {
        let fill = fill.map_or(T::FILL, T::from_f64);
        let (h, w, c) = a.dim();
        let mut out = Array3::from_elem((h, w, c), fill);
        for (y, r) in rows.iter().enumerate() {
            let Some(r) = *r else { continue };
            for (x, s) in cols.iter().enumerate() {
                let Some(s) = *s else { continue };
                for k in 0..c {
                    out[[y, x, k]] = a[[r, s, k]];
                }
            }
        }
        T::wrap(out)
    }
    Ok(match &win {
        Window::U8(a) => go(a, &rows, &cols, fill),
        Window::U16(a) => go(a, &rows, &cols, fill),
        Window::I16(a) => go(a, &rows, &cols, fill),
        Window::F32(a) => go(a, &rows, &cols, fill),
        Window::F64(a) => go(a, &rows, &cols, fill),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_and_reflect_around_a_window_leaving_the_image() {
        // A 2×3 image placed at (row 1, column -1) of a 4×4 window: the window
        // holds its columns 1..3 at columns 0..2, rows 0..2 at rows 1..3.
        let mut a = Array3::<u8>::zeros((4, 4, 1));
        for (y, x, v) in [(1, 0, 11), (1, 1, 12), (2, 0, 21), (2, 1, 22)] {
            a[[y, x, 0]] = v;
        }
        let t = Affine::translate(-1.0, 1.0);
        let kw = |mode| PadKw {
            mode,
            constant_values: None,
        };
        let got = repad(Window::U8(a.clone()), &t, [2, 3], kw(PadMode::Edge), 1).unwrap();
        let g = got.as_array::<u8>().unwrap();
        let row = |y: usize| (0..4).map(|x| g[[y, x, 0]]).collect::<Vec<_>>();
        assert_eq!(row(0), [11, 12, 12, 12]);
        assert_eq!(row(3), [21, 22, 22, 22]);
        let got = repad(Window::U8(a.clone()), &t, [2, 3], kw(PadMode::Reflect), 1).unwrap();
        let g = got.as_array::<u8>().unwrap();
        let row = |y: usize| (0..4).map(|x| g[[y, x, 0]]).collect::<Vec<_>>();
        assert_eq!(row(0), [21, 22, 21, 22]);
        let c = PadKw {
            mode: PadMode::Constant,
            constant_values: Some(7.0),
        };
        let got = repad(Window::U8(a.clone()), &t, [2, 3], c, 1).unwrap();
        assert_eq!(got.as_array::<u8>().unwrap()[[0, 0, 0]], 7);
        // Resampled windows and windows off the image are refused, naming the key.
        let e = repad(
            Window::U8(a.clone()),
            &Affine::scale(2.0, 2.0),
            [2, 3],
            kw(PadMode::Edge),
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("padkw") && e.contains("image 1"), "{e}");
        let far = Affine::translate(-100.0, 0.0);
        let e = repad(Window::U8(a), &far, [2, 3], kw(PadMode::Wrap), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not overlap"), "{e}");
    }
}
