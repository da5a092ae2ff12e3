//! `/returns`: requesting a return, the decisions on it, and the return as
//! it stands.

use super::*;

/// One item coming back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItem {
    /// The order line (UUID).
    #[schema(format = "uuid")]
    pub item_id: String,
    /// Its product (UUID); must match the line.
    #[schema(format = "uuid")]
    pub product_id: String,
    /// Units returned, > 0.
    #[schema(value_type = i64, minimum = 1, maximum = 4_294_967_295_u32)]
    pub quantity: u32,
    pub return_reason: ReturnReason,
    /// The customer's description of its condition, 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub condition: String,
}

impl From<ReturnItem> for wit_returns::ReturnItem {
    fn from(i: ReturnItem) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            quantity: i.quantity,
            return_reason: i.return_reason.into(),
            condition: i.condition,
        }
    }
}

impl From<wit_returns::ReturnItem> for ReturnItem {
    fn from(i: wit_returns::ReturnItem) -> Self {
        Self {
            item_id: i.item_id,
            product_id: i.product_id,
            quantity: i.quantity,
            return_reason: i.return_reason.into(),
            condition: i.condition,
        }
    }
}

/// `POST /orders/{id}/returns`: ask to return items of a delivered order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnRequest {
    /// New return id (UUID) chosen by the caller.
    #[schema(format = "uuid")]
    pub return_id: String,
    /// The customer; must be the order's.
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// At least one item.
    #[schema(min_items = 1)]
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    /// 1..=1000 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1000)]
    pub comments: Option<String>,
}

impl RequestReturnRequest {
    pub fn into_command(self, order_id: String) -> wit_returns::RequestReturnCommand {
        wit_returns::RequestReturnCommand {
            return_id: self.return_id,
            order_id,
            customer_id: self.customer_id,
            return_items: all(self.return_items),
            return_reason: self.return_reason.into(),
            comments: self.comments,
        }
    }
}

/// The CLI's `return request -f FILE`: a return request naming its order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnFile {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    #[serde(default)]
    pub comments: Option<String>,
}

impl From<RequestReturnFile> for wit_returns::RequestReturnCommand {
    fn from(f: RequestReturnFile) -> Self {
        RequestReturnRequest {
            return_id: f.return_id,
            customer_id: f.customer_id,
            return_items: f.return_items,
            return_reason: f.return_reason,
            comments: f.comments,
        }
        .into_command(f.order_id)
    }
}

/// `POST /returns/{id}/approve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveReturnRequest {
    /// Ignored: the return records the authenticated caller as who
    /// approved it. Accepted (1..=100 characters) for older clients.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, deprecated)]
    pub approved_by: Option<String>,
    /// The return label (URL or code), 1..=500 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500)]
    pub return_label: Option<String>,
}

impl ApproveReturnRequest {
    /// The command, with `actor` (the authenticated caller) as who approves.
    pub fn into_command(
        self,
        return_id: String,
        actor: String,
    ) -> Result<wit_returns::ApproveReturnCommand, crate::Problem> {
        super::check_legacy_actor("approved_by", self.approved_by.as_deref())?;
        Ok(wit_returns::ApproveReturnCommand {
            return_id,
            approved_by: actor,
            return_label: self.return_label,
        })
    }
}

/// `POST /returns/{id}/deny`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyReturnRequest {
    /// Ignored: the return records the authenticated caller as who denied
    /// it. Accepted (1..=100 characters) for older clients.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100, deprecated)]
    pub denied_by: Option<String>,
    /// Why, 1..=500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl DenyReturnRequest {
    /// The command, with `actor` (the authenticated caller) as who denies.
    pub fn into_command(
        self,
        return_id: String,
        actor: String,
    ) -> Result<wit_returns::DenyReturnCommand, crate::Problem> {
        super::check_legacy_actor("denied_by", self.denied_by.as_deref())?;
        Ok(wit_returns::DenyReturnCommand {
            return_id,
            denied_by: actor,
            reason: self.reason,
        })
    }
}

/// `POST /returns/{id}/ship`: the customer sent the items back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipReturnRequest {
    pub carrier: CarrierCode,
    /// 1..=100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub tracking_number: String,
}

impl ShipReturnRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::ShipReturnCommand {
        wit_returns::ShipReturnCommand {
            return_id,
            carrier: self.carrier.into(),
            tracking_number: self.tracking_number,
        }
    }
}

/// `POST /returns/{id}/receive`: the warehouse received the items.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturnRequest {
    /// When they arrived; now when absent.
    #[serde(default)]
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<u64>,
    /// Their condition as inspected, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub condition: String,
    /// True restocks the returned units through the inventory service.
    pub all_items_received: bool,
}

impl ReceiveReturnRequest {
    pub fn into_command(self, return_id: String, now_ms: u64) -> wit_returns::ReceiveReturnCommand {
        wit_returns::ReceiveReturnCommand {
            return_id,
            received_at: self.received_at.unwrap_or(now_ms),
            condition: self.condition,
            all_items_received: self.all_items_received,
        }
    }
}

/// `POST /returns/{id}/refund`: refund through the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRefundRequest {
    /// At least one minor unit, at most what was paid minus what was refunded.
    pub refund_amount: Money,
    pub refund_method: PaymentMethod,
}

impl ProcessRefundRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::ProcessRefundCommand {
        wit_returns::ProcessRefundCommand {
            return_id,
            refund_amount: self.refund_amount.into(),
            refund_method: self.refund_method.into(),
        }
    }
}

/// `POST /returns/{id}/close`: nothing arrived; close without refund.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseReturnRequest {
    /// Why, 1..=500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

impl CloseReturnRequest {
    pub fn into_command(self, return_id: String) -> wit_returns::CloseReturnCommand {
        wit_returns::CloseReturnCommand {
            return_id,
            reason: self.reason,
        }
    }
}

/// A return as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Return {
    pub return_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub status: ReturnStatus,
    pub refund_status: RefundStatus,
    pub return_items: Vec<ReturnItem>,
    pub return_reason: ReturnReason,
    pub comments: Option<String>,
    #[serde(with = "super::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: u64,
    pub decided_by: Option<String>,
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<u64>,
    pub denial_reason: Option<String>,
    pub return_label: Option<String>,
    pub return_tracking_number: Option<String>,
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<u64>,
    pub received_condition: Option<String>,
    pub all_items_received: Option<bool>,
    pub refund_amount: Option<Money>,
    pub refund_method: Option<PaymentMethod>,
    #[serde(with = "super::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub refunded_at: Option<u64>,
    /// Whether the gateway confirmed the refund (`refund-completed`).
    pub refund_confirmed: bool,
    pub version: u64,
}

impl From<wit_returns::ReturnView> for Return {
    fn from(r: wit_returns::ReturnView) -> Self {
        Self {
            return_id: r.return_id,
            order_id: r.order_id,
            customer_id: r.customer_id,
            status: r.status.into(),
            refund_status: r.refund_status.into(),
            return_items: all(r.return_items),
            return_reason: r.return_reason.into(),
            comments: r.comments,
            requested_at: r.requested_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            denial_reason: r.denial_reason,
            return_label: r.return_label,
            return_tracking_number: r.return_tracking_number,
            received_at: r.received_at,
            received_condition: r.received_condition,
            all_items_received: r.all_items_received,
            refund_amount: r.refund_amount.map(Into::into),
            refund_method: r.refund_method.map(Into::into),
            refunded_at: r.refunded_at,
            refund_confirmed: r.refund_confirmed,
            version: r.version,
        }
    }
}
