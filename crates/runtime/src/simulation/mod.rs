//! What the simulated stand-ins for the four external contexts share:
//! deterministic under a seed, honouring idempotency keys, with faults and
//! latency on demand and one ordered log of every call.
//!
//! - `control.rs`: [`SimControl`], the shared state and the one path every
//!   simulated call takes (idempotency, faults, log, journal), and the
//!   [`Replay`] a durable simulation rebuilds itself with;
//! - `faults.rs`: the fault plan, its `--fault` syntax and the seeded draw;
//! - `log.rs`: the [`CallLog`];
//! - `journal.rs`: the durable journal (one SQLite file);
//! - `backend.rs`: [`SimBackend`], the skeleton of every simulated backend
//!   (its control and its state behind one lock);
//! - `bounded.rs`: the bounded memos and records the backends keep;
//! - `rng.rs`: the seeded hash the draws use.
//!
//! The backends themselves live beside their traits
//! (`crate::payment::simulated` and so on) and depend on this module, never
//! the reverse; [`crate::wiring::Simulation`] builds all four on one
//! control. By default everything lives in memory and is gone with the
//! process; a durable simulation appends to a journal file from which a
//! restarted host rebuilds the same charges, stock, shipments, messages and
//! call log, so it never acts twice on a key it already answered.

mod backend;
mod bounded;
mod control;
mod faults;
pub mod fixtures;
pub(crate) mod journal;
mod log;
pub mod rng;

pub(crate) use backend::SimBackend;
#[cfg(test)]
pub(crate) use backend::test_control;
pub(crate) use bounded::{Memo, Records};
pub use control::SimControl;
pub(crate) use control::{DAY_MS, Replay, Replayed, SimFailure, derived_id, request, to_json};
pub use faults::{FaultConfig, FaultPlan, FaultSpec, FaultSpecError, Scripted};
pub use log::{CallEntry, CallLog, CallOutcome};
