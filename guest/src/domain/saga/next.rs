//! What the saga does next: the call to make, the wait, or nothing, read
//! from the folded state. Changes when the order of steps or the rules for
//! reconciling a step achieved elsewhere change.

use super::*;

/// An external call the saga wants made next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaCall {
    /// The step's action.
    Forward(SagaStep),
    /// The step's compensation.
    Compensate(SagaStep),
    /// The obligation at this index of [`SagaState::obligations`].
    Obligation(usize),
}

/// What the saga needs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SagaAction {
    /// Nothing: the saga is finished, or there is no saga for this order.
    Finished,
    /// Nothing until this time.
    Wait(Timestamp),
    /// Record these events (no external call).
    Record(Vec<OrderEvent>),
    /// Make this external call (after recording that it started).
    Call(SagaCall),
}

/// Decides "retry now" (`retry-now` of the saga, asked by `requested_by`):
/// an order without a saga (a draft) refuses it, naming its state; a
/// finished saga needs nothing (`None`: it is never restarted, and its
/// report, phase `finished`, is the answer); any other saga records
/// [`OrderEvent::SagaRetryRequested`],
/// which makes every back-off it waits out (a step's, a compensation's, an
/// owed obligation's) due now. It is recorded also when nothing waits, so
/// that who asked for a retry, and when, is always in the order's history.
/// The attempt counts, the retry policy's
/// limits, the leases of calls in flight and the keys of in-doubt calls
/// are untouched: an early retry repeats a call under the same key, so it
/// never doubles an effect.
pub fn request_retry(
    order: &Order,
    requested_by: &str,
    now: Timestamp,
) -> Result<Option<OrderEvent>, DomainError> {
    check_len("requested-by", requested_by.trim(), 1, 100)?;
    if order.saga.finished.is_some() {
        return Ok(None);
    }
    if !order.saga.started && order.placed_at.is_none() {
        return Err(DomainError::transition(
            Entity::Order,
            order.status,
            "retry-now",
        ));
    }
    Ok(Some(OrderEvent::SagaRetryRequested {
        requested_by: requested_by.trim().to_string(),
        requested_at: now,
    }))
}

/// True while the saga undoes its work: a step failed or the order was cancelled.
pub fn compensating(order: &Order) -> bool {
    order.saga.failure.is_some() || order.status == OrderStatus::Cancelled
}

/// Decides the saga's next move from the order and its saga state.
pub fn next_action(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    if saga.finished.is_some() {
        return SagaAction::Finished;
    }
    if !saga.started {
        return if order.placed_at.is_some() {
            SagaAction::Record(vec![OrderEvent::SagaStarted { started_at: now }])
        } else {
            SagaAction::Finished
        };
    }
    let next = if compensating(order) {
        next_compensation(order, now)
    } else {
        next_forward(order, now)
    };
    with_obligations(order, next, now)
}

/// Obligations owed are met when the saga would otherwise wait or finish
/// (calls that move money or stock go first); a saga never finishes while
/// one is owed, so `compensation-failed` always ends with its ticket.
fn with_obligations(order: &Order, next: SagaAction, now: Timestamp) -> SagaAction {
    let owed = order
        .saga
        .obligations
        .iter()
        .enumerate()
        .filter(|(_, o)| o.ticket_id.is_none())
        .min_by_key(|(_, o)| o.due());
    let Some((index, obligation)) = owed else {
        return next;
    };
    let finishing = matches!(&next, SagaAction::Record(events) if events.iter().any(|e| matches!(
        e,
        OrderEvent::SagaCompleted { .. }
            | OrderEvent::SagaCompensated { .. }
            | OrderEvent::SagaCompensationFailed { .. }
    )));
    let later = match next {
        SagaAction::Wait(t) => Some(t),
        _ if finishing => None,
        other => return other,
    };
    let due = obligation.due();
    if due <= now {
        SagaAction::Call(SagaCall::Obligation(index))
    } else {
        SagaAction::Wait(later.map_or(due, |t| t.min(due)))
    }
}

/// Calls now, unless a retry is due later or another advance's call is
/// still within its lease (then whoever holds it records the outcome, and
/// a lease that runs out means that advance was lost: the call is repeated).
fn wait_or_call(
    retry_at: Option<Timestamp>,
    lease_until: Option<Timestamp>,
    now: Timestamp,
    call: SagaCall,
) -> SagaAction {
    match (retry_at, lease_until) {
        (_, Some(t)) if t > now => SagaAction::Wait(t),
        (Some(t), _) if t > now => SagaAction::Wait(t),
        _ => SagaAction::Call(call),
    }
}

/// The next move for a step that another path (a webhook, a command) may
/// have achieved already, as `achieved` shows. `None`: the step is done.
/// While the saga's own call for it is unanswered, that call's outcome is
/// learnt first (same key), so a second effect cannot go unnoticed.
fn reconcile(
    order: &Order,
    step: SagaStep,
    achieved: Option<StepOutcome>,
    now: Timestamp,
) -> Option<SagaAction> {
    let r = order.saga.step(step);
    match achieved {
        Some(_) if !r.unsettled() && r.status == StepStatus::Completed => None,
        Some(outcome) if !r.unsettled() => {
            Some(SagaAction::Record(vec![OrderEvent::SagaStepCompleted {
                step,
                outcome,
                completed_at: now,
            }]))
        }
        _ => Some(wait_or_call(
            r.retry_at,
            r.lease_until,
            now,
            SagaCall::Forward(step),
        )),
    }
}

/// The step's result as recorded on the order by any path (the saga, a
/// webhook, a command), if the order shows the step achieved.
pub fn achieved(order: &Order, step: SagaStep) -> Option<StepOutcome> {
    match step {
        SagaStep::ProcessPayment => order.payment.as_ref().map(|p| StepOutcome::Paid {
            transaction_id: p.transaction_id.clone(),
            amount: p.amount_paid.clone(),
        }),
        SagaStep::AllocateInventory => order
            .allocation
            .as_ref()
            .filter(|a| a.all_items_allocated)
            .map(|_| StepOutcome::Allocated {
                all_items_allocated: true,
            }),
        SagaStep::CreateShipment => order
            .shipping
            .as_ref()
            .map(|s| StepOutcome::ShipmentBooked {
                shipment_id: s.shipment_id.clone(),
                carrier: s.carrier,
                tracking_number: s.tracking_number.clone(),
                estimated_delivery: None,
            }),
        SagaStep::NotifyCustomer => None,
    }
}

fn next_forward(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    // Step 1: a payment recorded by any path (saga, webhook, command) counts.
    let paid = achieved(order, SagaStep::ProcessPayment);
    if let Some(action) = reconcile(order, SagaStep::ProcessPayment, paid, now) {
        return action;
    }
    // Step 2.
    let alloc = saga.step(SagaStep::AllocateInventory);
    match &order.allocation {
        Some(a) if a.all_items_allocated => {
            let done = achieved(order, SagaStep::AllocateInventory);
            if let Some(action) = reconcile(order, SagaStep::AllocateInventory, done, now) {
                return action;
            }
        }
        Some(_) => {
            return SagaAction::Record(fail(
                order,
                SagaStep::AllocateInventory,
                "not every item could be allocated",
                now,
            ));
        }
        None => {
            return wait_or_call(
                alloc.retry_at,
                alloc.lease_until,
                now,
                SagaCall::Forward(SagaStep::AllocateInventory),
            );
        }
    }
    // Step 3. Also when the booking is recorded but the order not yet
    // marked shipped: repeating the call with the same key returns it.
    // A shipment the carrier reported before the order was ready is used
    // instead of booking a second one.
    if order.shipping.is_none()
        && let Some(b) = saga.carrier_bookings.first()
        && let Ok(events) = crate::domain::order::decide_ship_order(
            order,
            &b.shipment_id,
            b.carrier,
            &b.tracking_number,
            now,
        )
    {
        return SagaAction::Record(events);
    }
    let shipped = achieved(order, SagaStep::CreateShipment);
    if let Some(action) = reconcile(order, SagaStep::CreateShipment, shipped, now) {
        return action;
    }
    // Step 4.
    let notify = saga.step(SagaStep::NotifyCustomer);
    if matches!(notify.status, StepStatus::Completed | StepStatus::GaveUp) {
        let s = order.shipping.as_ref();
        return SagaAction::Record(vec![OrderEvent::SagaCompleted {
            shipment_id: s.map(|s| s.shipment_id.clone()).unwrap_or_default(),
            tracking_number: s.map(|s| s.tracking_number.clone()).unwrap_or_default(),
            completed_at: now,
        }]);
    }
    wait_or_call(
        notify.retry_at,
        notify.lease_until,
        now,
        SagaCall::Forward(SagaStep::NotifyCustomer),
    )
}

/// Whether a step's compensation has anything to undo.
pub fn compensation_needed(order: &Order, step: SagaStep) -> bool {
    let r = order.saga.step(step);
    match step {
        SagaStep::ProcessPayment => {
            order.payment.is_some() || saga_payment(order).is_some() || r.unsettled()
        }
        SagaStep::AllocateInventory => {
            order.allocation.is_some() || r.outcome.is_some() || r.unsettled()
        }
        SagaStep::CreateShipment => {
            r.outcome.is_some() || r.unsettled() || !order.saga.carrier_bookings.is_empty()
        }
        // The customer is always told about a cancellation of a placed order.
        SagaStep::NotifyCustomer => order.placed_at.is_some(),
    }
}

const COMPENSATION_ORDER: [SagaStep; 4] = [
    SagaStep::CreateShipment,
    SagaStep::AllocateInventory,
    SagaStep::ProcessPayment,
    SagaStep::NotifyCustomer,
];

fn next_compensation(order: &Order, now: Timestamp) -> SagaAction {
    let saga = &order.saga;
    for step in COMPENSATION_ORDER {
        let c = saga.compensation(step);
        if matches!(
            c.status,
            CompensationStatus::Completed
                | CompensationStatus::Skipped
                | CompensationStatus::Failed
        ) || !compensation_needed(order, step)
        {
            continue;
        }
        // A forward call still in flight is waited for: its outcome decides
        // what there is to undo.
        let forward = saga.step(step);
        if let Some(t) = forward
            .lease_until
            .filter(|t| forward.in_flight && *t > now)
        {
            return SagaAction::Wait(t);
        }
        // Strict reverse order: a failing compensation holds back the earlier ones.
        return wait_or_call(c.retry_at, c.lease_until, now, SagaCall::Compensate(step));
    }
    let (failed_step, reason) = match &saga.failure {
        Some((step, reason)) => (Some(*step), reason.clone()),
        None => (
            None,
            order
                .cancellation
                .as_ref()
                .map(|c| c.reason.clone())
                .unwrap_or_default(),
        ),
    };
    let pending = saga.stalled();
    if !pending.is_empty() {
        return SagaAction::Record(vec![OrderEvent::SagaCompensationFailed {
            failed_step,
            reason,
            pending,
            completed_at: now,
        }]);
    }
    SagaAction::Record(vec![OrderEvent::SagaCompensated {
        failed_step,
        reason,
        completed_at: now,
    }])
}
