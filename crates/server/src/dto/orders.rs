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
