//! The order-fulfilment saga as pure decisions. Its progress is a set of
//! events in the order's stream; [`SagaState`] folds them, [`next_action`]
//! says what to do next, and the `after_*` functions turn the answer of an
//! external call into the events to append. The application layer does the
//! I/O: it appends a `*-started` event, makes the call with the step's
//! idempotency key, and appends what these functions decide.
//!
//! One file per reason to change: `state` (the fold), `next` (what to do
//! next), `answers` (what an answer records), `policy` (when to retry) and
//! `report` (how the saga stands, for people). Everything is re-exported
//! here, so callers name `domain::saga::X` whatever file holds it.

mod answers;
mod next;
mod policy;
mod report;
mod state;

pub use answers::*;
pub use next::*;
pub use policy::*;
pub use state::*;

pub use report::{
    ReportOutcome, ReportOutput, ReportPhase, ReportedStatus, SagaReport, StepReport,
    first_open_step, report,
};

use super::error::{DomainError, Entity, ExternalError};
use super::order::{Order, OrderEvent, OrderStatus, saga_payment};
use super::values::{CarrierCode, Money, Timestamp, check_len};

pub use super::cases::SagaStep;

impl SagaStep {
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name of the step's compensating call.
    pub fn compensation_name(self) -> &'static str {
        match self {
            SagaStep::ProcessPayment => "refund-payment",
            SagaStep::AllocateInventory => "release-stock",
            SagaStep::CreateShipment => "cancel-shipment",
            SagaStep::NotifyCustomer => "send-order-cancellation",
        }
    }

    /// The idempotency key of the step's action or compensation: stable
    /// across retries and restarts, so a repeat never acts twice.
    pub fn key(self, order_id: &str, compensation: bool) -> String {
        format!(
            "order-{order_id}/{}/{}",
            self.as_str(),
            if compensation {
                "compensation"
            } else {
                "action"
            }
        )
    }
}

crate::tagged_enum! {
    #[tag("kind", kind)]
    /// What a completed step produced.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum StepOutcome {
        Paid = "paid" {
            transaction_id: String,
            amount: Money,
        },
        Allocated = "allocated" {
            all_items_allocated: bool,
        },
        ShipmentBooked = "shipment-booked" {
            shipment_id: String,
            carrier: CarrierCode,
            tracking_number: String,
            estimated_delivery: Option<Timestamp>,
        },
        Notified = "notified",
    }
}
