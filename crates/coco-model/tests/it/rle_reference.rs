//! RLE against pycocotools 2.0 (`pycocotools.mask.encode / toBbox / area`) on
//! non-square, non-symmetric masks, so a row-major / column-major mix-up, a
//! transposed size or an off-by-one run cannot pass. The answers were made
//! once with pycocotools and numpy (`m.ravel(order="F")` runs, counted by
//! hand), independent of this crate; the masks are given as set pixels.

use coco_model::geometry::{Mask, Rle};
use serde_json::json;

struct Case {
    name: &'static str,
    h: usize,
    w: usize,
    /// Set pixels as (row, column).
    set: Vec<(usize, usize)>,
    counts: Vec<u32>,
    string: &'static str,
    bbox: [f64; 4],
    area: u64,
}

fn long_runs() -> Vec<(usize, usize)> {
    // m[3:30, 5:9] = 1; m[:, 20] = 1; m[10, :] = 1; m[35:40, 25:31] = 1 (40 × 31)
    let mut v = Vec::new();
    for y in 0..40 {
        for x in 0..31 {
            if ((3..30).contains(&y) && (5..9).contains(&x))
                || x == 20
                || y == 10
                || ((35..40).contains(&y) && (25..31).contains(&x))
            {
                v.push((y, x));
            }
        }
    }
    v
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "l_shape_3x5",
            h: 3,
            w: 5,
            set: vec![(0, 1), (1, 1), (2, 1), (2, 2), (2, 3), (0, 4)],
            counts: vec![3, 3, 2, 1, 2, 2, 2],
            string: "332N010",
            bbox: [1.0, 0.0, 4.0, 3.0],
            area: 6,
        },
        Case {
            name: "diag_4x7",
            h: 4,
            w: 7,
            set: vec![(0, 0), (1, 2), (2, 4), (3, 6), (3, 5)],
            counts: vec![0, 1, 8, 1, 8, 1, 4, 1, 3, 1],
            string: "018000L0O0",
            bbox: [0.0, 0.0, 7.0, 4.0],
            area: 5,
        },
        Case {
            name: "tall_6x2",
            h: 6,
            w: 2,
            set: vec![(1, 0), (2, 0), (5, 1), (0, 1)],
            counts: vec![1, 2, 3, 1, 4, 1],
            string: "123O10",
            bbox: [0.0, 0.0, 2.0, 6.0],
            area: 4,
        },
        Case {
            name: "row_1x9",
            h: 1,
            w: 9,
            set: vec![(0, 2), (0, 3), (0, 8)],
            counts: vec![2, 2, 4, 1],
            string: "224O",
            bbox: [2.0, 0.0, 7.0, 1.0],
            area: 3,
        },
        Case {
            name: "corner_5x3",
            h: 5,
            w: 3,
            set: vec![(4, 2)],
            counts: vec![14, 1],
            string: ">1",
            bbox: [2.0, 4.0, 1.0, 1.0],
            area: 1,
        },
        Case {
            name: "long_runs_40x31",
            h: 40,
            w: 31,
            set: long_runs(),
            counts: vec![
                10, 1, 39, 1, 39, 1, 39, 1, 39, 1, 32, 27, 13, 27, 13, 27, 13, 27, 20, 1, 39, 1,
                39, 1, 39, 1, 39, 1, 39, 1, 39, 1, 39, 1, 39, 1, 39, 1, 39, 1, 29, 40, 10, 1, 39,
                1, 39, 1, 39, 1, 39, 1, 24, 5, 10, 1, 24, 5, 10, 1, 24, 5, 10, 1, 24, 5, 10, 1, 24,
                5, 10, 1, 24, 5,
            ],
            string: ":1W10000000Ij0]O000007VOc00000000000000000000FW1]OiNm00000000A4BL>4BL>4BL>4BL>4BL>4",
            bbox: [0.0, 0.0, 31.0, 40.0],
            area: 204,
        },
    ]
}

fn mask(c: &Case) -> Mask {
    Mask::from_fn(c.h, c.w, |x, y| c.set.contains(&(y, x))).unwrap()
}

/// Every pixel of `m` against the case's set pixels, by (row, column).
fn assert_pixels(m: &Mask, c: &Case, what: &str) {
    assert_eq!(
        (m.height(), m.width()),
        (c.h, c.w),
        "{} {what}: shape",
        c.name
    );
    for y in 0..c.h {
        for x in 0..c.w {
            assert_eq!(
                m.get(x, y),
                c.set.contains(&(y, x)),
                "{} {what}: pixel row {y} column {x}",
                c.name
            );
        }
    }
}

#[test]
fn encode_matches_pycocotools() {
    for c in cases() {
        let m = mask(&c);
        assert_eq!(m.count(), c.set.len(), "{}", c.name);
        let r = Rle::encode(&m);
        assert_eq!((r.height(), r.width()), (c.h, c.w), "{}", c.name);
        assert_eq!(r.counts(), &c.counts[..], "{} counts", c.name);
        assert_eq!(r.to_string_counts(), c.string, "{} string", c.name);
        assert_eq!(r.area(), c.area, "{} area", c.name);
        assert_eq!(r.bbox().xywh(), c.bbox, "{} bbox", c.name);
        assert_eq!(r.to_json(), json!({"size": [c.h, c.w], "counts": c.string}));
        assert_eq!(m.to_rle(), r);
    }
}

#[test]
fn decode_puts_pycocotools_runs_at_the_right_pixels() {
    for c in cases() {
        let from_counts = Rle::new(c.h, c.w, c.counts.clone(), false).unwrap();
        assert_pixels(&from_counts.decode().unwrap(), &c, "uncompressed");
        assert_eq!(from_counts.area(), c.area);
        assert_eq!(from_counts.bbox().xywh(), c.bbox, "{}", c.name);
        let from_string = Rle::from_string_counts(c.h, c.w, c.string).unwrap();
        assert_eq!(from_string.counts(), &c.counts[..], "{}", c.name);
        assert_pixels(&from_string.decode().unwrap(), &c, "compressed");
        for v in [
            json!({"size": [c.h, c.w], "counts": c.string}),
            json!({"size": [c.h, c.w], "counts": c.counts}),
        ] {
            let r = Rle::from_json(&v).unwrap();
            assert_pixels(&r.decode().unwrap(), &c, "json");
            assert_eq!(r.to_json(), v, "{}: written back in its own form", c.name);
        }
        // The size is [h, w]: the transposed size puts the runs elsewhere.
        if c.h != c.w {
            let t = Rle::new(c.w, c.h, c.counts.clone(), false).unwrap();
            let dm = t.decode().unwrap();
            assert_eq!((dm.height(), dm.width()), (c.w, c.h));
        }
    }
}

#[test]
fn merge_matches_pixelwise_union_and_intersection() {
    let cs = cases();
    let (a, b) = (&cs[1], &cs[1]);
    // A second 4×7 mask: the first row and the last column.
    let other = Mask::from_fn(4, 7, |x, y| y == 0 || x == 6).unwrap();
    let ra = Rle::encode(&mask(a));
    let rb = Rle::encode(&other);
    for intersect in [false, true] {
        let m = ra.merge(&rb, intersect).unwrap().decode().unwrap();
        for y in 0..4 {
            for x in 0..7 {
                let (p, q) = (b.set.contains(&(y, x)), y == 0 || x == 6);
                let want = if intersect { p && q } else { p || q };
                assert_eq!(m.get(x, y), want, "intersect {intersect} ({y}, {x})");
            }
        }
    }
}
