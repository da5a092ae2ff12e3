//! `/shipments`: a shipment and its tracking history.

use super::*;

/// One order line in a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShipmentItem {
    pub item_id: String,
    pub product_id: String,
    pub quantity: u32,
}

/// One entry of a tracking history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrackingEntry {
    pub status: ShipmentStatus,
    pub location: Option<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: u64,
    pub description: String,
}

/// A shipment with its tracking history, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<u64>,
    pub signed_by: Option<String>,
    pub failure_reason: Option<String>,
    pub version: u64,
}

impl From<wit_shipments::ShipmentView> for Shipment {
    fn from(s: wit_shipments::ShipmentView) -> Self {
        Self {
            shipment_id: s.shipment_id,
            order_id: s.order_id,
            carrier: s.carrier.into(),
            tracking_number: s.tracking_number,
            shipping_address: s.shipping_address.into(),
            items: s
                .items
                .into_iter()
                .map(|i| ShipmentItem {
                    item_id: i.item_id,
                    product_id: i.product_id,
                    quantity: i.quantity,
                })
                .collect(),
            state: s.state.into(),
            status: s.status.into(),
            tracking_history: s
                .tracking_history
                .into_iter()
                .map(|t| TrackingEntry {
                    status: t.status.into(),
                    location: t.location,
                    timestamp: t.timestamp,
                    description: t.description,
                })
                .collect(),
            created_at: s.created_at,
            delivered_at: s.delivered_at,
            signed_by: s.signed_by,
            failure_reason: s.failure_reason,
            version: s.version,
        }
    }
}
