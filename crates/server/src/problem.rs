//! Errors as RFC 9457 problem details (`application/problem+json`), and the
//! JSON body extractor that turns a malformed or misspelt body into a 400
//! naming the field.
//!
//! | status | `type` (suffix) | when |
//! |---|---|---|
//! | 400 | `validation` | a field is malformed, out of bounds, unknown or missing (`field` names it) |
//! | 401 | `unauthorized` | no bearer credential, or a refused one; a webhook's signature is missing, wrong or out of its time window |
//! | 403 | `forbidden` | the credential's role may not call the route (see `auth.rs`) |
//! | 404 | `not-found` | no order, shipment or return with that id (or no such route) |
//! | 405 | `method-not-allowed` | the route exists but not with that method |
//! | 409 | `invalid-transition` | the entity's state does not allow the command (`state`, `command`) |
//! | 409 | `conflict` | concurrent writers kept winning the race; retry |
//! | 413, 415 | `payload-too-large`, `unsupported-media-type` | the body is too large, or not JSON |
//! | 422 | `rule-violated` | a business rule refused a well-formed command (`rule`, `field`) |
//! | 502 | `external-permanent` | an external context (payment, carrier, ...) refused |
//! | 503 | `external-transient`, `storage`, `webhooks-disabled` | something the host depends on is unavailable; retrying may succeed |
//! | 500 | `internal` | the host or the component broke |

use std::collections::BTreeMap;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};

use order_runtime::bindings::types::{CommandError, EntityKind, ExternalError};
use order_runtime::service::{ServiceError, describe};

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every problem `type` is this prefix plus a kind, for example
/// `urn:order-host:problem:validation`.
pub const TYPE_PREFIX: &str = "urn:order-host:problem:";

/// The body of an RFC 9457 problem: what went wrong, for programs (`type`,
/// `status`, `field`, `state`, `command`, `rule`) and for people (`title`,
/// `detail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// `urn:order-host:problem:<kind>`; the kinds are listed in docs/http-api.md.
    #[serde(rename = "type")]
    #[schema(example = "urn:order-host:problem:validation")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The JSON path of the offending field (`items[0].sku`), for validation
    /// errors and rule violations about a field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The entity's current state, for invalid transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The refused command (`cancel-order`), for invalid transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The entity concerned (`order`, `shipment`, `return`), for invalid
    /// transitions and not-found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The business rule (`refund-exceeds-paid`), for rule violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// An error answer: a boxed [`ProblemBody`] (boxed so that results carrying
/// it stay small).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problem(Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;

    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemBody {
        &mut self.0
    }
}

impl Problem {
    /// A problem of `kind` with `status`, `title` and `detail`.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemBody {
            kind: format!("{TYPE_PREFIX}{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            state: None,
            command: None,
            entity: None,
            rule: None,
        }))
    }

    /// The same problem with `field` set.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A 400 about `field` (a JSON path, snake_case).
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid request",
            detail,
        )
        .with_field(field)
    }

    /// A 400 about the request as a whole (for example a body that is not JSON).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "validation",
            "Invalid request",
            detail,
        )
    }

    /// A 401 for a webhook whose signature does not hold.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Signature rejected",
            detail,
        )
    }

    /// A 500: the host or the component broke. The detail is logged, not
    /// sent, since it may describe the host's internals.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request failed inside the host; the error is in its log",
        )
    }

    /// The status as a `StatusCode`.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// A WIT field path (`items[0].product-name`) as the JSON path of the HTTP
/// body (`items[0].product_name`).
pub fn json_field(wit_field: &str) -> String {
    wit_field.replace('-', "_")
}

fn entity_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Order => "order",
        EntityKind::Shipment => "shipment",
        EntityKind::Return => "return",
        EntityKind::Saga => "saga",
    }
}

/// The status, problem type and title that answer each kind of command
/// error.
fn answer_of(error: &CommandError) -> (StatusCode, &'static str, &'static str) {
    match error {
        CommandError::Validation(_) => (StatusCode::BAD_REQUEST, "validation", "Invalid request"),
        CommandError::InvalidTransition(_) => (
            StatusCode::CONFLICT,
            "invalid-transition",
            "Not allowed in this state",
        ),
        CommandError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
        CommandError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Concurrent update"),
        CommandError::RuleViolated(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "rule-violated",
            "Business rule violated",
        ),
        CommandError::External(ExternalError::Transient(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "external-transient",
            "External service unavailable",
        ),
        CommandError::External(ExternalError::Permanent(_)) => (
            StatusCode::BAD_GATEWAY,
            "external-permanent",
            "External service refused",
        ),
        CommandError::External(ExternalError::InDoubt(_)) => (
            StatusCode::GATEWAY_TIMEOUT,
            "external-in-doubt",
            "External service did not answer",
        ),
        CommandError::Storage(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            "Storage unavailable",
        ),
    }
}

impl From<CommandError> for Problem {
    fn from(error: CommandError) -> Self {
        let (status, kind, title) = answer_of(&error);
        let mut p = Problem::new(status, kind, title, describe(&error));
        match error {
            CommandError::Validation(v) => {
                let field = json_field(&v.field);
                p.detail = format!("invalid {field}: {}", v.reason);
                p.field = Some(field);
            }
            CommandError::InvalidTransition(t) => {
                p.state = Some(t.state);
                p.command = Some(t.command);
                p.entity = Some(entity_name(t.entity).to_owned());
            }
            CommandError::NotFound(n) => p.entity = Some(entity_name(n.entity).to_owned()),
            CommandError::Conflict(_) => {
                p.detail = format!(
                    "{}; other writers kept changing it, retry the request",
                    p.detail
                );
            }
            CommandError::RuleViolated(r) => {
                p.field = r.field.as_deref().map(json_field);
                p.rule = Some(r.rule);
            }
            CommandError::External(_) | CommandError::Storage(_) => {}
        }
        p
    }
}

impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Domain(e) => e.into(),
            ServiceError::Runtime(e) => Problem::internal(&format!("{e:#}")),
        }
    }
}

/// A JSON request body, parsed with the path of the first bad field kept, so
/// that every malformed, misspelt or missing field is a 400 naming it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if let Some(problem) = super::media::refusal(req.headers(), false)
            .filter(|_| req.headers().contains_key(header::CONTENT_TYPE))
        {
            return Err(problem);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(body_problem)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A body that could not be read: too large (413), or cut off (400).
pub fn body_problem(rejection: BytesRejection) -> Problem {
    let status = rejection.status();
    let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload-too-large"
    } else {
        "validation"
    };
    Problem::new(status, kind, "Unreadable body", rejection.body_text())
}

/// Parses `bytes` as a `T`, naming the field where parsing stopped.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request(
            "the body is empty; send a JSON object",
        ));
    }
    // Every body is an object: serde would read an array as the fields in
    // order, which no client means.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Problem::bad_request(
            "the body must be a JSON object, not an array",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| from_serde(&e))?;
    de.end()
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    // Read once more, refusing a record given as an array at any depth (the
    // first pass kept serde's checks of duplicate keys).
    let tree: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    let _: T = serde_path_to_error::deserialize(super::strict::Strict(tree))
        .map_err(|e| from_serde(&e))?;
    Ok(value)
}

/// Deserializes a JSON value (part of a body) as a `T`, naming the field
/// below `prefix` where it stopped.
pub fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, Problem> {
    serde_path_to_error::deserialize(super::strict::Strict(value))
        .map_err(|e| from_serde_at(&e, prefix))
}

fn from_serde(error: &serde_path_to_error::Error<serde_json::Error>) -> Problem {
    from_serde_at(error, "")
}

/// The problem of `error`, its path below `prefix` (a part of a body).
fn from_serde_at(error: &serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> Problem {
    let inner = error.inner();
    let message = inner.to_string();
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let path = match (prefix, path.as_str()) {
        ("", _) => path,
        (prefix, "") => prefix.to_owned(),
        (prefix, inner) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (prefix, inner) => format!("{prefix}.{inner}"),
    };
    if inner.is_syntax() || inner.is_eof() {
        let problem = Problem::bad_request(format!("the body is not valid JSON: {message}"));
        return if path.is_empty() {
            problem
        } else {
            problem.with_field(path)
        };
    }
    // serde reports an unknown or missing field at the object holding it:
    // name the field itself.
    let named = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let field = match named {
        // An unknown key is already the last segment of the path; a missing
        // one is not.
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => path,
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None => path,
    };
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head)
        .to_owned();
    let detail = plain_words(&field, &message);
    if field.is_empty() {
        Problem::bad_request(detail)
    } else {
        Problem::validation(field, detail)
    }
}

/// serde's message about `field` (`items[0].quantity`, empty for the whole
/// body) in plain words: the field, what it must be, and what it was, with
/// no Rust type names (`u32`, `struct PlaceOrderRequest`). A message of
/// our own (a time that is not RFC 3339) is kept, after the field's name.
pub fn plain_words(field: &str, message: &str) -> String {
    let subject = if field.is_empty() {
        "the body".to_owned()
    } else {
        format!("`{field}`")
    };
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    if message.starts_with("missing field `") {
        return format!("{subject} is required");
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = one_of(rest.split_once('`').map_or("", |(_, r)| r));
        return match expected {
            Some(list) => format!("{subject} is not a field here; the fields are {list}"),
            None => format!("{subject} is not a field here; this object takes no fields"),
        };
    }
    if message.starts_with("duplicate field `") {
        return format!("{subject} is given twice");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let list = one_of(tail).unwrap_or_default();
        return format!("{subject} must be one of {list}, not \"{value}\"");
    }
    if message.starts_with("invalid length ") {
        return format!("{subject} must be a JSON object with named fields, not an array");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.rsplit_once(", expected "))
        {
            return format!(
                "{subject} must be {}, not {}",
                expectation(leaf, expected),
                found_value(found)
            );
        }
    }
    if field.is_empty() {
        message.to_owned()
    } else {
        format!("{subject}: {message}")
    }
}

/// `expected one of `a`, `b`` as `a, b`.
fn one_of(rest: &str) -> Option<String> {
    let list = rest
        .split_once("expected one of ")
        .map(|(_, l)| l)
        .or_else(|| rest.split_once("expected ").map(|(_, l)| l))?;
    Some(list.replace('`', ""))
}

/// What serde expected, for a person: the bounds of the integers the API
/// takes, `text`, `true or false`, `an object`, `an array`.
fn expectation(leaf: &str, expected: &str) -> String {
    let bounds = match leaf {
        "quantity" => Some("1 to 4294967295"),
        "amount" | "refund_amount" => Some("0 to 9999999999"),
        _ => None,
    };
    let whole = |max: &str| {
        format!(
            "a whole number from {} (written without a fraction)",
            bounds.map_or_else(|| format!("0 to {max}"), str::to_owned)
        )
    };
    match expected.trim() {
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        "u64" => whole("18446744073709551615"),
        "i64" | "i32" => "a whole number".to_owned(),
        "a string" | "a borrowed string" => "text (a JSON string)".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a JSON array".to_owned(),
        other if other.starts_with("struct ") || other == "a map" => "a JSON object".to_owned(),
        other if other.starts_with("enum ") => "one of its listed values".to_owned(),
        other => other.replace('`', ""),
    }
}

/// What serde found, for a person.
fn found_value(found: &str) -> String {
    let found = found.trim();
    let quoted = |text: &str| text.trim_matches('`').to_owned();
    if let Some(v) = found.strip_prefix("floating point ") {
        return quoted(v);
    }
    if let Some(v) = found.strip_prefix("integer ") {
        return quoted(v);
    }
    if let Some(v) = found.strip_prefix("boolean ") {
        return quoted(v);
    }
    if let Some(v) = found.strip_prefix("string ") {
        return format!("the text {v}");
    }
    match found {
        "map" => "an object".to_owned(),
        "sequence" => "an array".to_owned(),
        "null" | "unit value" => "null".to_owned(),
        other => other.to_owned(),
    }
}

/// The error responses of an endpoint, for the OpenAPI document.
pub struct Problems;

impl Problems {
    /// Responses with these statuses, each a `Problem`.
    pub fn responses(
        statuses: &[(u16, &str)],
    ) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        statuses
            .iter()
            .map(|(status, description)| {
                let response = ResponseBuilder::new()
                    .description(*description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "Problem",
                            ))))
                            .build(),
                    )
                    .build();
                (status.to_string(), RefOr::T(response))
            })
            .collect()
    }
}

const BAD_REQUEST: (u16, &str) = (
    400,
    "A field is malformed, out of bounds, unknown or missing",
);
const NOT_FOUND: (u16, &str) = (404, "No such order, shipment or return");
const CONFLICT: (u16, &str) = (
    409,
    "The entity's state does not allow the command, or concurrent writers kept winning",
);
const UNPROCESSABLE: (u16, &str) = (422, "A business rule refused the command");
const INTERNAL: (u16, &str) = (500, "The host or the component broke");
const BAD_GATEWAY: (u16, &str) = (502, "An external context refused");
const UNAVAILABLE: (u16, &str) = (503, "An external context or the storage is unavailable");

/// Errors of a query.
pub struct ReadProblems;

impl utoipa::IntoResponses for ReadProblems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        Problems::responses(&[BAD_REQUEST, NOT_FOUND, INTERNAL, UNAVAILABLE])
    }
}

/// Errors of a command.
pub struct CommandProblems;

impl utoipa::IntoResponses for CommandProblems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        Problems::responses(&[
            BAD_REQUEST,
            NOT_FOUND,
            CONFLICT,
            UNPROCESSABLE,
            INTERNAL,
            BAD_GATEWAY,
            UNAVAILABLE,
        ])
    }
}

/// Errors of a webhook.
pub struct WebhookProblems;

impl utoipa::IntoResponses for WebhookProblems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        Problems::responses(&[
            BAD_REQUEST,
            (
                401,
                "The signature is missing, wrong, or outside its 5-minute window",
            ),
            NOT_FOUND,
            CONFLICT,
            UNPROCESSABLE,
            INTERNAL,
            BAD_GATEWAY,
            (
                503,
                "An external context or the storage is unavailable, or no webhook secret is configured",
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::PlaceOrderRequest;

    fn field_of(body: &str) -> Option<String> {
        parse_json::<PlaceOrderRequest>(body.as_bytes())
            .unwrap_err()
            .field
            .clone()
    }

    #[test]
    fn each_command_error_answers_its_status_type_and_what_it_concerns() {
        use order_runtime::bindings::types::{
            InvalidTransition, NotFound, RuleViolation, ValidationError,
        };
        use serde_json::json;
        let cases = [
            (
                "validation",
                CommandError::Validation(ValidationError {
                    field: "shipping-address.city".into(),
                    reason: "empty".into(),
                }),
                json!({"status": 400, "type": "validation", "title": "Invalid request",
                       "detail": "invalid shipping_address.city: empty",
                       "field": "shipping_address.city"}),
            ),
            (
                "invalid transition",
                CommandError::InvalidTransition(InvalidTransition {
                    entity: EntityKind::Order,
                    state: "shipped".into(),
                    command: "cancel-order".into(),
                }),
                json!({"status": 409, "type": "invalid-transition",
                       "title": "Not allowed in this state",
                       "detail": "cancel-order is not allowed while the order is shipped",
                       "state": "shipped", "command": "cancel-order", "entity": "order"}),
            ),
            (
                "not found",
                CommandError::NotFound(NotFound {
                    entity: EntityKind::Return,
                    id: "r1".into(),
                }),
                json!({"status": 404, "type": "not-found", "title": "Not found",
                       "detail": "return r1 not found", "entity": "return"}),
            ),
            (
                "conflict",
                CommandError::Conflict("stream moved".into()),
                json!({"status": 409, "type": "conflict", "title": "Concurrent update",
                       "detail": "conflict: stream moved; other writers kept changing it, \
                                  retry the request"}),
            ),
            (
                "rule violated",
                CommandError::RuleViolated(RuleViolation {
                    rule: "refund-exceeds-paid".into(),
                    field: Some("refund-amount".into()),
                    message: "too much".into(),
                }),
                json!({"status": 422, "type": "rule-violated", "title": "Business rule violated",
                       "detail": "too much (refund-exceeds-paid: refund-amount)",
                       "field": "refund_amount", "rule": "refund-exceeds-paid"}),
            ),
            (
                "external transient",
                CommandError::External(ExternalError::Transient("down".into())),
                json!({"status": 503, "type": "external-transient",
                       "title": "External service unavailable",
                       "detail": "external service unavailable (transient): down"}),
            ),
            (
                "external permanent",
                CommandError::External(ExternalError::Permanent("declined".into())),
                json!({"status": 502, "type": "external-permanent",
                       "title": "External service refused",
                       "detail": "external service refused (permanent): declined"}),
            ),
            (
                "external in doubt",
                CommandError::External(ExternalError::InDoubt("timed out".into())),
                json!({"status": 504, "type": "external-in-doubt",
                       "title": "External service did not answer",
                       "detail": "external service did not answer (outcome in doubt): timed out"}),
            ),
            (
                "storage",
                CommandError::Storage("disk full".into()),
                json!({"status": 503, "type": "storage", "title": "Storage unavailable",
                       "detail": "storage failed: disk full"}),
            ),
        ];
        for (name, error, mut expected) in cases {
            let kind = format!(
                "{TYPE_PREFIX}{}",
                expected["type"].as_str().unwrap_or_default()
            );
            expected["type"] = json!(kind);
            let answered = serde_json::to_value(Problem::from(error)).unwrap();
            assert_eq!(answered, expected, "{name}");
        }
    }

    #[test]
    fn a_bad_field_is_named_by_its_json_path() {
        let body = r#"{"order_id": "o", "customer_id": "c", "items": [
            {"item_id": "i", "product_id": "p", "sku": "s", "product_name": "n",
             "quantity": -1, "unit_price": {"amount": 1}}]}"#;
        assert_eq!(field_of(body).as_deref(), Some("items[0].quantity"));
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let body = r#"{"order_id": "o", "customer_id": "c", "colour": "red"}"#;
        assert_eq!(field_of(body).as_deref(), Some("colour"));
        let body = r#"{"order_id": "o", "customer_id": "c", "shipping_address": {"floor": 3}}"#;
        assert_eq!(field_of(body).as_deref(), Some("shipping_address.floor"));
        let body = r#"{"order_id": "o", "customer_id": "c", "shipping_address": {"street1": "x"}}"#;
        assert_eq!(field_of(body).as_deref(), Some("shipping_address.city"));
        let body = r#"{"order_id": "o", "customer_id": "c", "payment_method": "cash"}"#;
        assert_eq!(field_of(body).as_deref(), Some("payment_method"));
    }

    fn detail_of(body: &str) -> String {
        parse_json::<PlaceOrderRequest>(body.as_bytes())
            .unwrap_err()
            .detail
            .clone()
    }

    #[test]
    fn details_are_plain_words_without_rust_types() {
        let line = |quantity: &str| {
            format!(
                r#"{{"order_id": "o", "customer_id": "c", "items": [
                {{"item_id": "i", "product_id": "p", "sku": "s", "product_name": "n",
                 "quantity": {quantity}, "unit_price": {{"amount": 1}}}}]}}"#
            )
        };
        assert_eq!(
            detail_of(&line("-1")),
            "`items[0].quantity` must be a whole number from 1 to 4294967295 (written without a fraction), not -1"
        );
        assert_eq!(
            detail_of(&line("2.5")),
            "`items[0].quantity` must be a whole number from 1 to 4294967295 (written without a fraction), not 2.5"
        );
        assert_eq!(
            detail_of(&line("\"two\"")),
            "`items[0].quantity` must be a whole number from 1 to 4294967295 (written without a fraction), not the text \"two\""
        );
        assert_eq!(
            detail_of("[1, 2]"),
            "the body must be a JSON object, not an array"
        );
        assert_eq!(
            detail_of(r#"{"order_id": 7, "customer_id": "c"}"#),
            "`order_id` must be text (a JSON string), not 7"
        );
        assert_eq!(
            detail_of(r#"{"order_id": "o", "customer_id": "c", "draft": "yes"}"#),
            "`draft` must be true or false, not the text \"yes\""
        );
        let unknown = detail_of(r#"{"order_id": "o", "customer_id": "c", "colour": "red"}"#);
        assert!(
            unknown
                .starts_with("`colour` is not a field here; the fields are order_id, customer_id"),
            "{unknown}"
        );
        assert_eq!(
            detail_of(r#"{"order_id": "o"}"#),
            "`customer_id` is required"
        );
        let variant =
            detail_of(r#"{"order_id": "o", "customer_id": "c", "payment_method": "cash"}"#);
        assert!(
            variant.starts_with("`payment_method` must be one of credit-card, "),
            "{variant}"
        );
        assert!(variant.ends_with(", not \"cash\""), "{variant}");
        for detail in [unknown, variant, detail_of("[1]"), detail_of(&line("-1"))] {
            for internal in [
                "struct",
                "u32",
                "u64",
                "expected",
                "`PlaceOrderRequest`",
                "elements",
            ] {
                assert!(!detail.contains(internal), "{internal} in {detail}");
            }
        }
    }

    #[test]
    fn a_record_given_as_an_array_is_refused_at_any_depth() {
        let body = r#"{"order_id": "o", "customer_id": "c", "items": [
            {"item_id": "i", "product_id": "p", "sku": "s", "product_name": "n",
             "quantity": 1, "unit_price": [1250, "USD"]}]}"#;
        let problem = parse_json::<PlaceOrderRequest>(body.as_bytes()).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("items[0].unit_price"));
        assert_eq!(
            problem.detail,
            "`items[0].unit_price` must be a JSON object, not an array"
        );
        // Duplicate keys are still refused, and a good body still parses.
        let twice = r#"{"order_id": "o", "order_id": "p", "customer_id": "c"}"#;
        assert_eq!(field_of(twice).as_deref(), Some("order_id"));
        let good = r#"{"order_id": "o", "customer_id": "c", "draft": true, "items": [
            {"item_id": "i", "product_id": "p", "sku": "s", "product_name": "n",
             "quantity": 1, "unit_price": {"amount": 1250}}]}"#;
        let parsed = parse_json::<PlaceOrderRequest>(good.as_bytes()).unwrap();
        assert_eq!(parsed.items[0].unit_price.amount, 1250);
        let money =
            from_value::<crate::dto::Money>(serde_json::json!([5, "USD"]), "data.x").unwrap_err();
        assert_eq!(money.field.as_deref(), Some("data.x"));
    }

    #[test]
    fn a_field_below_a_prefix_is_named_in_the_detail_too() {
        let problem = from_value::<crate::dto::Money>(
            serde_json::json!({"amount": 1.5}),
            "data.payment_amount",
        )
        .unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("data.payment_amount.amount"));
        assert_eq!(
            problem.detail,
            "`data.payment_amount.amount` must be a whole number from 0 to 9999999999 (written without a fraction), not 1.5"
        );
    }

    #[test]
    fn malformed_json_is_a_400() {
        let problem = parse_json::<PlaceOrderRequest>(b"{\"order_id\": ").unwrap_err();
        assert_eq!(problem.status, 400);
        assert!(problem.detail.contains("not valid JSON"), "{problem:?}");
        let problem = parse_json::<PlaceOrderRequest>(b"").unwrap_err();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.detail, "the body is empty; send a JSON object");
    }

    #[test]
    fn wit_fields_become_json_paths() {
        assert_eq!(json_field("items[2].product-name"), "items[2].product_name");
        assert_eq!(json_field("shipping-address.city"), "shipping_address.city");
    }

    #[test]
    fn the_problem_is_served_as_problem_json() {
        let response = Problem::validation("items", "empty").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
