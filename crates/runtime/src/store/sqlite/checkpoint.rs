//! Checkpoints off the commit path: a thread of the store copies the WAL's
//! pages into the database file, so a committing append never does.
//!
//! SQLite's own auto-checkpoint runs inside the commit that takes the WAL
//! past 1,000 pages: that append, every append of its group and every
//! append queued behind it wait while the pages are copied and the file is
//! synced. Here the writer's auto-checkpoint is raised to a backstop
//! ([`BACKSTOP_PAGES`]) that only fires when this thread falls behind, and
//! the thread runs a `PASSIVE` checkpoint (which never waits for the
//! writer or the readers, nor makes them wait) on its own connection once
//! [`BATCHES_PER_CHECKPOINT`] batches were committed since its last one, or
//! [`IDLE`] after a commit when fewer came. When readers keep the WAL from
//! starting over and it holds [`RESTART_FRAMES`] frames or more, it runs a
//! `RESTART` checkpoint, which waits (up to the busy timeout) for them.
//!
//! Durability is unchanged: an append is still acknowledged only after its
//! commit synced the WAL; a checkpoint copies what the WAL already holds,
//! syncing the WAL before and the database file after.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// The writer's own auto-checkpoint, in WAL pages: a backstop far above
/// what the thread lets the WAL reach (about 40 MB of pages).
pub(super) const BACKSTOP_PAGES: i64 = 10_000;

/// Committed batches that make the thread checkpoint (about 1,000 WAL
/// frames at the 15 pages a commit dirties; SQLite's default is 1,000).
pub(super) const BATCHES_PER_CHECKPOINT: usize = 64;

/// How long after a commit the thread checkpoints when fewer batches came.
pub(super) const IDLE: Duration = Duration::from_millis(500);

/// WAL frames past which a checkpoint waits for the readers (`RESTART`),
/// so the WAL starts over instead of growing.
pub(super) const RESTART_FRAMES: i64 = 8_000;

/// The size a WAL file is cut back to when it starts over
/// (`journal_size_limit`): it stays bounded after a burst.
pub(super) const WAL_LIMIT_BYTES: i64 = 16 * 1024 * 1024;

#[derive(Default)]
struct State {
    /// Batches committed since the last checkpoint.
    pending: usize,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Checkpoints the thread ran.
    runs: AtomicU64,
    /// WAL frames the thread's checkpoints found, added up.
    frames: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The checkpoint thread of one store; stopped and joined when dropped.
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on `conn`, a connection of its own to the store.
    pub(super) fn start(conn: Connection) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn({
                let shared = shared.clone();
                move || run(&shared, &conn)
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Tells the thread that a commit wrote `batches` batches.
    pub(super) fn committed(&self, batches: usize) {
        let mut state = self.shared.lock();
        let was_idle = state.pending == 0;
        state.pending += batches;
        if was_idle || state.pending >= BATCHES_PER_CHECKPOINT {
            self.shared.wake.notify_one();
        }
    }

    /// The checkpoints run so far and the WAL frames they found.
    #[cfg(test)]
    pub(super) fn runs(&self) -> (u64, u64) {
        (
            self.shared.runs.load(Ordering::Relaxed),
            self.shared.frames.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A checkpoint under way finishes first (bounded by the busy
            // timeout); the thread never panics on an SQLite error.
            let _ = thread.join();
        }
    }
}

/// Waits for enough commits (or for [`IDLE`] after one), checkpoints, and
/// again, until the store closes.
fn run(shared: &Shared, conn: &Connection) {
    loop {
        let mut state = shared.lock();
        loop {
            if state.stop {
                return;
            }
            if state.pending >= BATCHES_PER_CHECKPOINT {
                break;
            }
            if state.pending == 0 {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let (next, waited) = shared
                .wake
                .wait_timeout(state, IDLE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if waited.timed_out() {
                break;
            }
        }
        state.pending = 0;
        drop(state);
        match checkpoint(conn) {
            Ok(frames) => {
                shared.runs.fetch_add(1, Ordering::Relaxed);
                shared.frames.fetch_add(frames, Ordering::Relaxed);
            }
            // The writer's backstop still bounds the WAL; the next commit
            // brings the thread back.
            Err(e) => {
                tracing::warn!(error = %e, "the background checkpoint of the event store failed")
            }
        }
    }
}

/// One `PASSIVE` checkpoint, and a `RESTART` one when the WAL has grown
/// past [`RESTART_FRAMES`]; answers the frames the WAL held.
fn checkpoint(conn: &Connection) -> rusqlite::Result<u64> {
    let checkpoint_in = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            row.get::<_, i64>(1)
        })
    };
    let frames = checkpoint_in("PASSIVE")?;
    if frames >= RESTART_FRAMES {
        checkpoint_in("RESTART")?;
    }
    Ok(u64::try_from(frames).unwrap_or(0))
}
