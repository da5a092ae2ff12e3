//! The ordered record of the calls made to the simulated contexts: how
//! each ended, and exact counts since the start.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::external::{Context, Operation};

/// How a call to an external context ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// It succeeded.
    Ok,
    /// It failed transiently (and had no effect).
    Transient,
    /// It failed permanently.
    Permanent,
    /// It took effect, but its answer was lost (an injected `lost` fault):
    /// the caller got an in-doubt failure.
    InDoubt,
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Transient => "transient",
            CallOutcome::Permanent => "permanent",
            CallOutcome::InDoubt => "in-doubt",
        })
    }
}

/// One call to a simulated context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEntry {
    /// The context called.
    pub context: Context,
    /// The operation called.
    pub operation: Operation,
    /// The idempotency key the caller passed.
    pub key: String,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// True when the key had a completed outcome already and the call only
    /// repeated it, with no new effect.
    pub replayed: bool,
}

impl fmt::Display for CallEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} [{}] -> {}",
            self.context, self.operation, self.key, self.outcome
        )?;
        if self.replayed {
            f.write_str(" (replayed)")?;
        }
        Ok(())
    }
}

/// The ordered record of the calls made to the simulated contexts: the
/// most recent [`CallLog::CAPACITY`] calls in full, and exact counts of
/// every call since the start, so that a long run does not keep every call
/// for ever.
#[derive(Debug, Default)]
pub struct CallLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    recent: VecDeque<CallEntry>,
    total: usize,
    counts: HashMap<(Operation, CallOutcome), usize>,
}

impl CallLog {
    /// How many of the most recent calls are kept in full.
    pub const CAPACITY: usize = 10_000;

    /// The most recent calls (at most [`CallLog::CAPACITY`]), oldest first.
    pub fn entries(&self) -> Vec<CallEntry> {
        self.lock().recent.iter().cloned().collect()
    }

    /// The most recent calls of one operation, oldest first.
    pub fn calls_to(&self, operation: Operation) -> Vec<CallEntry> {
        self.lock()
            .recent
            .iter()
            .filter(|e| e.operation == operation)
            .cloned()
            .collect()
    }

    /// How many calls of `operation` ended with `outcome`, since the start
    /// (also those no longer kept in full).
    pub fn count(&self, operation: Operation, outcome: CallOutcome) -> usize {
        self.lock()
            .counts
            .get(&(operation, outcome))
            .copied()
            .unwrap_or(0)
    }

    /// How many calls were made since the start.
    pub fn len(&self) -> usize {
        self.lock().total
    }

    /// True when no call was made.
    pub fn is_empty(&self) -> bool {
        self.lock().total == 0
    }

    /// Forgets every entry and count.
    pub fn clear(&self) {
        *self.lock() = LogInner::default();
    }

    pub(crate) fn push(&self, entry: CallEntry) {
        let mut log = self.lock();
        log.total += 1;
        *log.counts
            .entry((entry.operation, entry.outcome))
            .or_insert(0) += 1;
        if log.recent.len() == Self::CAPACITY {
            log.recent.pop_front();
        }
        log.recent.push_back(entry);
    }

    pub(crate) fn last_replayed(&self) -> Option<bool> {
        self.lock().recent.back().map(|e| e.replayed)
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        // Pushing a complete entry cannot leave the log half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
