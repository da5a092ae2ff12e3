//! Bounded collections the simulated contexts keep their state in, so
//! that a long run holds a fixed amount of memory: [`Memo`] (outcomes by
//! idempotency key) and [`Records`] (effects, oldest first out).

use std::collections::{HashMap, VecDeque};

/// The remembered outcomes of one operation, by idempotency key: what
/// idempotency needs, and no more. The most recent [`Memo::CAPACITY`] keys
/// are kept (oldest first out), so memory stays bounded however long the
/// simulation runs; a key asked again after that many newer keys of the
/// same operation is treated as new, as a real gateway treats a key older
/// than its idempotency window. Sagas ask again within seconds, long
/// before a key leaves the window.
pub(crate) struct Memo<T> {
    outcomes: HashMap<String, T>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self::with_capacity(Self::CAPACITY)
    }
}

impl<T> Memo<T> {
    /// Keys kept per operation.
    pub(crate) const CAPACITY: usize = 20_000;

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            outcomes: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.outcomes.get(key)
    }

    pub(crate) fn insert(&mut self, key: &str, outcome: T) {
        if self.outcomes.insert(key.to_owned(), outcome).is_none() {
            self.order.push_back(key.to_owned());
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.outcomes.remove(&oldest);
                }
            }
        }
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.outcomes.len()
    }
}

/// The records a simulated context keeps of its effects (charges,
/// refunds, shipments, messages, ...): the most recent
/// [`Records::CAPACITY`], oldest first out, each with an index that stays
/// the same for as long as it is kept. What a test or a check reads is
/// there; a long run does not keep every record for ever.
pub(crate) struct Records<T> {
    items: VecDeque<T>,
    /// The index of `items[0]`: how many records were dropped before it.
    first: usize,
    capacity: usize,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            first: 0,
            capacity: Self::CAPACITY,
        }
    }
}

impl<T> Records<T> {
    /// Records kept per kind.
    pub(crate) const CAPACITY: usize = 20_000;

    /// Adds `item`; returns its index and the record dropped to make room.
    pub(crate) fn push(&mut self, item: T) -> (usize, Option<T>) {
        let index = self.first + self.items.len();
        self.items.push_back(item);
        let mut dropped = None;
        if self.items.len() > self.capacity {
            dropped = self.items.pop_front();
            self.first += 1;
        }
        (index, dropped)
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index.checked_sub(self.first)?)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.items.get_mut(index.checked_sub(self.first)?)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// The records kept, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.items.iter().cloned().collect()
    }

    /// How many records were ever added (also those dropped since).
    pub(crate) fn total(&self) -> usize {
        self.first + self.items.len()
    }
}
