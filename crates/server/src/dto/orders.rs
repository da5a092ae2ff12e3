//! `/orders`: placing, drafting and cancelling an order, and the order as
//! it stands.

use super::*;

/// `POST /orders`: place an order, or with `"draft": true` open a cart
/// (`create-draft`) in which any of the addresses and the payment method
/// may still be missing. Placing an existing draft's id places the draft.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// New order id (UUID) chosen by the caller, so a retried request is
    /// recognised; or the id of a draft to place.
    #[schema(format = "uuid")]
    pub order_id: String,
    /// The customer (UUID).
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// The lines: at least one to place; a draft may start empty.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub items: Vec<OrderItemInput>,
    /// Where to ship; required unless `draft`.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// Where to bill; required unless `draft`.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// How to pay; required unless `draft`.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// Open a draft (cart) instead of placing the order.
    #[serde(default)]
    pub draft: bool,
}

/// What a [`PlaceOrderRequest`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// `place-order`.
    Place(wit_orders::PlaceOrderCommand),
    /// `create-draft` (`"draft": true`).
    Draft(wit_orders::CreateDraftCommand),
}

impl PlaceOrderRequest {
    /// The command this request asks for; `Err` names a field required to
    /// place an order (not a draft) that is missing.
    pub fn into_placement(self) -> Result<Placement, &'static str> {
        if self.draft {
            return Ok(Placement::Draft(wit_orders::CreateDraftCommand {
                order_id: self.order_id,
                customer_id: self.customer_id,
                items: all(self.items),
                shipping_address: self.shipping_address.map(Into::into),
                billing_address: self.billing_address.map(Into::into),
                payment_method: self.payment_method.map(Into::into),
            }));
        }
        Ok(Placement::Place(wit_orders::PlaceOrderCommand {
            shipping_address: self.shipping_address.ok_or("shipping_address")?.into(),
            billing_address: self.billing_address.ok_or("billing_address")?.into(),
            payment_method: self.payment_method.ok_or("payment_method")?.into(),
            order_id: self.order_id,
            customer_id: self.customer_id,
            items: all(self.items),
        }))
    }
}

/// `PATCH /orders/{id}`: edit a draft. Present fields replace the draft's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDraftRequest {
    /// New lines, replacing all of them.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub items: Option<Vec<OrderItemInput>>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
}

impl UpdateDraftRequest {
    pub fn into_command(self, order_id: String) -> wit_orders::UpdateDraftCommand {
        wit_orders::UpdateDraftCommand {
            order_id,
            items: self.items.map(all),
            shipping_address: self.shipping_address.map(Into::into),
            billing_address: self.billing_address.map(Into::into),
            payment_method: self.payment_method.map(Into::into),
        }
    }
}

/// `POST /orders/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderRequest {
    /// Why, 1..=500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// Ignored: the order records the authenticated caller as who
    /// cancelled it. Accepted (1..=100 characters) so that older clients
    /// are not refused.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, deprecated)]
    pub cancelled_by: Option<String>,
}

impl CancelOrderRequest {
    /// The command, with `actor` (the authenticated caller) as who cancels.
    pub fn into_command(
        self,
        order_id: String,
        actor: String,
    ) -> Result<wit_orders::CancelOrderCommand, crate::Problem> {
        super::check_legacy_actor("cancelled_by", self.cancelled_by.as_deref())?;
        Ok(wit_orders::CancelOrderCommand {
            order_id,
            reason: self.reason,
            cancelled_by: actor,
        })
    }
}

/// Payment details once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentInfo {
    pub transaction_id: String,
    pub amount_paid: Money,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub confirmed_at: u64,
}

/// Stock allocation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AllocationInfo {
    pub all_items_allocated: bool,
    pub allocated_items: Vec<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub allocated_at: u64,
}

/// Shipping details once shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShippingInfo {
    pub shipment_id: String,
    pub carrier: CarrierCode,
    pub tracking_number: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub shipped_at: u64,
}

/// Delivery details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryInfo {
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub delivered_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// Cancellation details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CancellationInfo {
    pub reason: String,
    pub cancelled_by: String,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub cancelled_at: u64,
}

/// An order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Order {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub subtotal: Money,
    pub tax: Money,
    pub shipping_cost: Money,
    /// subtotal + tax + shipping_cost.
    pub total: Money,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: u64,
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub placed_at: Option<u64>,
    pub payment: Option<PaymentInfo>,
    pub allocation: Option<AllocationInfo>,
    pub shipping: Option<ShippingInfo>,
    pub delivery: Option<DeliveryInfo>,
    pub cancellation: Option<CancellationInfo>,
    /// Money refunded so far (returns and cancellation).
    pub refunded: Money,
    /// Things customer service should know.
    pub notes: Vec<String>,
    /// Number of events in the order's stream.
    pub version: u64,
}

impl From<wit_orders::OrderView> for Order {
    fn from(o: wit_orders::OrderView) -> Self {
        Self {
            order_id: o.order_id,
            customer_id: o.customer_id,
            status: o.status.into(),
            items: all(o.items),
            subtotal: o.subtotal.into(),
            tax: o.tax.into(),
            shipping_cost: o.shipping_cost.into(),
            total: o.total.into(),
            shipping_address: o.shipping_address.map(Into::into),
            billing_address: o.billing_address.map(Into::into),
            payment_method: o.payment_method.map(Into::into),
            created_at: o.created_at,
            placed_at: o.placed_at,
            payment: o.payment.map(|p| PaymentInfo {
                transaction_id: p.transaction_id,
                amount_paid: p.amount_paid.into(),
                confirmed_at: p.confirmed_at,
            }),
            allocation: o.allocation.map(|a| AllocationInfo {
                all_items_allocated: a.all_items_allocated,
                allocated_items: a.allocated_items,
                allocated_at: a.allocated_at,
            }),
            shipping: o.shipping.map(|s| ShippingInfo {
                shipment_id: s.shipment_id,
                carrier: s.carrier.into(),
                tracking_number: s.tracking_number,
                shipped_at: s.shipped_at,
            }),
            delivery: o.delivery.map(|d| DeliveryInfo {
                delivered_at: d.delivered_at,
                signed_by: d.signed_by,
            }),
            cancellation: o.cancellation.map(|c| CancellationInfo {
                reason: c.reason,
                cancelled_by: c.cancelled_by,
                cancelled_at: c.cancelled_at,
            }),
            refunded: o.refunded.into(),
            notes: o.notes,
            version: o.version,
        }
    }
}
