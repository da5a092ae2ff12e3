//! The Shipment entity: a parcel moving to the customer, with its tracking
//! history.

use serde::{Deserialize, Serialize};

use super::error::{DomainError, DomainResult, Entity};
use super::values::*;

pub use super::cases::ShipmentState;

/// One order line in the parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentItem {
    pub item_id: String,
    pub product_id: String,
    pub quantity: u32,
}

impl ShipmentItem {
    /// Every line of an order, in one parcel.
    pub fn all_of(items: &[OrderItem]) -> Vec<ShipmentItem> {
        items
            .iter()
            .map(|i| ShipmentItem {
                item_id: i.item_id.clone(),
                product_id: i.product_id.clone(),
                quantity: i.quantity,
            })
            .collect()
    }
}

/// One entry of the tracking history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEntry {
    pub status: ShipmentStatus,
    pub location: Option<String>,
    pub timestamp: Timestamp,
    pub description: String,
}

crate::tagged_enum! {
    #[tag("type", event_type)]
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum ShipmentEvent {
        ShipmentCreated = "shipment-created" {
            shipment_id: String,
            order_id: String,
            carrier: CarrierCode,
            tracking_number: String,
            shipping_address: Address,
            items: Vec<ShipmentItem>,
            created_at: Timestamp,
        },
        TrackingUpdated = "tracking-updated" {
            shipment_id: String,
            status: ShipmentStatus,
            location: Option<String>,
            description: String,
            updated_at: Timestamp,
        },
        ShipmentDelivered = "shipment-delivered" {
            shipment_id: String,
            order_id: String,
            delivered_at: Timestamp,
            signed_by: Option<String>,
        },
        ShipmentFailed = "shipment-failed" {
            shipment_id: String,
            order_id: String,
            reason: String,
            failed_at: Timestamp,
        },
    }
}

/// The shipment folded from its events. Its serde shape is the state
/// record of the shipment's stream (see [`Shipment::state_record`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub shipment_id: String,
    pub order_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub shipping_address: Address,
    pub items: Vec<ShipmentItem>,
    pub state: ShipmentState,
    pub status: ShipmentStatus,
    pub tracking_history: Vec<TrackingEntry>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub signed_by: Option<String>,
    pub failure_reason: Option<String>,
    pub version: u64,
}

impl Shipment {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a ShipmentEvent>) -> Option<Shipment> {
        Shipment::fold_from(None, events)
    }

    /// `seed` (for example read from a state record) with `events` applied.
    pub fn fold_from<'a>(
        seed: Option<Shipment>,
        events: impl IntoIterator<Item = &'a ShipmentEvent>,
    ) -> Option<Shipment> {
        events.into_iter().fold(seed, Shipment::apply)
    }

    pub fn apply(state: Option<Shipment>, event: &ShipmentEvent) -> Option<Shipment> {
        let mut s = match (state, event) {
            (
                None,
                ShipmentEvent::ShipmentCreated {
                    shipment_id,
                    order_id,
                    carrier,
                    tracking_number,
                    shipping_address,
                    items,
                    created_at,
                },
            ) => Shipment {
                shipment_id: shipment_id.clone(),
                order_id: order_id.clone(),
                carrier: *carrier,
                tracking_number: tracking_number.clone(),
                shipping_address: shipping_address.clone(),
                items: items.clone(),
                state: ShipmentState::Active,
                status: ShipmentStatus::AwaitingPickup,
                tracking_history: vec![TrackingEntry {
                    status: ShipmentStatus::AwaitingPickup,
                    location: None,
                    timestamp: *created_at,
                    description: "shipment created".to_string(),
                }],
                created_at: *created_at,
                delivered_at: None,
                signed_by: None,
                failure_reason: None,
                version: 0,
            },
            (Some(s), ShipmentEvent::ShipmentCreated { .. }) => s,
            (Some(s), _) => s,
            (None, _) => return None,
        };
        s.version += 1;
        match event {
            ShipmentEvent::ShipmentCreated { .. } => {}
            ShipmentEvent::TrackingUpdated {
                status,
                location,
                description,
                updated_at,
                ..
            } => {
                s.status = *status;
                s.tracking_history.push(TrackingEntry {
                    status: *status,
                    location: location.clone(),
                    timestamp: *updated_at,
                    description: description.clone(),
                });
            }
            ShipmentEvent::ShipmentDelivered {
                delivered_at,
                signed_by,
                ..
            } => {
                s.state = ShipmentState::DeliveryComplete;
                s.status = ShipmentStatus::Delivered;
                s.delivered_at = Some(*delivered_at);
                s.signed_by = signed_by.clone();
                s.tracking_history.push(TrackingEntry {
                    status: ShipmentStatus::Delivered,
                    location: None,
                    timestamp: *delivered_at,
                    description: match signed_by {
                        Some(who) => format!("delivered, signed by {who}"),
                        None => "delivered".to_string(),
                    },
                });
            }
            ShipmentEvent::ShipmentFailed {
                reason, failed_at, ..
            } => {
                s.state = ShipmentState::DeliveryFailed;
                s.status = ShipmentStatus::DeliveryFailed;
                s.failure_reason = Some(reason.clone());
                s.tracking_history.push(TrackingEntry {
                    status: ShipmentStatus::DeliveryFailed,
                    location: None,
                    timestamp: *failed_at,
                    description: reason.clone(),
                });
            }
        }
        Some(s)
    }

    fn refuse(&self, command: &str) -> DomainError {
        DomainError::transition(Entity::Shipment, self.state, command)
    }
}

/// `init-shipment`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitShipment {
    pub shipment_id: String,
    pub order_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    pub shipping_address: Address,
    pub items: Vec<ShipmentItem>,
}

impl InitShipment {
    pub fn validate(mut self) -> DomainResult<Self> {
        self.shipment_id = parse_uuid("shipment-id", &self.shipment_id)?;
        self.order_id = parse_uuid("order-id", &self.order_id)?;
        check_len("tracking-number", &self.tracking_number, 1, 100)?;
        self.shipping_address = self.shipping_address.validated("shipping-address")?;
        if self.items.is_empty() {
            return Err(DomainError::validation(
                "items",
                "must have at least one item",
            ));
        }
        for (i, item) in self.items.iter_mut().enumerate() {
            item.item_id = parse_uuid(&format!("items[{i}].item-id"), &item.item_id)?;
            item.product_id = parse_uuid(&format!("items[{i}].product-id"), &item.product_id)?;
            check_quantity(&format!("items[{i}].quantity"), item.quantity)?;
        }
        Ok(self)
    }
}

/// Decides `init-shipment`; an exact repeat returns no events.
pub fn decide_init_shipment(
    existing: Option<&Shipment>,
    cmd: InitShipment,
    now: Timestamp,
) -> DomainResult<Vec<ShipmentEvent>> {
    if let Some(s) = existing {
        let same = s.order_id == cmd.order_id
            && s.carrier == cmd.carrier
            && s.tracking_number == cmd.tracking_number
            && s.shipping_address == cmd.shipping_address
            && s.items == cmd.items;
        return if same {
            Ok(Vec::new())
        } else {
            Err(s.refuse("init-shipment"))
        };
    }
    Ok(vec![ShipmentEvent::ShipmentCreated {
        shipment_id: cmd.shipment_id,
        order_id: cmd.order_id,
        carrier: cmd.carrier,
        tracking_number: cmd.tracking_number,
        shipping_address: cmd.shipping_address,
        items: cmd.items,
        created_at: now,
    }])
}

pub fn decide_update_tracking(
    s: &Shipment,
    status: ShipmentStatus,
    location: Option<String>,
    description: &str,
    now: Timestamp,
) -> DomainResult<Vec<ShipmentEvent>> {
    check_opt_len("location", location.as_deref(), 1, 200)?;
    check_len("description", description, 1, 500)?;
    if s.state != ShipmentState::Active {
        return Err(s.refuse("update-tracking"));
    }
    if matches!(
        status,
        ShipmentStatus::Delivered | ShipmentStatus::DeliveryFailed
    ) {
        return Err(DomainError::validation(
            "status",
            format!("{status} is recorded with mark-delivered or mark-failed"),
        ));
    }
    Ok(vec![ShipmentEvent::TrackingUpdated {
        shipment_id: s.shipment_id.clone(),
        status,
        location,
        description: description.to_string(),
        updated_at: now,
    }])
}

pub fn decide_mark_delivered(
    s: &Shipment,
    delivered_at: Timestamp,
    signed_by: Option<String>,
) -> DomainResult<Vec<ShipmentEvent>> {
    check_opt_len("signed-by", signed_by.as_deref(), 1, 100)?;
    if s.state != ShipmentState::Active {
        return Err(s.refuse("mark-delivered"));
    }
    if delivered_at < s.created_at {
        return Err(DomainError::validation(
            "delivered-at",
            "must not be before the shipment was created",
        ));
    }
    Ok(vec![ShipmentEvent::ShipmentDelivered {
        shipment_id: s.shipment_id.clone(),
        order_id: s.order_id.clone(),
        delivered_at,
        signed_by,
    }])
}

pub fn decide_mark_failed(
    s: &Shipment,
    reason: &str,
    now: Timestamp,
) -> DomainResult<Vec<ShipmentEvent>> {
    check_len("reason", reason, 1, 500)?;
    if s.state != ShipmentState::Active {
        return Err(s.refuse("mark-failed"));
    }
    Ok(vec![ShipmentEvent::ShipmentFailed {
        shipment_id: s.shipment_id.clone(),
        order_id: s.order_id.clone(),
        reason: reason.to_string(),
        failed_at: now,
    }])
}

/// A shipment stream this long or longer carries a state record (decision
/// 0022): a normal shipment's life (created, picked up, a few scans,
/// delivered) stays below it and stores no extra bytes; a long one's
/// command loads the record and the events after it, not the whole stream.
pub const STATE_RECORD_FROM_VERSION: u64 = 16;

/// The shape of a shipment's state record. `shape` names the layout, so a
/// later layout never misreads an earlier record: a record of another
/// shape is ignored and the stream folded from its events.
#[derive(Serialize, Deserialize)]
struct StateRecord<S> {
    shape: u32,
    shipment: S,
}

const STATE_RECORD_SHAPE: u32 = 1;

impl Shipment {
    /// The state record to store with the append that leaves the shipment
    /// as it is, when its stream is long enough to carry one.
    pub fn state_record(&self) -> Option<String> {
        (self.version >= STATE_RECORD_FROM_VERSION).then(|| {
            // Serialising this plain data cannot fail.
            serde_json::to_string(&StateRecord {
                shape: STATE_RECORD_SHAPE,
                shipment: self,
            })
            .unwrap_or_default()
        })
    }

    /// The shipment a state record stored at `version` holds; `None` when
    /// the record is of another shape, damaged, or not of that version.
    pub fn from_state_record(version: u64, record: &str) -> Option<Shipment> {
        let record: StateRecord<Shipment> = serde_json::from_str(record).ok()?;
        (record.shape == STATE_RECORD_SHAPE && record.shipment.version == version)
            .then_some(record.shipment)
    }
}
