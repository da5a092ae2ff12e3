//! The views the exports answer with (order, shipment, return, saga
//! report), built from the domain's aggregates.

use super::*;

pub(super) fn order_view(o: &Order) -> ord::OrderView {
    ord::OrderView {
        order_id: o.order_id.clone(),
        customer_id: o.customer_id.clone(),
        status: o.status.into(),
        items: o.items.iter().map(item_to).collect(),
        subtotal: money_to(&o.subtotal),
        tax: money_to(&o.tax),
        shipping_cost: money_to(&o.shipping_cost),
        total: money_to(&o.total),
        shipping_address: o.shipping_address.as_ref().map(address_to),
        billing_address: o.billing_address.as_ref().map(address_to),
        payment_method: o.payment_method.map(Into::into),
        created_at: o.created_at,
        placed_at: o.placed_at,
        payment: o.payment.as_ref().map(|p| ord::PaymentInfo {
            transaction_id: p.transaction_id.clone(),
            amount_paid: money_to(&p.amount_paid),
            confirmed_at: p.confirmed_at,
        }),
        allocation: o.allocation.as_ref().map(|a| ord::AllocationInfo {
            all_items_allocated: a.all_items_allocated,
            allocated_items: a.allocated_items.clone(),
            allocated_at: a.allocated_at,
        }),
        shipping: o.shipping.as_ref().map(|s| ord::ShippingInfo {
            shipment_id: s.shipment_id.clone(),
            carrier: s.carrier.into(),
            tracking_number: s.tracking_number.clone(),
            shipped_at: s.shipped_at,
        }),
        delivery: o.delivery.as_ref().map(|d| ord::DeliveryInfo {
            delivered_at: d.delivered_at,
            signed_by: d.signed_by.clone(),
        }),
        cancellation: o.cancellation.as_ref().map(|c| ord::CancellationInfo {
            reason: c.reason.clone(),
            cancelled_by: c.cancelled_by.clone(),
            cancelled_at: c.cancelled_at,
        }),
        refunded: money_to(&o.refunded),
        notes: o.notes.clone(),
        version: o.version,
    }
}

pub(super) fn shipment_item_to(i: &ShipmentItem) -> shp::ShipmentItem {
    shp::ShipmentItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        quantity: i.quantity,
    }
}

pub(super) fn shipment_view(s: &Shipment) -> shp::ShipmentView {
    shp::ShipmentView {
        shipment_id: s.shipment_id.clone(),
        order_id: s.order_id.clone(),
        carrier: s.carrier.into(),
        tracking_number: s.tracking_number.clone(),
        shipping_address: address_to(&s.shipping_address),
        items: s.items.iter().map(shipment_item_to).collect(),
        state: s.state.into(),
        status: s.status.into(),
        tracking_history: s
            .tracking_history
            .iter()
            .map(|e| shp::TrackingEntry {
                status: e.status.into(),
                location: e.location.clone(),
                timestamp: e.timestamp,
                description: e.description.clone(),
            })
            .collect(),
        created_at: s.created_at,
        delivered_at: s.delivered_at,
        signed_by: s.signed_by.clone(),
        failure_reason: s.failure_reason.clone(),
        version: s.version,
    }
}

pub(super) fn return_item_to(i: &ReturnItem) -> ret::ReturnItem {
    ret::ReturnItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        quantity: i.quantity,
        return_reason: i.return_reason.into(),
        condition: i.condition.clone(),
    }
}

pub(super) fn return_view(r: &Return) -> ret::ReturnView {
    ret::ReturnView {
        return_id: r.return_id.clone(),
        order_id: r.order_id.clone(),
        customer_id: r.customer_id.clone(),
        status: r.status.into(),
        refund_status: r.refund_status().into(),
        return_items: r.return_items.iter().map(return_item_to).collect(),
        return_reason: r.return_reason.into(),
        comments: r.comments.clone(),
        requested_at: r.requested_at,
        decided_by: r.decided_by.clone(),
        decided_at: r.decided_at,
        denial_reason: r.denial_reason.clone(),
        return_label: r.return_label.clone(),
        return_tracking_number: r.return_tracking_number.clone(),
        received_at: r.received_at,
        received_condition: r.received_condition.clone(),
        all_items_received: r.all_items_received,
        refund_amount: r.refund_amount.as_ref().map(money_to),
        refund_method: r.refund_method.map(Into::into),
        refunded_at: r.refunded_at,
        refund_confirmed: r.refund_confirmed,
        version: r.version,
    }
}

/// The domain's saga report in WIT terms; the rules are in
/// `domain::saga::report`.
pub(super) fn saga_report(o: &Order) -> fs::SagaReport {
    let r = dsaga::report(o, ports::Clock::now(&Ports));
    fs::SagaReport {
        order_id: r.order_id,
        phase: match r.phase {
            ReportPhase::Scheduled => fs::SagaPhase::Scheduled,
            ReportPhase::Running => fs::SagaPhase::Running,
            ReportPhase::Compensating => fs::SagaPhase::Compensating,
            ReportPhase::Finished => fs::SagaPhase::Finished,
        },
        steps: r
            .steps
            .into_iter()
            .map(|s| fs::StepReport {
                step: s.step.into(),
                status: match s.status {
                    ReportedStatus::Pending => fs::StepStatus::Pending,
                    ReportedStatus::Retrying => fs::StepStatus::Retrying,
                    ReportedStatus::Completed => fs::StepStatus::Completed,
                    ReportedStatus::Failed => fs::StepStatus::Failed,
                    ReportedStatus::Compensated => fs::StepStatus::Compensated,
                    ReportedStatus::Skipped => fs::StepStatus::Skipped,
                },
                attempts: s.attempts,
                last_error: s.last_error,
            })
            .collect(),
        next_wake_at: r.next_wake_at,
        output: saga_output(r.output),
        outcome: r.outcome.map(|o| match o {
            ReportOutcome::Completed(output) => fs::SagaOutcome::Completed(saga_output(output)),
            ReportOutcome::Compensated {
                failed_step,
                reason,
            } => fs::SagaOutcome::Compensated(fs::Compensated {
                failed_step: failed_step.into(),
                reason,
            }),
            ReportOutcome::CompensationFailed {
                failed_step,
                reason,
                pending,
            } => fs::SagaOutcome::CompensationFailed(fs::CompensationFailed {
                failed_step: failed_step.map(Into::into),
                reason,
                pending,
            }),
        }),
        notes: r.notes,
    }
}

fn saga_output(o: ReportOutput) -> fs::SagaOutput {
    fs::SagaOutput {
        success: o.success,
        shipment_id: o.shipment_id,
        tracking_number: o.tracking_number,
        error_reason: o.error_reason,
    }
}
