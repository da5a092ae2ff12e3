//! `/webhooks/*`: the data of the events payment, inventory and carrier
//! send.

use super::*;

/// `payment-succeeded`: a charge went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSucceeded {
    #[schema(min_length = 1, max_length = 100)]
    pub transaction_id: String,
    #[schema(format = "uuid")]
    pub order_id: String,
    pub payment_amount: Money,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub processed_at: u64,
}

impl From<PaymentSucceeded> for payment::PaymentSucceeded {
    fn from(e: PaymentSucceeded) -> Self {
        Self {
            transaction_id: e.transaction_id,
            order_id: e.order_id,
            payment_amount: e.payment_amount.into(),
            processed_at: e.processed_at,
        }
    }
}

/// `payment-failed`: a charge was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentFailed {
    #[schema(format = "uuid")]
    pub order_id: String,
    pub reason: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

impl From<PaymentFailed> for payment::PaymentFailed {
    fn from(e: PaymentFailed) -> Self {
        Self {
            order_id: e.order_id,
            reason: e.reason,
            failed_at: e.failed_at,
        }
    }
}

/// `refund-completed`: a refund went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundCompleted {
    #[schema(min_length = 1, max_length = 100)]
    pub transaction_id: String,
    pub refund_amount: Money,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub refunded_at: u64,
}

impl From<RefundCompleted> for payment::RefundCompleted {
    fn from(e: RefundCompleted) -> Self {
        Self {
            transaction_id: e.transaction_id,
            refund_amount: e.refund_amount.into(),
            refunded_at: e.refunded_at,
        }
    }
}

/// `stock-allocated`: stock was reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocated {
    #[schema(format = "uuid")]
    pub order_id: String,
    pub all_items_allocated: bool,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub allocated_at: u64,
}

impl From<StockAllocated> for inventory::StockAllocated {
    fn from(e: StockAllocated) -> Self {
        Self {
            order_id: e.order_id,
            all_items_allocated: e.all_items_allocated,
            allocated_at: e.allocated_at,
        }
    }
}

/// A product that could not be reserved in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnavailableItem {
    #[schema(format = "uuid")]
    pub product_id: String,
    pub requested_quantity: u32,
    pub available_quantity: u32,
}

/// `stock-allocation-failed`: stock could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAllocationFailed {
    #[schema(format = "uuid")]
    pub order_id: String,
    pub unavailable_items: Vec<UnavailableItem>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

impl From<StockAllocationFailed> for inventory::StockAllocationFailed {
    fn from(e: StockAllocationFailed) -> Self {
        Self {
            order_id: e.order_id,
            unavailable_items: e
                .unavailable_items
                .into_iter()
                .map(|i| inventory::UnavailableItem {
                    product_id: i.product_id,
                    requested_quantity: i.requested_quantity,
                    available_quantity: i.available_quantity,
                })
                .collect(),
            failed_at: e.failed_at,
        }
    }
}

/// `shipment-created-by-carrier`: the carrier booked a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCreatedByCarrier {
    pub shipment_id: String,
    #[schema(format = "uuid")]
    pub order_id: String,
    pub carrier: CarrierCode,
    #[schema(min_length = 1, max_length = 100)]
    pub tracking_number: String,
    #[serde(default)]
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub estimated_delivery: Option<u64>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
}

impl From<ShipmentCreatedByCarrier> for carrier::ShipmentCreatedByCarrier {
    fn from(e: ShipmentCreatedByCarrier) -> Self {
        Self {
            shipment_id: e.shipment_id,
            order_id: e.order_id,
            carrier: e.carrier.into(),
            tracking_number: e.tracking_number,
            estimated_delivery: e.estimated_delivery,
            created_at: e.created_at,
        }
    }
}

/// `shipment-picked-up`: the carrier collected the parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentPickedUp {
    pub shipment_id: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub picked_up_at: u64,
}

impl From<ShipmentPickedUp> for carrier::ShipmentPickedUp {
    fn from(e: ShipmentPickedUp) -> Self {
        Self {
            shipment_id: e.shipment_id,
            location: e.location,
            picked_up_at: e.picked_up_at,
        }
    }
}

/// `shipment-in-transit`: the parcel moved between facilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentInTransit {
    pub shipment_id: String,
    #[serde(default)]
    pub current_location: Option<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: u64,
}

impl From<ShipmentInTransit> for carrier::ShipmentInTransit {
    fn from(e: ShipmentInTransit) -> Self {
        Self {
            shipment_id: e.shipment_id,
            current_location: e.current_location,
            updated_at: e.updated_at,
        }
    }
}

/// `shipment-out-for-delivery`: on the vehicle for final delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentOutForDelivery {
    pub shipment_id: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: u64,
}

impl From<ShipmentOutForDelivery> for carrier::ShipmentOutForDelivery {
    fn from(e: ShipmentOutForDelivery) -> Self {
        Self {
            shipment_id: e.shipment_id,
            location: e.location,
            updated_at: e.updated_at,
        }
    }
}

/// `shipment-delivered-by-carrier`: the parcel was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveredByCarrier {
    pub shipment_id: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub delivered_at: u64,
    #[serde(default)]
    pub signed_by: Option<String>,
}

impl From<ShipmentDeliveredByCarrier> for carrier::ShipmentDeliveredByCarrier {
    fn from(e: ShipmentDeliveredByCarrier) -> Self {
        Self {
            shipment_id: e.shipment_id,
            delivered_at: e.delivered_at,
            signed_by: e.signed_by,
        }
    }
}

/// `shipment-delivery-failed`: delivery failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDeliveryFailed {
    pub shipment_id: String,
    pub reason: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub failed_at: u64,
}

impl From<ShipmentDeliveryFailed> for carrier::ShipmentDeliveryFailed {
    fn from(e: ShipmentDeliveryFailed) -> Self {
        Self {
            shipment_id: e.shipment_id,
            reason: e.reason,
            failed_at: e.failed_at,
        }
    }
}

/// `shipment-cancelled`: the carrier cancelled the shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentCancelled {
    pub shipment_id: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub cancelled_at: u64,
}

impl From<ShipmentCancelled> for carrier::ShipmentCancelled {
    fn from(e: ShipmentCancelled) -> Self {
        Self {
            shipment_id: e.shipment_id,
            cancelled_at: e.cancelled_at,
        }
    }
}
