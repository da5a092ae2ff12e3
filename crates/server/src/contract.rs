//! What every operation of `/openapi.json` says beyond its own
//! `#[utoipa::path]`, added in one place from the tables that enforce it, so
//! that a route added later says it too:
//!
//! - the `bearer` security scheme (an API key or a JWT, both sent as
//!   `Authorization: Bearer ...`), required by every route that [`RULES`]
//!   does not list as open, with its 401 and 403 answers and the roles that
//!   may call it in its description;
//! - the answers of the middleware every request passes: 400, 408, 413 and
//!   415 for a route that takes a body; 400 for a route with query
//!   parameters; 404 for a route whose path names something (`{id}`); the `Idempotency-Key` header with
//!   its 409 and 422 on every POST but the webhooks; 500 and 503 (the
//!   server is shutting down, or the storage is unavailable) everywhere;
//! - `format: uuid` for the `{id}` of orders, returns and customers.
//!
//! Each of these answers is declared once under `components/responses`
//! and referenced. [`check`] is what `tests` and the contract script hold
//! the document to: unique camelCase operation ids, the security scheme,
//! a problem body for every 4xx and 5xx.
//!
//! [`RULES`]: super::auth::RULES

use serde_json::{Map, Value, json};

use super::auth;
use super::problem::PROBLEM_JSON;
use super::webhooks;

/// The name of the security scheme.
pub const BEARER: &str = "bearer";

/// The shared answers: `(name, status, description)`.
const SHARED: &[(&str, u16, &str)] = &[
    (
        "BadRequest",
        400,
        "A field, parameter or header is malformed, out of bounds, unknown or missing (`field` names it)",
    ),
    (
        "Unauthorized",
        401,
        "No bearer credential, or one that is unknown, malformed or expired",
    ),
    (
        "Forbidden",
        403,
        "The credential's role may not call this route",
    ),
    (
        "NotFound",
        404,
        "Nothing with that id (an order, shipment, return, or what the path names)",
    ),
    (
        "RequestTimeout",
        408,
        "The request body did not arrive within the body time-out",
    ),
    (
        "IdempotencyConflict",
        409,
        "A request with the same Idempotency-Key is still running",
    ),
    (
        "PayloadTooLarge",
        413,
        "The request body is larger than the server's limit",
    ),
    (
        "UnsupportedMediaType",
        415,
        "The body is not sent as application/json",
    ),
    (
        "IdempotencyMismatch",
        422,
        "The Idempotency-Key was used before with another request",
    ),
    ("Internal", 500, "The host or the component broke"),
    (
        "Unavailable",
        503,
        "The server is shutting down, or something it depends on is unavailable; retry after Retry-After",
    ),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "options", "head"];

/// Adds the shared parts to `doc` (an OpenAPI document as JSON).
pub fn finish(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        components.insert(
            "securitySchemes".to_owned(),
            json!({
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`ohk_...`) or a JWT of the shop's identity \
provider, sent as `Authorization: Bearer <credential>`; see docs/http-api.md for the roles."
                }
            }),
        );
        let responses = components.entry("responses").or_insert_with(|| json!({}));
        if let Value::Object(responses) = responses {
            for (name, _, description) in SHARED {
                responses.insert((*name).to_owned(), problem_response(description));
            }
        }
    }
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for source in [
        webhooks::Source::Payment,
        webhooks::Source::Inventory,
        webhooks::Source::Carrier,
    ] {
        let path = format!("/webhooks/{}", source.name());
        let body = paths
            .get_mut(&path)
            .and_then(|item| item.get_mut("post"))
            .and_then(|op| op.get_mut("requestBody"))
            .and_then(|body| body.get_mut("content"))
            .and_then(|content| content.get_mut("application/json"));
        if let Some(Value::Object(body)) = body {
            body.insert("schema".to_owned(), envelopes(source));
        }
    }
    for (path, item) in paths.iter_mut() {
        let Value::Object(item) = item else { continue };
        for method in METHODS {
            if let Some(Value::Object(operation)) = item.get_mut(*method) {
                finish_operation(path, method, operation);
            }
        }
    }
}

/// The deliveries `source` sends: one envelope per event type, its `data`
/// the event's schema (`payment-succeeded` is `PaymentSucceeded`).
fn envelopes(source: webhooks::Source) -> Value {
    let variants: Vec<Value> = source
        .event_types()
        .iter()
        .map(|event_type| {
            let schema: String = event_type
                .split('-')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_ascii_uppercase().to_string() + chars.as_str()
                    })
                })
                .collect();
            json!({
                "type": "object",
                "title": schema,
                "required": ["id", "type", "data"],
                "additionalProperties": false,
                "properties": {
                    "id": {
                        "type": "string", "minLength": 1, "maxLength": 200,
                        "description": "The sender's id of this event; a redelivery carries the same id."
                    },
                    "type": { "type": "string", "enum": [event_type] },
                    "data": { "$ref": format!("#/components/schemas/{schema}") }
                }
            })
        })
        .collect();
    json!({ "oneOf": variants })
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn shared(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn finish_operation(path: &str, method: &str, operation: &mut Map<String, Value>) {
    let upper = method.to_ascii_uppercase();
    let allowed = axum::http::Method::from_bytes(upper.as_bytes())
        .ok()
        .and_then(|m| auth::allowed(&m, path));
    let has_body = operation.contains_key("requestBody");
    let has_query = operation
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let names_an_entity = path.contains('{');
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut responses = responses;
    let mut add = |status: u16, name: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| shared(name));
    };
    // A route the table does not list is refused to everyone: still a
    // protected route (401, then 403).
    let open = matches!(allowed, Some(None));
    if !open {
        add(401, "Unauthorized");
        add(403, "Forbidden");
    }
    if has_query {
        add(400, "BadRequest");
    }
    if names_an_entity {
        add(404, "NotFound");
    }
    if has_body {
        add(400, "BadRequest");
        add(408, "RequestTimeout");
        add(413, "PayloadTooLarge");
        add(415, "UnsupportedMediaType");
    }
    let idempotent = method == "post" && !path.starts_with("/webhooks/");
    if idempotent {
        add(400, "BadRequest");
        add(409, "IdempotencyConflict");
        add(422, "IdempotencyMismatch");
    }
    add(500, "Internal");
    add(503, "Unavailable");
    operation.insert("responses".to_owned(), Value::Object(responses));

    if !open {
        operation.insert("security".to_owned(), json!([{ BEARER: [] }]));
        let roles = match allowed {
            Some(Some(roles)) => roles
                .iter()
                .map(|r| {
                    if *r == auth::Role::Customer {
                        "customer (own orders only)"
                    } else {
                        r.name()
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none (the route is not in the role table)".to_owned(),
        };
        let description = operation
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let sep = if description.is_empty() { "" } else { "\n\n" };
        operation.insert(
            "description".to_owned(),
            Value::String(format!("{description}{sep}Roles: {roles}.")),
        );
    }

    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    if let Value::Array(parameters) = parameters {
        let uuid_id = ["/orders/", "/returns/", "/customers/"]
            .iter()
            .any(|p| path.starts_with(p));
        for parameter in parameters.iter_mut() {
            let is_id = parameter["in"] == "path" && parameter["name"] == "id";
            if is_id && uuid_id {
                parameter["schema"] = json!({ "type": "string", "format": "uuid" });
            }
        }
        if idempotent {
            parameters.push(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "A key chosen by the client: the same key with the same request \
            within 24 hours answers the first response again (without running the request twice); \
            the same key with another request is 422; while the first is still running, 409.",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^[ -~]*[!-~][ -~]*$"
                }
            }));
        }
        if parameters.is_empty() {
            operation.remove("parameters");
        }
    }
}

/// What the document must hold; each broken rule is one line.
pub fn check(doc: &Value) -> Vec<String> {
    let mut broken = Vec::new();
    if doc["components"]["securitySchemes"][BEARER]["scheme"] != "bearer" {
        broken.push("no bearer security scheme".to_owned());
    }
    let mut seen = std::collections::BTreeMap::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        for method in METHODS {
            let Some(operation) = item.get(*method) else {
                continue;
            };
            let at = format!("{} {path}", method.to_ascii_uppercase());
            match operation["operationId"].as_str() {
                None => broken.push(format!("{at}: no operationId")),
                Some(id) => {
                    let camel = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && id.chars().all(|c| c.is_ascii_alphanumeric());
                    if !camel {
                        broken.push(format!("{at}: operationId `{id}` is not camelCase"));
                    }
                    if let Some(first) = seen.insert(id.to_owned(), at.clone()) {
                        broken.push(format!("{at}: operationId `{id}` is also {first}'s"));
                    }
                }
            }
            let open = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .ok()
                .and_then(|m| auth::allowed(&m, path))
                .is_some_and(|a| a.is_none());
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get(BEARER).is_some()));
            if open == secured {
                broken.push(format!(
                    "{at}: {}",
                    if open {
                        "an open route requires a credential"
                    } else {
                        "a protected route has no security requirement"
                    }
                ));
            }
            let responses = operation["responses"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (status, response) in &responses {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let schema = if let Some(name) = response["$ref"].as_str() {
                    let name = name.rsplit('/').next().unwrap_or_default();
                    doc["components"]["responses"][name]["content"][PROBLEM_JSON]["schema"].clone()
                } else {
                    response["content"][PROBLEM_JSON]["schema"].clone()
                };
                if schema.is_null() {
                    broken.push(format!("{at}: the {status} answer has no problem body"));
                }
            }
        }
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        crate::openapi_document()
    }

    #[test]
    fn the_document_holds_every_rule_of_the_contract() {
        let broken = check(&document());
        assert!(broken.is_empty(), "{}", broken.join("\n"));
    }

    #[test]
    fn operation_ids_are_unique_and_camel_case() {
        let doc = document();
        let mut ids = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for method in METHODS {
                if let Some(id) = item[*method]["operationId"].as_str() {
                    ids.push(id.to_owned());
                }
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "{ids:?}");
        assert!(ids.contains(&"placeOrder".to_owned()), "{ids:?}");
    }

    #[test]
    fn protected_routes_need_the_bearer_scheme_and_open_ones_do_not() {
        let doc = document();
        assert_eq!(doc["components"]["securitySchemes"][BEARER]["type"], "http");
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        let get_order = &doc["paths"]["/orders/{id}"]["get"];
        assert_eq!(get_order["security"], json!([{ BEARER: [] }]));
        assert!(get_order["responses"]["401"].is_object());
        assert!(get_order["responses"]["403"].is_object());
        for (path, method) in [
            ("/healthz", "get"),
            ("/readyz", "get"),
            ("/webhooks/payment", "post"),
        ] {
            let operation = &doc["paths"][path][method];
            assert!(operation["security"].is_null(), "{path}: {operation}");
            assert!(operation["responses"]["403"].is_null(), "{path}");
        }
    }

    #[test]
    fn a_route_with_a_body_documents_413_and_415_and_a_post_its_idempotency_key() {
        let doc = document();
        let place = &doc["paths"]["/orders"]["post"];
        for status in ["400", "408", "409", "413", "415", "422", "500", "503"] {
            assert!(place["responses"][status].is_object(), "{status}");
        }
        let key = place["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .expect("the Idempotency-Key header");
        assert_eq!(key["schema"]["maxLength"], 255);
        let patch = &doc["paths"]["/orders/{id}"]["patch"];
        assert!(patch["responses"]["415"].is_object());
        let daily = &doc["paths"]["/metrics/daily"]["get"];
        assert!(daily["responses"]["400"].is_object(), "a query parameter");
        let saga = &doc["paths"]["/orders/{id}/saga"]["get"];
        assert!(
            saga["responses"]["404"].is_object(),
            "a path naming an order"
        );
        let webhook = &doc["paths"]["/webhooks/carrier"]["post"];
        assert!(webhook["responses"]["415"].is_object());
        assert!(
            webhook["parameters"]
                .as_array()
                .is_none_or(|p| p.iter().all(|p| p["name"] != "Idempotency-Key"))
        );
    }

    #[test]
    fn a_webhook_body_is_one_envelope_per_event_type_with_its_data_schema() {
        let doc = document();
        let schema = &doc["paths"]["/webhooks/inventory"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let variants = schema["oneOf"].as_array().expect("oneOf");
        assert_eq!(variants.len(), 2, "{schema}");
        assert_eq!(
            variants[0]["properties"]["type"]["enum"],
            json!(["stock-allocated"])
        );
        let data = variants[1]["properties"]["data"]["$ref"].as_str().unwrap();
        assert_eq!(data, "#/components/schemas/StockAllocationFailed");
        let name = data.rsplit('/').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }

    #[test]
    fn bounds_the_server_enforces_are_in_the_schemas() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let quantity = &schemas["OrderItemInput"]["properties"]["quantity"];
        assert_eq!(quantity["format"], "int64", "{quantity}");
        assert_eq!(quantity["maximum"], 4_294_967_295_u64);
        assert_eq!(quantity["minimum"], 1);
        assert_eq!(
            schemas["OrderItemInput"]["properties"]["sku"]["maxLength"],
            50
        );
        assert_eq!(
            schemas["PlaceOrderRequest"]["properties"]["order_id"]["format"],
            "uuid"
        );
        assert_eq!(
            schemas["PlaceOrderRequest"]["properties"]["items"]["maxItems"],
            100
        );
        assert_eq!(
            schemas["Money"]["properties"]["amount"]["maximum"],
            9_999_999_999_u64
        );
        let created = &schemas["Order"]["properties"]["created_at"];
        assert_eq!(created["type"], "string");
        assert_eq!(created["format"], "date-time");
        let id = doc["paths"]["/orders/{id}"]["get"]["parameters"][0].clone();
        assert_eq!(id["schema"]["format"], "uuid", "{id}");
    }
}
