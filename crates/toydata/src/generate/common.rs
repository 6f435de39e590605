//! Category tables and helpers shared by the generators.

use serde_json::{Value, json};

use crate::shape::{KEYPOINT_CATEGORIES, Shape};

/// `categories` of `shapes` and `big` datasets (kwcoco's ids and order:
/// background, star, superstar, eff).
pub(crate) fn image_categories() -> Vec<Value> {
    let mut cats = vec![json!({"id": 0, "name": "background"})];
    for shape in [Shape::Star, Shape::Superstar, Shape::Eff] {
        cats.push(json!({
            "name": shape.name(),
            "id": shape.shapes_category_id(),
            "supercategory": shape.supercategory(),
            "keypoints": shape.keypoint_names(),
        }));
    }
    cats
}

/// `keypoint_categories` (sorted by name, with reflections as ids).
pub(crate) fn keypoint_categories() -> Vec<Value> {
    KEYPOINT_CATEGORIES
        .iter()
        .map(|k| {
            let refl = k.reflection.and_then(crate::shape::keypoint_category_id);
            json!({"name": k.name, "id": k.id, "reflection_id": refl})
        })
        .collect()
}

/// Box anchors `[w, h]` as fractions of the image (kwcoco's toy anchors: seven
/// base shapes, their transposes, and 1.5× versions, normalized so the largest
/// side is a third of the image).
pub(crate) fn anchors() -> Vec<[f64; 2]> {
    let base = [
        [1.0, 1.0],
        [2.0, 2.0],
        [1.5, 1.0],
        [2.0, 1.0],
        [3.0, 1.0],
        [3.0, 2.0],
        [2.5, 2.5],
    ];
    let mut all: Vec<[f64; 2]> = Vec::new();
    for s in [1.0, 1.5] {
        for [a, b] in base {
            all.push([a * s, b * s]);
            all.push([b * s, a * s]);
        }
    }
    let max = 4.5 * 3.0;
    let mut out: Vec<[f64; 2]> = all.iter().map(|[a, b]| [a / max, b / max]).collect();
    out.sort_by(|p, q| p.partial_cmp(q).unwrap_or(std::cmp::Ordering::Equal));
    out.dedup();
    out
}

/// `img_00001.png`-style file stem for image id `gid`.
pub(crate) fn image_stem(gid: u64) -> String {
    format!("img_{gid:05}")
}

/// Integer boxes `[x, y, w, h]` overlap with positive area?
pub(crate) fn boxes_overlap(a: [i64; 4], b: [i64; 4]) -> bool {
    a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_tables_match_kwcoco() {
        let cats = image_categories();
        let ids: Vec<u64> = cats.iter().map(|c| c["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, vec![0, 3, 6, 7]);
        assert_eq!(cats[2]["keypoints"], json!(["left_eye", "right_eye"]));
        let kps = keypoint_categories();
        assert_eq!(
            kps[1],
            json!({"name": "left_eye", "id": 1, "reflection_id": 2})
        );
        assert_eq!(kps[0]["reflection_id"], Value::Null);
    }

    #[test]
    fn anchors_are_unique_and_bounded() {
        let a = anchors();
        assert_eq!(a.len(), 22);
        assert!(
            a.iter()
                .all(|[w, h]| *w > 0.0 && *h > 0.0 && *w <= 1.0 / 3.0 && *h <= 1.0 / 3.0)
        );
        assert!(boxes_overlap([0, 0, 2, 2], [1, 1, 2, 2]));
        assert!(!boxes_overlap([0, 0, 2, 2], [2, 0, 2, 2]));
    }
}
