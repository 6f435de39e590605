//! COCO run-length encoding (pycocotools `maskApi.c`).
//!
//! Runs are counted over the mask in **column-major** (Fortran) order,
//! starting with a run of zeros (possibly empty). The JSON form is
//! `{"size": [h, w], "counts": [...]}` (uncompressed) or `{"size": [h, w],
//! "counts": "..."}` (compressed: pycocotools' LEB128-like string with 5 bits
//! per character in ASCII 48..111, counts after the third stored as the
//! difference to the count two before).

use super::{BBox, GeometryError, Mask, Result, checked_pixels, kind};
use serde_json::{Map, Value};

const WHAT: &str = "RLE segmentation";

/// A COCO run-length encoded mask.
///
/// ```
/// use coco_geometry::{Mask, Rle};
/// let m = Mask::from_vec(2, 3, vec![0, 1, 1, 0, 1, 0]).unwrap();
/// let rle = Rle::encode(&m);
/// // column-major: 0,0 | 1,1 | 1,0  ->  runs 2 zeros, 3 ones, 1 zero
/// assert_eq!(rle.counts(), &[2, 3, 1]);
/// assert_eq!(rle.to_string_counts(), "231");
/// assert_eq!(rle.decode().unwrap(), m);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rle {
    h: usize,
    w: usize,
    counts: Vec<u32>,
    compressed: bool,
}

impl Rle {
    /// From run lengths (validated: they must sum to `h * w`). `compressed`
    /// selects the JSON form written by [`Rle::to_json`].
    pub fn new(h: usize, w: usize, counts: Vec<u32>, compressed: bool) -> Result<Self> {
        let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let n = (h as u64).checked_mul(w as u64);
        if n != Some(total) {
            return Err(GeometryError::invalid(
                WHAT,
                format!(
                    "run lengths sum to {total}, but size {h}×{w} needs {}",
                    h as u128 * w as u128
                ),
            ));
        }
        Ok(Rle {
            h,
            w,
            counts,
            compressed,
        })
    }

    /// Run-length encode a mask (compressed JSON form).
    ///
    /// Works on the row-major mask without transposing it: the column-major
    /// runs change value exactly where a pixel differs from the one above it
    /// (or, at the top of a column, from the bottom of the previous column).
    /// Rows are compared 8 bytes at a time, and the changes are put in
    /// column-major order with a counting sort.
    pub fn encode(m: &Mask) -> Rle {
        let (h, w) = (m.height(), m.width());
        let data = m.data();
        let n = h * w;
        // (column, row) of every change, found row by row
        let mut changes: Vec<(u32, u32)> = Vec::new();
        if h > 0 {
            for x in 0..w {
                let prev = if x == 0 { 0 } else { data[(h - 1) * w + x - 1] };
                if data[x] != prev {
                    changes.push((x as u32, 0));
                }
            }
        }
        for y in 1..h {
            let prev = &data[(y - 1) * w..y * w];
            let cur = &data[y * w..(y + 1) * w];
            let mut x0 = 0;
            for (a, b) in prev.chunks_exact(8).zip(cur.chunks_exact(8)) {
                if load8(a) != load8(b) {
                    for k in 0..8 {
                        if a[k] != b[k] {
                            changes.push(((x0 + k) as u32, y as u32));
                        }
                    }
                }
                x0 += 8;
            }
            for x in x0..w {
                if prev[x] != cur[x] {
                    changes.push((x as u32, y as u32));
                }
            }
        }
        // counting sort by column (stable: rows stay increasing)
        let mut start = vec![0usize; w + 1];
        for &(x, _) in &changes {
            start[x as usize + 1] += 1;
        }
        for x in 0..w {
            start[x + 1] += start[x];
        }
        let mut pos = vec![0usize; changes.len()];
        for &(x, y) in &changes {
            let slot = &mut start[x as usize];
            pos[*slot] = x as usize * h + y as usize;
            *slot += 1;
        }
        let mut counts = Vec::with_capacity(pos.len() + 1);
        let mut last = 0usize;
        for p in pos {
            counts.push((p - last) as u32);
            last = p;
        }
        counts.push((n - last) as u32);
        Rle {
            h,
            w,
            counts,
            compressed: true,
        }
    }

    /// Decode into a mask (refuses masks over [`super::MAX_MASK_PIXELS`]).
    ///
    /// Marks where each column-major run starts, then fills the mask by a
    /// running XOR down the rows (no per-pixel division or transpose).
    pub fn decode(&self) -> Result<Mask> {
        let n = checked_pixels(self.h, self.w)?;
        let (h, w) = (self.h, self.w);
        let mut data = vec![0u8; n];
        if n == 0 {
            return Mask::from_vec(h, w, data);
        }
        let mut t = 0usize; // column-major position
        let mut v = 0u8;
        let mut next_col = 0usize; // first column whose top value is not set yet
        for &c in &self.counts {
            let c = c as usize;
            let end = (t + c).min(n);
            // columns whose top pixel lies in [t, end) take this run's value
            while next_col < w && next_col * h < end {
                data[next_col] = v;
                next_col += 1;
            }
            // a run starting inside a column toggles the value below
            if t < n && !t.is_multiple_of(h) {
                let (x, y) = (t / h, t % h);
                data[y * w + x] ^= 1;
            }
            t = end;
            v ^= 1;
        }
        for y in 1..h {
            let (done, rest) = data.split_at_mut(y * w);
            let above = &done[(y - 1) * w..];
            for (c, a) in rest[..w].iter_mut().zip(above) {
                *c ^= *a;
            }
        }
        Mask::from_vec(h, w, data)
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.h
    }

    /// Columns.
    pub fn width(&self) -> usize {
        self.w
    }

    /// Run lengths (zeros first).
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Whether [`Rle::to_json`] writes the compressed string form.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Choose the JSON form.
    pub fn set_compressed(&mut self, compressed: bool) {
        self.compressed = compressed;
    }

    /// Number of set pixels (pycocotools `rleArea`).
    pub fn area(&self) -> u64 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&c| u64::from(c))
            .sum()
    }

    /// Bounding box of the set pixels (pycocotools `rleToBbox`; `[0, 0, 0, 0]`
    /// when empty). A run that spans several columns covers all rows.
    pub fn bbox(&self) -> BBox {
        let h = self.h as u64;
        if h == 0 {
            return BBox::default();
        }
        let (mut xs, mut ys, mut xe, mut ye) = (u64::MAX, u64::MAX, 0u64, 0u64);
        let mut t = 0u64;
        for (j, &c) in self.counts.iter().enumerate() {
            let c = u64::from(c);
            if j % 2 == 1 && c > 0 {
                let (x0, y0) = (t / h, t % h);
                let last = t + c - 1;
                let (x1, y1) = (last / h, last % h);
                xs = xs.min(x0);
                xe = xe.max(x1);
                if x1 > x0 {
                    ys = 0;
                    ye = h - 1;
                } else {
                    ys = ys.min(y0);
                    ye = ye.max(y1);
                }
            }
            t += c;
        }
        if xs == u64::MAX {
            return BBox::default();
        }
        BBox::new(
            xs as f64,
            ys as f64,
            (xe - xs + 1) as f64,
            (ye - ys + 1) as f64,
        )
    }

    /// pycocotools `rleToString`.
    pub fn to_string_counts(&self) -> String {
        let mut s = String::with_capacity(self.counts.len() * 2);
        for (i, &c) in self.counts.iter().enumerate() {
            let mut x = i64::from(c);
            if i > 2 {
                x -= i64::from(self.counts[i - 2]);
            }
            loop {
                let mut c = (x & 0x1f) as u8;
                x >>= 5;
                let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
                if more {
                    c |= 0x20;
                }
                s.push((c + 48) as char);
                if !more {
                    break;
                }
            }
        }
        s
    }

    /// pycocotools `rleFrString`, with checks: characters must be in
    /// 48..=111 and every decoded count must fit in a `u32`.
    pub fn from_string_counts(h: usize, w: usize, s: &str) -> Result<Rle> {
        let bytes = s.as_bytes();
        let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
        let mut p = 0;
        while p < bytes.len() {
            let mut x: i64 = 0;
            let mut k = 0u32;
            loop {
                let Some(&b) = bytes.get(p) else {
                    return Err(GeometryError::invalid(
                        WHAT,
                        "compressed counts end in the middle of a value",
                    ));
                };
                if !(48..=111).contains(&b) {
                    return Err(GeometryError::invalid(
                        WHAT,
                        format!(
                            "invalid character {:?} in compressed counts at byte {p}",
                            b as char
                        ),
                    ));
                }
                if k >= 12 {
                    return Err(GeometryError::invalid(WHAT, "compressed count is too long"));
                }
                let c = i64::from(b - 48);
                x |= (c & 0x1f) << (5 * k);
                p += 1;
                k += 1;
                if c & 0x20 == 0 {
                    if c & 0x10 != 0 {
                        x |= -1i64 << (5 * k);
                    }
                    break;
                }
            }
            let m = counts.len();
            if m > 2 {
                x += i64::from(counts[m - 2]);
            }
            let c = u32::try_from(x).map_err(|_| {
                GeometryError::invalid(
                    WHAT,
                    format!("decoded run length {x} at position {m} is out of range"),
                )
            })?;
            counts.push(c);
        }
        Rle::new(h, w, counts, true)
    }

    /// Union (`intersect == false`) or intersection of two RLEs of the same
    /// size, computed on the runs (pycocotools `rleMerge`).
    pub fn merge(&self, o: &Rle, intersect: bool) -> Result<Rle> {
        if (self.h, self.w) != (o.h, o.w) {
            return Err(GeometryError::SizeMismatch {
                a: [self.h, self.w],
                b: [o.h, o.w],
            });
        }
        let mut out: Vec<u32> = Vec::new();
        let (mut ia, mut ib) = (0usize, 0usize);
        let (mut ra, mut rb) = (0u32, 0u32); // remaining in the current runs
        let (mut va, mut vb) = (true, true); // value of the current run (toggled on load)
        let mut cur_v = false;
        let mut cur_len = 0u32;
        loop {
            while ra == 0 && ia < self.counts.len() {
                ra = self.counts[ia];
                ia += 1;
                va = !va;
            }
            while rb == 0 && ib < o.counts.len() {
                rb = o.counts[ib];
                ib += 1;
                vb = !vb;
            }
            if ra == 0 || rb == 0 {
                break;
            }
            let step = ra.min(rb);
            let v = if intersect { va && vb } else { va || vb };
            if v == cur_v {
                cur_len += step;
            } else {
                out.push(cur_len);
                cur_v = v;
                cur_len = step;
            }
            ra -= step;
            rb -= step;
        }
        out.push(cur_len);
        Ok(Rle {
            h: self.h,
            w: self.w,
            counts: out,
            compressed: self.compressed,
        })
    }

    /// Parse `{"size": [h, w], "counts": [...] | "..."}`.
    pub fn from_json(v: &Value) -> Result<Rle> {
        let map = v.as_object().ok_or_else(|| {
            GeometryError::invalid(WHAT, format!("expected an object, got {}", kind(v)))
        })?;
        Self::from_map(map)
    }

    pub(crate) fn from_map(map: &Map<String, Value>) -> Result<Rle> {
        let size = map
            .get("size")
            .and_then(Value::as_array)
            .filter(|a| a.len() == 2)
            .ok_or_else(|| GeometryError::invalid(WHAT, "missing \"size\": [h, w]"))?;
        let dim = |v: &Value| {
            v.as_u64()
                .and_then(|x| usize::try_from(x).ok())
                .ok_or_else(|| {
                    GeometryError::invalid(
                        WHAT,
                        format!("size entries must be non-negative integers, got {v}"),
                    )
                })
        };
        let (h, w) = (dim(&size[0])?, dim(&size[1])?);
        match map.get("counts") {
            Some(Value::String(s)) => Rle::from_string_counts(h, w, s),
            Some(Value::Array(a)) => {
                let counts = a
                    .iter()
                    .map(|c| {
                        c.as_u64()
                            .and_then(|x| u32::try_from(x).ok())
                            .ok_or_else(|| {
                                GeometryError::invalid(
                                    WHAT,
                                    format!("counts must be non-negative integers, got {c}"),
                                )
                            })
                    })
                    .collect::<Result<Vec<u32>>>()?;
                Rle::new(h, w, counts, false)
            }
            Some(other) => Err(GeometryError::invalid(
                WHAT,
                format!("\"counts\" must be a list or a string, got {}", kind(other)),
            )),
            None => Err(GeometryError::invalid(WHAT, "missing \"counts\"")),
        }
    }

    /// Write `{"size": [h, w], "counts": ...}` in the form it was read in.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "size".into(),
            Value::from(vec![self.h as u64, self.w as u64]),
        );
        let counts = if self.compressed {
            Value::String(self.to_string_counts())
        } else {
            Value::Array(self.counts.iter().map(|&c| Value::from(c)).collect())
        };
        map.insert("counts".into(), counts);
        Value::Object(map)
    }
}

/// Eight bytes as one word (for fast row comparison).
fn load8(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_ne_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kwimage_doc_string_decodes() {
        // kwimage Mask.coerce doc example: {'size': [5, 9], 'counts': ';?1B10O30O4'}
        let r = Rle::from_json(&json!({"size": [5, 9], "counts": ";?1B10O30O4"})).unwrap();
        assert_eq!(r.counts().iter().map(|&c| c as u64).sum::<u64>(), 45);
        assert_eq!(r.to_string_counts(), ";?1B10O30O4");
        let m = r.decode().unwrap();
        assert_eq!(m.count() as u64, r.area());
        assert_eq!(Rle::encode(&m).counts(), r.counts());
    }

    #[test]
    fn string_codec_handles_large_and_negative_deltas() {
        let counts = vec![0, 1000, 3, 5, 100000, 1, 2];
        let total: u32 = counts.iter().sum();
        let r = Rle::new(1, total as usize, counts.clone(), true).unwrap();
        let s = r.to_string_counts();
        let back = Rle::from_string_counts(1, total as usize, &s).unwrap();
        assert_eq!(back.counts(), &counts[..]);
    }

    #[test]
    fn transpose_and_empty() {
        // zero-length runs in the middle cancel out
        let r = Rle::new(2, 3, vec![3, 0, 2, 1], false).unwrap();
        assert_eq!(r.decode().unwrap().data(), &[0, 0, 0, 0, 0, 1]);
        let e = Rle::encode(&Mask::new(0, 5).unwrap());
        assert_eq!(e.counts(), &[0]);
        assert_eq!(e.decode().unwrap().shape(), [0, 5]);
        let big = Mask::from_fn(70, 45, |x, y| (x * 7 + y * 3) % 11 < 4).unwrap();
        assert_eq!(Rle::encode(&big).decode().unwrap(), big);
    }

    #[test]
    fn bbox_and_area() {
        let m = Mask::from_fn(4, 5, |x, y| (1..=3).contains(&x) && (2..=3).contains(&y)).unwrap();
        let r = Rle::encode(&m);
        assert_eq!(r.area(), 6);
        assert_eq!(r.bbox(), BBox::new(1.0, 2.0, 3.0, 2.0));
        assert_eq!(
            Rle::encode(&Mask::new(2, 2).unwrap()).bbox(),
            BBox::default()
        );
    }

    /// pycocotools `rleToBbox`: a run of ones that continues from the bottom
    /// of one column into the next covers every row of the box.
    #[test]
    fn bbox_of_runs_across_columns_spans_all_rows() {
        // (x, y) = (0, 3) and (1, 0): one run, column-major positions 3 and 4
        let m = Mask::from_fn(4, 3, |x, y| (x, y) == (0, 3) || (x, y) == (1, 0)).unwrap();
        let r = Rle::encode(&m);
        assert_eq!(r.counts(), &[3, 2, 7]);
        assert_eq!(r.bbox(), BBox::new(0.0, 0.0, 2.0, 4.0));
        // runs inside columns: the tight box, extremes from different runs
        let m = Mask::from_fn(5, 3, |x, y| [(0, 2), (2, 1), (1, 3)].contains(&(x, y))).unwrap();
        assert_eq!(Rle::encode(&m).bbox(), BBox::new(0.0, 1.0, 3.0, 3.0));
    }

    #[test]
    fn uncompressed_round_trip_and_errors() {
        let v = json!({"size": [2, 2], "counts": [1, 2, 1]});
        let r = Rle::from_json(&v).unwrap();
        assert!(!r.is_compressed());
        assert_eq!(r.to_json(), v);
        assert!(Rle::from_json(&json!({"size": [2, 2], "counts": [1, 2]})).is_err());
        assert!(Rle::from_json(&json!({"size": [2], "counts": [4]})).is_err());
        assert!(Rle::from_json(&json!({"size": [2, 2], "counts": "!!"})).is_err());
        assert!(Rle::from_json(&json!({"size": [2, 2], "counts": -1})).is_err());
        assert!(Rle::from_string_counts(1, 1, "o").is_err()); // continuation with no end
    }

    /// Run lengths of a row-major 0/1 slice (C order), for comparing with the
    /// reference's C-order encoding.
    fn c_order_runs(data: &[u8]) -> Vec<u32> {
        let mut runs = vec![0u32];
        let mut v = 0u8;
        for &p in data {
            if p != v {
                runs.push(0);
                v = p;
            }
            *runs.last_mut().unwrap() += 1;
        }
        runs
    }

    /// Non-square, non-symmetric masks against kwimage 0.12
    /// (`kwimage.im_runlen.encode_run_length(m, binary=True, order=...)` and
    /// `np.nonzero` of the mask): F-order counts from `encode`, the set pixels
    /// from `decode`, and the C-order runs of the decoded row-major data.
    #[test]
    fn non_square_masks_match_kwimage() {
        #[allow(clippy::type_complexity)]
        let cases: [(usize, usize, &[u32], &[u32], &[usize], &[usize]); 3] = [
            (
                4,
                7,
                &[2, 3, 3, 2, 5, 1, 1, 3, 4, 3, 1],
                &[1, 2, 3, 1, 2, 1, 1, 1, 1, 2, 3, 1, 1, 2, 2, 2, 2],
                &[0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3],
                &[1, 2, 6, 2, 4, 6, 0, 4, 6, 0, 3, 4],
            ),
            // 11 columns: one 8-byte chunk of the row comparison and a tail
            (
                3,
                11,
                &[4, 2, 1, 1, 4, 2, 1, 2, 1, 4, 7, 4],
                &[4, 4, 2, 1, 1, 2, 1, 3, 3, 1, 1, 1, 4, 1, 2, 2],
                &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2],
                &[4, 5, 6, 7, 10, 1, 2, 4, 5, 6, 10, 1, 6, 9, 10],
            ),
            (
                9,
                2,
                &[3, 8, 5, 1, 1],
                &[1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1],
                &[0, 1, 3, 4, 5, 6, 7, 7, 8],
                &[1, 1, 0, 0, 0, 0, 0, 1, 0],
            ),
        ];
        for (h, w, f_counts, c_runs, ys, xs) in cases {
            let rle = Rle::new(h, w, f_counts.to_vec(), false).unwrap();
            assert_eq!((rle.height(), rle.width()), (h, w));
            let m = rle.decode().unwrap();
            let set: Vec<(usize, usize)> = (0..h)
                .flat_map(|y| (0..w).map(move |x| (y, x)))
                .filter(|&(y, x)| m.get(x, y))
                .collect();
            let want: Vec<(usize, usize)> = ys.iter().copied().zip(xs.iter().copied()).collect();
            assert_eq!(set, want, "{h}x{w}");
            assert_eq!(c_order_runs(m.data()), c_runs, "{h}x{w}");
            assert_eq!(Rle::encode(&m).counts(), f_counts, "{h}x{w}");
            assert_eq!(rle.area(), ys.len() as u64);
        }
    }

    #[test]
    fn merge_union_intersection() {
        let a = Mask::from_fn(3, 3, |x, _| x == 1).unwrap();
        let b = Mask::from_fn(3, 3, |_, y| y == 1).unwrap();
        let u = a.to_rle().merge(&b.to_rle(), false).unwrap();
        let i = a.to_rle().merge(&b.to_rle(), true).unwrap();
        assert_eq!(u.decode().unwrap(), a.union(&b).unwrap());
        assert_eq!(i.decode().unwrap(), a.intersection(&b).unwrap());
        assert_eq!(i.area(), 1);
        assert_eq!(u.area(), 5);
        // pseudo-random non-square masks with runs of every length
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut bit = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.is_multiple_of(3)
        };
        for _ in 0..20 {
            let bits_a: Vec<bool> = (0..30).map(|_| bit()).collect();
            let bits_b: Vec<bool> = (0..30).map(|_| bit()).collect();
            let a = Mask::from_fn(5, 6, |x, y| bits_a[y * 6 + x]).unwrap();
            let b = Mask::from_fn(5, 6, |x, y| bits_b[y * 6 + x]).unwrap();
            let (ra, rb) = (a.to_rle(), b.to_rle());
            let u = ra.merge(&rb, false).unwrap();
            let i = ra.merge(&rb, true).unwrap();
            assert_eq!(u.decode().unwrap(), a.union(&b).unwrap());
            assert_eq!(i.decode().unwrap(), a.intersection(&b).unwrap());
            // the runs alternate: no empty run after the first
            assert!(
                u.counts().iter().skip(1).all(|&c| c > 0),
                "{:?}",
                u.counts()
            );
            assert_eq!(u.counts(), Rle::encode(&u.decode().unwrap()).counts());
        }
        let mut plain = a.to_rle();
        plain.set_compressed(false);
        assert!(!plain.merge(&b.to_rle(), false).unwrap().is_compressed());
        assert!(
            plain
                .merge(&Rle::encode(&Mask::new(3, 4).unwrap()), true)
                .is_err()
        );
    }
}
