//! The order service: the component behind typed calls. Each call runs on an
//! instance of the runtime's pool (the component keeps nothing between
//! calls, and an instance whose call failed is never reused), so the service
//! is cheap to share between threads.

use std::sync::Arc;

use crate::bindings::OrderManagement;
use crate::bindings::types::{CommandError, EntityKind, ExternalError};
use crate::bindings::{fulfillment_saga as saga, inbound, orders, queries, returns, shipments};
use crate::engine::Runtime;
use crate::state::HostState;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The component refused the command; nothing changed.
    #[error("{}", describe(.0))]
    Domain(CommandError),
    /// The host or the component broke (trap, time limit, instantiation).
    #[error("{0:#}")]
    Runtime(#[from] anyhow::Error),
}

impl ServiceError {
    /// The command error, when the component refused the command.
    pub fn command_error(&self) -> Option<&CommandError> {
        match self {
            ServiceError::Domain(e) => Some(e),
            ServiceError::Runtime(_) => None,
        }
    }

    /// True for a version conflict: reading again and retrying resolves it.
    pub fn is_conflict(&self) -> bool {
        matches!(self, ServiceError::Domain(CommandError::Conflict(_)))
    }
}

fn entity(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Order => "order",
        EntityKind::Shipment => "shipment",
        EntityKind::Return => "return",
        EntityKind::Saga => "saga",
    }
}

/// One line for people, naming the field or the state.
pub fn describe(e: &CommandError) -> String {
    match e {
        CommandError::Validation(v) => format!("invalid {}: {}", v.field, v.reason),
        CommandError::InvalidTransition(t) => format!(
            "{} is not allowed while the {} is {}",
            t.command,
            entity(t.entity),
            t.state
        ),
        CommandError::NotFound(n) => format!("{} {} not found", entity(n.entity), n.id),
        CommandError::Conflict(m) => format!("conflict: {m}"),
        CommandError::RuleViolated(r) => match &r.field {
            Some(f) => format!("{} ({}: {})", r.message, r.rule, f),
            None => format!("{} ({})", r.message, r.rule),
        },
        CommandError::External(ExternalError::Transient(m)) => {
            format!("external service unavailable (transient): {m}")
        }
        CommandError::External(ExternalError::Permanent(m)) => {
            format!("external service refused (permanent): {m}")
        }
        CommandError::External(ExternalError::InDoubt(m)) => {
            format!("external service did not answer (outcome in doubt): {m}")
        }
        CommandError::Storage(m) => format!("storage failed: {m}"),
    }
}

/// The component behind typed calls; clone it freely.
#[derive(Clone)]
pub struct OrderService {
    runtime: Arc<Runtime>,
}

impl OrderService {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Self { runtime }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Calls the component once, on a ready instance. The typed methods
    /// below (`get_order`, `place_order`, ...) are the way through; this is
    /// what they are made of, for a caller that needs the raw bindings.
    pub fn call<R>(
        &self,
        f: impl FnOnce(
            &OrderManagement,
            &mut wasmtime::Store<HostState>,
        ) -> wasmtime::Result<Result<R, CommandError>>,
    ) -> Result<R, ServiceError> {
        self.runtime.call(f)?.map_err(ServiceError::Domain)
    }

    /// Runs `command` again after a version conflict, a few times: a
    /// conflict means another writer won the race, and the command is
    /// decided again on the new state.
    ///
    /// ```ignore
    /// let order = service.retrying(|svc| svc.place_order(&cmd))?;
    /// ```
    pub fn retrying<R>(
        &self,
        mut command: impl FnMut(&Self) -> Result<R, ServiceError>,
    ) -> Result<R, ServiceError> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match command(self) {
                Err(e) if e.is_conflict() && attempt < ATTEMPTS => continue,
                other => return other,
            }
        }
    }
}

impl OrderService {
    /// `retry-now`: "retry now" for the saga of an order, asked by `actor`
    /// (the authenticated principal): every back-off the saga waits out
    /// ends now, and it advances as far as it goes.
    pub fn retry_saga_now(
        &self,
        order_id: &str,
        actor: &str,
    ) -> Result<saga::SagaReport, ServiceError> {
        let (order_id, actor) = (order_id.to_owned(), actor.to_owned());
        self.woke(self.call(|api, store| {
            api.oms_order_management_fulfillment_saga()
                .call_retry_now(store, &order_id, &actor)
        }))
    }

    /// What a command answered, once it succeeded, wakes the saga drivers
    /// over this runtime: a command may have written a saga timer due now
    /// (place-order writes one, a cancellation or an inbound event moves
    /// one to now), and its append has committed by then.
    fn woke<R>(&self, result: Result<R, ServiceError>) -> Result<R, ServiceError> {
        if result.is_ok() {
            self.runtime.due_signal().raise();
        }
        result
    }
}

/// One typed method per command of the component: `service.place_order(&cmd)`.
/// Each runs once on a ready instance and then wakes the saga drivers; wrap a
/// command in [`OrderService::retrying`] to decide it again after a version
/// conflict. Written as a table so that a new export is one line here.
macro_rules! exports {
    ($($interface:ident {
        $($(#[$doc:meta])* fn $name:ident($arg:ident: $ty:ty) -> $ret:ty = $call:ident;)*
    })*) => {
        impl OrderService {
            $($(
                $(#[$doc])*
                pub fn $name(&self, $arg: $ty) -> Result<$ret, ServiceError> {
                    self.woke(self.call(|api, store| api.$interface().$call(store, $arg)))
                }
            )*)*
        }
    };
}

/// Like `exports!`, for the exports that take one id (WIT `string`): the
/// queries, and the saga's own `advance` and `status` (the driver that
/// advances a saga learns its next due time from the report).
macro_rules! lookups {
    ($($interface:ident {
        $($(#[$doc:meta])* fn $name:ident($arg:ident) -> $ret:ty = $call:ident;)*
    })*) => {
        impl OrderService {
            $($(
                $(#[$doc])*
                pub fn $name(&self, $arg: &str) -> Result<$ret, ServiceError> {
                    let $arg = $arg.to_owned();
                    self.call(|api, store| api.$interface().$call(store, &$arg))
                }
            )*)*
        }
    };
}

exports! {
    oms_order_management_orders {
        /// `create-draft`: opens a cart in `draft`.
        fn create_draft(command: &orders::CreateDraftCommand) -> orders::OrderView = call_create_draft;
        /// `update-draft`: edits a draft.
        fn update_draft(command: &orders::UpdateDraftCommand) -> orders::OrderView = call_update_draft;
        /// `place-order`: validates, prices and records the order as `pending`.
        fn place_order(command: &orders::PlaceOrderCommand) -> orders::OrderView = call_place_order;
        /// `ship-order`.
        fn ship_order(command: &orders::ShipOrderCommand) -> orders::OrderView = call_ship_order;
        /// `deliver-order`.
        fn deliver_order(command: &orders::DeliverOrderCommand) -> orders::OrderView = call_deliver_order;
        /// `cancel-order`.
        fn cancel_order(command: &orders::CancelOrderCommand) -> orders::OrderView = call_cancel_order;
    }
    oms_order_management_shipments {
        /// `init-shipment`.
        fn init_shipment(command: &shipments::InitShipmentCommand) -> shipments::ShipmentView = call_init_shipment;
        /// `update-tracking`.
        fn update_tracking(command: &shipments::UpdateTrackingCommand) -> shipments::ShipmentView = call_update_tracking;
        /// `mark-delivered`.
        fn mark_delivered(command: &shipments::MarkDeliveredCommand) -> shipments::ShipmentView = call_mark_delivered;
        /// `mark-failed`.
        fn mark_failed(command: &shipments::MarkFailedCommand) -> shipments::ShipmentView = call_mark_failed;
    }
    oms_order_management_returns {
        /// `request-return`.
        fn request_return(command: &returns::RequestReturnCommand) -> returns::ReturnView = call_request_return;
        /// `approve-return`.
        fn approve_return(command: &returns::ApproveReturnCommand) -> returns::ReturnView = call_approve_return;
        /// `deny-return`.
        fn deny_return(command: &returns::DenyReturnCommand) -> returns::ReturnView = call_deny_return;
        /// `ship-return`.
        fn ship_return(command: &returns::ShipReturnCommand) -> returns::ReturnView = call_ship_return;
        /// `receive-return`.
        fn receive_return(command: &returns::ReceiveReturnCommand) -> returns::ReturnView = call_receive_return;
        /// `process-refund`.
        fn process_refund(command: &returns::ProcessRefundCommand) -> returns::ReturnView = call_process_refund;
        /// `close-return`.
        fn close_return(command: &returns::CloseReturnCommand) -> returns::ReturnView = call_close_return;
    }
    oms_order_management_fulfillment_saga {
        /// `start`: starts the fulfilment saga of a placed order.
        fn start_saga(input: &saga::SagaInput) -> saga::SagaReport = call_start;
    }
    oms_order_management_inbound {
        /// A payment the gateway reports as succeeded.
        fn on_payment_succeeded(event: &inbound::PaymentSucceeded) -> inbound::InboundOutcome = call_on_payment_succeeded;
        /// A payment the gateway reports as failed.
        fn on_payment_failed(event: &inbound::PaymentFailed) -> inbound::InboundOutcome = call_on_payment_failed;
        /// A refund the gateway reports as completed.
        fn on_refund_completed(event: &inbound::RefundCompleted) -> inbound::InboundOutcome = call_on_refund_completed;
        /// Stock the inventory service allocated.
        fn on_stock_allocated(event: &inbound::StockAllocated) -> inbound::InboundOutcome = call_on_stock_allocated;
        /// Stock the inventory service could not allocate.
        fn on_stock_allocation_failed(event: &inbound::StockAllocationFailed) -> inbound::InboundOutcome = call_on_stock_allocation_failed;
        /// A shipment the carrier created.
        fn on_shipment_created_by_carrier(event: &inbound::ShipmentCreatedByCarrier) -> inbound::InboundOutcome = call_on_shipment_created_by_carrier;
        /// A shipment the carrier picked up.
        fn on_shipment_picked_up(event: &inbound::ShipmentPickedUp) -> inbound::InboundOutcome = call_on_shipment_picked_up;
        /// A shipment in transit.
        fn on_shipment_in_transit(event: &inbound::ShipmentInTransit) -> inbound::InboundOutcome = call_on_shipment_in_transit;
        /// A shipment out for delivery.
        fn on_shipment_out_for_delivery(event: &inbound::ShipmentOutForDelivery) -> inbound::InboundOutcome = call_on_shipment_out_for_delivery;
        /// A shipment the carrier delivered.
        fn on_shipment_delivered_by_carrier(event: &inbound::ShipmentDeliveredByCarrier) -> inbound::InboundOutcome = call_on_shipment_delivered_by_carrier;
        /// A delivery that failed.
        fn on_shipment_delivery_failed(event: &inbound::ShipmentDeliveryFailed) -> inbound::InboundOutcome = call_on_shipment_delivery_failed;
        /// A shipment the carrier cancelled.
        fn on_shipment_cancelled(event: &inbound::ShipmentCancelled) -> inbound::InboundOutcome = call_on_shipment_cancelled;
    }
}

lookups! {
    oms_order_management_fulfillment_saga {
        /// `advance`: runs the saga of an order as far as it goes now.
        fn advance_saga(order_id) -> saga::SagaReport = call_advance;
        /// `status`: the saga of an order as it stands, without running it.
        fn saga_status(order_id) -> saga::SagaReport = call_status;
    }
    oms_order_management_queries {
        /// An order as it stands.
        fn get_order(order_id) -> queries::OrderView = call_get_order;
        /// The orders of a customer.
        fn orders_of_customer(customer_id) -> Vec<queries::OrderView> = call_orders_of_customer;
        /// The events of an order, oldest first.
        fn order_history(order_id) -> Vec<queries::HistoryEntry> = call_order_history;
        /// The events of a shipment, oldest first.
        fn shipment_history(shipment_id) -> Vec<queries::HistoryEntry> = call_shipment_history;
        /// The events of a return, oldest first.
        fn return_history(return_id) -> Vec<queries::HistoryEntry> = call_return_history;
        /// A shipment as it stands.
        fn get_shipment(shipment_id) -> queries::ShipmentView = call_get_shipment;
        /// The shipments of an order.
        fn shipments_of_order(order_id) -> Vec<queries::ShipmentView> = call_shipments_of_order;
        /// A return as it stands.
        fn get_return(return_id) -> queries::ReturnView = call_get_return;
        /// The returns of an order.
        fn returns_of_order(order_id) -> Vec<queries::ReturnView> = call_returns_of_order;
        /// The metrics of one UTC day (`YYYY-MM-DD`).
        fn get_daily_metrics(date) -> queries::DailyMetrics = call_get_daily_metrics;
    }
}
