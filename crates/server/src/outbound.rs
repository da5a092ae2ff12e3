//! Outbound webhooks: the dispatcher that POSTs the feed's public events to
//! each endpoint, signed like the inbound webhooks.
//!
//! One worker thread per endpoint (started by a supervisor that looks for
//! new endpoints every poll interval) reads the feed from the endpoint's
//! saved position, in order, and POSTs each event of the endpoint's types.
//! The position is saved only after a 2xx (or for an event the endpoint does
//! not take), so delivery is at least once and in feed order, hence in order
//! per order. A failure is logged and retried after `base * 2^(attempt-1)`,
//! capped at `max`, for as long as it takes: the endpoint waits at that
//! event (later events are not sent past it). The HTTP calls block and
//! run on these threads, never on the async runtime.
//!
//! On a store shared by several hosts a worker delivers only while it holds
//! the endpoint's lease ([`EventStore::lease_webhook_endpoint`]), renewed
//! before each event; a host that dies stops renewing and another takes
//! over after the lease runs out (possibly resending the event in flight:
//! at least once, with the same id).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use order_runtime::clock::Clock;
use order_runtime::store::{EventStore, FeedEvent, WebhookDelivery, WebhookEndpoint};

use super::feed::{PublicEvent, public_events};
use super::webhooks::{SIGNATURE_HEADER, sign};

/// The header that carries the event id of a delivery.
pub const EVENT_ID_HEADER: &str = "Order-Event-Id";

/// How the dispatcher runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchOptions {
    /// How often an idle worker looks for new events, and the supervisor for
    /// new endpoints.
    pub poll_interval: Duration,
    /// The wait after a first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// How long one delivery may take (connecting included).
    pub timeout: Duration,
    /// How long an endpoint's lease lasts on a shared store.
    pub lease: Duration,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
        }
    }
}

impl DispatchOptions {
    /// The wait before attempt `attempt + 1` after `attempt` failed ones.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1_u32 << attempt.saturating_sub(1).min(20);
        self.retry_base
            .checked_mul(factor)
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }
}

/// A stop flag that sleeping threads wake up for.
#[derive(Default)]
pub struct Stop {
    stopped: Mutex<bool>,
    changed: Condvar,
}

impl Stop {
    pub fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps for `duration` or until stopped; true when stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        let guard = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, duration, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// What one attempt gave.
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// POSTs one event to `endpoint`, signed with its secret.
pub fn send(
    agent: &ureq::Agent,
    endpoint: &WebhookEndpoint,
    event: &PublicEvent,
    attempt: u32,
    now_ms: u64,
) -> Outcome {
    let body = match serde_json::to_vec(event) {
        Ok(body) => body,
        Err(e) => {
            return Outcome {
                status: None,
                error: Some(format!("the event could not be written as JSON: {e}")),
            };
        }
    };
    let signature = sign(endpoint.secret.as_bytes(), now_ms / 1000, &body);
    let sent = agent
        .post(&endpoint.url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, &signature)
        .header(EVENT_ID_HEADER, &event.id)
        .header("Order-Delivery-Attempt", attempt.to_string())
        .send(&body[..]);
    match sent {
        Ok(response) => Outcome {
            status: Some(response.status().as_u16()),
            error: None,
        },
        Err(e) => Outcome {
            status: None,
            error: Some(e.to_string()),
        },
    }
}

/// The HTTP client of the deliveries: time-outs set, no redirects (a
/// redirected POST may turn into a GET), statuses returned, not errors.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(concat!(
            "order-host/",
            env!("CARGO_PKG_VERSION"),
            " webhooks"
        ))
        .build()
        .new_agent()
}

/// Delivers one event and logs the attempt; the outcome says whether it
/// was acknowledged.
pub fn deliver_and_log(
    store: &dyn EventStore,
    clock: &dyn Clock,
    agent: &ureq::Agent,
    endpoint: &WebhookEndpoint,
    position: u64,
    event: &PublicEvent,
    attempt: u32,
) -> (Outcome, WebhookDelivery) {
    let attempted_at = clock.now_ms();
    let outcome = send(agent, endpoint, event, attempt, attempted_at);
    let mut record = WebhookDelivery {
        seq: 0,
        endpoint_id: endpoint.id.clone(),
        event_id: event.id.clone(),
        position,
        attempt,
        status: outcome.status,
        error: outcome.error.clone(),
        attempted_at,
    };
    match store.record_webhook_delivery(&record) {
        Ok(seq) => record.seq = seq,
        Err(error) => {
            tracing::warn!(%error, endpoint = %endpoint.id, "a delivery could not be logged")
        }
    }
    (outcome, record)
}

/// The running dispatcher: a supervisor thread and one worker per endpoint.
pub struct Dispatcher {
    stop: Arc<Stop>,
    supervisor: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts it; `owner` names this host in the leases.
    pub fn start(
        store: Arc<dyn EventStore>,
        clock: Arc<dyn Clock>,
        options: DispatchOptions,
        owner: String,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let supervisor = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("order-host-webhooks".to_owned())
                .spawn(move || supervise(&store, &clock, options, &owner, &stop))?
        };
        Ok(Self {
            stop,
            supervisor: Some(supervisor),
        })
    }

    /// Stops every worker between two deliveries (a delivery in flight ends
    /// within the time-out) and waits for them.
    pub fn stop(mut self) {
        self.stop.stop();
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
    }
}

fn supervise(
    store: &Arc<dyn EventStore>,
    clock: &Arc<dyn Clock>,
    options: DispatchOptions,
    owner: &str,
    stop: &Arc<Stop>,
) {
    let mut workers: HashMap<String, (Arc<AtomicBool>, JoinHandle<()>)> = HashMap::new();
    loop {
        match store.webhook_endpoints() {
            Ok(endpoints) => {
                workers.retain(|_, (done, handle)| {
                    !(done.load(Ordering::SeqCst) && handle.is_finished())
                });
                for endpoint in endpoints {
                    if workers.contains_key(&endpoint.id) {
                        continue;
                    }
                    let done = Arc::new(AtomicBool::new(false));
                    let worker = Worker {
                        store: store.clone(),
                        clock: clock.clone(),
                        options,
                        owner: owner.to_owned(),
                        stop: stop.clone(),
                        id: endpoint.id.clone(),
                        done: done.clone(),
                    };
                    match std::thread::Builder::new()
                        .name(format!("webhook-{}", endpoint.id))
                        .spawn(move || worker.run())
                    {
                        Ok(handle) => {
                            workers.insert(endpoint.id, (done, handle));
                        }
                        Err(error) => tracing::error!(%error, "cannot start a webhook worker"),
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "reading the webhook endpoints failed"),
        }
        if stop.sleep(options.poll_interval) {
            break;
        }
    }
    for (_, (_, handle)) in workers {
        let _ = handle.join();
    }
}

struct Worker {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    options: DispatchOptions,
    owner: String,
    stop: Arc<Stop>,
    id: String,
    done: Arc<AtomicBool>,
}

impl Worker {
    fn run(self) {
        let agent = agent(self.options.timeout);
        // Attempts of the event the endpoint waits at: (position, failures).
        let mut failing: Option<(u64, u32)> = None;
        while !self.stop.is_stopped() {
            match self.round(&agent, &mut failing) {
                Ok(Round::Gone) => break,
                Ok(Round::Idle) => {
                    if self.stop.sleep(self.options.poll_interval) {
                        break;
                    }
                }
                Ok(Round::Busy) => {}
                Ok(Round::Failed(wait)) => {
                    if self.stop.sleep(wait) {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, endpoint = %self.id, "webhook delivery paused: the store failed");
                    if self.stop.sleep(self.options.poll_interval) {
                        break;
                    }
                }
            }
        }
        self.done.store(true, Ordering::SeqCst);
    }

    /// Takes or renews this host's lease on the endpoint for `lease_ms`;
    /// false when another host holds it or the endpoint is gone.
    fn lease(&self, lease_ms: u64) -> Result<bool, order_runtime::store::StoreError> {
        self.store
            .lease_webhook_endpoint(&self.id, &self.owner, self.clock.now_ms(), lease_ms)
    }

    fn round(
        &self,
        agent: &ureq::Agent,
        failing: &mut Option<(u64, u32)>,
    ) -> Result<Round, order_runtime::store::StoreError> {
        let lease_ms = u64::try_from(self.options.lease.as_millis()).unwrap_or(u64::MAX);
        if !self.lease(lease_ms)? {
            // Another host delivers to it, or it was deleted.
            return Ok(match self.store.webhook_endpoint(&self.id)? {
                None => Round::Gone,
                Some(_) => Round::Idle,
            });
        }
        let Some(endpoint) = self.store.webhook_endpoint(&self.id)? else {
            return Ok(Round::Gone);
        };
        let feed: Vec<FeedEvent> = self.store.read_feed(endpoint.position, 100)?;
        let Some(end) = feed.last().map(|f| f.position) else {
            return Ok(Round::Idle);
        };
        let events = public_events(self.store.as_ref(), &feed)?;
        for (position, event) in events {
            if !endpoint.event_types.is_empty() && !endpoint.event_types.contains(&event.event_type)
            {
                continue;
            }
            if self.stop.is_stopped() {
                return Ok(Round::Busy);
            }
            // Everything before this event needed no delivery.
            self.store
                .advance_webhook_endpoint(&self.id, position - 1)?;
            let attempt = match failing {
                Some((at, failures)) if *at == position => *failures + 1,
                _ => 1,
            };
            let (outcome, _) = deliver_and_log(
                self.store.as_ref(),
                self.clock.as_ref(),
                agent,
                &endpoint,
                position,
                &event,
                attempt,
            );
            if !outcome.succeeded() {
                *failing = Some((position, attempt));
                tracing::info!(
                    endpoint = %self.id, event = %event.id, attempt,
                    status = ?outcome.status, error = ?outcome.error,
                    "webhook delivery failed; retrying later"
                );
                return Ok(Round::Failed(self.options.backoff(attempt)));
            }
            *failing = None;
            if !self.store.advance_webhook_endpoint(&self.id, position)? {
                return Ok(Round::Gone);
            }
            // Renew the lease before the next event.
            if !self.lease(lease_ms)? {
                return Ok(Round::Idle);
            }
        }
        self.store.advance_webhook_endpoint(&self.id, end)?;
        Ok(Round::Busy)
    }
}

enum Round {
    /// Nothing to send now.
    Idle,
    /// Events were sent; look again at once.
    Busy,
    /// A delivery failed; wait this long.
    Failed(Duration),
    /// The endpoint was deleted.
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_base_up_to_the_cap() {
        let options = DispatchOptions::default();
        let waits: Vec<u64> = (1..=11).map(|a| options.backoff(a).as_secs()).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(options.backoff(u32::MAX).as_secs(), 3600);
    }

    #[test]
    fn a_stopped_flag_wakes_a_sleeper_at_once() {
        let stop = Arc::new(Stop::default());
        let sleeper = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                (stop.sleep(Duration::from_secs(30)), started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        stop.stop();
        let (stopped, slept) = sleeper.join().unwrap();
        assert!(stopped);
        assert!(slept < Duration::from_secs(30));
    }
}
