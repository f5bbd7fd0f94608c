//! A memo shared by the threads of a scan: each key is computed once and
//! its value (a miss included) kept for the rest of the scan.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// Values by key, filled on first request. Values are cloned out, so
/// they should be cheap to clone (`Arc`, small `Option`s).
#[derive(Debug)]
pub struct Memo<K, V> {
    map: Mutex<HashMap<K, V>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of every key of `keys`, computing those not known yet
    /// with `compute`, outside the lock (one lock to read, one to record).
    /// On an error nothing computed by this call is kept.
    pub fn get_many<E>(
        &self,
        keys: impl IntoIterator<Item = K>,
        mut compute: impl FnMut(&K) -> Result<V, E>,
    ) -> Result<Vec<(K, V)>, E> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        {
            let map = self.lock();
            for k in keys {
                match map.get(&k) {
                    Some(v) => out.push((k, v.clone())),
                    None => missing.push(k),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let mut computed = Vec::with_capacity(missing.len());
        for k in missing {
            let v = compute(&k)?;
            computed.push((k, v));
        }
        let mut map = self.lock();
        for (k, v) in computed {
            map.insert(k.clone(), v.clone());
            out.push((k, v));
        }
        Ok(out)
    }

    /// The value of `key`, computed by `compute` (outside the lock) the
    /// first time.
    pub fn get(&self, key: K, compute: impl FnOnce(&K) -> V) -> V {
        if let Some(v) = self.lock().get(&key) {
            return v.clone();
        }
        let v = compute(&key);
        self.lock().insert(key, v.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn computes_each_key_once_and_keeps_misses() {
        let memo: Memo<u32, Option<u32>> = Memo::default();
        let calls = Cell::new(0);
        let compute = |k: &u32| {
            calls.set(calls.get() + 1);
            Ok::<_, ()>(k.is_multiple_of(2).then_some(*k * 10))
        };
        let mut first = memo.get_many([1, 2, 3], compute).expect("no error");
        first.sort();
        assert_eq!(first, vec![(1, None), (2, Some(20)), (3, None)]);
        assert_eq!(calls.get(), 3);
        let mut again = memo.get_many([2, 3, 4], compute).expect("no error");
        again.sort();
        assert_eq!(again, vec![(2, Some(20)), (3, None), (4, Some(40))]);
        assert_eq!(calls.get(), 4, "only the new key is computed");
        assert_eq!(
            memo.get(1, |_| Some(99)),
            None,
            "a kept miss is not recomputed"
        );
        assert_eq!(memo.get(5, |_| Some(50)), Some(50));
    }

    #[test]
    fn an_error_keeps_nothing_from_that_call() {
        let memo: Memo<u32, u32> = Memo::default();
        let failed = memo.get_many([1, 2], |k| if *k == 2 { Err("bad") } else { Ok(*k) });
        assert_eq!(failed, Err("bad"));
        let calls = Cell::new(0);
        let ok = memo.get_many([1], |k| {
            calls.set(calls.get() + 1);
            Ok::<_, ()>(*k)
        });
        assert_eq!(ok, Ok(vec![(1, 1)]));
        assert_eq!(
            calls.get(),
            1,
            "the value computed before the error was not kept"
        );
    }
}
