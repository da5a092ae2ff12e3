//! The skeleton every simulated backend is built on: the simulation it runs
//! in and its own state behind one lock, with the one path its calls take.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use super::{Memo, SimControl, SimFailure};
use crate::external::Operation;

/// A simulated backend's control and state. `S` holds the backend's memos
/// (one per operation) beside what its calls change.
pub(crate) struct SimBackend<S> {
    /// The shared seed, clock, log, faults and journal.
    pub(crate) sim: SimControl,
    state: Mutex<S>,
}

impl<S: Default> SimBackend<S> {
    /// A backend in its default state, running in `sim`.
    pub(crate) fn new(sim: SimControl) -> Self {
        Self::with_state(sim, S::default())
    }
}

impl<S> SimBackend<S> {
    /// A backend in `state`, running in `sim`.
    pub(crate) fn with_state(sim: SimControl, state: S) -> Self {
        Self {
            sim,
            state: Mutex::new(state),
        }
    }

    /// The state. Backends change it only after every check, in single
    /// pushes and inserts, so the state behind a poisoned lock is whole.
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One call of `operation` under `key`: sleeps for the operation's
    /// latency before taking the lock (so that slow calls overlap as they
    /// would for real), then [`SimControl::run`]s it, stamped with the time
    /// now, with the memo and the part of the state that `split` picks out,
    /// that part handed to `effect`.
    pub(crate) fn call<X, T, E, R>(
        &self,
        operation: Operation,
        key: &str,
        request: &R,
        split: impl for<'a> FnOnce(&'a mut S) -> (&'a mut Memo<Result<T, E>>, &'a mut X),
        effect: impl FnOnce(&mut X, u64) -> Result<T, E>,
    ) -> Result<T, E>
    where
        T: Clone + Serialize,
        E: SimFailure + fmt::Display,
        R: Serialize + ?Sized,
    {
        self.sim.pause(operation);
        let now = self.sim.now_ms();
        let mut state = self.lock();
        let (memo, rest) = split(&mut state);
        self.sim
            .run(operation, key, now, request, memo, || effect(rest, now))
    }
}

/// A control for a test: seed 1, the clock standing at `now_ms`.
#[cfg(test)]
pub(crate) fn test_control(now_ms: u64) -> SimControl {
    SimControl::new(
        1,
        std::sync::Arc::new(crate::clock::ManualClock::new(now_ms)),
    )
}
