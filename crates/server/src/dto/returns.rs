//! `/returns`: requesting a return, the decisions on it, and the return as
//! it stands.

use super::*;

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
