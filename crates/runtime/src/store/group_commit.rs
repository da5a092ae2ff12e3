//! Group commit: the appends that wait at once share one transaction and
//! one sync to disk, and each is acknowledged only after that commit.
//!
//! Leader and followers: an append queues its batch; if no commit is under
//! way, it becomes the leader, takes every batch queued so far (its own
//! included, at most [`MAX_GROUP`]) and commits them together; the others
//! wait. While a leader commits, new appends queue up for the next group,
//! so under load each sync carries every append that arrived during the
//! previous one, and alone an append commits at once, as before.
//!
//! The commit function gives one result per batch: a batch that conflicts
//! is rolled back alone (a savepoint per batch), the others stand. A leader
//! that panics answers its whole group `unavailable` and hands the lead on,
//! so no follower waits for ever.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::StoreError;

/// The most batches one transaction carries.
pub const MAX_GROUP: usize = 128;

struct State<B> {
    next_ticket: u64,
    queue: Vec<(u64, B)>,
    results: HashMap<u64, Result<(), StoreError>>,
    committing: bool,
}

/// The queue of appends waiting for a commit.
pub struct GroupCommit<B> {
    state: Mutex<State<B>>,
    done: Condvar,
}

impl<B> Default for GroupCommit<B> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                next_ticket: 0,
                queue: Vec::new(),
                results: HashMap::new(),
                committing: false,
            }),
            done: Condvar::new(),
        }
    }
}

/// Answers the leader's group and hands the lead on, also when the commit
/// function panicked (then every batch of the group is `unavailable`).
struct Lead<'a, B> {
    group: &'a GroupCommit<B>,
    tickets: Vec<u64>,
    results: Option<Vec<Result<(), StoreError>>>,
}

impl<B> Drop for Lead<'_, B> {
    fn drop(&mut self) {
        let results = self.results.take();
        let mut state = self.group.lock();
        match results {
            Some(results) if results.len() == self.tickets.len() => {
                state
                    .results
                    .extend(self.tickets.iter().copied().zip(results));
            }
            _ => {
                let failed = StoreError::Unavailable(
                    "the commit of this append failed inside the host; it may not be stored"
                        .to_owned(),
                );
                for ticket in &self.tickets {
                    state.results.insert(*ticket, Err(failed.clone()));
                }
            }
        }
        state.committing = false;
        drop(state);
        self.group.done.notify_all();
    }
}

impl<B> GroupCommit<B> {
    fn lock(&self) -> MutexGuard<'_, State<B>> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `batch` and returns once a commit has decided it: `commit`
    /// gets the batches of one group, in arrival order, and returns one
    /// result for each.
    pub fn submit(
        &self,
        batch: B,
        commit: impl Fn(&[B]) -> Vec<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push((ticket, batch));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if state.committing {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: the oldest batches (this one among them unless more
            // than a group's worth wait before it; then it leads again).
            state.committing = true;
            let take = state.queue.len().min(MAX_GROUP);
            let (tickets, batches): (Vec<u64>, Vec<B>) = state.queue.drain(..take).unzip();
            drop(state);
            let mut lead = Lead {
                group: self,
                tickets,
                results: None,
            };
            lead.results = Some(commit(&batches));
            drop(lead);
            state = self.lock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn appends_waiting_at_once_share_a_commit_and_each_gets_its_own_result() {
        let group: Arc<GroupCommit<u32>> = Arc::default();
        let commits = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16_u32)
            .map(|n| {
                let (group, commits) = (group.clone(), commits.clone());
                std::thread::spawn(move || {
                    group.submit(n, |batches| {
                        commits.fetch_add(1, Ordering::SeqCst);
                        // A slow sync: the others queue up behind it.
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        batches
                            .iter()
                            .map(|b| {
                                if b % 2 == 0 {
                                    Ok(())
                                } else {
                                    Err(StoreError::Invalid(format!("odd {b}")))
                                }
                            })
                            .collect()
                    })
                })
            })
            .collect();
        for (n, t) in threads.into_iter().enumerate() {
            let result = t.join().unwrap();
            if n % 2 == 0 {
                assert_eq!(result, Ok(()));
            } else {
                assert_eq!(result, Err(StoreError::Invalid(format!("odd {n}"))));
            }
        }
        let commits = commits.load(Ordering::SeqCst);
        assert!(
            (1..16).contains(&commits),
            "16 appends in {commits} commits"
        );
    }

    #[test]
    fn a_leader_that_panics_fails_its_group_and_hands_the_lead_on() {
        let group: GroupCommit<u32> = GroupCommit::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.submit(1, |_| panic!("the commit broke"))
        }));
        assert!(panicked.is_err());
        // The lead was handed on: the next append commits.
        assert_eq!(group.submit(2, |b| vec![Ok(()); b.len()]), Ok(()));
    }
}
