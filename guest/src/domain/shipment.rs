//! The Shipment entity: a parcel moving to the customer, with its tracking
//! history.

use std::cell::OnceCell;

use serde::{Deserialize, Deserializer, Serialize};

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

/// What recognises a repeated carrier scan: its status and time.
pub type ScanKey = (ShipmentStatus, Timestamp);

/// A shipment's tracking history. Read from a state record, it is the
/// record's JSON text, decoded only when an entry is read (a view); a
/// command that only appends splices the new entry into the text, and a
/// repeated scan is recognised by the scan keys kept beside it, so such a
/// command neither decodes nor re-encodes the history.
#[derive(Clone, Default)]
pub struct TrackingHistory {
    /// The entries as a JSON array, when known as text (read from a state
    /// record, or encoded once for one); kept in step with every push.
    text: Option<String>,
    /// The scan key of every entry, in order.
    keys: Vec<ScanKey>,
    /// The decoded entries: `None` inside when the text does not decode.
    /// Always set when there is no text.
    entries: OnceCell<Option<Vec<TrackingEntry>>>,
}

impl TrackingHistory {
    /// A history of the entries of a state record's text, not decoded yet,
    /// with their scan keys; `None` when the text is not a JSON array.
    fn from_text(text: &str, keys: Vec<ScanKey>) -> Option<TrackingHistory> {
        let text = text.trim();
        (text.starts_with('[') && text.ends_with(']')).then(|| TrackingHistory {
            text: Some(text.to_owned()),
            keys,
            entries: OnceCell::new(),
        })
    }

    /// The entries, decoded from the text on first read; `None` when the
    /// text is not a list of entries with these scan keys.
    fn decoded(&self) -> Option<&[TrackingEntry]> {
        self.entries
            .get_or_init(|| {
                let entries: Vec<TrackingEntry> =
                    serde_json::from_str(self.text.as_deref()?).ok()?;
                entries
                    .iter()
                    .map(|e| (e.status, e.timestamp))
                    .eq(self.keys.iter().copied())
                    .then_some(entries)
            })
            .as_deref()
    }

    /// Whether the entries can be read: false only for a state record whose
    /// history text is not a list of entries (a record to ignore).
    pub fn is_readable(&self) -> bool {
        self.decoded().is_some()
    }

    /// Whether an entry has this scan key: a repeated scan.
    pub fn has_scan(&self, status: ShipmentStatus, at: Timestamp) -> bool {
        self.keys.contains(&(status, at))
    }

    pub fn push(&mut self, entry: TrackingEntry) {
        if let Some(text) = &mut self.text {
            // The text ends with `]`: the entry goes before it.
            text.pop();
            if !text[1..].trim().is_empty() {
                text.push(',');
            }
            // Serialising this plain data cannot fail.
            text.push_str(&serde_json::to_string(&entry).unwrap_or_default());
            text.push(']');
        }
        self.keys.push((entry.status, entry.timestamp));
        if let Some(Some(entries)) = self.entries.get_mut() {
            entries.push(entry);
        }
    }

    /// The entries as JSON array text: the text it was read as, or the
    /// entries encoded.
    fn json(&self) -> String {
        match &self.text {
            Some(text) => text.clone(),
            // Serialising this plain data cannot fail.
            None => serde_json::to_string(&**self).unwrap_or_default(),
        }
    }
}

impl From<Vec<TrackingEntry>> for TrackingHistory {
    fn from(entries: Vec<TrackingEntry>) -> TrackingHistory {
        TrackingHistory {
            text: None,
            keys: entries.iter().map(|e| (e.status, e.timestamp)).collect(),
            entries: OnceCell::from(Some(entries)),
        }
    }
}

/// The entries; empty for a history whose text does not decode, which
/// [`TrackingHistory::is_readable`] tells before it is read.
impl std::ops::Deref for TrackingHistory {
    type Target = [TrackingEntry];
    fn deref(&self) -> &[TrackingEntry] {
        self.decoded().unwrap_or_default()
    }
}

impl PartialEq for TrackingHistory {
    fn eq(&self, other: &TrackingHistory) -> bool {
        self.decoded() == other.decoded()
    }
}

impl Eq for TrackingHistory {}

impl std::fmt::Debug for TrackingHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A history written as a list of entries (a state record of shape 1).
impl<'de> Deserialize<'de> for TrackingHistory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TrackingHistory, D::Error> {
        Vec::<TrackingEntry>::deserialize(d).map(TrackingHistory::from)
    }
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

/// The shipment folded from its events. Its serde shape is the shipment
/// part of the state record of the shipment's stream (see
/// [`Shipment::state_record`]); the tracking history is written beside it.
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
    /// Read from the shipment part of a record of shape 1; of shape 2, the
    /// record's `history`.
    #[serde(skip_serializing, default)]
    pub tracking_history: TrackingHistory,
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
                tracking_history: TrackingHistory::from(vec![TrackingEntry {
                    status: ShipmentStatus::AwaitingPickup,
                    location: None,
                    timestamp: *created_at,
                    description: "shipment created".to_string(),
                }]),
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
/// later layout never misreads an earlier record: a record of a shape not
/// read here is ignored and the stream folded from its events.
///
/// Shape 2, written: `{"shape":2,"shipment":{..},"seen":[[status,time],..],
/// "history":[..]}`: the shipment without its history, the scan key of
/// every history entry, then the history's entries. A command reads the
/// history as text and writes it back with its new entry spliced in; only
/// a view decodes it. Shape 1, still read: `{"shape":1,"shipment":{..}}`,
/// the history inside the shipment.
#[derive(Serialize)]
struct StateRecordOut<'a> {
    shape: u32,
    shipment: &'a Shipment,
    seen: &'a [ScanKey],
}

#[derive(Deserialize)]
struct StateRecordIn {
    shape: u32,
    shipment: Shipment,
    #[serde(default)]
    seen: Option<Vec<ScanKey>>,
}

/// What puts the history after the rest of a shape-2 record. It occurs
/// nowhere else in a record: no other key is `history`, and inside a
/// string every `"` is escaped.
const HISTORY_KEY: &str = ",\"history\":";

const STATE_RECORD_SHAPE: u32 = 2;

/// The earlier shape, its history inside the shipment.
const STATE_RECORD_SHAPE_1: u32 = 1;

impl Shipment {
    /// The state record to store with the append that leaves the shipment
    /// as it is, when its stream is long enough to carry one.
    pub fn state_record(&self) -> Option<String> {
        (self.version >= STATE_RECORD_FROM_VERSION).then(|| {
            // Serialising this plain data cannot fail.
            let mut record = serde_json::to_string(&StateRecordOut {
                shape: STATE_RECORD_SHAPE,
                shipment: self,
                seen: &self.tracking_history.keys,
            })
            .unwrap_or_default();
            // The history goes last, as the text it is: `}` closes the record.
            record.pop();
            record.push_str(HISTORY_KEY);
            record.push_str(&self.tracking_history.json());
            record.push('}');
            record
        })
    }

    /// The shipment a state record stored at `version` holds; `None` when
    /// the record is of another shape, damaged, or not of that version. The
    /// history of a shape-2 record is not decoded until it is read: see
    /// [`TrackingHistory::is_readable`].
    pub fn from_state_record(version: u64, record: &str) -> Option<Shipment> {
        let (rest, history) = match record.rfind(HISTORY_KEY) {
            Some(at) => (
                serde_json::from_str(&format!("{}}}", &record[..at])),
                Some(
                    record[at + HISTORY_KEY.len()..]
                        .trim_end()
                        .strip_suffix('}')?,
                ),
            ),
            None => (serde_json::from_str(record), None),
        };
        let record: StateRecordIn = rest.ok()?;
        let mut shipment = record.shipment;
        match (record.shape, record.seen, history) {
            (STATE_RECORD_SHAPE, Some(seen), Some(history)) => {
                shipment.tracking_history = TrackingHistory::from_text(history, seen)?;
            }
            // Every shipment's history holds its creation: a shape-1 record
            // without one is damaged.
            (STATE_RECORD_SHAPE_1, None, None) if !shipment.tracking_history.is_empty() => {}
            _ => return None,
        }
        (shipment.version == version).then_some(shipment)
    }
}
