//! One shard of the keyed store: a table of `(key, state)` and its sweep.

use std::borrow::Borrow;

use hashbrown::HashTable;

use crate::algorithm::Algorithm;
use crate::{Decision, InsufficientCapacity};

/// Keeps each shard's lock on its own cache line.
#[derive(Debug)]
#[repr(align(64))]
pub(super) struct Padded<T>(pub(super) T);

/// Entries examined to pick a victim when the shard is at its cap and nothing is idle.
const VICTIM_SAMPLE: usize = 8;

pub(super) struct Shard<K, A: Algorithm> {
    table: HashTable<(K, A::State)>,
    /// Keys with their own quota, by the same hash as `table` (looked up only when not empty).
    overrides: HashTable<(K, A)>,
    pub(super) algorithm: A,
    cap: usize,
    /// Inserts since the last sweep.
    inserts_since_sweep: usize,
    pub(super) evicted_idle: u64,
    pub(super) evicted_active: u64,
    pub(super) sweeps: u64,
}

impl<K, A: Algorithm> Shard<K, A> {
    pub(super) fn new(algorithm: A, cap: usize) -> Self {
        Self {
            table: HashTable::new(),
            overrides: HashTable::new(),
            algorithm,
            cap,
            inserts_since_sweep: 0,
            evicted_idle: 0,
            evicted_active: 0,
            sweeps: 0,
        }
    }
}

impl<K: Eq, A: Algorithm> Shard<K, A> {
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    pub(super) fn allocated_bytes(&self) -> usize {
        self.table.allocation_size()
    }

    pub(super) fn set_override(
        &mut self,
        hash: u64,
        key: K,
        algorithm: A,
        rehash: impl Fn(&K) -> u64,
    ) {
        match self
            .overrides
            .entry(hash, |(k, _)| *k == key, |(k, _)| rehash(k))
        {
            hashbrown::hash_table::Entry::Occupied(mut entry) => entry.get_mut().1 = algorithm,
            hashbrown::hash_table::Entry::Vacant(entry) => {
                entry.insert((key, algorithm));
            }
        }
    }

    pub(super) fn remove_override<Q>(&mut self, hash: u64, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if let Ok(entry) = self.overrides.find_entry(hash, |(k, _)| k.borrow() == key) {
            entry.remove();
        }
    }

    /// The algorithm for `key`: its own quota, or the shard's.
    #[inline(always)]
    fn algorithm_for<Q>(&self, hash: u64, key: &Q) -> &A
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if self.overrides.is_empty() {
            &self.algorithm
        } else {
            self.overrides
                .find(hash, |(k, _)| k.borrow() == key)
                .map_or(&self.algorithm, |(_, a)| a)
        }
    }

    #[inline(always)]
    pub(super) fn check<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        now: u64,
        cost: u64,
        rehash: impl Fn(&K) -> u64,
    ) -> Result<Decision, InsufficientCapacity>
    where
        K: Borrow<Q>,
        Q: Eq + ToOwned<Owned = K> + ?Sized,
    {
        let algorithm = if self.overrides.is_empty() {
            &self.algorithm
        } else {
            self.overrides
                .find(hash, |(k, _)| k.borrow() == key)
                .map_or(&self.algorithm, |(_, a)| a)
        };
        if let Some(entry) = self.table.find_mut(hash, |e| e.0.borrow() == key) {
            return algorithm.check(&mut entry.1, now, cost);
        }
        let mut state = A::State::default();
        let decision = algorithm.check(&mut state, now, cost)?;
        if decision.allowed && state != A::State::default() {
            self.insert(hash, key.to_owned(), state, now, rehash);
        }
        Ok(decision)
    }

    /// Inserts a new key, sweeping or evicting first so the shard stays under its cap and the
    /// table grows only when live keys need the room. Out of line: the hot path is a hit.
    #[cold]
    #[inline(never)]
    fn insert(&mut self, hash: u64, key: K, state: A::State, now: u64, rehash: impl Fn(&K) -> u64) {
        let full = self.table.len() >= self.table.capacity();
        let at_cap = self.table.len() >= self.cap;
        if (full || at_cap) && self.inserts_since_sweep >= self.table.capacity() / 8 {
            self.sweep(now, &rehash);
        }
        if self.table.len() >= self.cap {
            self.evict_one(now, &rehash);
        }
        self.inserts_since_sweep += 1;
        self.table
            .insert_unique(hash, (key, state), |e| rehash(&e.0));
    }

    /// Drops every idle key of this shard.
    pub(super) fn sweep(&mut self, now: u64, rehash: &impl Fn(&K) -> u64) {
        let before = self.table.len();
        let algorithm = &self.algorithm;
        let overrides = &self.overrides;
        self.table.retain(|(k, s)| {
            let a = if overrides.is_empty() {
                algorithm
            } else {
                overrides
                    .find(rehash(k), |(o, _)| o == k)
                    .map_or(algorithm, |(_, a)| a)
            };
            !a.is_idle(s, now)
        });
        self.evicted_idle += (before - self.table.len()) as u64;
        self.sweeps += 1;
        self.inserts_since_sweep = 0;
    }

    /// Evicts the key closest to idle among a small sample.
    fn evict_one(&mut self, now: u64, rehash: &impl Fn(&K) -> u64) {
        let algorithm = &self.algorithm;
        let victim = self
            .table
            .iter()
            .take(VICTIM_SAMPLE)
            .min_by_key(|(_, s)| algorithm.idle_at(s))
            .map(|(k, s)| (rehash(k), algorithm.is_idle(s, now)));
        if let Some((victim_hash, idle)) = victim {
            // Remove the first sampled entry with that hash and the minimal idle time.
            let target = self
                .table
                .iter()
                .take(VICTIM_SAMPLE)
                .map(|(_, s)| algorithm.idle_at(s))
                .min();
            if let Ok(entry) = self
                .table
                .find_entry(victim_hash, |(_, s)| Some(algorithm.idle_at(s)) == target)
            {
                entry.remove();
                if idle {
                    self.evicted_idle += 1;
                } else {
                    self.evicted_active += 1;
                }
            }
        }
    }

    pub(super) fn peek<Q>(&self, hash: u64, key: &Q, now: u64) -> Decision
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let algorithm = self.algorithm_for(hash, key);
        match self.table.find(hash, |e| e.0.borrow() == key) {
            Some(entry) => algorithm.peek(&entry.1, now),
            None => algorithm.peek(&A::State::default(), now),
        }
    }

    pub(super) fn state<Q>(&self, hash: u64, key: &Q) -> Option<A::State>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.table
            .find(hash, |e| e.0.borrow() == key)
            .map(|e| e.1.clone())
    }

    pub(super) fn remove<Q>(&mut self, hash: u64, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if let Ok(entry) = self.table.find_entry(hash, |e| e.0.borrow() == key) {
            entry.remove();
        }
    }
}
