//! Polygon segmentations as words of the snapshot: parsed once when the
//! snapshot is written, read from the mapped file by every process (so no
//! process keeps a parsed copy of its own).
//!
//! One annotation's record is a run of little-endian 64-bit words:
//! `form, style, n_polygons`, then per polygon `n_rings` (the exterior first,
//! then the holes) and per ring `n_points` followed by `2 × n_points` f64 bit
//! patterns (`x, y`). Reading checks every count against the words left
//! before anything is allocated: a corrupt record is an error, never a panic
//! or an allocation larger than the file.

use coco_model::geometry::{MultiPolygon, NumberStyle, Polygon, PolygonForm, Segmentation};

/// `form` word: the variant in the low byte, flags above it.
const FORM_COCO_FLAT: u64 = 0;
const FORM_COCO_MULTI: u64 = 1;
const FORM_POINTS: u64 = 2;
const FORM_KWCOCO: u64 = 3;
const FORM_GEOJSON: u64 = 4;
const FLAG_MULTI: u64 = 1 << 8;
const FLAG_INTERIORS_KEY: u64 = 1 << 9;

fn form_word(form: PolygonForm) -> u64 {
    match form {
        PolygonForm::CocoFlat => FORM_COCO_FLAT,
        PolygonForm::CocoMulti => FORM_COCO_MULTI,
        PolygonForm::Points => FORM_POINTS,
        PolygonForm::Kwcoco {
            multi,
            interiors_key,
        } => {
            FORM_KWCOCO
                | if multi { FLAG_MULTI } else { 0 }
                | if interiors_key { FLAG_INTERIORS_KEY } else { 0 }
        }
        PolygonForm::GeoJson { multi } => FORM_GEOJSON | if multi { FLAG_MULTI } else { 0 },
    }
}

fn form_of(w: u64) -> Result<PolygonForm, String> {
    let multi = w & FLAG_MULTI != 0;
    let form = match w & 0xff {
        FORM_COCO_FLAT => PolygonForm::CocoFlat,
        FORM_COCO_MULTI => PolygonForm::CocoMulti,
        FORM_POINTS => PolygonForm::Points,
        FORM_KWCOCO => PolygonForm::Kwcoco {
            multi,
            interiors_key: w & FLAG_INTERIORS_KEY != 0,
        },
        FORM_GEOJSON => PolygonForm::GeoJson { multi },
        _ => return Err(format!("unknown polygon form {w}")),
    };
    if form_word(form) != w {
        return Err(format!("unknown polygon form flags {w:#x}"));
    }
    Ok(form)
}

/// Appends the words of a polygon segmentation to `out`; `false` (nothing
/// appended) for an RLE, which the snapshot keeps as text.
pub(super) fn encode(seg: &Segmentation, out: &mut Vec<u8>) -> bool {
    let Segmentation::Polygons { shape, form, style } = seg else {
        return false;
    };
    let mut w = |v: u64| out.extend_from_slice(&v.to_le_bytes());
    w(form_word(*form));
    w(u64::from(*style == NumberStyle::Int));
    w(shape.polygons.len() as u64);
    for p in &shape.polygons {
        w(1 + p.interiors.len() as u64);
        for ring in std::iter::once(&p.exterior).chain(&p.interiors) {
            w(ring.len() as u64);
            for [x, y] in ring {
                w(x.to_bits());
                w(y.to_bits());
            }
        }
    }
    true
}

/// Reads the words of one record.
struct Words<'a> {
    bytes: &'a [u8],
}

impl Words<'_> {
    fn left(&self) -> usize {
        self.bytes.len() / 8
    }

    fn next(&mut self) -> Result<u64, String> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<8>()
            .ok_or("record ends early")?;
        self.bytes = rest;
        Ok(u64::from_le_bytes(*head))
    }

    /// A count of items of `width` words each, checked against what is left.
    fn count(&mut self, width: usize) -> Result<usize, String> {
        let n = self.next()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n.checked_mul(width).is_some_and(|w| w <= self.left()))
            .ok_or_else(|| format!("count {n} exceeds the record"))
    }

    fn ring(&mut self) -> Result<Vec<[f64; 2]>, String> {
        let n = self.count(2)?;
        (0..n)
            .map(|_| Ok([f64::from_bits(self.next()?), f64::from_bits(self.next()?)]))
            .collect()
    }
}

/// The segmentation whose record is `bytes` (a whole number of words).
pub(super) fn decode(bytes: &[u8]) -> Result<Segmentation, String> {
    if !bytes.len().is_multiple_of(8) {
        return Err(format!(
            "{} bytes is not a whole number of words",
            bytes.len()
        ));
    }
    let mut w = Words { bytes };
    let form = form_of(w.next()?)?;
    let style = match w.next()? {
        0 => NumberStyle::Float,
        1 => NumberStyle::Int,
        s => return Err(format!("unknown number style {s}")),
    };
    // each polygon takes at least two words (ring count, exterior length)
    let n_polys = w.count(2)?;
    let mut polygons = Vec::with_capacity(n_polys);
    for _ in 0..n_polys {
        let n_rings = w.count(1)?;
        if n_rings == 0 {
            return Err("a polygon without an exterior".into());
        }
        let exterior = w.ring()?;
        let interiors = (1..n_rings).map(|_| w.ring()).collect::<Result<_, _>>()?;
        polygons.push(Polygon {
            exterior,
            interiors,
        });
    }
    if w.left() != 0 {
        return Err(format!("{} words after the record", w.left()));
    }
    Ok(Segmentation::Polygons {
        shape: MultiPolygon { polygons },
        form,
        style,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn forms() -> impl Strategy<Value = PolygonForm> {
        prop_oneof![
            Just(PolygonForm::CocoFlat),
            Just(PolygonForm::CocoMulti),
            Just(PolygonForm::Points),
            (any::<bool>(), any::<bool>()).prop_map(|(multi, interiors_key)| {
                PolygonForm::Kwcoco {
                    multi,
                    interiors_key,
                }
            }),
            any::<bool>().prop_map(|multi| PolygonForm::GeoJson { multi }),
        ]
    }

    fn ring() -> impl Strategy<Value = Vec<[f64; 2]>> {
        prop::collection::vec(
            prop_oneof![
                (-1e6f64..1e6, -1e6f64..1e6).prop_map(|(x, y)| [x, y]),
                Just([f64::NAN, -0.0]),
                Just([f64::INFINITY, f64::MIN_POSITIVE]),
            ],
            0..6,
        )
    }

    fn segmentations() -> impl Strategy<Value = Segmentation> {
        let polygon = (ring(), prop::collection::vec(ring(), 0..3)).prop_map(|(e, i)| Polygon {
            exterior: e,
            interiors: i,
        });
        (prop::collection::vec(polygon, 0..4), forms(), any::<bool>()).prop_map(
            |(polygons, form, int)| Segmentation::Polygons {
                shape: MultiPolygon { polygons },
                form,
                style: if int {
                    NumberStyle::Int
                } else {
                    NumberStyle::Float
                },
            },
        )
    }

    fn bits(seg: &Segmentation) -> Vec<u64> {
        let mut b = Vec::new();
        assert!(encode(seg, &mut b));
        b.chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    proptest! {
        #[test]
        fn round_trip_is_bit_exact(seg in segmentations()) {
            let mut b = Vec::new();
            prop_assert!(encode(&seg, &mut b));
            let back = decode(&b).unwrap();
            // compared through the words: NaN coordinates keep their bits
            prop_assert_eq!(bits(&back), bits(&seg));
            let (Segmentation::Polygons { form: f1, style: s1, .. },
                 Segmentation::Polygons { form: f2, style: s2, .. }) = (&back, &seg) else {
                unreachable!()
            };
            prop_assert_eq!((f1, s1), (f2, s2));
        }

        #[test]
        fn damaged_records_are_errors_never_panics(
            seg in segmentations(),
            cut in 0usize..200,
            flip in 0usize..1600,
            value in any::<u64>(),
        ) {
            let mut b = Vec::new();
            encode(&seg, &mut b);
            // any prefix: an error unless it is the whole record
            let at = cut.min(b.len());
            if at < b.len() {
                prop_assert!(decode(&b[..at]).is_err());
            }
            // any word overwritten: a result or an error
            if !b.is_empty() {
                let w = (flip % (b.len() / 8)) * 8;
                b[w..w + 8].copy_from_slice(&value.to_le_bytes());
                let _ = decode(&b);
            }
        }
    }

    #[test]
    fn rle_is_not_encoded() {
        let rle = Segmentation::from_json_str(r#"{"size": [2, 2], "counts": [1, 2, 1]}"#).unwrap();
        let mut b = Vec::new();
        assert!(!encode(&rle, &mut b));
        assert!(b.is_empty());
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let mut b = Vec::new();
        for w in [FORM_POINTS, 0, 1, 1, u64::MAX / 2] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        assert!(decode(&b).unwrap_err().contains("exceeds"));
        // three points claimed, one there: refused by its count too
        let mut b = Vec::new();
        for w in [FORM_POINTS, 0, 1, 1, 3, 0, 0] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        assert!(decode(&b).unwrap_err().contains("count 3 exceeds"));
        assert!(form_of(FORM_POINTS | FLAG_MULTI).is_err());
        assert!(form_of(99).is_err());
    }
}
