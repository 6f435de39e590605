//! COCO run-length encoding (pycocotools `maskApi.c`).
//!
//! Runs are counted over the mask in **column-major** (Fortran) order,
//! starting with a run of zeros (possibly empty). The JSON form is
//! `{"size": [h, w], "counts": [...]}` (uncompressed) or `{"size": [h, w],
//! "counts": "..."}` (compressed: pycocotools' LEB128-like string with 5 bits
//! per character in ASCII 48..111, counts after the third stored as the
//! difference to the count two before).
//!
//! kwimage's array RLE (`kwimage.Mask` `array_rle`, `decode_run_length`) adds
//! three keys, read as kwimage reads them:
//!
//! * `shape`: `[h, w]` of the encoded array; used instead of `size` when both
//!   are given.
//! * `order`: `"F"` (column-major, the COCO default) or `"C"` (row-major).
//! * `binary`: `true` (default; alternating runs starting with zeros) or
//!   `false` (`[value, length, value, length, ...]` pairs; any non-zero value
//!   is foreground).
//!
//! A compressed string is always column-major and binary (pycocotools decodes
//! it from `size` whatever the other keys say, and so does kwimage). An RLE in
//! any non-plain form is converted to COCO runs on reading and written back
//! exactly as it was read.

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
    /// The JSON object as read, when it is not a plain `{size, counts}` (it
    /// has kwimage's `shape`/`order`/`binary` or other keys): written back
    /// unchanged.
    source: Option<Box<Map<String, Value>>>,
}

impl Rle {
    /// From run lengths (validated: they must sum to `h * w`). `compressed`
    /// selects the JSON form written by [`Rle::to_json`].
    pub fn new(h: usize, w: usize, counts: Vec<u32>, compressed: bool) -> Result<Self> {
        check_total(counts.iter().map(|&c| u64::from(c)).sum(), h, w, "size")?;
        Ok(Rle {
            h,
            w,
            counts,
            compressed,
            source: None,
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
            source: None,
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

    /// Choose the JSON form (a plain COCO `{size, counts}` from now on, even
    /// if it was read in one of kwimage's array forms).
    pub fn set_compressed(&mut self, compressed: bool) {
        self.compressed = compressed;
        self.source = None;
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
            source: None,
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
        let plain = map.keys().all(|k| k == "size" || k == "counts");
        let size = match map.get("size") {
            Some(v) => Some(dims(v, "size")?),
            None => None,
        };
        let counts = map
            .get("counts")
            .ok_or_else(|| GeometryError::invalid(WHAT, "missing \"counts\""))?;
        let mut rle = match counts {
            // pycocotools decodes a string from `size`, column-major and binary
            Value::String(s) => {
                let [h, w] = size.ok_or_else(|| {
                    GeometryError::invalid(WHAT, "compressed counts need \"size\": [h, w]")
                })?;
                Rle::from_string_counts(h, w, s)?
            }
            Value::Array(a) => {
                let shape = match map.get("shape") {
                    Some(v) => dims(v, "shape")?,
                    None => size.ok_or_else(|| {
                        GeometryError::invalid(WHAT, "missing \"size\": [h, w] (or \"shape\")")
                    })?,
                };
                let order = match map.get("order") {
                    None => Order::F,
                    Some(Value::String(o)) if o == "F" => Order::F,
                    Some(Value::String(o)) if o == "C" => Order::C,
                    Some(other) => {
                        return Err(GeometryError::invalid(
                            WHAT,
                            format!("\"order\" must be \"C\" or \"F\", got {other}"),
                        ));
                    }
                };
                let binary = match map.get("binary") {
                    None => true,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return Err(GeometryError::invalid(
                            WHAT,
                            format!("\"binary\" must be true or false, got {other}"),
                        ));
                    }
                };
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
                let [h, w] = shape;
                match (order, binary) {
                    (Order::F, true) => Rle::new(h, w, counts, false)?,
                    _ => Rle::from_array_form(h, w, &counts, order, binary)?,
                }
            }
            other => {
                return Err(GeometryError::invalid(
                    WHAT,
                    format!("\"counts\" must be a list or a string, got {}", kind(other)),
                ));
            }
        };
        if !plain {
            rle.source = Some(Box::new(map.clone()));
        }
        Ok(rle)
    }

    /// COCO runs from kwimage's general array RLE (`decode_run_length`):
    /// `order` is the pixel order the runs count in; when not `binary`, the
    /// counts are `[value, length]` pairs.
    fn from_array_form(
        h: usize,
        w: usize,
        counts: &[u32],
        order: Order,
        binary: bool,
    ) -> Result<Rle> {
        let runs: Vec<(bool, u64)> = if binary {
            counts
                .iter()
                .enumerate()
                .map(|(i, &c)| (i % 2 == 1, u64::from(c)))
                .collect()
        } else {
            if !counts.len().is_multiple_of(2) {
                return Err(GeometryError::invalid(
                    WHAT,
                    format!(
                        "non-binary counts are [value, length] pairs, got an odd number ({})",
                        counts.len()
                    ),
                ));
            }
            counts
                .chunks_exact(2)
                .map(|p| (p[0] != 0, u64::from(p[1])))
                .collect()
        };
        check_total(runs.iter().map(|r| r.1).sum(), h, w, "shape")?;
        if order == Order::F {
            // merge equal neighbours into alternating runs starting with zeros
            let mut out: Vec<u64> = vec![0];
            let mut cur = false;
            for (v, len) in runs.into_iter().filter(|r| r.1 > 0) {
                if v != cur {
                    out.push(0);
                    cur = v;
                }
                if let Some(last) = out.last_mut() {
                    *last += len;
                }
            }
            let out = out
                .into_iter()
                .map(|c| {
                    u32::try_from(c).map_err(|_| {
                        GeometryError::invalid(WHAT, format!("a run of {c} pixels is too long"))
                    })
                })
                .collect::<Result<Vec<u32>>>()?;
            return Rle::new(h, w, out, false);
        }
        // row-major: fill the mask, then encode column-major
        let n = checked_pixels(h, w)?;
        let mut data = vec![0u8; n];
        let mut t = 0usize;
        for (v, len) in runs {
            let len = len as usize;
            if v {
                data[t..t + len].fill(1);
            }
            t += len;
        }
        let mut rle = Rle::encode(&Mask::from_vec(h, w, data)?);
        rle.compressed = false;
        Ok(rle)
    }

    /// Write `{"size": [h, w], "counts": ...}` in the form it was read in
    /// (kwimage's array forms are written back as read).
    pub fn to_json(&self) -> Value {
        if let Some(src) = &self.source {
            return Value::Object((**src).clone());
        }
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

/// Run lengths must cover the `h × w` mask exactly (`key` names the JSON
/// key the size came from).
fn check_total(total: u64, h: usize, w: usize, key: &str) -> Result<()> {
    if (h as u64).checked_mul(w as u64) == Some(total) {
        return Ok(());
    }
    Err(GeometryError::invalid(
        WHAT,
        format!(
            "run lengths sum to {total}, but {key} {h}×{w} needs {}",
            h as u128 * w as u128
        ),
    ))
}

/// The pixel order array-RLE counts run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// Row-major.
    C,
    /// Column-major (COCO).
    F,
}

/// `[h, w]` of non-negative integers.
fn dims(v: &Value, key: &str) -> Result<[usize; 2]> {
    let a = v.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
        GeometryError::invalid(WHAT, format!("\"{key}\" must be [h, w], got {v}"))
    })?;
    let dim = |v: &Value| {
        v.as_u64()
            .and_then(|x| usize::try_from(x).ok())
            .ok_or_else(|| {
                GeometryError::invalid(
                    WHAT,
                    format!("{key} entries must be non-negative integers, got {v}"),
                )
            })
    };
    Ok([dim(&a[0])?, dim(&a[1])?])
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

    /// The mask's rows as 0/1 lists.
    fn rows(r: &Rle) -> Vec<Vec<u8>> {
        let m = r.decode().unwrap();
        (0..m.height())
            .map(|y| (0..m.width()).map(|x| u8::from(m.get(x, y))).collect())
            .collect()
    }

    /// Answers from kwimage 0.12 (`kwimage.Mask(data, 'array_rle').to_c_mask()`,
    /// non-zero as foreground), for non-square masks whose orders differ.
    #[test]
    fn kwimage_array_forms_decode_as_kwimage_does() {
        let cases = [
            (
                json!({"size": [3, 5], "counts": [1, 2, 4, 3, 5], "order": "C", "binary": true, "shape": [3, 5]}),
                vec![
                    vec![0, 1, 1, 0, 0],
                    vec![0, 0, 1, 1, 1],
                    vec![0, 0, 0, 0, 0],
                ],
            ),
            (
                json!({"size": [3, 5], "counts": [1, 2, 4, 3, 5], "order": "F", "binary": true}),
                vec![
                    vec![0, 0, 0, 1, 0],
                    vec![1, 0, 1, 0, 0],
                    vec![1, 0, 1, 0, 0],
                ],
            ),
            (
                json!({"shape": [2, 4], "counts": [0, 3, 1, 2, 0, 2, 1, 1], "order": "C", "binary": false}),
                vec![vec![0, 0, 0, 1], vec![1, 0, 0, 1]],
            ),
            (
                json!({"shape": [4, 2], "counts": [0, 3, 2, 2, 0, 3], "binary": false}),
                vec![vec![0, 1], vec![0, 0], vec![0, 0], vec![1, 0]],
            ),
            (
                json!({"size": [2, 3], "shape": [3, 2], "counts": [1, 2, 3], "order": "F"}),
                vec![vec![0, 0], vec![1, 0], vec![1, 0]],
            ),
        ];
        for (json, want) in cases {
            let r = Rle::from_json(&json).unwrap();
            assert_eq!(rows(&r), want, "{json}");
            assert_eq!(
                (r.height(), r.width()),
                (want.len(), want[0].len()),
                "{json}"
            );
            let ones: usize = want.iter().flatten().map(|&v| v as usize).sum();
            assert_eq!(r.area() as usize, ones, "{json}");
            // kept exactly on a JSON round trip
            assert_eq!(r.to_json(), json);
            // and its COCO runs decode to the same mask
            let mut plain = r.clone();
            plain.set_compressed(false);
            assert_eq!(plain.to_json().as_object().unwrap().len(), 2);
            assert_eq!(rows(&Rle::from_json(&plain.to_json()).unwrap()), want);
        }
    }

    #[test]
    fn plain_forms_stay_plain() {
        let j = json!({"size": [2, 3], "counts": [1, 2, 3]});
        assert_eq!(Rle::from_json(&j).unwrap().to_json(), j);
        let j = json!({"counts": "123", "size": [2, 3]});
        assert_eq!(
            Rle::from_json(&j).unwrap().to_json(),
            json!({"size": [2, 3], "counts": "123"})
        );
    }

    #[test]
    fn a_compressed_string_is_column_major_whatever_order_says() {
        // pycocotools decodes strings from `size`, column-major (kwimage too)
        let s = Rle::new(3, 5, vec![1, 2, 4, 3, 5], true)
            .unwrap()
            .to_string_counts();
        let f = Rle::from_json(&json!({"size": [3, 5], "counts": s})).unwrap();
        let c = Rle::from_json(&json!({"size": [3, 5], "counts": s, "order": "C"})).unwrap();
        assert_eq!(rows(&f), rows(&c));
        assert_eq!(rows(&f)[1], vec![1, 0, 1, 0, 0]);
    }

    #[test]
    fn bad_array_forms_are_errors() {
        for (j, msg) in [
            (
                json!({"size": [2, 2], "counts": [1, 3], "order": "X"}),
                "\"order\"",
            ),
            (
                json!({"size": [2, 2], "counts": [1, 3], "binary": 1}),
                "\"binary\"",
            ),
            (
                json!({"shape": [2, 2], "counts": [1, 3, 0], "binary": false}),
                "pairs",
            ),
            (
                json!({"shape": [2, 2], "counts": [1, 3, 0, 2], "binary": false}),
                "sum to 5",
            ),
            (json!({"shape": [2], "counts": [4]}), "\"shape\""),
            (json!({"counts": [4]}), "missing \"size\""),
            (json!({"counts": "4"}), "need \"size\""),
            (
                json!({"shape": [3, 2], "counts": [1, 2, 3], "order": "C"}),
                "",
            ),
        ] {
            match Rle::from_json(&j) {
                Err(e) => assert!(e.to_string().contains(msg), "{j}: {e}"),
                Ok(r) => assert!(msg.is_empty(), "{j} parsed: {r:?}"),
            }
        }
    }

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
