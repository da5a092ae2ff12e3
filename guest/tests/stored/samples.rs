//! One value of every stored event type (and of every step outcome), with
//! the payload the store holds for it, as written before the streamed
//! decoding existed: the fixture the codec's tests compare against.

use order_core::domain::metrics::MetricEvent;
use order_core::domain::order::{ItemQuantity, OrderEvent};
use order_core::domain::returns::{ReturnEvent, ReturnItem};
use order_core::domain::saga::{SagaStep, StepOutcome};
use order_core::domain::shipment::{ShipmentEvent, ShipmentItem};
use order_core::domain::values::*;

const ORDER: &str = "5f0c3f7e-9a52-4c7e-8d1b-2b7f4a9d6e01";
const CUSTOMER: &str = "0b6d2a4e-1c3f-4e5a-9b7c-8d9e0f1a2b3c";
const SHIPMENT: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
const RETURN: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
const ITEM: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
const PRODUCT: &str = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9";
const AT: Timestamp = 1_764_633_600_000;

fn s(v: &str) -> String {
    v.to_string()
}

fn usd(amount: u64) -> Money {
    Money::parse("amount", amount, "USD").unwrap()
}

fn address() -> Address {
    Address {
        street1: s("1 Main St"),
        street2: Some(s("Apt \"4\"")),
        city: s("Springfield"),
        state_province: s("IL"),
        postal_code: s("62701"),
        country: s("US"),
    }
}

fn item() -> OrderItem {
    OrderItem {
        item_id: s(ITEM),
        product_id: s(PRODUCT),
        sku: s("SKU-1"),
        product_name: s("Kettle \u{e9}l\u{e9}gant"),
        quantity: 2,
        unit_price: usd(1250),
        total_price: usd(2500),
    }
}

/// Every variant of [`OrderEvent`], in declaration order.
pub fn order_events() -> Vec<OrderEvent> {
    use OrderEvent::*;
    let step = SagaStep::ProcessPayment;
    vec![
        DraftCreated {
            order_id: s(ORDER),
            customer_id: s(CUSTOMER),
            items: vec![item()],
            shipping_address: Some(address()),
            billing_address: None,
            payment_method: Some(PaymentMethod::CreditCard),
            created_at: AT,
        },
        DraftUpdated {
            items: None,
            shipping_address: None,
            billing_address: Some(address()),
            payment_method: Some(PaymentMethod::GiftCard),
            updated_at: AT + 1,
        },
        OrderPlaced {
            order_id: s(ORDER),
            customer_id: s(CUSTOMER),
            items: vec![item(), item()],
            subtotal: usd(5000),
            tax: usd(400),
            shipping_cost: usd(599),
            total: usd(5999),
            shipping_address: address(),
            billing_address: address(),
            payment_method: PaymentMethod::BankTransfer,
            placed_at: AT + 2,
        },
        PaymentConfirmed {
            order_id: s(ORDER),
            transaction_id: s("txn-1"),
            amount_paid: usd(5999),
            confirmed_at: AT + 3,
        },
        InventoryAllocated {
            order_id: s(ORDER),
            all_items_allocated: true,
            allocated_items: vec![s(ITEM)],
            allocated_at: AT + 4,
        },
        OrderShipped {
            order_id: s(ORDER),
            shipment_id: s(SHIPMENT),
            carrier: CarrierCode::OtherCarrier,
            tracking_number: s("1Z999"),
            shipped_at: AT + 5,
        },
        OrderDelivered {
            order_id: s(ORDER),
            delivered_at: AT + 6,
            signed_by: Some(s("J. Doe")),
        },
        OrderCancelled {
            order_id: s(ORDER),
            reason: s("changed\nmind"),
            cancelled_by: s("customer"),
            cancelled_at: AT + 7,
        },
        ReturnOpened {
            return_id: s(RETURN),
            items: vec![ItemQuantity {
                item_id: s(ITEM),
                quantity: 1,
            }],
            opened_at: AT + 8,
        },
        ReturnReleased {
            return_id: s(RETURN),
            released_at: AT + 9,
        },
        OrderRefunded {
            return_id: Some(s(RETURN)),
            amount: usd(1250),
            refunded_at: AT + 10,
        },
        OrderReturned {
            order_id: s(ORDER),
            returned_at: AT + 11,
        },
        NoteRecorded {
            note: s("gift wrap"),
            recorded_at: AT + 12,
        },
        SagaStarted {
            started_at: AT + 13,
        },
        SagaStepStarted {
            step,
            attempt: 1,
            started_at: AT + 14,
            lease_until: AT + 30_000,
        },
        SagaStepCompleted {
            step,
            outcome: StepOutcome::Paid {
                transaction_id: s("txn-1"),
                amount: usd(5999),
            },
            completed_at: AT + 15,
        },
        SagaStepRetryScheduled {
            step: SagaStep::AllocateInventory,
            attempt: 2,
            error: s("timeout"),
            retry_at: AT + 16,
            in_doubt: true,
        },
        SagaStepFailed {
            step: SagaStep::CreateShipment,
            reason: s("refused"),
            failed_at: AT + 17,
            in_doubt: false,
            call_out: true,
        },
        CompensationStarted {
            step,
            attempt: 1,
            started_at: AT + 18,
            lease_until: AT + 48_000,
        },
        CompensationCompleted {
            step,
            detail: s("refunded"),
            completed_at: AT + 19,
        },
        CompensationSkipped {
            step: SagaStep::NotifyCustomer,
            reason: s("nothing to undo"),
            skipped_at: AT + 20,
        },
        CompensationRetryScheduled {
            step,
            attempt: 3,
            error: s("unavailable"),
            retry_at: AT + 21,
        },
        CompensationStalled {
            step,
            attempt: 9,
            error: s("unavailable"),
            retry_at: AT + 22,
        },
        CompensationFailed {
            step,
            error: s("refused for good"),
            failed_at: AT + 23,
        },
        CarrierBookingReceived {
            shipment_id: s(SHIPMENT),
            carrier: CarrierCode::Dhl,
            tracking_number: s("JD014"),
            received_at: AT + 24,
        },
        ObligationRecorded {
            key: s("order-x/ticket/1"),
            issue: s("refund by hand"),
            urgent: true,
            recorded_at: AT + 25,
        },
        ObligationStarted {
            key: s("order-x/ticket/1"),
            attempt: 1,
            started_at: AT + 26,
            lease_until: AT + 56_000,
        },
        ObligationRetryScheduled {
            key: s("order-x/ticket/1"),
            attempt: 2,
            error: s("busy"),
            retry_at: AT + 27,
            refused: true,
        },
        ObligationFulfilled {
            key: s("order-x/ticket/1"),
            ticket_id: s("T-42"),
            fulfilled_at: AT + 28,
        },
        NotificationGaveUp {
            step: SagaStep::NotifyCustomer,
            reason: s("no address"),
            gave_up_at: AT + 29,
        },
        SagaCompleted {
            shipment_id: s(SHIPMENT),
            tracking_number: s("1Z999"),
            completed_at: AT + 30,
        },
        SagaCompensated {
            failed_step: Some(SagaStep::CreateShipment),
            reason: s("no carrier"),
            completed_at: AT + 31,
        },
        SagaCompensationFailed {
            failed_step: None,
            reason: s("refund refused"),
            pending: vec![s("refund-payment")],
            completed_at: AT + 32,
        },
        SagaRetryRequested {
            requested_by: s("ops"),
            requested_at: AT + 33,
        },
    ]
}

/// Every variant of [`StepOutcome`], each in a `saga-step-completed`.
pub fn step_outcomes() -> Vec<OrderEvent> {
    [
        StepOutcome::Paid {
            transaction_id: s("txn-2"),
            amount: usd(1),
        },
        StepOutcome::Allocated {
            all_items_allocated: false,
        },
        StepOutcome::ShipmentBooked {
            shipment_id: s(SHIPMENT),
            carrier: CarrierCode::Ups,
            tracking_number: s("1Z1"),
            estimated_delivery: Some(AT + 86_400_000),
        },
        StepOutcome::ShipmentBooked {
            shipment_id: s(SHIPMENT),
            carrier: CarrierCode::Fedex,
            tracking_number: s("FX1"),
            estimated_delivery: None,
        },
        StepOutcome::Notified,
    ]
    .into_iter()
    .map(|outcome| OrderEvent::SagaStepCompleted {
        step: SagaStep::NotifyCustomer,
        outcome,
        completed_at: AT,
    })
    .collect()
}

/// Every variant of [`ShipmentEvent`].
pub fn shipment_events() -> Vec<ShipmentEvent> {
    use ShipmentEvent::*;
    vec![
        ShipmentCreated {
            shipment_id: s(SHIPMENT),
            order_id: s(ORDER),
            carrier: CarrierCode::Usps,
            tracking_number: s("9400"),
            shipping_address: address(),
            items: vec![ShipmentItem {
                item_id: s(ITEM),
                product_id: s(PRODUCT),
                quantity: 2,
            }],
            created_at: AT,
        },
        TrackingUpdated {
            shipment_id: s(SHIPMENT),
            status: ShipmentStatus::InTransit,
            location: Some(s("Memphis, TN")),
            description: s("departed facility"),
            updated_at: AT + 1,
        },
        ShipmentDelivered {
            shipment_id: s(SHIPMENT),
            order_id: s(ORDER),
            delivered_at: AT + 2,
            signed_by: None,
        },
        ShipmentFailed {
            shipment_id: s(SHIPMENT),
            order_id: s(ORDER),
            reason: s("address unknown"),
            failed_at: AT + 3,
        },
    ]
}

/// Every variant of [`ReturnEvent`].
pub fn return_events() -> Vec<ReturnEvent> {
    use ReturnEvent::*;
    vec![
        ReturnRequested {
            return_id: s(RETURN),
            order_id: s(ORDER),
            customer_id: s(CUSTOMER),
            return_items: vec![ReturnItem {
                item_id: s(ITEM),
                product_id: s(PRODUCT),
                quantity: 1,
                return_reason: ReturnReason::Defective,
                condition: s("opened"),
            }],
            return_reason: ReturnReason::NotAsDescribed,
            comments: Some(s("lid \\ cracked")),
            requested_at: AT,
        },
        ReturnApproved {
            return_id: s(RETURN),
            approved_by: s("agent-7"),
            return_label: None,
            approved_at: AT + 1,
        },
        ReturnDenied {
            return_id: s(RETURN),
            denied_by: s("agent-7"),
            reason: s("outside the window"),
            denied_at: AT + 2,
        },
        ReturnShipped {
            return_id: s(RETURN),
            carrier: CarrierCode::Ups,
            tracking_number: s("1ZR"),
            shipped_at: AT + 3,
        },
        ReturnReceived {
            return_id: s(RETURN),
            received_at: AT + 4,
            condition: s("as described"),
            all_items_received: true,
        },
        RefundProcessed {
            return_id: s(RETURN),
            order_id: s(ORDER),
            refund_amount: usd(1250),
            refund_method: PaymentMethod::Paypal,
            processed_at: AT + 5,
        },
        ReturnClosed {
            return_id: s(RETURN),
            reason: s("never shipped"),
            closed_at: AT + 6,
        },
        RefundCompleted {
            return_id: s(RETURN),
            transaction_id: s("rf-1"),
            refund_amount: usd(1250),
            refunded_at: AT + 7,
        },
        RefundStarted {
            return_id: s(RETURN),
            refund_amount: usd(1250),
            key: s("return-x/refund"),
            started_at: AT + 8,
        },
        RefundRefused {
            return_id: s(RETURN),
            refund_amount: usd(1250),
            reason: s("card closed"),
            refused_at: AT + 9,
        },
    ]
}

/// Every variant of [`MetricEvent`].
pub fn metric_events() -> Vec<MetricEvent> {
    vec![
        MetricEvent::OrderCounted {
            order_id: s(ORDER),
            total: usd(5999),
        },
        MetricEvent::CancellationCounted {
            order_id: s(ORDER),
            currency: Currency::parse("currency", "EUR").unwrap(),
        },
        MetricEvent::RefundCounted {
            return_id: s(RETURN),
            amount: usd(1250),
        },
    ]
}
