//! Property tests of the geometry invariants.

use coco_geometry::{
    Affine, AffineParams, BBox, Keypoints, Mask, MultiPolygon, Polygon, Rle, Segmentation,
    TransformSpec,
};
use proptest::prelude::*;

fn affine_strategy() -> impl Strategy<Value = Affine> {
    (
        0.2f64..5.0,
        0.2f64..5.0,
        -100.0f64..100.0,
        -100.0f64..100.0,
        -3.2f64..3.2,
        -1.0f64..1.0,
        -50.0f64..50.0,
        -50.0f64..50.0,
    )
        .prop_map(|(sx, sy, tx, ty, theta, shearx, ax, ay)| {
            Affine::from_params(&AffineParams {
                scale: [sx, sy],
                offset: [tx, ty],
                theta,
                shearx,
                about: [ax, ay],
            })
        })
}

fn axis_aligned_strategy() -> impl Strategy<Value = Affine> {
    (0.2f64..5.0, 0.2f64..5.0, -100.0f64..100.0, -100.0f64..100.0)
        .prop_map(|(sx, sy, tx, ty)| Affine::scale(sx, sy).then(&Affine::translate(tx, ty)))
}

fn pt() -> impl Strategy<Value = [f64; 2]> {
    (-500.0f64..500.0, -500.0f64..500.0).prop_map(|(x, y)| [x, y])
}

fn close(a: [f64; 2], b: [f64; 2]) -> bool {
    let tol = 1e-7 * (1.0 + a[0].abs().max(a[1].abs()));
    (a[0] - b[0]).abs() <= tol && (a[1] - b[1]).abs() <= tol
}

fn rings_close(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(p, q)| close(*p, *q))
}

fn mask_strategy() -> impl Strategy<Value = Mask> {
    (1usize..20, 1usize..20, 0.1f64..0.9).prop_flat_map(|(h, w, density)| {
        proptest::collection::vec(proptest::bool::weighted(density), h * w).prop_map(move |bits| {
            Mask::from_vec(h, w, bits.into_iter().map(u8::from).collect()).unwrap()
        })
    })
}

/// A star-shaped polygon around (20, 20) inside a 40×40 image.
fn star_polygon() -> impl Strategy<Value = Polygon> {
    proptest::collection::vec((0.0f64..1.0, 2.0f64..17.0), 3..14).prop_map(|mut spokes| {
        spokes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let exterior = spokes
            .iter()
            .enumerate()
            .map(|(i, &(jitter, r))| {
                let t = (i as f64 + jitter * 0.9) / spokes.len() as f64 * std::f64::consts::TAU;
                [20.0 + r * t.cos(), 20.0 + r * t.sin()]
            })
            .collect();
        Polygon::new(exterior)
    })
}

fn perimeter(p: &Polygon) -> f64 {
    p.rings()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let (a, b) = (r[i], r[(i + 1) % r.len()]);
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
                })
                .sum::<f64>()
        })
        .sum()
}

/// Number of 8-connected components of set pixels, and of 4-connected
/// regions of unset pixels that do not touch the border (holes).
fn components(m: &Mask) -> (usize, usize) {
    let (h, w) = (m.height() as isize, m.width() as isize);
    let mut seen = vec![false; (h * w) as usize];
    let (mut fg, mut holes) = (0, 0);
    for start in 0..(h * w) {
        if seen[start as usize] {
            continue;
        }
        let value = m.get((start % w) as usize, (start / w) as usize);
        let nbrs: &[(isize, isize)] = if value {
            &[
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ]
        } else {
            &[(0, -1), (-1, 0), (1, 0), (0, 1)]
        };
        let mut border = false;
        let mut stack = vec![start];
        seen[start as usize] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            border |= x == 0 || y == 0 || x == w - 1 || y == h - 1;
            for (dx, dy) in nbrs {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let j = ny * w + nx;
                if !seen[j as usize] && m.get(nx as usize, ny as usize) == value {
                    seen[j as usize] = true;
                    stack.push(j);
                }
            }
        }
        if value {
            fg += 1;
        } else if !border {
            holes += 1;
        }
    }
    (fg, holes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn affine_times_inverse_is_identity(a in affine_strategy(), p in pt()) {
        let inv = a.inverse().unwrap();
        prop_assert!((a * inv).is_close_identity(1e-9));
        prop_assert!(close(inv.apply(a.apply(p)), p));
        prop_assert!(close(a.then(&inv).apply(p), p));
    }

    #[test]
    fn decompose_reconstructs(a in affine_strategy(), p in pt()) {
        let d = a.decompose();
        let r = Affine::from_params(&d);
        prop_assert!(close(r.apply(p), a.apply(p)));
    }

    #[test]
    fn transform_spec_concise_round_trip(a in affine_strategy(), p in pt()) {
        let spec = TransformSpec::from_affine_concise(a);
        let back = TransformSpec::from_json(&spec.to_json()).unwrap();
        prop_assert!(close(back.affine().apply(p), a.apply(p)));
        let m = TransformSpec::from_affine_matrix(a);
        let parsed = TransformSpec::from_json_str(&m.to_json().to_string()).unwrap();
        prop_assert_eq!(parsed.affine(), &a);
    }

    #[test]
    fn bbox_warp_round_trip(a in axis_aligned_strategy(), x in -100.0f64..100.0, y in -100.0f64..100.0,
                            w in 0.0f64..50.0, h in 0.0f64..50.0) {
        let b = BBox::new(x, y, w, h);
        let back = b.warp(&a).warp(&a.inverse().unwrap());
        prop_assert!(close([back.x, back.y], [b.x, b.y]) && close([back.w, back.h], [b.w, b.h]));
    }

    #[test]
    fn rotated_bbox_holds_warped_corners(a in affine_strategy(), x in -100.0f64..100.0,
                                         y in -100.0f64..100.0, w in 0.0f64..50.0, h in 0.0f64..50.0) {
        let b = BBox::new(x, y, w, h);
        let wb = b.warp(&a);
        let grown = BBox::new(wb.x - 1e-6, wb.y - 1e-6, wb.w + 2e-6, wb.h + 2e-6);
        for c in b.corners() {
            prop_assert!(grown.contains_point(a.apply(c)));
        }
    }

    #[test]
    fn polygon_and_segmentation_warp_round_trip(a in affine_strategy(), poly in star_polygon()) {
        let inv = a.inverse().unwrap();
        let back = poly.warp(&a).warp(&inv);
        prop_assert!(rings_close(&back.exterior, &poly.exterior));
        let area_ratio = poly.warp(&a).area() / poly.area();
        prop_assert!((area_ratio - a.det().abs()).abs() < 1e-6 * a.det().abs());

        let seg = Segmentation::from_json(&Segmentation::from_multi_polygon(poly.clone().into()).to_json()).unwrap();
        let seg_back = seg.warp(&a).unwrap().warp(&inv).unwrap();
        let mp = seg_back.to_multi_polygon().unwrap();
        prop_assert!(rings_close(&mp.polygons[0].exterior, &poly.exterior));
        // the form survives the warps
        let again = Segmentation::from_json(&seg_back.to_json()).unwrap();
        prop_assert_eq!(again.to_json(), seg_back.to_json());
    }

    #[test]
    fn keypoints_warp_round_trip(a in affine_strategy(), pts in proptest::collection::vec(pt(), 0..6)) {
        let flat: Vec<serde_json::Value> = pts
            .iter()
            .flat_map(|p| [p[0].into(), p[1].into(), 2.into()])
            .collect();
        let kp = Keypoints::from_json(&serde_json::Value::Array(flat)).unwrap();
        let back = kp.warp(&a).warp(&a.inverse().unwrap());
        for (p, q) in back.points.iter().zip(&kp.points) {
            prop_assert!(close(p.xy, q.xy));
        }
        prop_assert_eq!(back.form, kp.form);
    }

    #[test]
    fn rle_round_trips(m in mask_strategy()) {
        let r = Rle::encode(&m);
        prop_assert_eq!(r.decode().unwrap(), m.clone());
        prop_assert_eq!(r.area() as usize, m.count());
        // compressed string
        let s = r.to_string_counts();
        let back = Rle::from_string_counts(m.height(), m.width(), &s).unwrap();
        prop_assert_eq!(back.counts(), r.counts());
        // both JSON forms
        let c = Rle::from_json(&r.to_json()).unwrap();
        prop_assert!(c.is_compressed());
        prop_assert_eq!(c.decode().unwrap(), m.clone());
        let mut u = r.clone();
        u.set_compressed(false);
        let u2 = Rle::from_json(&u.to_json()).unwrap();
        prop_assert!(!u2.is_compressed());
        prop_assert_eq!(u2.decode().unwrap(), m.clone());
        // bbox agrees with the mask's pixel extent
        let expect = m.bbox().unwrap_or_default();
        prop_assert_eq!(r.bbox(), expect);
    }

    #[test]
    fn mask_to_polygons_to_mask_is_exact(m in mask_strategy()) {
        let polys = m.to_multi_polygon();
        prop_assert_eq!(polys.area(), m.count() as f64);
        // one polygon per 8-connected component, one interior per enclosed
        // 4-connected background region (cv2's connectivity pair)
        let (fg, holes) = components(&m);
        prop_assert_eq!(polys.polygons.len(), fg);
        prop_assert_eq!(polys.polygons.iter().map(|p| p.interiors.len()).sum::<usize>(), holes);
        prop_assert_eq!(polys.to_mask(m.height(), m.width()).unwrap(), m.clone());
        // every set pixel centre is inside a polygon, every unset one outside
        for y in 0..m.height() {
            for x in 0..m.width() {
                let c = [x as f64 + 0.5, y as f64 + 0.5];
                prop_assert_eq!(polys.contains_point(c), m.get(x, y));
            }
        }
    }

    #[test]
    fn cv2_tracing_counts_and_vertices(m in mask_strategy()) {
        let polys = m.to_multi_polygon_cv2();
        let (fg, holes) = components(&m);
        prop_assert_eq!(polys.polygons.len(), fg);
        prop_assert_eq!(polys.polygons.iter().map(|p| p.interiors.len()).sum::<usize>(), holes);
        // every vertex is a set pixel, and each exterior's box is its component's extent
        for p in &polys.polygons {
            for r in p.rings() {
                prop_assert!(!r.is_empty());
                for v in r {
                    prop_assert!(m.get(v[0] as usize, v[1] as usize), "vertex {:?} not set", v);
                }
            }
        }
        let corner_total: f64 = m.to_multi_polygon().polygons.iter().map(|p| p.bbox().unwrap().area()).sum();
        let centre_total: f64 = polys
            .polygons
            .iter()
            .map(|p| {
                let b = p.bbox().unwrap();
                (b.w + 1.0) * (b.h + 1.0)
            })
            .sum();
        prop_assert_eq!(corner_total, centre_total);
    }

    #[test]
    fn polygon_to_mask_to_polygon_area_close(poly in star_polygon()) {
        let m = poly.to_mask(40, 40).unwrap();
        let traced: MultiPolygon = m.to_multi_polygon();
        let err = (traced.area() - poly.area()).abs();
        prop_assert!(err <= perimeter(&poly) + 4.0, "area {} vs {} (err {})", traced.area(), poly.area(), err);
        prop_assert_eq!(traced.to_mask(40, 40).unwrap(), m);
    }

    #[test]
    fn segmentation_rle_and_polygon_masks_agree(m in mask_strategy()) {
        let rle = Segmentation::Rle(m.to_rle());
        let poly = Segmentation::from_multi_polygon(m.to_multi_polygon());
        prop_assert_eq!(rle.to_mask(m.height(), m.width()).unwrap(), m.clone());
        prop_assert_eq!(poly.to_mask(m.height(), m.width()).unwrap(), m.clone());
        prop_assert_eq!(rle.area(), poly.area());
        if m.count() > 0 {
            prop_assert_eq!(rle.bbox(), poly.bbox());
        }
    }
}

/// Runs of `bits` in the given scan order, alternating from zeros
/// (kwimage `encode_run_length(binary=True)`).
fn binary_runs(bits: &[u8]) -> Vec<u64> {
    let mut out = vec![0u64];
    let mut cur = 0u8;
    for &b in bits {
        if b != cur {
            out.push(0);
            cur = b;
        }
        *out.last_mut().unwrap() += 1;
    }
    out
}

/// The mask's pixels in column-major order.
fn f_order(m: &Mask) -> Vec<u8> {
    let mut v = Vec::with_capacity(m.height() * m.width());
    for x in 0..m.width() {
        for y in 0..m.height() {
            v.push(u8::from(m.get(x, y)));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every RLE form kwimage writes (COCO plain and compressed, array RLE
    /// with `shape`/`order`/`binary`, row-major, non-binary value pairs) is
    /// kept on a JSON round trip and decodes to the same mask.
    #[test]
    fn every_rle_form_round_trips_and_decodes_to_the_mask(m in mask_strategy(), value in 1u64..5) {
        let (h, w) = (m.height(), m.width());
        let c_bits: Vec<u8> = m.data().to_vec();
        let f_bits = f_order(&m);
        let pairs = |bits: &[u8]| -> Vec<u64> {
            // kwimage non-binary: [value, length] pairs, any non-zero value is set
            let mut out = Vec::new();
            for (i, n) in binary_runs(bits).into_iter().enumerate() {
                out.push(if i % 2 == 1 { value } else { 0 });
                out.push(n);
            }
            out
        };
        let forms = [
            serde_json::json!({"size": [h, w], "counts": binary_runs(&f_bits)}),
            serde_json::json!({"size": [h, w], "counts": Rle::encode(&m).to_string_counts()}),
            serde_json::json!({"size": [h, w], "shape": [h, w], "order": "F", "binary": true, "counts": binary_runs(&f_bits)}),
            serde_json::json!({"size": [h, w], "shape": [h, w], "order": "C", "binary": true, "counts": binary_runs(&c_bits)}),
            serde_json::json!({"shape": [h, w], "order": "C", "binary": false, "counts": pairs(&c_bits)}),
            serde_json::json!({"shape": [h, w], "binary": false, "counts": pairs(&f_bits)}),
        ];
        for form in forms {
            let seg = Segmentation::from_json_str(&form.to_string()).unwrap();
            prop_assert_eq!(seg.to_json(), form.clone());
            prop_assert_eq!(seg.to_mask(h, w).unwrap(), m.clone(), "{}", form);
            prop_assert_eq!(seg.area() as usize, m.count());
        }
    }

    /// A polygon written in every polygon form reads back as the same
    /// geometry and rasterizes to the same mask.
    #[test]
    fn every_polygon_form_gives_the_same_mask(poly in star_polygon()) {
        let ext: Vec<[f64; 2]> = poly.exterior.clone();
        let flat: Vec<f64> = ext.iter().flat_map(|p| [p[0], p[1]]).collect();
        let mut closed = ext.clone();
        closed.push(ext[0]);
        let forms = [
            serde_json::json!(flat),
            serde_json::json!([flat]),
            serde_json::json!({"exterior": ext, "interiors": []}),
            serde_json::json!([{"exterior": ext}]),
            serde_json::json!({"type": "Polygon", "coordinates": [closed]}),
            serde_json::json!({"type": "MultiPolygon", "coordinates": [[closed]]}),
        ];
        let want = Segmentation::from_json(&forms[0]).unwrap().to_mask(40, 40).unwrap();
        for form in forms {
            let seg = Segmentation::from_json_str(&form.to_string()).unwrap();
            prop_assert_eq!(seg.to_json(), form.clone());
            prop_assert_eq!(seg.to_mask(40, 40).unwrap(), want.clone(), "{}", form);
            prop_assert!((seg.area() - poly.area()).abs() < 1e-6 * (1.0 + poly.area()));
        }
    }
}
