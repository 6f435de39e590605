//! cv2-style contours: Suzuki & Abe (1985) border following, as OpenCV's
//! `findContours(mask, RETR_CCOMP, CHAIN_APPROX_SIMPLE)` that kwimage's
//! `Mask.to_multi_polygon` (and so kwcoco's toy data) uses.
//!
//! Vertices are the **centres of the boundary pixels** (integer pixel
//! indices), outer borders are 8-connected, holes 4-connected; straight
//! horizontal, vertical and diagonal runs keep only their end points.

use super::{MultiPolygon, Polygon};

/// Neighbour offsets in counter-clockwise order on screen (y down),
/// starting to the right.
const NB: [(isize, isize); 8] = [
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

fn dir_of(dx: isize, dy: isize) -> usize {
    NB.iter().position(|&d| d == (dx, dy)).unwrap_or(0)
}

/// Border types of the Suzuki hierarchy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Outer,
    Hole,
}

struct Border {
    kind: Kind,
    parent: usize, // index into borders; 0 is the frame
    pts: Vec<[i64; 2]>,
}

/// Trace a row-major 0/1 image of `h × w` into cv2-style polygons.
pub(crate) fn trace_cv2(data: &[u8], h: usize, w: usize) -> MultiPolygon {
    if h == 0 || w == 0 {
        return MultiPolygon::default();
    }
    // padded label image: 0 background, 1 unvisited foreground, ±NBD borders
    let (pw, ph) = (w + 2, h + 2);
    let mut f = vec![0i32; pw * ph];
    for y in 0..h {
        for x in 0..w {
            f[(y + 1) * pw + x + 1] = i32::from(data[y * w + x] != 0);
        }
    }
    let idx = |x: isize, y: isize| -> usize { y as usize * pw + x as usize };
    // borders[0] is the frame (a hole border in Suzuki's terms)
    let mut borders = vec![Border {
        kind: Kind::Hole,
        parent: 0,
        pts: Vec::new(),
    }];
    for y in 1..(ph - 1) as isize {
        let mut lnbd: usize = 0; // the frame
        for x in 1..(pw - 1) as isize {
            let v = f[idx(x, y)];
            if v == 0 {
                continue;
            }
            let start = if v == 1 && f[idx(x - 1, y)] == 0 {
                Some((Kind::Outer, 4usize)) // from the left neighbour
            } else if v >= 1 && f[idx(x + 1, y)] == 0 {
                if v > 1 {
                    lnbd = v as usize - 1;
                }
                Some((Kind::Hole, 0usize)) // from the right neighbour
            } else {
                None
            };
            if let Some((kind, from)) = start {
                let nbd = borders.len();
                let prev = &borders[lnbd];
                let parent = match (kind, prev.kind) {
                    (Kind::Outer, Kind::Outer) | (Kind::Hole, Kind::Hole) => prev.parent,
                    _ => lnbd,
                };
                let pts = follow(&mut f, pw, (x, y), from, nbd as i32 + 1);
                borders.push(Border { kind, parent, pts });
            }
            let v = f[idx(x, y)];
            if v != 1 {
                lnbd = v.unsigned_abs() as usize - 1;
            }
        }
    }
    // RETR_CCOMP: every outer border is a polygon; a hole goes to its parent
    // outer border.
    let mut index_of = vec![usize::MAX; borders.len()];
    let mut polys: Vec<Polygon> = Vec::new();
    for (i, b) in borders.iter().enumerate().skip(1) {
        if b.kind == Kind::Outer {
            index_of[i] = polys.len();
            polys.push(Polygon::new(to_f64(&b.pts)));
        }
    }
    for b in borders.iter().skip(1) {
        if b.kind == Kind::Hole {
            let p = index_of[b.parent];
            if p != usize::MAX {
                polys[p].interiors.push(to_f64(&b.pts));
            }
        }
    }
    MultiPolygon::new(polys)
}

fn to_f64(pts: &[[i64; 2]]) -> Vec<[f64; 2]> {
    pts.iter().map(|p| [p[0] as f64, p[1] as f64]).collect()
}

/// Follow one border from `(x, y)` (padded coordinates) whose search starts
/// at neighbour `from`; marks the label image with `±nbd` and returns the
/// compressed points in image coordinates.
fn follow(
    f: &mut [i32],
    pw: usize,
    (x, y): (isize, isize),
    from: usize,
    nbd: i32,
) -> Vec<[i64; 2]> {
    let at = |x: isize, y: isize| -> usize { y as usize * pw + x as usize };
    // 3.1: clockwise from `from` for a non-zero neighbour
    let mut first = None;
    for k in 0..8 {
        let d = (from + 8 - k) % 8;
        let (nx, ny) = (x + NB[d].0, y + NB[d].1);
        if f[at(nx, ny)] != 0 {
            first = Some((nx, ny));
            break;
        }
    }
    let Some(p1) = first else {
        f[at(x, y)] = -nbd;
        return vec![[x as i64 - 1, y as i64 - 1]];
    };
    let mut full: Vec<(isize, isize)> = Vec::new();
    let (mut p2, mut p3) = (p1, (x, y));
    loop {
        full.push(p3);
        // 3.3: counter-clockwise around p3, starting after p2
        let d2 = dir_of(p2.0 - p3.0, p2.1 - p3.1);
        let mut right_examined = false;
        let mut p4 = p2;
        for k in 1..=8 {
            let d = (d2 + k) % 8;
            let (nx, ny) = (p3.0 + NB[d].0, p3.1 + NB[d].1);
            if f[at(nx, ny)] != 0 {
                p4 = (nx, ny);
                break;
            }
            if d == 0 {
                right_examined = true;
            }
        }
        // 3.4: mark p3
        let c = at(p3.0, p3.1);
        if right_examined {
            f[c] = -nbd;
        } else if f[c] == 1 {
            f[c] = nbd;
        }
        // 3.5: back at the start, about to repeat the first move
        if p4 == (x, y) && p3 == p1 {
            break;
        }
        p2 = p3;
        p3 = p4;
    }
    // CHAIN_APPROX_SIMPLE: keep the points where the direction changes
    let n = full.len();
    let step = |i: usize| {
        let (a, b) = (full[i], full[(i + 1) % n]);
        (b.0 - a.0, b.1 - a.1)
    };
    let mut out = Vec::with_capacity(n);
    for (i, p) in full.iter().enumerate() {
        if step((i + n - 1) % n) != step(i) {
            out.push([p.0 as i64 - 1, p.1 as i64 - 1]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Mask;

    fn mask(rows: &[&str]) -> Mask {
        Mask::from_fn(rows.len(), rows[0].len(), |x, y| {
            rows[y].as_bytes()[x] == b'#'
        })
        .unwrap()
    }

    #[test]
    fn square_is_four_corner_pixels() {
        let m = mask(&["....", ".##.", ".##.", "...."]);
        let p = m.to_multi_polygon_cv2();
        assert_eq!(p.polygons.len(), 1);
        // counter-clockwise on screen from the top-left pixel, like cv2
        assert_eq!(
            p.polygons[0].exterior,
            vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]
        );
    }

    #[test]
    fn single_pixel_and_line() {
        let m = mask(&["#..", "...", ".##"]);
        let p = m.to_multi_polygon_cv2();
        assert_eq!(p.polygons.len(), 2);
        assert_eq!(p.polygons[0].exterior, vec![[0.0, 0.0]]);
        assert_eq!(p.polygons[1].exterior, vec![[1.0, 2.0], [2.0, 2.0]]);
    }

    #[test]
    fn ring_has_hole() {
        let m = mask(&["#####", "#...#", "#...#", "#####"]);
        let p = m.to_multi_polygon_cv2();
        assert_eq!(p.polygons.len(), 1);
        assert_eq!(
            p.polygons[0].exterior,
            vec![[0.0, 0.0], [0.0, 3.0], [4.0, 3.0], [4.0, 0.0]]
        );
        assert_eq!(p.polygons[0].interiors.len(), 1);
        // the hole runs through the set pixels around the unset ones
        let hole = &p.polygons[0].interiors[0];
        assert!(
            hole.contains(&[1.0, 0.0])
                && hole
                    .iter()
                    .all(|q| q[1] == 0.0 || q[1] == 3.0 || q[0] == 0.0 || q[0] == 4.0)
        );
    }
}
