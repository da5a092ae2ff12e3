//! What an answer records: the events that follow a started call, a
//! failure, an external call's answer or error, and the support tickets
//! the rules require. Changes when the rules for retries, give-ups and
//! tickets change.

use super::*;

/// The events that fail the saga at `step` from outside the step's call (a
/// failure report, a partial allocation): the failure, and the order's
/// cancellation with the failure as its reason (when it can still be
/// cancelled). A call of the saga's own for the step that is still out
/// keeps its lease and is learnt before its compensation acts.
pub fn fail(order: &Order, step: SagaStep, reason: &str, now: Timestamp) -> Vec<OrderEvent> {
    let r = order.saga.step(step);
    fail_step(order, step, reason, now, r.unsettled(), r.in_flight)
}

/// The events that fail the saga at `step` on the answer of its own call;
/// `in_doubt` when the call may nevertheless have taken effect.
pub fn fail_answered(
    order: &Order,
    step: SagaStep,
    reason: &str,
    now: Timestamp,
    in_doubt: bool,
) -> Vec<OrderEvent> {
    fail_step(order, step, reason, now, in_doubt, false)
}

fn fail_step(
    order: &Order,
    step: SagaStep,
    reason: &str,
    now: Timestamp,
    in_doubt: bool,
    call_out: bool,
) -> Vec<OrderEvent> {
    let mut events = vec![OrderEvent::SagaStepFailed {
        step,
        reason: reason.to_string(),
        failed_at: now,
        in_doubt,
        call_out,
    }];
    if matches!(order.status, OrderStatus::Pending | OrderStatus::Confirmed) {
        let mut text = format!("{step} failed: {reason}");
        if text.chars().count() > 500 {
            text = text.chars().take(500).collect();
        }
        events.push(OrderEvent::OrderCancelled {
            order_id: order.order_id.clone(),
            reason: text,
            cancelled_by: "fulfillment-saga".to_string(),
            cancelled_at: now,
        });
    }
    events
}

/// The event recorded before a call: the attempt number comes from the
/// state, the lease from the policy.
pub fn started(order: &Order, call: SagaCall, policy: &SagaPolicy, now: Timestamp) -> OrderEvent {
    let lease_until = now.saturating_add(policy.call_lease_ms.max(1));
    match call {
        SagaCall::Forward(step) => OrderEvent::SagaStepStarted {
            step,
            attempt: order.saga.step(step).attempts + 1,
            started_at: now,
            lease_until,
        },
        SagaCall::Compensate(step) => OrderEvent::CompensationStarted {
            step,
            attempt: order.saga.compensation(step).attempts + 1,
            started_at: now,
            lease_until,
        },
        SagaCall::Obligation(index) => {
            let o = &order.saga.obligations[index];
            OrderEvent::ObligationStarted {
                key: o.key.clone(),
                attempt: o.attempts + 1,
                started_at: now,
                lease_until,
            }
        }
    }
}

/// The obligations that `events` (a decision about to be recorded) create:
/// an urgent ticket the first time a compensation stalls or is refused (money
/// or stock may be stuck), a normal one when a message to the customer
/// could not be delivered. Recorded in the same write as the decision.
pub fn obligations_for(order: &Order, events: &[OrderEvent], now: Timestamp) -> Vec<OrderEvent> {
    let mut out: Vec<OrderEvent> = Vec::new();
    for e in events {
        let (step, kind, issue, urgent) = match e {
            OrderEvent::CompensationStalled { step, error, .. }
            | OrderEvent::CompensationFailed { step, error, .. } => (
                *step,
                "stalled",
                format!(
                    "{} for order {} failed ({error}); money or stock may be stuck",
                    step.compensation_name(),
                    order.order_id
                ),
                true,
            ),
            OrderEvent::NotificationGaveUp { step, reason, .. } => (
                *step,
                "undelivered",
                format!(
                    "a message to the customer about order {} could not be sent: {reason}",
                    order.order_id
                ),
                false,
            ),
            _ => continue,
        };
        let key = format!("order-{}/support-ticket/{step}/{kind}", order.order_id);
        let recorded = order.saga.obligation(&key).is_some()
            || out
                .iter()
                .any(|o| matches!(o, OrderEvent::ObligationRecorded { key: k, .. } if *k == key));
        if !recorded {
            out.push(OrderEvent::ObligationRecorded {
                key,
                issue: issue.chars().take(1000).collect(),
                urgent,
                recorded_at: now,
            });
        }
    }
    out
}

/// Events after an obligation's call: the ticket and a note on the order,
/// or a retry (an obligation never gives up; the same key makes a repeat
/// return the ticket already opened).
pub fn after_obligation(
    order: &Order,
    index: usize,
    result: Result<String, ExternalError>,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let o = &order.saga.obligations[index];
    match result {
        Ok(ticket_id) => vec![
            OrderEvent::NoteRecorded {
                note: format!("support ticket {ticket_id} opened: {}", o.issue),
                recorded_at: now,
            },
            OrderEvent::ObligationFulfilled {
                key: o.key.clone(),
                ticket_id,
                fulfilled_at: now,
            },
        ],
        Err(error) => {
            let retry_at = next_try(&policy.retry, o.attempts, &o.key, now)
                .unwrap_or_else(|| last_resort_try(&policy.retry, now));
            vec![OrderEvent::ObligationRetryScheduled {
                key: o.key.clone(),
                attempt: o.attempts,
                refused: matches!(error, ExternalError::Permanent(_)),
                error: error.to_string(),
                retry_at,
            }]
        }
    }
}

/// Events after a forward step's call failed: retry later, or fail the saga
/// (notifications give up instead: they never undo the order).
///
/// A refusal (`permanent`) is the callee's definitive answer for the key:
/// nothing was done under it. If another path has achieved the step
/// meanwhile (a clerk's `ship-order`, a carrier's or gateway's event), the
/// step is done with that result, not failed.
///
/// An answer in doubt, or any non-definitive answer while an earlier
/// attempt is in doubt, keeps the step in doubt: it is retried under the
/// same key; when the attempts run out the step fails *in doubt*, so that
/// its compensation first learns the outcome under the action's key and
/// undoes whatever it did. A step in doubt that another path has achieved
/// is not failed (the order is fine): the saga keeps asking at the longest
/// delay, so that a second effect of its own is found and undone.
pub fn after_forward_error(
    order: &Order,
    step: SagaStep,
    error: &ExternalError,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let r = order.saga.step(step);
    let attempt = r.attempts;
    let definitive = matches!(error, ExternalError::Permanent(_));
    let in_doubt = error.is_in_doubt() || (r.in_doubt && !definitive);
    if definitive && let Some(outcome) = achieved(order, step) {
        return vec![OrderEvent::SagaStepCompleted {
            step,
            outcome,
            completed_at: now,
        }];
    }
    let schedule = |retry_at: Timestamp| {
        vec![OrderEvent::SagaStepRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at,
            in_doubt,
        }]
    };
    let retry = policy.for_step(step);
    let call_key = step.key(&order.order_id, false);
    if !definitive && let Some(at) = next_try(retry, attempt, &call_key, now) {
        return schedule(at);
    }
    if in_doubt && step != SagaStep::NotifyCustomer && achieved(order, step).is_some() {
        // People are told once: a second effect of the saga's own may exist.
        let mut events = schedule(last_resort_try(retry, now));
        let key = format!("order-{}/support-ticket/{step}/in-doubt", order.order_id);
        if order.saga.obligation(&key).is_none() {
            events.push(OrderEvent::ObligationRecorded {
                key,
                issue: format!(
                    "order {}: the outcome of {step} under key {} is still unknown ({}); the order was {} by another path, so a second effect may exist",
                    order.order_id,
                    call_key,
                    error.message(),
                    match step {
                        SagaStep::ProcessPayment => "paid",
                        SagaStep::AllocateInventory => "allocated",
                        _ => "shipped",
                    }
                )
                .chars()
                .take(1000)
                .collect(),
                urgent: true,
                recorded_at: now,
            });
        }
        return events;
    }
    let reason = if in_doubt {
        format!(
            "{} (outcome unknown after {attempt} attempts)",
            error.message()
        )
    } else if !definitive {
        format!("{} (after {attempt} attempts)", error.message())
    } else {
        error.message().to_string()
    };
    if step == SagaStep::NotifyCustomer {
        return notification_gave_up(false, &reason, now);
    }
    fail_answered(order, step, &reason, now, in_doubt)
}

/// Only the notify-customer step gives up: going forward (the order
/// confirmation) or while compensating (the cancellation notice).
fn notification_gave_up(compensation: bool, reason: &str, now: Timestamp) -> Vec<OrderEvent> {
    let what = if compensation {
        "cancellation notice"
    } else {
        "order confirmation"
    };
    vec![
        OrderEvent::NotificationGaveUp {
            step: SagaStep::NotifyCustomer,
            reason: reason.to_string(),
            gave_up_at: now,
        },
        OrderEvent::NoteRecorded {
            note: format!("the {what} could not be sent to the customer: {reason}"),
            recorded_at: now,
        },
    ]
}

/// Events after a compensation's call failed. Notices give up after their
/// attempts. The others retry transient and in-doubt errors, then stall
/// (reported as `compensation-failed`) and keep retrying at the longest
/// delay (the same key either still succeeds or returns what it did); a
/// permanent refusal fails the compensation for good, since the callee
/// answers its key with the same refusal forever.
pub fn after_compensation_error(
    order: &Order,
    step: SagaStep,
    error: &ExternalError,
    policy: &SagaPolicy,
    now: Timestamp,
) -> Vec<OrderEvent> {
    let attempt = order.saga.compensation(step).attempts;
    let retry = policy.for_step(step);
    let key = step.key(&order.order_id, true);
    if error.is_transient()
        && let Some(retry_at) = next_try(retry, attempt, &key, now)
    {
        return vec![OrderEvent::CompensationRetryScheduled {
            step,
            attempt,
            error: error.to_string(),
            retry_at,
        }];
    }
    if step == SagaStep::NotifyCustomer {
        let mut events = notification_gave_up(true, error.message(), now);
        events.push(OrderEvent::CompensationSkipped {
            step,
            reason: format!("gave up: {}", error.message()),
            skipped_at: now,
        });
        return events;
    }
    if !error.is_transient() {
        return vec![OrderEvent::CompensationFailed {
            step,
            error: error.to_string(),
            failed_at: now,
        }];
    }
    vec![OrderEvent::CompensationStalled {
        step,
        attempt,
        error: error.to_string(),
        retry_at: last_resort_try(retry, now),
    }]
}
