//! Direct (no `serde_json::Value`) parsing of `segmentation` text.
//!
//! The dataset keeps every annotation's `segmentation` as raw JSON text and
//! the sampler parses it for each annotation of each window, so this path
//! matters. It reads numbers straight into coordinate vectors. It accepts
//! exactly what [`Segmentation::from_json`] accepts, with the same result;
//! on any error the caller falls back to the `Value` path, which gives the
//! canonical error message (and handles Python's bare `NaN` tokens).

use super::{MultiPolygon, NumberStyle, Polygon, PolygonForm, Rle, Segmentation, nonfinite};
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Parse with the direct path; `None` when it does not accept the text.
///
/// Polygons (every form but RLE) go through [`bytes::parse`], a byte-level
/// scanner about 5× faster than serde's per-number dispatch (5.2 → ~1 µs for a
/// 20-vertex kwcoco polygon); anything it does not take (RLE, sentinels, escaped
/// keys, huge integers, bad input) goes through the serde visitors below.
pub(crate) fn segmentation(text: &str) -> Option<Segmentation> {
    if let Some(seg) = bytes::parse(text.as_bytes()) {
        return Some(seg);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let seg = de.deserialize_any(TopVisitor).ok()?;
    de.end().ok()?;
    Some(seg)
}

/// A number (or a non-finite sentinel string): `(value, was_integer)`.
struct Num(f64, bool);

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Num;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
        Ok(Num(v as f64, true))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
        Ok(Num(v as f64, true))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
        Ok(Num(v, false))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
        nonfinite::sentinel_to_f64(v)
            .map(|x| Num(x, false))
            .ok_or_else(|| E::custom("expected a number"))
    }
}

impl<'de> de::Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumVisitor)
    }
}

/// Reads the rest of a `[x, y]` pair after its first number.
fn finish_pair<'de, A: SeqAccess<'de>>(
    mut seq: A,
    first: Num,
) -> Result<([f64; 2], bool), A::Error> {
    let Some(Num(y, iy)) = seq.next_element::<Num>()? else {
        return Err(de::Error::custom("expected an [x, y] pair"));
    };
    if seq.next_element::<IgnoredAny>()?.is_some() {
        return Err(de::Error::custom("expected an [x, y] pair"));
    }
    Ok(([first.0, y], first.1 && iy))
}

/// An element of a coordinate list: a number or an `[x, y]` pair.
enum NumOrPair {
    Num(Num),
    Pair([f64; 2], bool),
}

struct NumOrPairVisitor;

impl<'de> Visitor<'de> for NumOrPairVisitor {
    type Value = NumOrPair;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or an [x, y] pair")
    }
    fn visit_u64<E>(self, v: u64) -> Result<NumOrPair, E> {
        Ok(NumOrPair::Num(Num(v as f64, true)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<NumOrPair, E> {
        Ok(NumOrPair::Num(Num(v as f64, true)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<NumOrPair, E> {
        Ok(NumOrPair::Num(Num(v, false)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NumOrPair, E> {
        NumVisitor.visit_str(v).map(NumOrPair::Num)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NumOrPair, A::Error> {
        let Some(first) = seq.next_element::<Num>()? else {
            return Err(de::Error::custom("expected an [x, y] pair"));
        };
        let (p, ints) = finish_pair(seq, first)?;
        Ok(NumOrPair::Pair(p, ints))
    }
}

impl<'de> de::Deserialize<'de> for NumOrPair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumOrPairVisitor)
    }
}

/// A coordinate list: flat numbers or `[x, y]` pairs (empty reads as flat).
enum Coords {
    Flat(Vec<f64>, bool),
    Pairs(Vec<[f64; 2]>, bool),
}

struct CoordsVisitor;

impl<'de> Visitor<'de> for CoordsVisitor {
    type Value = Coords;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of coordinates")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Coords, A::Error> {
        let cap = seq.size_hint().unwrap_or(0).min(1 << 16);
        match seq.next_element::<NumOrPair>()? {
            None => Ok(Coords::Flat(Vec::new(), true)),
            Some(NumOrPair::Num(Num(x, ix))) => {
                let mut v = Vec::with_capacity(cap.max(8));
                v.push(x);
                let mut ints = ix;
                while let Some(Num(x, ix)) = seq.next_element::<Num>()? {
                    v.push(x);
                    ints &= ix;
                }
                Ok(Coords::Flat(v, ints))
            }
            Some(NumOrPair::Pair(p, ip)) => {
                let mut v = Vec::with_capacity(cap.max(8));
                v.push(p);
                let mut ints = ip;
                while let Some(PairOnly(p, ip)) = seq.next_element::<PairOnly>()? {
                    v.push(p);
                    ints &= ip;
                }
                Ok(Coords::Pairs(v, ints))
            }
        }
    }
}

impl<'de> de::Deserialize<'de> for Coords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(CoordsVisitor)
    }
}

/// Exactly an `[x, y]` pair.
struct PairOnly([f64; 2], bool);

impl<'de> de::Deserialize<'de> for PairOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PairOnly;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an [x, y] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PairOnly, A::Error> {
                let Some(first) = seq.next_element::<Num>()? else {
                    return Err(de::Error::custom("expected an [x, y] pair"));
                };
                let (p, i) = finish_pair(seq, first)?;
                Ok(PairOnly(p, i))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A ring of pairs (an empty list is an empty ring).
fn ring_of(c: Coords) -> Option<(Vec<[f64; 2]>, bool)> {
    match c {
        Coords::Pairs(v, i) => Some((v, i)),
        Coords::Flat(v, i) if v.is_empty() => Some((Vec::new(), i)),
        Coords::Flat(..) => None,
    }
}

/// The keys of a segmentation dict we care about.
#[derive(Default)]
struct Dict {
    exterior: Option<Coords>,
    interiors: Option<Option<Vec<Coords>>>,
    size: Option<[u64; 2]>,
    counts: Option<Counts>,
    /// Some other key (GeoJSON's `type`, kwimage's RLE `shape`/`order`/
    /// `binary`, ...): the general parser handles the object.
    other: bool,
}

enum Counts {
    Str(String),
    List(Vec<u32>),
}

struct CountsVisitor;

impl<'de> Visitor<'de> for CountsVisitor {
    type Value = Counts;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("RLE counts")
    }
    fn visit_str<E>(self, v: &str) -> Result<Counts, E> {
        Ok(Counts::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Counts, E> {
        Ok(Counts::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counts, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(c) = seq.next_element::<u64>()? {
            v.push(u32::try_from(c).map_err(|_| de::Error::custom("count out of range"))?);
        }
        Ok(Counts::List(v))
    }
}

struct DictVisitor;

impl<'de> Visitor<'de> for DictVisitor {
    type Value = Dict;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a segmentation object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dict, A::Error> {
        let mut d = Dict::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "exterior" => d.exterior = Some(map.next_value::<Coords>()?),
                "interiors" => d.interiors = Some(map.next_value::<Option<Vec<Coords>>>()?),
                "size" => d.size = Some(map.next_value::<[u64; 2]>()?),
                "counts" => d.counts = Some(map.next_value_seed(CountsSeed)?),
                _ => {
                    d.other = true;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(d)
    }
}

struct CountsSeed;

impl<'de> DeserializeSeed<'de> for CountsSeed {
    type Value = Counts;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Counts, D::Error> {
        d.deserialize_any(CountsVisitor)
    }
}

/// kwcoco polygon from a dict: `(polygon, all_ints, had_interiors_key)`.
fn kwcoco_polygon<E: de::Error>(d: Dict) -> Result<(Polygon, bool, bool), E> {
    let bad = || E::custom("invalid kwcoco polygon");
    let (exterior, mut ints) = ring_of(d.exterior.ok_or_else(bad)?).ok_or_else(bad)?;
    let mut interiors = Vec::new();
    let has_key = match d.interiors {
        None | Some(None) => false,
        Some(Some(rings)) => {
            for r in rings {
                let (ring, i) = ring_of(r).ok_or_else(bad)?;
                ints &= i;
                interiors.push(ring);
            }
            true
        }
    };
    Ok((
        Polygon {
            exterior,
            interiors,
        },
        ints,
        has_key,
    ))
}

/// An element of the top-level list.
enum Elem {
    Num(Num),
    Coords(Coords),
    Dict(Dict),
}

struct ElemVisitor;

impl<'de> Visitor<'de> for ElemVisitor {
    type Value = Elem;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a list or an object")
    }
    fn visit_u64<E>(self, v: u64) -> Result<Elem, E> {
        Ok(Elem::Num(Num(v as f64, true)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Elem, E> {
        Ok(Elem::Num(Num(v as f64, true)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Elem, E> {
        Ok(Elem::Num(Num(v, false)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Elem, E> {
        NumVisitor.visit_str(v).map(Elem::Num)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Elem, A::Error> {
        CoordsVisitor.visit_seq(seq).map(Elem::Coords)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Elem, A::Error> {
        DictVisitor.visit_map(map).map(Elem::Dict)
    }
}

impl<'de> de::Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElemVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Segmentation;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a segmentation")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Segmentation, A::Error> {
        assemble_dict(DictVisitor.visit_map(map)?)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Segmentation, A::Error> {
        let mut elems = Vec::new();
        while let Some(e) = seq.next_element::<Elem>()? {
            elems.push(e);
        }
        assemble_list(elems)
    }
}

/// A segmentation from a top-level object: an RLE or one kwcoco polygon.
fn assemble_dict<E: de::Error>(d: Dict) -> Result<Segmentation, E> {
    if d.other || (d.counts.is_some() && (d.exterior.is_some() || d.interiors.is_some())) {
        return Err(E::custom("an object with other keys"));
    }
    if let Some(counts) = d.counts {
        let [h, w] = d.size.ok_or_else(|| E::custom("RLE without size"))?;
        let (h, w) = (
            usize::try_from(h).map_err(E::custom)?,
            usize::try_from(w).map_err(E::custom)?,
        );
        let rle = match counts {
            Counts::Str(s) => Rle::from_string_counts(h, w, &s),
            Counts::List(c) => Rle::new(h, w, c, false),
        }
        .map_err(E::custom)?;
        return Ok(Segmentation::Rle(rle));
    }
    let (poly, ints, interiors_key) = kwcoco_polygon(d)?;
    Ok(Segmentation::Polygons {
        shape: poly.into(),
        form: PolygonForm::Kwcoco {
            multi: false,
            interiors_key,
        },
        style: NumberStyle::from_all_ints(ints),
    })
}

/// A segmentation from the elements of a top-level list: all numbers (one flat
/// ring), all lists (MS-COCO parts, or a ring of `[x, y]` points) or all
/// objects (kwcoco polygons).
fn assemble_list<E: de::Error>(elems: Vec<Elem>) -> Result<Segmentation, E> {
    let bad = || E::custom("mixed segmentation list");
    match elems.first() {
        None => Ok(Segmentation::Polygons {
            shape: MultiPolygon::default(),
            form: PolygonForm::CocoMulti,
            style: NumberStyle::Int,
        }),
        Some(Elem::Num(_)) => {
            let mut flat = Vec::with_capacity(elems.len());
            let mut ints = true;
            for e in elems {
                let Elem::Num(Num(x, ix)) = e else {
                    return Err(bad());
                };
                flat.push(x);
                ints &= ix;
            }
            if !flat.len().is_multiple_of(2) {
                return Err(bad());
            }
            let ring = flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
            Ok(Segmentation::Polygons {
                shape: Polygon::new(ring).into(),
                form: PolygonForm::CocoFlat,
                style: NumberStyle::from_all_ints(ints),
            })
        }
        Some(Elem::Coords(_)) => {
            let mut ints = true;
            let mut flats = Vec::with_capacity(elems.len());
            for e in elems {
                match e {
                    Elem::Coords(Coords::Flat(v, i)) => {
                        ints &= i;
                        flats.push(v);
                    }
                    _ => return Err(bad()),
                }
            }
            let style = NumberStyle::from_all_ints(ints);
            if flats.iter().all(|v| v.len() == 2) {
                let ring = flats.iter().map(|v| [v[0], v[1]]).collect();
                return Ok(Segmentation::Polygons {
                    shape: Polygon::new(ring).into(),
                    form: PolygonForm::Points,
                    style,
                });
            }
            let mut polys = Vec::with_capacity(flats.len());
            for v in flats {
                if !v.len().is_multiple_of(2) {
                    return Err(bad());
                }
                polys.push(Polygon::new(
                    v.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
                ));
            }
            Ok(Segmentation::Polygons {
                shape: MultiPolygon::new(polys),
                form: PolygonForm::CocoMulti,
                style,
            })
        }
        Some(Elem::Dict(_)) => {
            let mut polys = Vec::with_capacity(elems.len());
            let mut ints = true;
            let mut interiors_key = false;
            for e in elems {
                let Elem::Dict(d) = e else {
                    return Err(bad());
                };
                let (p, i, k) = kwcoco_polygon(d)?;
                ints &= i;
                interiors_key |= k;
                polys.push(p);
            }
            Ok(Segmentation::Polygons {
                shape: MultiPolygon::new(polys),
                form: PolygonForm::Kwcoco {
                    multi: true,
                    interiors_key,
                },
                style: NumberStyle::from_all_ints(ints),
            })
        }
    }
}

/// The byte-level scanner for polygon segmentations (see [`segmentation`]).
mod bytes {
    use super::{Coords, Dict, Elem, Num, Segmentation, assemble_dict, assemble_list};

    /// Any refusal: the caller falls back to the serde path.
    #[derive(Debug)]
    struct No;
    impl std::fmt::Display for No {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("not taken by the byte scanner")
        }
    }
    impl std::error::Error for No {}
    impl serde::de::Error for No {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            No
        }
    }
    type R<T> = Result<T, No>;

    struct P<'a> {
        b: &'a [u8],
        i: usize,
    }

    pub(super) fn parse(b: &[u8]) -> Option<Segmentation> {
        let mut p = P { b, i: 0 };
        let seg = p.top().ok()?;
        p.ws();
        (p.i == b.len()).then_some(seg)
    }

    impl P<'_> {
        #[inline]
        fn ws(&mut self) {
            let (b, mut i) = (self.b, self.i);
            while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\t' | b'\r') {
                i += 1;
            }
            self.i = i;
        }
        #[inline]
        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.b.get(self.i).copied()
        }
        #[inline]
        fn eat(&mut self, c: u8) -> R<()> {
            if self.peek() == Some(c) {
                self.i += 1;
                Ok(())
            } else {
                Err(No)
            }
        }
        /// After an element: `true` at the closing `close`, `false` after a `,`.
        #[inline]
        fn end_or_comma(&mut self, close: u8) -> R<bool> {
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    Ok(false)
                }
                Some(c) if c == close => {
                    self.i += 1;
                    Ok(true)
                }
                _ => Err(No),
            }
        }

        /// A JSON number as serde_json reads it: integers exactly (then as
        /// `f64`), others correctly rounded; `(value, was_integer)`.
        fn num(&mut self) -> R<Num> {
            self.ws();
            // locals, written back once: keeps the scan in registers
            let b = self.b;
            let start = self.i;
            let mut i = start;
            let neg = b.get(i) == Some(&b'-');
            if neg {
                i += 1;
            }
            let digits = i;
            let mut v: u64 = 0;
            while i < b.len() {
                let d = b[i].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                // wraps only past 19 digits, which are refused below
                v = v.wrapping_mul(10).wrapping_add(d as u64);
                i += 1;
            }
            let nd = i - digits;
            // JSON: at least one digit, no leading zeros; long integers go to serde
            if nd == 0 || nd > 18 || (nd > 1 && b[digits] == b'0') {
                return Err(No);
            }
            if let Some(b'.' | b'e' | b'E') = b.get(i) {
                let is_digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
                if b[i] == b'.' {
                    i += 1;
                    if !is_digit(i) {
                        return Err(No);
                    }
                    while is_digit(i) {
                        i += 1;
                    }
                }
                if let Some(b'e' | b'E') = b.get(i) {
                    i += 1;
                    if let Some(b'+' | b'-') = b.get(i) {
                        i += 1;
                    }
                    if !is_digit(i) {
                        return Err(No);
                    }
                    while is_digit(i) {
                        i += 1;
                    }
                }
                self.i = i;
                let text = std::str::from_utf8(&b[start..i]).map_err(|_| No)?;
                let x: f64 = text.parse().map_err(|_| No)?;
                if !x.is_finite() {
                    return Err(No);
                }
                return Ok(Num(x, false));
            }
            self.i = i;
            // serde_json reads `-0` as the float -0.0
            if neg && v == 0 {
                return Ok(Num(-0.0, false));
            }
            Ok(Num(if neg { -(v as f64) } else { v as f64 }, true))
        }

        /// `[n, ...]` or `[[x, y], ...]` (the `[` not yet read).
        fn coords(&mut self) -> R<Coords> {
            self.eat(b'[')?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Coords::Flat(Vec::new(), true));
            }
            if self.peek() == Some(b'[') {
                let mut v = Vec::with_capacity(16);
                let mut ints = true;
                loop {
                    self.eat(b'[')?;
                    let Num(x, ix) = self.num()?;
                    self.eat(b',')?;
                    let Num(y, iy) = self.num()?;
                    self.eat(b']')?;
                    v.push([x, y]);
                    ints &= ix && iy;
                    if self.end_or_comma(b']')? {
                        return Ok(Coords::Pairs(v, ints));
                    }
                }
            }
            let mut v = Vec::with_capacity(16);
            let mut ints = true;
            loop {
                let Num(x, ix) = self.num()?;
                v.push(x);
                ints &= ix;
                if self.end_or_comma(b']')? {
                    return Ok(Coords::Flat(v, ints));
                }
            }
        }

        /// A plain key (no escapes; those go to serde).
        fn key(&mut self) -> R<&[u8]> {
            self.eat(b'"')?;
            let start = self.i;
            let n = memchr::memchr2(b'"', b'\\', &self.b[start..]).ok_or(No)?;
            if self.b[start + n] != b'"' {
                return Err(No);
            }
            self.i = start + n + 1;
            self.eat(b':')?;
            Ok(&self.b[start..start + n])
        }

        /// A kwcoco polygon object: only `exterior` and `interiors` keys.
        fn dict(&mut self) -> R<Dict> {
            self.eat(b'{')?;
            let mut d = Dict::default();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(d);
            }
            loop {
                match self.key()? {
                    b"exterior" => d.exterior = Some(self.coords()?),
                    b"interiors" => {
                        self.ws();
                        d.interiors = Some(if self.b[self.i..].starts_with(b"null") {
                            self.i += 4;
                            None
                        } else {
                            self.eat(b'[')?;
                            let mut rings = Vec::new();
                            if self.peek() == Some(b']') {
                                self.i += 1;
                            } else {
                                loop {
                                    rings.push(self.coords()?);
                                    if self.end_or_comma(b']')? {
                                        break;
                                    }
                                }
                            }
                            Some(rings)
                        })
                    }
                    _ => return Err(No),
                }
                if self.end_or_comma(b'}')? {
                    return Ok(d);
                }
            }
        }

        fn top(&mut self) -> R<Segmentation> {
            match self.peek() {
                Some(b'{') => assemble_dict(self.dict()?),
                Some(b'[') => {
                    self.i += 1;
                    let mut elems = Vec::new();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        loop {
                            elems.push(match self.peek() {
                                Some(b'[') => Elem::Coords(self.coords()?),
                                Some(b'{') => Elem::Dict(self.dict()?),
                                _ => Elem::Num(self.num()?),
                            });
                            if self.end_or_comma(b']')? {
                                break;
                            }
                        }
                    }
                    assemble_list(elems)
                }
                _ => Err(No),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// The direct path agrees with the `Value` path: same result, or both refuse.
    fn agree(text: &str) {
        let fast = segmentation(text);
        let slow = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| Segmentation::from_json(&v).ok());
        // Debug text, so that NaN coordinates compare equal
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{text}");
    }

    /// Objects with keys the direct path does not know go to the general
    /// parser (which reads them).
    #[test]
    fn defers_objects_with_other_keys() {
        for text in [
            r#"{"exterior": [[0, 1], [2, 3]], "interiors": [[[1, 1], [1, 2], [2, 2]]], "x": {"y": [1]}}"#,
            r#"{"counts": "123", "size": [2, 3], "exterior": []}"#,
            r#"{"size": [3, 2], "shape": [3, 2], "counts": [1, 2, 3], "order": "C", "binary": true}"#,
            r#"{"shape": [3, 2], "counts": [0, 1, 1, 5], "binary": false}"#,
            r#"{"type": "Polygon", "coordinates": [[[0, 1], [2, 3], [4, 5.5]], [[1, 1], [2, 2], [1, 2]]]}"#,
            r#"{"type": "MultiPolygon", "coordinates": [[[[0, 1], [2, 3], [4, 5]]], []]}"#,
            r#"{"type": "Polygon", "coordinates": []}"#,
        ] {
            assert!(segmentation(text).is_none(), "{text}");
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(Segmentation::from_json(&v).is_ok(), "{text}");
            assert!(Segmentation::from_json_str(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn agrees_on_every_form_and_error() {
        for text in [
            "[]",
            "[0, 1, 2, 3, 4, 5]",
            "[0.5, 1, 2, 3, 4, 5]",
            "[[0, 1, 2, 3, 4, 5], [1, 1, 2, 2, 3, 3]]",
            "[[0, 1], [2, 3], [4, 5]]",
            "[[0, 1], [2, 3, 4, 5]]",
            "[[0, 1], []]",
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]], "interiors": []}"#,
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]]}"#,
            r#"{"exterior": [], "interiors": null}"#,
            r#"[{"exterior": [[0, 1], [2, 3], [4, 5.5]], "interiors": []}, {"exterior": [[9, 9], [8, 8], [7, 9]]}]"#,
            r#"{"size": [2, 3], "counts": [1, 2, 3]}"#,
            r#"{"size": [2, 3], "counts": "123"}"#,
            r#"{"type": "Polygon", "coordinates": [[0, 1], [2, 3]]}"#,
            r#"{"type": "Point", "coordinates": [0, 1]}"#,
            r#"{"type": "Polygon"}"#,
            r#"[1, "\u0000NaN", 2, 3]"#,
            // errors
            "[1, 2, 3]",
            "[[1, 2, 3]]",
            "[[[1, 2], [3, 4]]]",
            "[[1, 2], 3]",
            "[1, [2, 3]]",
            r#"[{"exterior": [[0, 1]]}, [1, 2]]"#,
            r#"[{"exterior": [[0, 1]]}, 5]"#,
            r#"[{"interiors": []}]"#,
            r#"{"exterior": [0, 1, 2, 3]}"#,
            r#"{"exterior": [[0, 1, 2]]}"#,
            r#"{"exterior": [[0, 1]], "interiors": 3}"#,
            r#"{"exterior": [[0, 1]], "interiors": [[1, 2]]}"#,
            r#"{"size": [2, 3], "counts": [1, 2]}"#,
            r#"{"size": [2.0, 3], "counts": [6]}"#,
            r#"{"size": [2, 3], "counts": [1.0, 5]}"#,
            r#"{"size": [2, 3], "counts": null}"#,
            r#"{"size": [2, 3, 4], "counts": [24]}"#,
            r#"{"counts": [6]}"#,
            r#"{"foo": 1}"#,
            r#"["a", 1]"#,
            "3",
            "null",
            "[1, 2] x",
            // number and layout corners of the byte scanner
            "[-0, 1e5, 2E-3, -0.0, 3, 4]",
            "[-0, 1, 2, 3]",
            "[12345678901234567890, 1]",
            "[77777777777777777777777777777777777777, 1]",
            "[123456789012345678, -123456789012345678]",
            "[01, 2]",
            "[1., 2]",
            "[-, 2]",
            "[1, 2,]",
            "[1e, 2]",
            " [ [ 0 , 1 ] ,\n[2,3] , [ 4 , 5 ] ] ",
            r#"{"ext\u0065rior": [[0, 1], [2, 3], [4, 5]]}"#,
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]], "interiors" :  null }"#,
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]], "interiors": nul}"#,
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]], "exterior": [[1, 1], [2, 2], [3, 1]]}"#,
            r#"[{"exterior": [[0, 1], [2, 3], [4, 5]], "interiors": [[], [[1, 1], [2, 2], [1, 2]]]}]"#,
            "{}",
            "[{}]",
            "[",
            "[[1, 2], [3, 4]",
        ] {
            agree(text);
        }
    }

    /// The byte scanner itself takes the common polygon forms (not only the fallback).
    #[test]
    fn byte_scanner_takes_polygon_forms() {
        for text in [
            r#"[{"exterior": [[2712, 65], [2712, 66.5], [2714, 66]], "interiors": []}]"#,
            r#"{"exterior": [[0, 1], [2, 3], [4, 5]], "interiors": [[[1, 1], [2, 1], [2, 2]]]}"#,
            "[[0, 1, 2, 3, 4, 5], [1, 1, 2, 2, 3, 3]]",
            "[0, 1, 2, 3, 4, 5]",
            "[[0, 1], [2, 3], [4, 5]]",
            "[]",
        ] {
            assert!(bytes::parse(text.as_bytes()).is_some(), "{text}");
        }
        for text in [r#"{"size": [2, 3], "counts": [6]}"#, r#"[1, "\u0000NaN"]"#] {
            assert!(bytes::parse(text.as_bytes()).is_none(), "{text}");
        }
    }

    fn num() -> impl Strategy<Value = Value> {
        prop_oneof![
            (-1000i64..1000).prop_map(Value::from),
            (-1000.0f64..1000.0).prop_map(Value::from),
            // exponent forms and long integers
            (-1e-6f64..1e-6).prop_map(Value::from),
            (-1e22f64..1e22).prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
        ]
    }

    fn pair() -> impl Strategy<Value = Value> {
        (num(), num()).prop_map(|(x, y)| json!([x, y]))
    }

    fn seg_value() -> impl Strategy<Value = Value> {
        let ring = proptest::collection::vec(pair(), 0..6)
            .prop_map(Value::Array)
            .boxed();
        let flat = proptest::collection::vec(num(), 0..12)
            .prop_map(Value::Array)
            .boxed();
        let dict = (
            ring.clone(),
            proptest::option::of(proptest::collection::vec(ring.clone(), 0..3)),
        )
            .prop_map(|(e, i)| match i {
                Some(i) => json!({"exterior": e, "interiors": i}),
                None => json!({"exterior": e}),
            })
            .boxed();
        prop_oneof![
            flat.clone(),
            proptest::collection::vec(flat, 0..4).prop_map(Value::Array),
            ring,
            dict.clone(),
            proptest::collection::vec(dict, 0..4).prop_map(Value::Array),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn fast_path_matches_value_path(v in seg_value()) {
            let text = v.to_string();
            let fast = segmentation(&text);
            let slow = Segmentation::from_json(&v).ok();
            prop_assert_eq!(fast, slow);
        }
    }
}
