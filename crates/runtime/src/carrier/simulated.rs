//! A shipping carrier in memory. Shipment ids and tracking numbers derive
//! from the idempotency key, so reruns are reproducible; pickup and delivery
//! happen when the demo or a test says so.

use std::collections::HashMap;
use std::fmt;

use super::{
    CancelShipmentRequest, CreateShipmentRequest, ShipmentCancelled, ShipmentCreatedByCarrier,
    ShipmentDeliveredByCarrier, ShipmentPickedUp, ShippingCarrier,
};
use crate::bindings::oms::order_management::types::CarrierCode;
use crate::external::{Context, ExternalError, Operation};
use crate::simulation::{
    CallOutcome, DAY_MS, Memo, Records, Replay, Replayed, SimBackend, SimControl, SimFailure,
    derived_id, request, to_json,
};

/// Days the simulated carrier promises for a delivery.
const PROMISED_DAYS: u64 = 3;

/// Where a simulated shipment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShipmentState {
    /// Booked, waiting for pickup; can still be cancelled.
    Created,
    /// The carrier has the parcel; can no longer be cancelled.
    PickedUp,
    /// Delivered.
    Delivered,
    /// Cancelled before pickup.
    Cancelled,
}

impl fmt::Display for ShipmentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShipmentState::Created => "created",
            ShipmentState::PickedUp => "picked-up",
            ShipmentState::Delivered => "delivered",
            ShipmentState::Cancelled => "cancelled",
        })
    }
}

/// A shipment the simulated carrier booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimShipment {
    /// The carrier's shipment id (a UUID).
    pub shipment_id: String,
    /// The order shipped.
    pub order_id: String,
    /// The carrier asked for.
    pub carrier: CarrierCode,
    /// The tracking number.
    pub tracking_number: String,
    /// Where it stands.
    pub state: ShipmentState,
    /// When it was booked.
    pub created_at: u64,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<u64>,
    /// When the carrier picked it up, if it did.
    pub picked_up_at: Option<u64>,
    /// When it was delivered, if it was.
    pub delivered_at: Option<u64>,
    /// Who signed for it.
    pub signed_by: Option<String>,
}

impl SimShipment {
    /// The carrier's pickup event, once picked up (for example to deliver
    /// it again to the component after a restart lost it).
    pub fn picked_up_event(&self) -> Option<ShipmentPickedUp> {
        self.picked_up_at.map(|at| ShipmentPickedUp {
            shipment_id: self.shipment_id.clone(),
            location: Some(PICKUP_LOCATION.to_owned()),
            picked_up_at: at,
        })
    }

    /// The carrier's delivery event, once delivered.
    pub fn delivered_event(&self) -> Option<ShipmentDeliveredByCarrier> {
        self.delivered_at.map(|at| ShipmentDeliveredByCarrier {
            shipment_id: self.shipment_id.clone(),
            delivered_at: at,
            signed_by: self.signed_by.clone(),
        })
    }
}

/// Where the simulated carrier collects parcels.
const PICKUP_LOCATION: &str = "Origin depot";

/// Why a simulated carrier-side event could not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierSimError {
    /// No shipment has this id.
    #[error("unknown shipment `{0}`")]
    UnknownShipment(String),
    /// The shipment is not in a state that allows the event.
    #[error("shipment `{shipment_id}` is {state} and cannot be {action}")]
    WrongState {
        /// The shipment.
        shipment_id: String,
        /// Its state.
        state: ShipmentState,
        /// What was attempted, as a past participle (`picked up`).
        action: &'static str,
    },
    /// The simulation state could not be written; nothing happened.
    #[error("{0}")]
    Journal(String),
}

/// The simulated [`ShippingCarrier`].
pub struct SimulatedCarrier {
    core: SimBackend<State>,
}

#[derive(Default)]
struct State {
    create_outcomes: Memo<Result<ShipmentCreatedByCarrier, ExternalError>>,
    cancel_outcomes: Memo<Result<ShipmentCancelled, ExternalError>>,
    book: Book,
}

#[derive(Default)]
struct Book {
    /// The most recent shipments (see [`Records`]), and where each is.
    shipments: Records<SimShipment>,
    by_id: HashMap<String, usize>,
}

impl SimulatedCarrier {
    /// A carrier without shipments.
    pub fn new(sim: SimControl) -> Self {
        Self {
            core: SimBackend::new(sim),
        }
    }

    /// Every shipment booked, oldest first (the most recent 20,000).
    pub fn shipments(&self) -> Vec<SimShipment> {
        self.core.lock().book.shipments.to_vec()
    }

    /// How many shipments were ever booked.
    pub fn shipments_booked(&self) -> usize {
        self.core.lock().book.shipments.total()
    }

    /// The shipment with this id.
    pub fn shipment(&self, shipment_id: &str) -> Option<SimShipment> {
        let state = self.core.lock();
        state.book.get(shipment_id).cloned()
    }

    /// The shipments booked for `order_id`, oldest first.
    pub fn shipments_for_order(&self, order_id: &str) -> Vec<SimShipment> {
        self.core
            .lock()
            .book
            .shipments
            .iter()
            .filter(|s| s.order_id == order_id)
            .cloned()
            .collect()
    }

    /// The carrier collects the parcel. Returns the event to deliver to the
    /// component's `inbound.on-shipment-picked-up`.
    pub fn pick_up(&self, shipment_id: &str) -> Result<ShipmentPickedUp, CarrierSimError> {
        let now = self.core.sim.now_ms();
        let mut state = self.core.lock();
        let shipment = state.book.advance(
            shipment_id,
            ShipmentState::Created,
            ShipmentState::PickedUp,
            "picked up",
        )?;
        shipment.picked_up_at = Some(now);
        let event = shipment.picked_up_event();
        let journaled = self.core.sim.journal_change(
            Context::Carrier,
            "pick-up",
            now,
            shipment_id,
            &to_json(&event),
        );
        if let Err(reason) = journaled {
            if let Some(shipment) = state.book.get_mut(shipment_id) {
                shipment.state = ShipmentState::Created;
                shipment.picked_up_at = None;
            }
            return Err(CarrierSimError::Journal(reason));
        }
        event.ok_or_else(|| CarrierSimError::UnknownShipment(shipment_id.to_owned()))
    }

    /// The carrier delivers a picked-up parcel. Returns the event to deliver
    /// to the component's `inbound.on-shipment-delivered-by-carrier`.
    pub fn deliver(
        &self,
        shipment_id: &str,
        signed_by: Option<String>,
    ) -> Result<ShipmentDeliveredByCarrier, CarrierSimError> {
        let now = self.core.sim.now_ms();
        let mut state = self.core.lock();
        let shipment = state.book.advance(
            shipment_id,
            ShipmentState::PickedUp,
            ShipmentState::Delivered,
            "delivered",
        )?;
        shipment.delivered_at = Some(now);
        shipment.signed_by.clone_from(&signed_by);
        let event = shipment.delivered_event();
        let journaled = self.core.sim.journal_change(
            Context::Carrier,
            "deliver",
            now,
            &(shipment_id, &signed_by),
            &to_json(&event),
        );
        if let Err(reason) = journaled {
            if let Some(shipment) = state.book.get_mut(shipment_id) {
                shipment.state = ShipmentState::PickedUp;
                shipment.delivered_at = None;
                shipment.signed_by = None;
            }
            return Err(CarrierSimError::Journal(reason));
        }
        event.ok_or_else(|| CarrierSimError::UnknownShipment(shipment_id.to_owned()))
    }
}

impl Book {
    fn get(&self, shipment_id: &str) -> Option<&SimShipment> {
        self.by_id
            .get(shipment_id)
            .and_then(|index| self.shipments.get(*index))
    }

    fn get_mut(&mut self, shipment_id: &str) -> Option<&mut SimShipment> {
        self.by_id
            .get(shipment_id)
            .and_then(|index| self.shipments.get_mut(*index))
    }

    fn advance(
        &mut self,
        shipment_id: &str,
        from: ShipmentState,
        to: ShipmentState,
        action: &'static str,
    ) -> Result<&mut SimShipment, CarrierSimError> {
        let shipment = self
            .get_mut(shipment_id)
            .ok_or_else(|| CarrierSimError::UnknownShipment(shipment_id.to_owned()))?;
        if shipment.state != from {
            return Err(CarrierSimError::WrongState {
                shipment_id: shipment_id.to_owned(),
                state: shipment.state,
                action,
            });
        }
        shipment.state = to;
        Ok(shipment)
    }

    fn create(
        &mut self,
        key: &str,
        request: &CreateShipmentRequest,
        now: u64,
    ) -> Result<ShipmentCreatedByCarrier, ExternalError> {
        if request.package_items.is_empty() {
            return Err(ExternalError::permanent("the parcel has no items"));
        }
        let shipment_id = derived_id("shipment", key).hyphenated().to_string();
        let tracking_number = tracking_number(request.carrier, key);
        let (index, dropped) = self.shipments.push(SimShipment {
            shipment_id: shipment_id.clone(),
            order_id: request.order_id.clone(),
            carrier: request.carrier,
            tracking_number: tracking_number.clone(),
            state: ShipmentState::Created,
            created_at: now,
            cancelled_at: None,
            picked_up_at: None,
            delivered_at: None,
            signed_by: None,
        });
        if let Some(dropped) = dropped {
            self.by_id.remove(&dropped.shipment_id);
        }
        self.by_id.insert(shipment_id.clone(), index);
        Ok(ShipmentCreatedByCarrier {
            shipment_id,
            order_id: request.order_id.clone(),
            carrier: request.carrier,
            tracking_number,
            estimated_delivery: Some(now.saturating_add(PROMISED_DAYS * DAY_MS)),
            created_at: now,
        })
    }

    fn cancel(
        &mut self,
        request: &CancelShipmentRequest,
        now: u64,
    ) -> Result<ShipmentCancelled, ExternalError> {
        let Some(shipment) = self.get_mut(&request.shipment_id) else {
            return Err(ExternalError::permanent(format!(
                "unknown shipment `{}`",
                request.shipment_id
            )));
        };
        match shipment.state {
            ShipmentState::Created => {
                shipment.state = ShipmentState::Cancelled;
                shipment.cancelled_at = Some(now);
            }
            // Cancelling twice (with a new key) confirms the first cancellation.
            ShipmentState::Cancelled => {}
            state @ (ShipmentState::PickedUp | ShipmentState::Delivered) => {
                return Err(ExternalError::permanent(format!(
                    "shipment `{}` is already {state}; it can no longer be cancelled",
                    request.shipment_id
                )));
            }
        }
        Ok(ShipmentCancelled {
            shipment_id: request.shipment_id.clone(),
            cancelled_at: shipment.cancelled_at.unwrap_or(now),
        })
    }
}

/// A tracking number in the style of the carrier, derived from the key.
fn tracking_number(carrier: CarrierCode, key: &str) -> String {
    let prefix = match carrier {
        CarrierCode::Ups => "1Z",
        CarrierCode::Fedex => "FX",
        CarrierCode::Usps => "94",
        CarrierCode::Dhl => "JD",
        CarrierCode::OtherCarrier => "TR",
    };
    let bits = derived_id("tracking", key).as_u128() >> 64;
    format!("{prefix}{bits:016X}")
}

impl ShippingCarrier for SimulatedCarrier {
    fn create_shipment(
        &self,
        key: &str,
        request: &CreateShipmentRequest,
    ) -> Result<ShipmentCreatedByCarrier, ExternalError> {
        self.core.call(
            Operation::CreateShipment,
            key,
            request,
            |s| (&mut s.create_outcomes, &mut s.book),
            |book, now| book.create(key, request, now),
        )
    }

    fn cancel_shipment(
        &self,
        key: &str,
        request: &CancelShipmentRequest,
    ) -> Result<ShipmentCancelled, ExternalError> {
        self.core.call(
            Operation::CancelShipment,
            key,
            request,
            |s| (&mut s.cancel_outcomes, &mut s.book),
            |book, now| book.cancel(request, now),
        )
    }
}

/// Pickups and deliveries are journaled only when they happen, so their
/// replays must succeed; a failure reads as permanent.
impl SimFailure for CarrierSimError {
    fn outcome(&self) -> CallOutcome {
        CallOutcome::Permanent
    }

    fn injected(error: ExternalError) -> Self {
        CarrierSimError::Journal(error.to_string())
    }
}

impl Replay for SimulatedCarrier {
    fn replay(&self, action: &str, key: &str, json: &str) -> anyhow::Result<Replayed> {
        Ok(match action {
            "create-shipment" => Replayed::call(&self.create_shipment(key, &request(json)?)),
            "cancel-shipment" => Replayed::call(&self.cancel_shipment(key, &request(json)?)),
            "pick-up" => {
                let shipment_id: String = request(json)?;
                Replayed::call(&self.pick_up(&shipment_id))
            }
            "deliver" => {
                let (shipment_id, signed_by): (String, Option<String>) = request(json)?;
                Replayed::call(&self.deliver(&shipment_id, signed_by))
            }
            action => anyhow::bail!("unknown action carrier.{action}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::fixtures;
    use crate::simulation::test_control;

    fn book(order: &str) -> CreateShipmentRequest {
        fixtures::book(order, CarrierCode::Ups, Some(500))
    }

    fn carrier() -> SimulatedCarrier {
        SimulatedCarrier::new(test_control(1_000))
    }

    fn cancel(shipment_id: &str) -> CancelShipmentRequest {
        CancelShipmentRequest {
            shipment_id: shipment_id.to_owned(),
            reason: "order cancelled".to_owned(),
        }
    }

    #[test]
    fn booking_is_idempotent_and_deterministic() {
        let one = carrier();
        let created = one.create_shipment("k", &book("order-1")).unwrap();
        assert_eq!(one.create_shipment("k", &book("order-1")).unwrap(), created);
        assert_eq!(one.shipments().len(), 1);
        assert!(uuid::Uuid::parse_str(&created.shipment_id).is_ok());
        assert!(created.tracking_number.starts_with("1Z"));
        assert_eq!(created.tracking_number.len(), 18);
        assert_eq!(created.estimated_delivery, Some(1_000 + 3 * DAY_MS));

        let other_run = carrier().create_shipment("k", &book("order-1")).unwrap();
        assert_eq!(other_run, created);
    }

    #[test]
    fn a_booked_shipment_can_be_cancelled_until_picked_up() {
        let carrier = carrier();
        let first = carrier.create_shipment("a", &book("order-1")).unwrap();
        let second = carrier.create_shipment("b", &book("order-2")).unwrap();

        carrier
            .cancel_shipment("ca", &cancel(&first.shipment_id))
            .unwrap();
        assert_eq!(
            carrier.shipment(&first.shipment_id).unwrap().state,
            ShipmentState::Cancelled
        );
        // A new key on an already cancelled shipment confirms it.
        carrier
            .cancel_shipment("ca2", &cancel(&first.shipment_id))
            .unwrap();

        carrier.pick_up(&second.shipment_id).unwrap();
        let refused = carrier.cancel_shipment("cb", &cancel(&second.shipment_id));
        assert!(matches!(refused, Err(ExternalError::Permanent(m)) if m.contains("picked-up")));
        let unknown = carrier.cancel_shipment("cx", &cancel("nope"));
        assert!(matches!(unknown, Err(ExternalError::Permanent(_))));
    }

    #[test]
    fn pickup_and_delivery_follow_the_parcel() {
        let carrier = carrier();
        let created = carrier.create_shipment("a", &book("order-1")).unwrap();
        assert!(matches!(
            carrier.deliver(&created.shipment_id, None),
            Err(CarrierSimError::WrongState { .. })
        ));
        let picked = carrier.pick_up(&created.shipment_id).unwrap();
        assert_eq!(picked.picked_up_at, 1_000);
        assert!(carrier.pick_up(&created.shipment_id).is_err());
        let delivered = carrier
            .deliver(&created.shipment_id, Some("J. Doe".to_owned()))
            .unwrap();
        assert_eq!(delivered.signed_by.as_deref(), Some("J. Doe"));
        assert_eq!(
            carrier.shipments_for_order("order-1")[0].state,
            ShipmentState::Delivered
        );
        assert_eq!(
            carrier.pick_up("nope"),
            Err(CarrierSimError::UnknownShipment("nope".to_owned()))
        );
    }
}
