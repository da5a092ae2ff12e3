//! The only module that touches wit-bindgen: it implements the application's
//! ports over the component's imports, and the component's exports over the
//! application, converting WIT values to domain values and back.

wit_bindgen::generate!({
    world: "order-management",
    path: "../wit",
});

use std::time::{SystemTime, UNIX_EPOCH};

use exports::oms::order_management::{
    fulfillment_saga as fs, inbound as ib, orders as ord, queries as q, returns as ret,
    shipments as shp,
};
use oms::order_management::{
    customer_service as cs, event_store as es, events as ev, inventory_service as inv,
    payment_gateway as pg, policy as pol, shipping_carrier as sc, types as t,
};

use crate::app::inbound::Inbound;
use crate::app::ports::{self, Env};
use crate::app::saga::SagaInput;
use crate::app::{App, StoredEvent};
use crate::domain::order::{Order, OrderStatus};
use crate::domain::returns::{RefundStatus, Return, ReturnItem, ReturnStatus};
use crate::domain::saga::{
    self as dsaga, CompensationStatus, Finished, SagaAction, SagaPolicy, SagaStep, StepStatus,
};
use crate::domain::shipment::{Shipment, ShipmentItem, ShipmentState};
use crate::domain::values::{self as v, Money, Timestamp};
use crate::domain::{DomainError, DomainResult, Entity, ExternalError};

struct Component;

export!(Component);

// ----- ports over the imports -------------------------------------------

struct Ports;

fn ext_from(e: t::ExternalError) -> ExternalError {
    match e {
        t::ExternalError::Transient(m) => ExternalError::Transient(m),
        t::ExternalError::Permanent(m) => ExternalError::Permanent(m),
        t::ExternalError::InDoubt(m) => ExternalError::InDoubt(m),
    }
}

fn store_err(e: es::StoreError) -> ports::StoreError {
    match e {
        es::StoreError::Conflict(c) => ports::StoreError::Conflict {
            stream_id: c.stream_id,
            expected: c.expected,
            actual: c.actual,
        },
        es::StoreError::Unavailable(m) => ports::StoreError::Unavailable(m),
        es::StoreError::Invalid(m) => ports::StoreError::Invalid(m),
    }
}

impl ports::EventStore for Ports {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, ports::StoreError> {
        es::load(stream_id)
            .map(|events| {
                events
                    .into_iter()
                    .map(|e| StoredEvent {
                        stream_id: e.stream_id,
                        version: e.version,
                        event_type: e.event_type,
                        payload: e.payload,
                        recorded_at: e.recorded_at,
                    })
                    .collect()
            })
            .map_err(store_err)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, ports::StoreError> {
        es::stream_version(stream_id).map_err(store_err)
    }

    fn append(&self, batch: &ports::AppendBatch) -> Result<(), ports::StoreError> {
        let batch = es::AppendBatch {
            streams: batch
                .streams
                .iter()
                .map(|s| es::StreamAppend {
                    stream_id: s.stream_id.clone(),
                    expected_version: s.expected_version,
                    tags: s.tags.clone(),
                    events: s
                        .events
                        .iter()
                        .map(|e| es::NewEvent {
                            event_type: e.event_type.clone(),
                            payload: e.payload.clone(),
                        })
                        .collect(),
                })
                .collect(),
            timers: batch
                .timers
                .iter()
                .map(|(saga_id, due_at)| es::SagaTimer {
                    saga_id: saga_id.clone(),
                    due_at: *due_at,
                })
                .collect(),
        };
        es::append(&batch).map_err(store_err)
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, ports::StoreError> {
        es::find_streams(tag).map_err(store_err)
    }
}

fn retry_from(r: pol::RetryPolicy) -> dsaga::RetryPolicy {
    dsaga::RetryPolicy {
        max_attempts: r.max_attempts.max(1),
        base_delay_ms: r.base_delay_ms,
        max_delay_ms: r.max_delay_ms.max(r.base_delay_ms),
        jitter_permille: r.jitter_permille.min(1000),
    }
}

impl ports::Policy for Ports {
    fn policy(&self) -> ports::StorePolicy {
        let p = pol::get_policy();
        ports::StorePolicy {
            return_window_days: p.return_window_days,
            default_carrier: p.default_carrier.into(),
            saga: SagaPolicy {
                retry: retry_from(p.retry),
                notification_retry: retry_from(p.notification_retry),
                call_lease_ms: p.call_lease_ms.max(1),
            },
        }
    }

    fn quote(
        &self,
        items: &[v::OrderItem],
        subtotal: &Money,
        address: &v::Address,
    ) -> (Money, Money) {
        let items: Vec<t::OrderItem> = items.iter().map(item_to).collect();
        let quote = pol::quote(&items, &money_to(subtotal), &address_to(address));
        // Currency and bounds are checked by the caller, naming the field.
        let raw = |m: t::Money| Money {
            amount: m.amount,
            currency: v::Currency::parse("pricing", &m.currency)
                .unwrap_or_else(|_| subtotal.currency.clone()),
        };
        (raw(quote.tax), raw(quote.shipping_cost))
    }
}

impl ports::PaymentGateway for Ports {
    fn process_payment(
        &self,
        key: &str,
        order_id: &str,
        amount: &Money,
        method: v::PaymentMethod,
        customer_id: &str,
    ) -> Result<ports::PaymentReceipt, ExternalError> {
        let r = pg::process_payment(
            key,
            &pg::ProcessPaymentRequest {
                order_id: order_id.to_string(),
                payment_amount: money_to(amount),
                payment_method: method.into(),
                customer_id: customer_id.to_string(),
            },
        )
        .map_err(ext_from)?;
        let amount = Money::parse(
            "payment-amount",
            r.payment_amount.amount,
            &r.payment_amount.currency,
        )
        .map_err(|e| ExternalError::Permanent(format!("the gateway answered nonsense: {e}")))?;
        Ok(ports::PaymentReceipt {
            transaction_id: r.transaction_id,
            amount,
            processed_at: r.processed_at,
        })
    }

    fn refund_payment(
        &self,
        key: &str,
        transaction_id: &str,
        amount: &Money,
        reason: &str,
    ) -> Result<(), ExternalError> {
        pg::refund_payment(
            key,
            &pg::RefundPaymentRequest {
                transaction_id: transaction_id.to_string(),
                refund_amount: money_to(amount),
                reason: reason.chars().take(500).collect(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

fn stock_to(items: &[ports::StockItem]) -> Vec<inv::StockItem> {
    items
        .iter()
        .map(|i| inv::StockItem {
            product_id: i.product_id.clone(),
            sku: i.sku.clone(),
            quantity: i.quantity,
        })
        .collect()
}

impl ports::InventoryService for Ports {
    fn allocate_stock(
        &self,
        key: &str,
        order_id: &str,
        items: &[ports::StockItem],
    ) -> Result<bool, ports::AllocationError> {
        inv::allocate_stock(
            key,
            &inv::AllocateStockRequest {
                order_id: order_id.to_string(),
                stock_items: stock_to(items),
            },
        )
        .map(|a| a.all_items_allocated)
        .map_err(|e| match e {
            inv::AllocationError::OutOfStock(f) => ports::AllocationError::OutOfStock(
                f.unavailable_items
                    .into_iter()
                    .map(|u| ports::Unavailable {
                        product_id: u.product_id,
                        requested: u.requested_quantity,
                        available: u.available_quantity,
                    })
                    .collect(),
            ),
            inv::AllocationError::Failed(e) => ports::AllocationError::Failed(ext_from(e)),
        })
    }

    fn release_stock(
        &self,
        key: &str,
        order_id: &str,
        items: &[ports::StockItem],
    ) -> Result<(), ExternalError> {
        inv::release_stock(
            key,
            &inv::ReleaseStockRequest {
                order_id: order_id.to_string(),
                stock_items: stock_to(items),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn restock_items(
        &self,
        key: &str,
        return_id: &str,
        order_id: &str,
        items: &[ports::StockItem],
    ) -> Result<(), ExternalError> {
        inv::restock_items(
            key,
            &inv::RestockItemsRequest {
                return_id: return_id.to_string(),
                order_id: order_id.to_string(),
                stock_items: stock_to(items),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

impl ports::ShippingCarrier for Ports {
    fn create_shipment(
        &self,
        key: &str,
        order_id: &str,
        carrier: v::CarrierCode,
        address: &v::Address,
        items: &[ports::PackageItem],
    ) -> Result<ports::Booking, ExternalError> {
        let b = sc::create_shipment(
            key,
            &sc::CreateShipmentRequest {
                order_id: order_id.to_string(),
                carrier: carrier.into(),
                shipping_address: address_to(address),
                package_items: items
                    .iter()
                    .map(|i| sc::PackageItem {
                        product_id: i.product_id.clone(),
                        quantity: i.quantity,
                        weight_grams: None,
                    })
                    .collect(),
            },
        )
        .map_err(ext_from)?;
        let bad = |e: DomainError| {
            ExternalError::Permanent(format!("the carrier answered nonsense: {e}"))
        };
        let shipment_id = v::parse_uuid("shipment-id", &b.shipment_id).map_err(bad)?;
        v::check_len("tracking-number", &b.tracking_number, 1, 100).map_err(bad)?;
        Ok(ports::Booking {
            shipment_id,
            carrier: b.carrier.into(),
            tracking_number: b.tracking_number,
            estimated_delivery: b.estimated_delivery,
        })
    }

    fn cancel_shipment(
        &self,
        key: &str,
        shipment_id: &str,
        reason: &str,
    ) -> Result<(), ExternalError> {
        sc::cancel_shipment(
            key,
            &sc::CancelShipmentRequest {
                shipment_id: shipment_id.to_string(),
                reason: reason.chars().take(500).collect(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

impl ports::CustomerService for Ports {
    fn send_order_confirmation(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        items: &[v::OrderItem],
        total: &Money,
        tracking_number: Option<&str>,
    ) -> Result<(), ExternalError> {
        cs::send_order_confirmation(
            key,
            &cs::SendOrderConfirmationRequest {
                order_id: order_id.to_string(),
                customer_id: customer_id.to_string(),
                order_details: cs::OrderDetails {
                    items: items.iter().map(item_to).collect(),
                    total: money_to(total),
                    tracking_number: tracking_number.map(str::to_string),
                },
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        reason: &str,
    ) -> Result<(), ExternalError> {
        cs::send_order_cancellation(
            key,
            &cs::SendOrderCancellationRequest {
                order_id: order_id.to_string(),
                customer_id: customer_id.to_string(),
                reason: reason.to_string(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn send_shipping_update(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        tracking_number: &str,
        status: v::ShipmentStatus,
    ) -> Result<(), ExternalError> {
        cs::send_shipping_update(
            key,
            &cs::SendShippingUpdateRequest {
                order_id: order_id.to_string(),
                customer_id: customer_id.to_string(),
                tracking_number: tracking_number.to_string(),
                shipping_status: status.into(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn create_support_ticket(
        &self,
        key: &str,
        order_id: &str,
        customer_id: &str,
        issue: &str,
        priority: ports::TicketPriority,
    ) -> Result<String, ExternalError> {
        cs::create_support_ticket(
            key,
            &cs::CreateSupportTicketRequest {
                order_id: order_id.to_string(),
                customer_id: customer_id.to_string(),
                issue: issue.chars().take(1000).collect(),
                priority: match priority {
                    ports::TicketPriority::Low => cs::TicketPriority::Low,
                    ports::TicketPriority::Normal => cs::TicketPriority::Normal,
                    ports::TicketPriority::High => cs::TicketPriority::High,
                    ports::TicketPriority::Urgent => cs::TicketPriority::Urgent,
                },
            },
        )
        .map(|t| t.ticket_id)
        .map_err(ext_from)
    }
}

impl ports::Clock for Ports {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Timestamp)
    }
}

fn with_app<T>(f: impl FnOnce(&App<'_>) -> DomainResult<T>) -> Result<T, t::CommandError> {
    let p = Ports;
    let app = App::new(Env {
        store: &p,
        policy: &p,
        payment: &p,
        inventory: &p,
        carrier: &p,
        customer: &p,
        clock: &p,
    });
    f(&app).map_err(error_to)
}

// ----- value conversions ------------------------------------------------

macro_rules! same_enum {
    ($domain:ty, $wit:ty, [$($variant:ident),+ $(,)?]) => {
        impl From<$domain> for $wit {
            fn from(x: $domain) -> Self {
                match x { $(<$domain>::$variant => <$wit>::$variant),+ }
            }
        }
        impl From<$wit> for $domain {
            fn from(x: $wit) -> Self {
                match x { $(<$wit>::$variant => <$domain>::$variant),+ }
            }
        }
    };
}

same_enum!(
    v::PaymentMethod,
    t::PaymentMethod,
    [CreditCard, DebitCard, Paypal, BankTransfer, GiftCard]
);
same_enum!(
    v::CarrierCode,
    t::CarrierCode,
    [Ups, Fedex, Usps, Dhl, OtherCarrier]
);
same_enum!(
    v::ReturnReason,
    t::ReturnReason,
    [
        Defective,
        WrongItem,
        NotAsDescribed,
        NoLongerNeeded,
        ArrivedTooLate,
        OtherReason
    ]
);
same_enum!(
    v::ShipmentStatus,
    t::ShipmentStatus,
    [
        AwaitingPickup,
        PickedUp,
        InTransit,
        OutForDelivery,
        Delivered,
        DeliveryFailed,
        ReturnedToSender
    ]
);
same_enum!(
    ShipmentState,
    t::ShipmentState,
    [Active, DeliveryComplete, DeliveryFailed]
);
same_enum!(
    ReturnStatus,
    t::ReturnStatus,
    [
        Requested, Approved, Shipped, Received, Refunded, Denied, Closed
    ]
);
same_enum!(
    RefundStatus,
    t::RefundStatus,
    [Pending, Approved, Processed, Denied]
);
same_enum!(
    OrderStatus,
    t::OrderStatus,
    [
        Draft, Pending, Confirmed, Shipped, Delivered, Cancelled, Returned
    ]
);
same_enum!(
    SagaStep,
    fs::SagaStep,
    [
        ProcessPayment,
        AllocateInventory,
        CreateShipment,
        NotifyCustomer
    ]
);

fn money_to(m: &Money) -> t::Money {
    t::Money {
        amount: m.amount,
        currency: m.currency.as_str().to_string(),
    }
}

fn money_from(field: &str, m: t::Money) -> DomainResult<Money> {
    Money::parse(field, m.amount, &m.currency)
}

fn address_to(a: &v::Address) -> t::Address {
    t::Address {
        street1: a.street1.clone(),
        street2: a.street2.clone(),
        city: a.city.clone(),
        state_province: a.state_province.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

/// Unvalidated: the domain validates addresses where it takes them.
fn address_from(a: t::Address) -> v::Address {
    v::Address {
        street1: a.street1,
        street2: a.street2,
        city: a.city,
        state_province: a.state_province,
        postal_code: a.postal_code,
        country: a.country,
    }
}

fn item_to(i: &v::OrderItem) -> t::OrderItem {
    t::OrderItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        sku: i.sku.clone(),
        product_name: i.product_name.clone(),
        quantity: i.quantity,
        unit_price: money_to(&i.unit_price),
        total_price: money_to(&i.total_price),
    }
}

fn item_input_from(i: t::OrderItemInput) -> v::OrderItemInput {
    v::OrderItemInput {
        item_id: i.item_id,
        product_id: i.product_id,
        sku: i.sku,
        product_name: i.product_name,
        quantity: i.quantity,
        unit_price_amount: i.unit_price.amount,
        unit_price_currency: i.unit_price.currency,
    }
}

/// Trusted items (already in an order): recomputes and checks the totals.
fn items_from(field: &str, items: Vec<t::OrderItem>) -> DomainResult<Vec<v::OrderItem>> {
    let inputs = items
        .into_iter()
        .map(|i| v::OrderItemInput {
            item_id: i.item_id,
            product_id: i.product_id,
            sku: i.sku,
            product_name: i.product_name,
            quantity: i.quantity,
            unit_price_amount: i.unit_price.amount,
            unit_price_currency: i.unit_price.currency,
        })
        .collect();
    v::validate_items(field, inputs, true)
}

fn entity_to(e: Entity) -> t::EntityKind {
    match e {
        Entity::Order => t::EntityKind::Order,
        Entity::Shipment => t::EntityKind::Shipment,
        Entity::Return => t::EntityKind::Return,
        Entity::Saga => t::EntityKind::Saga,
    }
}

fn error_to(e: DomainError) -> t::CommandError {
    match e {
        DomainError::Validation { field, reason } => {
            t::CommandError::Validation(t::ValidationError { field, reason })
        }
        DomainError::InvalidTransition {
            entity,
            state,
            command,
        } => t::CommandError::InvalidTransition(t::InvalidTransition {
            entity: entity_to(entity),
            state,
            command,
        }),
        DomainError::NotFound { entity, id } => t::CommandError::NotFound(t::NotFound {
            entity: entity_to(entity),
            id,
        }),
        DomainError::Conflict(m) => t::CommandError::Conflict(m),
        DomainError::RuleViolated {
            rule,
            field,
            message,
        } => t::CommandError::RuleViolated(t::RuleViolation {
            rule,
            field,
            message,
        }),
        DomainError::External(ExternalError::Transient(m)) => {
            t::CommandError::External(t::ExternalError::Transient(m))
        }
        DomainError::External(ExternalError::Permanent(m)) => {
            t::CommandError::External(t::ExternalError::Permanent(m))
        }
        DomainError::External(ExternalError::InDoubt(m)) => {
            t::CommandError::External(t::ExternalError::InDoubt(m))
        }
        DomainError::Storage(m) => t::CommandError::Storage(m),
    }
}

fn order_view(o: &Order) -> ord::OrderView {
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

fn shipment_item_to(i: &ShipmentItem) -> shp::ShipmentItem {
    shp::ShipmentItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        quantity: i.quantity,
    }
}

fn shipment_view(s: &Shipment) -> shp::ShipmentView {
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

fn return_item_to(i: &ReturnItem) -> ret::ReturnItem {
    ret::ReturnItem {
        item_id: i.item_id.clone(),
        product_id: i.product_id.clone(),
        quantity: i.quantity,
        return_reason: i.return_reason.into(),
        condition: i.condition.clone(),
    }
}

fn return_view(r: &Return) -> ret::ReturnView {
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

fn saga_report(o: &Order) -> fs::SagaReport {
    let saga = &o.saga;
    let now = ports::Clock::now(&Ports);
    let phase = if saga.finished.is_some() {
        fs::SagaPhase::Finished
    } else if !saga.started {
        fs::SagaPhase::Scheduled
    } else if dsaga::compensating(o) {
        fs::SagaPhase::Compensating
    } else {
        fs::SagaPhase::Running
    };
    let steps = SagaStep::ALL
        .iter()
        .map(|&step| {
            let r = saga.step(step);
            let c = saga.compensation(step);
            let status = if c.status == CompensationStatus::Completed
                && step != SagaStep::NotifyCustomer
            {
                fs::StepStatus::Compensated
            } else {
                match r.status {
                    StepStatus::Pending if saga.finished.is_some() || dsaga::compensating(o) => {
                        fs::StepStatus::Skipped
                    }
                    StepStatus::Pending => fs::StepStatus::Pending,
                    StepStatus::Retrying => fs::StepStatus::Retrying,
                    StepStatus::Completed => fs::StepStatus::Completed,
                    StepStatus::Failed | StepStatus::GaveUp => fs::StepStatus::Failed,
                }
            };
            fs::StepReport {
                step: step.into(),
                status,
                attempts: r.attempts,
                last_error: r.last_error.clone().or_else(|| c.last_error.clone()),
            }
        })
        .collect();
    let next_wake_at = match dsaga::next_action(o, now) {
        SagaAction::Finished => None,
        SagaAction::Wait(t) => Some(t),
        SagaAction::Record(_) | SagaAction::Call(_) => Some(now),
    };
    let failure_reason = saga
        .failure
        .as_ref()
        .map(|(_, r)| r.clone())
        .or_else(|| o.cancellation.as_ref().map(|c| c.reason.clone()));
    let success = matches!(saga.finished, Some(Finished::Completed { .. }));
    let output = fs::SagaOutput {
        success,
        shipment_id: o.shipping.as_ref().map(|s| s.shipment_id.clone()),
        tracking_number: o.shipping.as_ref().map(|s| s.tracking_number.clone()),
        error_reason: if success {
            None
        } else {
            failure_reason.clone()
        },
    };
    let stalled = saga.stalled();
    let outcome = match &saga.finished {
        Some(Finished::Completed { .. }) => Some(fs::SagaOutcome::Completed(output.clone())),
        Some(Finished::Compensated {
            failed_step,
            reason,
        }) => match failed_step {
            Some(step) => Some(fs::SagaOutcome::Compensated(fs::Compensated {
                failed_step: (*step).into(),
                reason: reason.clone(),
            })),
            // A cancellation on request: reported as compensated with the
            // cancellation as the reason, at the step the saga had reached.
            None => Some(fs::SagaOutcome::Compensated(fs::Compensated {
                failed_step: first_open_step(o).into(),
                reason: reason.clone(),
            })),
        },
        Some(Finished::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => Some(fs::SagaOutcome::CompensationFailed(
            fs::CompensationFailed {
                failed_step: failed_step.map(Into::into),
                reason: reason.clone(),
                pending: pending.clone(),
            },
        )),
        None if !stalled.is_empty() => Some(fs::SagaOutcome::CompensationFailed(
            fs::CompensationFailed {
                failed_step: saga.failure.as_ref().map(|(s, _)| (*s).into()),
                reason: failure_reason.unwrap_or_default(),
                pending: stalled,
            },
        )),
        None => None,
    };
    fs::SagaReport {
        order_id: o.order_id.clone(),
        phase,
        steps,
        next_wake_at,
        output,
        outcome,
        notes: saga.notes.clone(),
    }
}

fn history(events: Vec<StoredEvent>) -> Vec<q::HistoryEntry> {
    events
        .into_iter()
        .map(|e| q::HistoryEntry {
            event: typed_event(&e),
            version: e.version,
            event_type: e.event_type,
            payload: e.payload,
            recorded_at: e.recorded_at,
        })
        .collect()
}

/// The typed form of a stored event; `other` for bookkeeping events.
fn typed_event(e: &StoredEvent) -> ev::DomainEvent {
    use crate::domain::order::OrderEvent as O;
    use crate::domain::returns::ReturnEvent as R;
    use crate::domain::shipment::ShipmentEvent as S;
    let other = || ev::DomainEvent::Other(e.event_type.clone());
    if e.stream_id.starts_with("order-") {
        let Ok(event) = serde_json::from_str::<O>(&e.payload) else {
            return other();
        };
        match event {
            O::DraftCreated {
                order_id,
                customer_id,
                created_at,
                ..
            } => ev::DomainEvent::DraftCreated(ev::DraftCreated {
                order_id,
                customer_id,
                created_at,
            }),
            O::OrderPlaced {
                order_id,
                customer_id,
                items,
                subtotal,
                tax,
                shipping_cost,
                total,
                shipping_address,
                billing_address,
                payment_method,
                placed_at,
            } => ev::DomainEvent::OrderPlaced(ev::OrderPlaced {
                order_id,
                customer_id,
                items: items.iter().map(item_to).collect(),
                subtotal: money_to(&subtotal),
                tax: money_to(&tax),
                shipping_cost: money_to(&shipping_cost),
                total: money_to(&total),
                shipping_address: address_to(&shipping_address),
                billing_address: address_to(&billing_address),
                payment_method: payment_method.into(),
                placed_at,
            }),
            O::PaymentConfirmed {
                order_id,
                transaction_id,
                amount_paid,
                confirmed_at,
            } => ev::DomainEvent::PaymentConfirmed(ev::PaymentConfirmed {
                order_id,
                transaction_id,
                amount_paid: money_to(&amount_paid),
                confirmed_at,
            }),
            O::InventoryAllocated {
                order_id,
                all_items_allocated,
                allocated_at,
                ..
            } => ev::DomainEvent::InventoryAllocated(ev::InventoryAllocated {
                order_id,
                all_items_allocated,
                allocated_at,
            }),
            O::OrderShipped {
                order_id,
                shipment_id,
                carrier,
                tracking_number,
                shipped_at,
            } => ev::DomainEvent::OrderShipped(ev::OrderShipped {
                order_id,
                shipment_id,
                carrier: carrier.into(),
                tracking_number,
                shipped_at,
            }),
            O::OrderDelivered {
                order_id,
                delivered_at,
                signed_by,
            } => ev::DomainEvent::OrderDelivered(ev::OrderDelivered {
                order_id,
                delivered_at,
                signed_by,
            }),
            O::OrderCancelled {
                order_id,
                reason,
                cancelled_by,
                cancelled_at,
            } => ev::DomainEvent::OrderCancelled(ev::OrderCancelled {
                order_id,
                reason,
                cancelled_by,
                cancelled_at,
            }),
            O::OrderReturned {
                order_id,
                returned_at,
            } => ev::DomainEvent::OrderReturned(ev::OrderReturned {
                order_id,
                returned_at,
            }),
            O::OrderRefunded {
                return_id,
                amount,
                refunded_at,
            } => ev::DomainEvent::OrderRefunded(ev::OrderRefunded {
                return_id,
                amount: money_to(&amount),
                refunded_at,
            }),
            _ => other(),
        }
    } else if e.stream_id.starts_with("shipment-") {
        let Ok(event) = serde_json::from_str::<S>(&e.payload) else {
            return other();
        };
        match event {
            S::ShipmentCreated {
                shipment_id,
                order_id,
                carrier,
                tracking_number,
                created_at,
                ..
            } => ev::DomainEvent::ShipmentCreated(ev::ShipmentCreated {
                shipment_id,
                order_id,
                carrier: carrier.into(),
                tracking_number,
                created_at,
            }),
            S::TrackingUpdated {
                shipment_id,
                status,
                location,
                description,
                updated_at,
            } => ev::DomainEvent::TrackingUpdated(ev::TrackingUpdated {
                shipment_id,
                status: status.into(),
                location,
                description,
                updated_at,
            }),
            S::ShipmentDelivered {
                shipment_id,
                order_id,
                delivered_at,
                signed_by,
            } => ev::DomainEvent::ShipmentDelivered(ev::ShipmentDelivered {
                shipment_id,
                order_id,
                delivered_at,
                signed_by,
            }),
            S::ShipmentFailed {
                shipment_id,
                order_id,
                reason,
                failed_at,
            } => ev::DomainEvent::ShipmentFailed(ev::ShipmentFailed {
                shipment_id,
                order_id,
                reason,
                failed_at,
            }),
        }
    } else if e.stream_id.starts_with("return-") {
        let Ok(event) = serde_json::from_str::<R>(&e.payload) else {
            return other();
        };
        match event {
            R::ReturnRequested {
                return_id,
                order_id,
                customer_id,
                return_items,
                return_reason,
                comments,
                requested_at,
            } => ev::DomainEvent::ReturnRequested(ev::ReturnRequested {
                return_id,
                order_id,
                customer_id,
                return_items: return_items
                    .iter()
                    .map(|i| ev::ReturnedItem {
                        item_id: i.item_id.clone(),
                        quantity: i.quantity,
                        return_reason: i.return_reason.into(),
                    })
                    .collect(),
                return_reason: return_reason.into(),
                comments,
                requested_at,
            }),
            R::ReturnApproved {
                return_id,
                approved_by,
                return_label,
                approved_at,
            } => ev::DomainEvent::ReturnApproved(ev::ReturnApproved {
                return_id,
                approved_by,
                return_label,
                approved_at,
            }),
            R::ReturnDenied {
                return_id,
                denied_by,
                reason,
                denied_at,
            } => ev::DomainEvent::ReturnDenied(ev::ReturnDenied {
                return_id,
                denied_by,
                reason,
                denied_at,
            }),
            R::ReturnShipped {
                return_id,
                carrier,
                tracking_number,
                shipped_at,
            } => ev::DomainEvent::ReturnShipped(ev::ReturnShipped {
                return_id,
                carrier: carrier.into(),
                tracking_number,
                shipped_at,
            }),
            R::ReturnReceived {
                return_id,
                received_at,
                condition,
                all_items_received,
            } => ev::DomainEvent::ReturnReceived(ev::ReturnReceived {
                return_id,
                received_at,
                condition,
                all_items_received,
            }),
            R::RefundProcessed {
                return_id,
                order_id,
                refund_amount,
                refund_method,
                processed_at,
            } => ev::DomainEvent::RefundProcessed(ev::RefundProcessed {
                return_id,
                order_id,
                refund_amount: money_to(&refund_amount),
                refund_method: refund_method.into(),
                processed_at,
            }),
            R::ReturnClosed {
                return_id,
                reason,
                closed_at,
            } => ev::DomainEvent::ReturnClosed(ev::ReturnClosed {
                return_id,
                reason,
                closed_at,
            }),
            R::RefundCompleted { .. } | R::RefundStarted { .. } | R::RefundRefused { .. } => {
                other()
            }
        }
    } else {
        other()
    }
}

fn first_open_step(o: &Order) -> SagaStep {
    SagaStep::ALL
        .into_iter()
        .find(|s| o.saga.step(*s).status != StepStatus::Completed)
        .unwrap_or(SagaStep::NotifyCustomer)
}

fn inbound_to(i: Inbound) -> ib::InboundOutcome {
    match i {
        Inbound::Applied => ib::InboundOutcome::Applied,
        Inbound::Duplicate => ib::InboundOutcome::Duplicate,
    }
}

// ----- exports ----------------------------------------------------------

impl ord::Guest for Component {
    fn create_draft(c: ord::CreateDraftCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::CreateDraft::validate(
                &c.order_id,
                &c.customer_id,
                c.items.into_iter().map(item_input_from).collect(),
                c.shipping_address.map(address_from),
                c.billing_address.map(address_from),
                c.payment_method.map(Into::into),
            )?;
            app.create_draft(cmd).map(|o| order_view(&o))
        })
    }

    fn update_draft(c: ord::UpdateDraftCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::UpdateDraft::validate(
                c.items
                    .map(|i| i.into_iter().map(item_input_from).collect()),
                c.shipping_address.map(address_from),
                c.billing_address.map(address_from),
                c.payment_method.map(Into::into),
            )?;
            app.update_draft(&c.order_id, cmd).map(|o| order_view(&o))
        })
    }

    fn place_order(c: ord::PlaceOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::PlaceOrder::validate(
                &c.order_id,
                &c.customer_id,
                c.items.into_iter().map(item_input_from).collect(),
                address_from(c.shipping_address),
                address_from(c.billing_address),
                c.payment_method.into(),
            )?;
            app.place_order(cmd).map(|o| order_view(&o))
        })
    }

    fn confirm_payment(c: ord::ConfirmPaymentCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let amount = money_from("amount-paid", c.amount_paid)?;
            app.confirm_payment(&c.order_id, &c.transaction_id, amount)
                .map(|o| order_view(&o))
        })
    }

    fn allocate_inventory(
        c: ord::AllocateInventoryCommand,
    ) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let allocations: Vec<(String, bool)> = c
                .allocations
                .into_iter()
                .map(|a| (a.item_id, a.allocated))
                .collect();
            app.allocate_inventory(&c.order_id, &allocations)
                .map(|o| order_view(&o))
        })
    }

    fn ship_order(c: ord::ShipOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.ship_order(
                &c.order_id,
                &c.shipment_id,
                c.carrier.into(),
                &c.tracking_number,
            )
            .map(|o| order_view(&o))
        })
    }

    fn deliver_order(c: ord::DeliverOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.deliver_order(&c.order_id, c.delivered_at, c.signed_by)
                .map(|o| order_view(&o))
        })
    }

    fn cancel_order(c: ord::CancelOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.cancel_order(&c.order_id, &c.reason, &c.cancelled_by)
                .map(|o| order_view(&o))
        })
    }
}

impl shp::Guest for Component {
    fn init_shipment(c: shp::InitShipmentCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.init_shipment(crate::domain::shipment::InitShipment {
                shipment_id: c.shipment_id,
                order_id: c.order_id,
                carrier: c.carrier.into(),
                tracking_number: c.tracking_number,
                shipping_address: address_from(c.shipping_address),
                items: c
                    .items
                    .into_iter()
                    .map(|i| ShipmentItem {
                        item_id: i.item_id,
                        product_id: i.product_id,
                        quantity: i.quantity,
                    })
                    .collect(),
            })
            .map(|s| shipment_view(&s))
        })
    }

    fn update_tracking(
        c: shp::UpdateTrackingCommand,
    ) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.update_tracking(&c.shipment_id, c.status.into(), c.location, &c.description)
                .map(|s| shipment_view(&s))
        })
    }

    fn mark_delivered(c: shp::MarkDeliveredCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.mark_delivered(&c.shipment_id, c.delivered_at, c.signed_by)
                .map(|s| shipment_view(&s))
        })
    }

    fn mark_failed(c: shp::MarkFailedCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.mark_failed(&c.shipment_id, &c.reason)
                .map(|s| shipment_view(&s))
        })
    }
}

impl ret::Guest for Component {
    fn request_return(c: ret::RequestReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.request_return(crate::domain::returns::RequestReturn {
                return_id: c.return_id,
                order_id: c.order_id,
                customer_id: c.customer_id,
                return_items: c
                    .return_items
                    .into_iter()
                    .map(|i| ReturnItem {
                        item_id: i.item_id,
                        product_id: i.product_id,
                        quantity: i.quantity,
                        return_reason: i.return_reason.into(),
                        condition: i.condition,
                    })
                    .collect(),
                return_reason: c.return_reason.into(),
                comments: c.comments,
            })
            .map(|r| return_view(&r))
        })
    }

    fn approve_return(c: ret::ApproveReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.approve_return(&c.return_id, &c.approved_by, c.return_label)
                .map(|r| return_view(&r))
        })
    }

    fn deny_return(c: ret::DenyReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.deny_return(&c.return_id, &c.denied_by, &c.reason)
                .map(|r| return_view(&r))
        })
    }

    fn ship_return(c: ret::ShipReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.ship_return(&c.return_id, c.carrier.into(), &c.tracking_number)
                .map(|r| return_view(&r))
        })
    }

    fn receive_return(c: ret::ReceiveReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.receive_return(
                &c.return_id,
                c.received_at,
                &c.condition,
                c.all_items_received,
            )
            .map(|r| return_view(&r))
        })
    }

    fn process_refund(c: ret::ProcessRefundCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            let amount = money_from("refund-amount", c.refund_amount)?;
            app.process_refund(&c.return_id, amount, c.refund_method.into())
                .map(|r| return_view(&r))
        })
    }

    fn close_return(c: ret::CloseReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.close_return(&c.return_id, &c.reason)
                .map(|r| return_view(&r))
        })
    }
}

impl fs::Guest for Component {
    fn start(input: fs::SagaInput) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| {
            let input = SagaInput {
                order_id: input.order_id,
                customer_id: input.customer_id,
                items: items_from("items", input.items)?,
                total: money_from("total", input.total)?,
                payment_method: input.payment_method.into(),
                shipping_address: address_from(input.shipping_address)
                    .validated("shipping-address")?,
            };
            app.start_saga(input).map(|o| saga_report(&o))
        })
    }

    fn advance(order_id: String) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| app.advance_saga(&order_id).map(|o| saga_report(&o)))
    }

    fn status(order_id: String) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| app.get_order(&order_id).map(|o| saga_report(&o)))
    }
}

impl ib::Guest for Component {
    fn on_payment_succeeded(
        e: pg::PaymentSucceeded,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let amount = money_from("payment-amount", e.payment_amount)?;
            app.on_payment_succeeded(&e.order_id, &e.transaction_id, amount)
                .map(inbound_to)
        })
    }

    fn on_payment_failed(e: pg::PaymentFailed) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_payment_failed(&e.order_id, &e.reason)
                .map(inbound_to)
        })
    }

    fn on_refund_completed(e: pg::RefundCompleted) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let amount = money_from("refund-amount", e.refund_amount)?;
            app.on_refund_completed(&e.transaction_id, amount, e.refunded_at)
                .map(inbound_to)
        })
    }

    fn on_stock_allocated(e: inv::StockAllocated) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_stock_allocated(&e.order_id, e.all_items_allocated)
                .map(inbound_to)
        })
    }

    fn on_stock_allocation_failed(
        e: inv::StockAllocationFailed,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let detail: Vec<String> = e
                .unavailable_items
                .iter()
                .map(|u| {
                    format!(
                        "{} ({} requested, {} available)",
                        u.product_id, u.requested_quantity, u.available_quantity
                    )
                })
                .collect();
            app.on_stock_allocation_failed(&e.order_id, &detail.join(", "))
                .map(inbound_to)
        })
    }

    fn on_shipment_created_by_carrier(
        e: sc::ShipmentCreatedByCarrier,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_shipment_created(
                &e.shipment_id,
                &e.order_id,
                e.carrier.into(),
                &e.tracking_number,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_picked_up(
        e: sc::ShipmentPickedUp,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::PickedUp,
                e.location,
                e.picked_up_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_in_transit(
        e: sc::ShipmentInTransit,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::InTransit,
                e.current_location,
                e.updated_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_out_for_delivery(
        e: sc::ShipmentOutForDelivery,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::OutForDelivery,
                e.location,
                e.updated_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_delivered_by_carrier(
        e: sc::ShipmentDeliveredByCarrier,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivered(&e.shipment_id, e.delivered_at, e.signed_by)
                .map(inbound_to)
        })
    }

    fn on_shipment_delivery_failed(
        e: sc::ShipmentDeliveryFailed,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivery_failed(&e.shipment_id, &e.reason)
                .map(inbound_to)
        })
    }

    fn on_shipment_cancelled(
        e: sc::ShipmentCancelled,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivery_failed(&e.shipment_id, "cancelled by carrier")
                .map(inbound_to)
        })
    }
}

impl q::Guest for Component {
    fn get_order(order_id: String) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| app.get_order(&order_id).map(|o| order_view(&o)))
    }

    fn orders_of_customer(customer_id: String) -> Result<Vec<ord::OrderView>, t::CommandError> {
        with_app(|app| {
            app.orders_of_customer(&customer_id)
                .map(|os| os.iter().map(order_view).collect())
        })
    }

    fn order_history(order_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.order_history(&order_id).map(history))
    }

    fn shipment_history(shipment_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.shipment_history(&shipment_id).map(history))
    }

    fn return_history(return_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.return_history(&return_id).map(history))
    }

    fn get_shipment(shipment_id: String) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| app.get_shipment(&shipment_id).map(|s| shipment_view(&s)))
    }

    fn shipments_of_order(order_id: String) -> Result<Vec<shp::ShipmentView>, t::CommandError> {
        with_app(|app| {
            app.shipments_of_order(&order_id)
                .map(|ss| ss.iter().map(shipment_view).collect())
        })
    }

    fn get_return(return_id: String) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| app.get_return(&return_id).map(|r| return_view(&r)))
    }

    fn returns_of_order(order_id: String) -> Result<Vec<ret::ReturnView>, t::CommandError> {
        with_app(|app| {
            app.returns_of_order(&order_id)
                .map(|rs| rs.iter().map(return_view).collect())
        })
    }

    fn get_daily_metrics(date: String) -> Result<q::DailyMetrics, t::CommandError> {
        with_app(|app| {
            app.daily_metrics(&date).map(|m| q::DailyMetrics {
                order_count: m.order_count(),
                cancellation_count: m.cancellation_count(),
                refund_count: m.refund_count(),
                totals: m
                    .by_currency
                    .iter()
                    .map(|(currency, t)| q::CurrencyTotals {
                        currency: currency.clone(),
                        order_count: t.order_count,
                        total_revenue: t.total_revenue,
                        average_order_value: t.average_order_value(),
                        cancellation_count: t.cancellation_count,
                        refund_count: t.refund_count,
                        refund_total: t.refund_total,
                    })
                    .collect(),
                date: m.date,
            })
        })
    }
}
