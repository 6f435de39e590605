//! The machinery shared by every record type: key order, open `extra` keys,
//! the hand-written serde visitor and the writer.
//!
//! # Key order
//! Each record remembers the order of its keys in a [`KeyOrder`]: up to 32
//! 4-bit slots packed in 16 bytes. A slot holds `1 + index` of a known key
//! (one of the record type's typed fields) or [`EXTRA_SLOT`], meaning "the next
//! key of `extra`" (whose own order is kept by its `IndexMap`). A known key
//! listed in the order is written even when its value is `None` (as `null`,
//! which is how `"file_name": null` round-trips); a known key not listed is
//! written only when it has a value. When writing, keys follow the recorded
//! order, then any remaining known keys with values (in declaration order), then
//! any remaining `extra` keys. A record built in code (empty order) is written
//! known keys first, then `extra`. Records with more than 32 keys keep the
//! order of their first 32 keys exactly; the rest follow the fallback order.

use std::fmt;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::sync::LazyLock;

use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::json::JsonWriter;

/// The slot value meaning "next key of `extra`".
pub const EXTRA_SLOT: u8 = 15;
const SLOTS: usize = 32;

/// The remembered key order of one record (see the [module docs](self)).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KeyOrder([u64; 2]);

impl KeyOrder {
    /// An empty order: the record is written in its canonical order.
    pub const EMPTY: KeyOrder = KeyOrder([0, 0]);

    fn get(&self, i: usize) -> u8 {
        ((self.0[i / 16] >> ((i % 16) * 4)) & 0xF) as u8
    }

    /// Number of recorded slots.
    pub fn len(&self) -> usize {
        (0..SLOTS).find(|&i| self.get(i) == 0).unwrap_or(SLOTS)
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0 == [0, 0]
    }

    /// Appends a slot at position `len` (ignored when full).
    pub(crate) fn push_at(&mut self, len: &mut usize, slot: u8) {
        if *len < SLOTS && (1..=EXTRA_SLOT).contains(&slot) {
            self.0[*len / 16] |= u64::from(slot) << ((*len % 16) * 4);
            *len += 1;
        }
    }

    /// The recorded slots.
    pub fn slots(&self) -> impl Iterator<Item = u8> + '_ {
        (0..SLOTS).map(|i| self.get(i)).take_while(|&s| s != 0)
    }

    /// Whether the known key of index `tag` is listed.
    pub fn contains_known(&self, tag: usize) -> bool {
        self.slots().any(|s| usize::from(s) == tag + 1)
    }

    /// Forgets the known key of index `tag` (so a `None` value is omitted, not
    /// written as `null`).
    pub fn remove_known(&mut self, tag: usize) {
        let kept: Vec<u8> = self
            .slots()
            .filter(|&s| usize::from(s) != tag + 1)
            .collect();
        *self = KeyOrder::EMPTY;
        let mut len = 0;
        for s in kept {
            self.push_at(&mut len, s);
        }
    }
}

impl fmt::Debug for KeyOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.slots()).finish()
    }
}

static EMPTY_MAP: LazyLock<IndexMap<String, Value>> = LazyLock::new(IndexMap::new);

/// The unknown keys of a record, in input order.
///
/// Derefs to an (ordered) [`IndexMap`]; it allocates only when a record has
/// unknown keys, so a million plain annotations pay 8 bytes for it.
#[derive(Clone, Default, PartialEq)]
pub struct Extra(Option<Box<IndexMap<String, Value>>>);

impl Extra {
    /// The map, created on demand, for mutation.
    pub fn map_mut(&mut self) -> &mut IndexMap<String, Value> {
        self.0.get_or_insert_with(Default::default)
    }

    /// Inserts (or replaces, keeping its position) a key.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.map_mut().insert(key.into(), value)
    }

    /// Removes a key, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.as_mut().and_then(|m| m.shift_remove(key))
    }

    /// Mutable access to one value.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.as_mut().and_then(|m| m.get_mut(key))
    }
}

impl std::ops::Deref for Extra {
    type Target = IndexMap<String, Value>;
    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&EMPTY_MAP)
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl From<IndexMap<String, Value>> for Extra {
    fn from(m: IndexMap<String, Value>) -> Self {
        if m.is_empty() {
            Extra(None)
        } else {
            Extra(Some(Box::new(m)))
        }
    }
}

/// Implemented by every record type: its known keys and how to read/write them.
pub trait Schema: Default {
    /// Name of the table (for error messages).
    const TABLE: &'static str;
    /// The known keys; a key's tag is its index here (at most 14).
    const KEYS: &'static [&'static str];
    /// Bit mask (by tag) of keys that must be present.
    const REQUIRED: u16;

    /// The record's remembered key order.
    fn key_order(&self) -> &KeyOrder;
    /// Mutable key order.
    fn key_order_mut(&mut self) -> &mut KeyOrder;
    /// The unknown keys.
    fn extra(&self) -> &Extra;
    /// Mutable unknown keys.
    fn extra_mut(&mut self) -> &mut Extra;
    /// Reads the value of known key `tag`. Returns `false` when the value was
    /// kept in `extra` under the same key instead (a tolerated variant type,
    /// such as `iscrowd: true`), so that it round-trips unchanged.
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        tag: usize,
        map: &mut A,
    ) -> Result<bool, A::Error>;
    /// Writes the value of known key `tag` (`null` when absent).
    #[doc(hidden)]
    fn write_field<W: Write>(&self, tag: usize, w: &mut JsonWriter<W>) -> io::Result<()>;
    /// Whether known key `tag` has a value.
    fn has_value(&self, tag: usize) -> bool;
    /// The record's id for messages, once read.
    fn id_text(&self) -> String;
}

/// A key of a record: known (by tag) or unknown.
enum Key {
    Known(usize),
    Extra(String),
}

struct KeySeed<T>(PhantomData<T>);

impl<'de, T: Schema> DeserializeSeed<'de> for KeySeed<T> {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<T: Schema> Visitor<'_> for KeySeed<T> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        match T::KEYS.iter().position(|k| *k == v) {
            Some(tag) => Ok(Key::Known(tag)),
            None => extra_key(v).map(|()| Key::Extra(v.to_owned())),
        }
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        match T::KEYS.iter().position(|k| *k == v) {
            Some(tag) => Ok(Key::Known(tag)),
            None => extra_key(&v).map(|()| Key::Extra(v)),
        }
    }
}

/// Rejects a bare `NaN` / `Infinity` token in key position (the pre-pass made
/// it a sentinel string); other extra keys are kept in the untyped-value form.
fn extra_key<E: de::Error>(v: &str) -> Result<(), E> {
    match crate::json::sentinel_to_f64(v) {
        Some(_) => Err(E::custom("key must be a string")),
        None => Ok(()),
    }
}

/// Reads one record; `index` is its position in its table (for messages).
pub(crate) struct RecordSeed<T> {
    pub index: usize,
    pub _t: PhantomData<T>,
}

impl<T> RecordSeed<T> {
    pub(crate) fn new(index: usize) -> Self {
        RecordSeed {
            index,
            _t: PhantomData,
        }
    }
}

impl<'de, T: Schema> DeserializeSeed<'de> for RecordSeed<T> {
    type Value = T;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

fn where_text<T: Schema>(index: usize, rec: &T, id_seen: bool) -> String {
    if id_seen {
        format!("{}[{}] (id {})", T::TABLE, index, rec.id_text())
    } else {
        format!("{}[{}]", T::TABLE, index)
    }
}

impl<'de, T: Schema> Visitor<'de> for RecordSeed<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} record (an object)", T::TABLE)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut rec = T::default();
        let mut seen: u16 = 0;
        let mut order = KeyOrder::EMPTY;
        let mut len = 0usize;
        // tag 0 is `id` for every table that has ids
        let id_tag_is_id = T::KEYS.first() == Some(&"id");
        while let Some(key) = map.next_key_seed(KeySeed::<T>(PhantomData))? {
            match key {
                Key::Known(tag) => {
                    let bit = 1u16 << tag;
                    if seen & bit != 0 {
                        return Err(de::Error::custom(format!(
                            "{}: duplicate key `{}`",
                            where_text(self.index, &rec, id_tag_is_id && seen & 1 != 0),
                            T::KEYS[tag]
                        )));
                    }
                    match rec.read_field(tag, &mut map) {
                        Ok(true) => {
                            seen |= bit;
                            order.push_at(&mut len, (tag + 1) as u8);
                        }
                        Ok(false) => order.push_at(&mut len, EXTRA_SLOT),
                        Err(e) => {
                            return Err(de::Error::custom(format!(
                                "{}: field `{}`: {}",
                                where_text(self.index, &rec, id_tag_is_id && seen & 1 != 0),
                                T::KEYS[tag],
                                e
                            )));
                        }
                    }
                }
                Key::Extra(name) => {
                    let v: Value = map.next_value().map_err(|e| {
                        de::Error::custom(format!(
                            "{}: field `{}`: {}",
                            where_text(self.index, &rec, id_tag_is_id && seen & 1 != 0),
                            name,
                            e
                        ))
                    })?;
                    if rec.extra().contains_key(&name) {
                        return Err(de::Error::custom(format!(
                            "{}: duplicate key `{}`",
                            where_text(self.index, &rec, id_tag_is_id && seen & 1 != 0),
                            name
                        )));
                    }
                    rec.extra_mut().insert(name, v);
                    order.push_at(&mut len, EXTRA_SLOT);
                }
            }
        }
        let missing = T::REQUIRED & !seen;
        if missing != 0 {
            let tag = missing.trailing_zeros() as usize;
            return Err(de::Error::custom(format!(
                "{}: missing field `{}`",
                where_text(self.index, &rec, id_tag_is_id && seen & 1 != 0),
                T::KEYS[tag]
            )));
        }
        *rec.key_order_mut() = order;
        Ok(rec)
    }
}

/// An error message of record `index` of table `T`, prefixed with `T[index]: `
/// unless the record visitor already said where it is.
pub(crate) fn in_record<T: Schema>(index: usize, msg: String) -> String {
    if msg.starts_with(T::TABLE) && msg[T::TABLE.len()..].starts_with('[') {
        msg
    } else {
        format!("{}[{index}]: {msg}", T::TABLE)
    }
}

/// Reads a list of records.
pub(crate) struct TableSeed<T> {
    pub _t: PhantomData<T>,
}

impl<T> TableSeed<T> {
    pub(crate) fn new() -> Self {
        TableSeed { _t: PhantomData }
    }
}

impl<'de, T: Schema> DeserializeSeed<'de> for TableSeed<T> {
    type Value = Vec<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Schema> Visitor<'de> for TableSeed<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {} records", T::TABLE)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        loop {
            match seq.next_element_seed(RecordSeed::<T>::new(out.len())) {
                Ok(Some(rec)) => out.push(rec),
                Ok(None) => return Ok(out),
                Err(e) => {
                    let msg = e.to_string();
                    let placed = in_record::<T>(out.len(), msg.clone());
                    return Err(if placed == msg {
                        e
                    } else {
                        de::Error::custom(placed)
                    });
                }
            }
        }
    }
}

/// Writes one record as a JSON object (see the [module docs](self) for the key order).
pub(crate) fn write_record<T: Schema, W: Write>(rec: &T, w: &mut JsonWriter<W>) -> io::Result<()> {
    w.raw(b"{")?;
    let extra = rec.extra();
    let mut first = true;
    let mut written: u16 = 0;
    let mut next_extra = 0usize;
    let sep = |w: &mut JsonWriter<W>, first: &mut bool| -> io::Result<()> {
        if !*first {
            w.comma()?;
        }
        *first = false;
        Ok(())
    };
    for slot in rec.key_order().slots() {
        if slot == EXTRA_SLOT {
            if let Some((k, v)) = extra.get_index(next_extra) {
                sep(w, &mut first)?;
                w.key(k)?;
                w.value(v)?;
                next_extra += 1;
            }
        } else {
            let tag = usize::from(slot - 1);
            if tag < T::KEYS.len() && written & (1 << tag) == 0 {
                sep(w, &mut first)?;
                w.key(T::KEYS[tag])?;
                rec.write_field(tag, w)?;
                written |= 1 << tag;
            }
        }
    }
    for (tag, k) in T::KEYS.iter().enumerate() {
        if written & (1 << tag) == 0 && rec.has_value(tag) {
            sep(w, &mut first)?;
            w.key(k)?;
            rec.write_field(tag, w)?;
        }
    }
    for (k, v) in extra.iter().skip(next_extra) {
        sep(w, &mut first)?;
        w.key(k)?;
        w.value(v)?;
    }
    w.raw(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_packs_and_removes() {
        let mut k = KeyOrder::EMPTY;
        let mut len = 0;
        for s in [3u8, EXTRA_SLOT, 1, 2] {
            k.push_at(&mut len, s);
        }
        assert_eq!(k.slots().collect::<Vec<_>>(), vec![3, EXTRA_SLOT, 1, 2]);
        assert_eq!(k.len(), 4);
        assert!(k.contains_known(0));
        k.remove_known(0);
        assert_eq!(k.slots().collect::<Vec<_>>(), vec![3, EXTRA_SLOT, 2]);
        let mut full = KeyOrder::EMPTY;
        let mut len = 0;
        for _ in 0..40 {
            full.push_at(&mut len, EXTRA_SLOT);
        }
        assert_eq!(full.len(), 32);
    }

    #[test]
    fn extra_is_ordered_and_lazy() {
        let mut e = Extra::default();
        assert!(e.is_empty());
        e.insert("b", Value::from(1));
        e.insert("a", Value::from(2));
        assert_eq!(e.keys().collect::<Vec<_>>(), vec!["b", "a"]);
        assert_eq!(e.remove("b"), Some(Value::from(1)));
        assert_eq!(e.len(), 1);
    }
}
