//! JSON helpers shared by the npm parsers: an order-preserving map that
//! borrows from the input, and error messages that name line and column.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::parse::ParseError;

/// A JSON object read as a list of `(key, value)` pairs in file order, with
/// no hashing and no copy of borrowed keys.
#[derive(Debug, Clone)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<K, V> OrderedMap<K, V> {
    /// Iterates over the pairs.
    pub fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.0.iter()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        deserializer.deserialize_map(V2(PhantomData))
    }
}

/// A syntax error naming the file, with serde_json's line and column.
pub fn json_error(path: &Path, what: &str, e: &serde_json::Error) -> ParseError {
    ParseError::syntax(path, format!("not a valid {what}: {e}"))
}

/// Rejects bytes that are not text before JSON parsing, so that a binary
/// file with a lockfile's name gives a clear message.
pub fn ensure_text(path: &Path, bytes: &[u8], what: &str) -> Result<(), ParseError> {
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(ParseError::syntax(
            path,
            format!("not a valid {what}: binary content"),
        ));
    }
    Ok(())
}

/// The 1-based line of each byte offset where `"key":` occurs for the
/// given keys, scanning the text once. Keys are matched as JSON strings
/// followed by a colon.
pub fn line_of_offset(text: &str) -> impl Fn(usize) -> u32 + '_ {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .collect();
    move |off| {
        let idx = starts.partition_point(|&s| s <= off);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }
}

/// One entry of a map read on its own: a value of the wrong shape is an
/// error for that entry (kept as its message), not for the whole file.
#[derive(Debug)]
pub struct Lenient<T>(pub Result<T, String>);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Lenient(T::deserialize(v).map_err(|e| e.to_string())))
    }
}

/// A list of strings that a file may also write as one string (`"os":
/// "darwin"`); other shapes read as an empty list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Strings(match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }))
    }
}
