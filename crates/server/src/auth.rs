//! Who is asking, and what they may do: bearer API keys (stored hashed) and
//! JWTs of the shop's identity provider, five roles, and the one table that
//! says which role may call which route ([`RULES`]).
//!
//! Every request passes [`authorize`] (a middleware) before its handler:
//! open routes (health, readiness, the signed webhooks) go through; every
//! other route needs a credential (401 without one or with a bad one), a
//! role listed for the route (403 otherwise), and for a *customer* the
//! order, return, shipment or customer asked for must be its own (404
//! otherwise, as if it did not exist). The handlers then read the
//! [`Principal`] from the request to record it as the actor of their
//! commands (`cancelled-by`, `approved-by`, `denied-by`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::AppState;
use super::problem::Problem;
use order_runtime::bindings::types::CommandError;
use order_runtime::service::{OrderService, ServiceError};

/// A role: what a principal may do (the table is [`RULES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A shop's customer: its own orders only.
    Customer,
    /// Shipments, tracking, receiving returns.
    Warehouse,
    /// Reads everything; cancels, decides returns, refunds.
    Support,
    /// Everything, metrics included.
    Admin,
    /// Reads everything, metrics included; changes nothing.
    Reporting,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Customer,
        Role::Warehouse,
        Role::Support,
        Role::Admin,
        Role::Reporting,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Warehouse => "warehouse",
            Role::Support => "support",
            Role::Admin => "admin",
            Role::Reporting => "reporting",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// Who made a request, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The key's name, or the token's subject.
    pub name: String,
    /// The customer a *customer* principal is (always set for that role).
    pub customer_id: Option<String>,
}

impl Principal {
    /// How the principal is recorded on the events of its commands:
    /// `role:name`, at most 100 characters (the bound of `cancelled-by`).
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role.name(), self.name)
            .chars()
            .take(100)
            .collect()
    }
}

// --- the table ----------------------------------------------------------------

use Role::{Admin, Customer, Reporting, Support, Warehouse};

/// Who may call a route: `None` is open to anyone (no credential read).
type Allowed = Option<&'static [Role]>;

const READERS: &[Role] = &[Customer, Warehouse, Support, Admin, Reporting];
const STAFF_READERS: &[Role] = &[Warehouse, Support, Admin, Reporting];

/// Every route of the API with the roles that may call it. A route missing
/// here is refused to everyone (403), so a new route is closed until it is
/// listed; `tests/tests/api_auth.rs` checks that every served route is
/// here. A *customer* is further limited to its own orders (see the module
/// documentation). The same table is in docs/http-api.md.
pub const RULES: &[(&str, &str, Allowed)] = &[
    ("POST", "/orders", Some(&[Customer, Support, Admin])),
    ("GET", "/orders", Some(READERS)),
    ("GET", "/orders/{id}", Some(READERS)),
    ("PATCH", "/orders/{id}", Some(&[Customer, Support, Admin])),
    ("GET", "/orders/{id}/events", Some(READERS)),
    ("GET", "/orders/{id}/saga", Some(STAFF_READERS)),
    ("POST", "/orders/{id}/saga/retry", Some(&[Support, Admin])),
    (
        "POST",
        "/orders/{id}/cancel",
        Some(&[Customer, Support, Admin]),
    ),
    ("GET", "/orders/{id}/shipments", Some(READERS)),
    ("GET", "/orders/{id}/returns", Some(READERS)),
    (
        "POST",
        "/orders/{id}/returns",
        Some(&[Customer, Support, Admin]),
    ),
    ("GET", "/customers/{id}/orders", Some(READERS)),
    ("GET", "/shipments/{id}", Some(READERS)),
    ("GET", "/shipments/{id}/events", Some(READERS)),
    ("GET", "/returns/{id}", Some(READERS)),
    ("GET", "/returns/{id}/events", Some(READERS)),
    ("POST", "/returns/{id}/approve", Some(&[Support, Admin])),
    ("POST", "/returns/{id}/deny", Some(&[Support, Admin])),
    (
        "POST",
        "/returns/{id}/ship",
        Some(&[Customer, Warehouse, Support, Admin]),
    ),
    ("POST", "/returns/{id}/receive", Some(&[Warehouse, Admin])),
    ("POST", "/returns/{id}/refund", Some(&[Support, Admin])),
    ("POST", "/returns/{id}/close", Some(&[Support, Admin])),
    ("GET", "/metrics/daily", Some(&[Admin, Reporting])),
    ("GET", "/metrics", Some(&[Admin, Reporting])),
    ("GET", "/openapi.json", Some(READERS)),
    ("GET", "/events", Some(&[Support, Admin, Reporting])),
    ("POST", "/webhook-endpoints", Some(&[Admin])),
    ("GET", "/webhook-endpoints", Some(&[Admin])),
    ("GET", "/webhook-endpoints/{id}", Some(&[Admin])),
    ("DELETE", "/webhook-endpoints/{id}", Some(&[Admin])),
    ("GET", "/webhook-endpoints/{id}/deliveries", Some(&[Admin])),
    (
        "POST",
        "/webhook-endpoints/{id}/deliveries/{event_id}/redeliver",
        Some(&[Admin]),
    ),
    ("POST", "/webhooks/payment", None),
    ("POST", "/webhooks/inventory", None),
    ("POST", "/webhooks/carrier", None),
    ("GET", "/healthz", None),
    ("GET", "/readyz", None),
];

/// The roles that may call `method route`: `Some(None)` for an open route,
/// `None` when the route is not in the table (refused to everyone).
pub fn allowed(method: &Method, route: &str) -> Option<Allowed> {
    RULES
        .iter()
        .find(|(m, r, _)| *m == method.as_str() && *r == route)
        .map(|(_, _, allowed)| *allowed)
}

// --- credentials --------------------------------------------------------------

/// The prefix of a stored key hash.
const HASH_PREFIX: &str = "sha256:";

/// The stored form of an API key: `sha256:` and the hex SHA-256 of the key.
/// Keys are 256 random bits, so a fast hash is enough: nobody can search
/// that space, and the hash is compared after a map look-up, never the key.
pub fn hash_key(key: &str) -> String {
    format!(
        "{HASH_PREFIX}{}",
        hex::encode(Sha256::digest(key.trim().as_bytes()))
    )
}

/// A new random API key: `ohk_` and 64 hex digits (256 bits from the
/// operating system's generator).
pub fn new_key() -> std::io::Result<String> {
    use std::io::Read as _;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("ohk_{}", hex::encode(bytes)))
}

/// The credentials file (`serve --auth FILE`, `ORDER_HOST_AUTH`): TOML, or
/// JSON when its name ends in `.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthFile {
    #[serde(default)]
    pub api_keys: Vec<ApiKeyEntry>,
    #[serde(default)]
    pub jwt: Option<JwtEntry>,
}

/// One API key: several may be valid at once (rotation: add the new key,
/// move the clients, remove the old one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiKeyEntry {
    /// Who holds it (recorded as the actor of its commands).
    pub name: String,
    pub role: Role,
    /// `sha256:<64 hex digits>` (`order-host api-key hash`).
    pub hash: String,
    /// The customer of a `customer` key (required for that role only).
    #[serde(default)]
    pub customer_id: Option<String>,
}

/// JWTs of the shop's identity provider.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JwtEntry {
    /// The `iss` every token must carry.
    pub issuer: String,
    /// The `aud` every token must carry (one of).
    pub audience: String,
    /// A JWKS file (`{"keys": [...]}`) or a PEM public key (RSA or EC
    /// P-256), relative to the credentials file.
    pub keys: PathBuf,
    /// The claim that names the customer [default: `sub`].
    #[serde(default)]
    pub customer_claim: Option<String>,
    /// The claim that names the role [default: `role`]; a token without it
    /// is a customer's.
    #[serde(default)]
    pub role_claim: Option<String>,
    /// How far `exp` and `nbf` may be off, in seconds [default: 60].
    #[serde(default)]
    pub leeway_seconds: Option<u64>,
}

/// Why a credentials file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthConfigError(pub String);

struct StoredKey {
    principal: Principal,
}

struct JwtVerifier {
    issuer: String,
    audience: String,
    customer_claim: String,
    role_claim: String,
    leeway: u64,
    /// `(kid, key, algorithm)`: RS256 for RSA keys, ES256 for P-256 keys.
    keys: Vec<(
        Option<String>,
        jsonwebtoken::DecodingKey,
        jsonwebtoken::Algorithm,
    )>,
}

/// Checks bearer credentials against the configured keys and token issuer.
#[derive(Default)]
pub struct Authenticator {
    keys: HashMap<String, StoredKey>,
    jwt: Option<JwtVerifier>,
    /// No authentication at all: every request is an admin's
    /// (`serve --no-auth`, for a gateway that authenticates in front).
    open: bool,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.keys.len())
            .field("jwt", &self.jwt.is_some())
            .field("open", &self.open)
            .finish()
    }
}

/// Why a credential was refused (said in the 401, never which key exists).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed,
    UnknownKey,
    BadToken(String),
}

impl Authenticator {
    /// No credential at all: every protected route answers 401.
    pub fn none() -> Self {
        Self::default()
    }

    /// Authentication turned off: every request acts as an admin.
    pub fn open() -> Self {
        Self {
            open: true,
            ..Self::default()
        }
    }

    /// True when some credential can be accepted (or authentication is off).
    pub fn configured(&self) -> bool {
        self.open || !self.keys.is_empty() || self.jwt.is_some()
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Reads a credentials file; relative paths in it are taken from its
    /// directory.
    pub fn from_file(path: &Path) -> Result<Self, AuthConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AuthConfigError(format!(
                "cannot read the credentials file {}: {e}",
                path.display()
            ))
        })?;
        let file: AuthFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| {
                AuthConfigError(format!("the credentials file {}: {e}", path.display()))
            })?
        } else {
            toml::from_str(&text).map_err(|e| {
                AuthConfigError(format!(
                    "the credentials file {}: {}",
                    path.display(),
                    e.message()
                ))
            })?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_settings(file, base)
    }

    /// Builds the authenticator from a parsed credentials file.
    pub fn from_settings(file: AuthFile, base: &Path) -> Result<Self, AuthConfigError> {
        let mut keys = HashMap::new();
        for (i, entry) in file.api_keys.into_iter().enumerate() {
            let at = format!("api-keys[{i}]");
            let name = entry.name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(AuthConfigError(format!(
                    "{at}.name must be 1..=64 characters"
                )));
            }
            let hash = entry.hash.trim().to_ascii_lowercase();
            let digits = hash.strip_prefix(HASH_PREFIX).unwrap_or("");
            if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(AuthConfigError(format!(
                    "{at}.hash must be `sha256:` and 64 hex digits (from `order-host api-key hash`)"
                )));
            }
            let customer_id = entry
                .customer_id
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty());
            match (entry.role, &customer_id) {
                (Role::Customer, None) => {
                    return Err(AuthConfigError(format!(
                        "{at}.customer-id is required for a customer key"
                    )));
                }
                (role, Some(_)) if role != Role::Customer => {
                    return Err(AuthConfigError(format!(
                        "{at}.customer-id is only for customer keys (this one is {})",
                        role.name()
                    )));
                }
                _ => {}
            }
            let stored = StoredKey {
                principal: Principal {
                    role: entry.role,
                    name: name.to_owned(),
                    customer_id,
                },
            };
            if keys.insert(hash, stored).is_some() {
                return Err(AuthConfigError(format!(
                    "{at}.hash is the hash of an earlier key"
                )));
            }
        }
        let jwt = file.jwt.map(|j| JwtVerifier::new(j, base)).transpose()?;
        Ok(Self {
            keys,
            jwt,
            open: false,
        })
    }

    /// The principal behind an `Authorization` header value.
    pub fn authenticate(&self, header: Option<&str>, now_s: u64) -> Result<Principal, Refusal> {
        if self.open {
            return Ok(Principal {
                role: Role::Admin,
                name: "unauthenticated".to_owned(),
                customer_id: None,
            });
        }
        let header = header.ok_or(Refusal::Missing)?.trim();
        let (scheme, token) = header.split_once(' ').ok_or(Refusal::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Refusal::Malformed);
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(Refusal::Malformed);
        }
        // A JWT has two dots; an API key has none.
        if token.matches('.').count() == 2 {
            return match &self.jwt {
                Some(jwt) => jwt.verify(token, now_s),
                None => Err(Refusal::BadToken(
                    "no token issuer is configured on this server".to_owned(),
                )),
            };
        }
        self.keys
            .get(&hash_key(token))
            .map(|k| k.principal.clone())
            .ok_or(Refusal::UnknownKey)
    }
}

impl JwtVerifier {
    fn new(entry: JwtEntry, base: &Path) -> Result<Self, AuthConfigError> {
        use jsonwebtoken::{Algorithm, DecodingKey};
        if entry.issuer.trim().is_empty() || entry.audience.trim().is_empty() {
            return Err(AuthConfigError(
                "jwt.issuer and jwt.audience must not be empty".to_owned(),
            ));
        }
        let path = base.join(&entry.keys);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            AuthConfigError(format!("jwt.keys: cannot read {}: {e}", path.display()))
        })?;
        let mut keys = Vec::new();
        if text.trim_start().starts_with("-----BEGIN") {
            if let Ok(key) = DecodingKey::from_rsa_pem(text.as_bytes()) {
                keys.push((None, key, Algorithm::RS256));
            } else if let Ok(key) = DecodingKey::from_ec_pem(text.as_bytes()) {
                keys.push((None, key, Algorithm::ES256));
            } else {
                return Err(AuthConfigError(format!(
                    "jwt.keys: {} is neither an RSA nor an EC public key in PEM",
                    path.display()
                )));
            }
        } else {
            let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text).map_err(|e| {
                AuthConfigError(format!("jwt.keys: {} is not a JWKS: {e}", path.display()))
            })?;
            for jwk in &set.keys {
                use jsonwebtoken::jwk::AlgorithmParameters;
                let algorithm = match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    // Other key types (symmetric, Ed25519) are not accepted.
                    _ => continue,
                };
                let key = DecodingKey::from_jwk(jwk).map_err(|e| {
                    AuthConfigError(format!("jwt.keys: a key of {}: {e}", path.display()))
                })?;
                keys.push((jwk.common.key_id.clone(), key, algorithm));
            }
        }
        if keys.is_empty() {
            return Err(AuthConfigError(format!(
                "jwt.keys: {} holds no RSA or EC P-256 public key",
                path.display()
            )));
        }
        Ok(Self {
            issuer: entry.issuer,
            audience: entry.audience,
            customer_claim: entry.customer_claim.unwrap_or_else(|| "sub".to_owned()),
            role_claim: entry.role_claim.unwrap_or_else(|| "role".to_owned()),
            leeway: entry.leeway_seconds.unwrap_or(60),
            keys,
        })
    }

    fn verify(&self, token: &str, now_s: u64) -> Result<Principal, Refusal> {
        use jsonwebtoken::{Algorithm, Validation};
        let bad = |why: &str| Refusal::BadToken(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed token"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(bad("the token's algorithm is not RS256 or ES256"));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.leeway;
        // Expiry is checked below against the server's clock, so that it
        // follows the same (possibly simulated) time as everything else.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let mut last = bad("no configured key matches the token");
        for (kid, key, algorithm) in &self.keys {
            if *algorithm != header.alg {
                continue;
            }
            if let (Some(want), Some(have)) = (&header.kid, kid)
                && want != have
            {
                continue;
            }
            match jsonwebtoken::decode::<serde_json::Value>(token, key, &validation) {
                Ok(data) => return self.principal(&data.claims, now_s),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last = match e.kind() {
                        ErrorKind::InvalidIssuer => bad("the token's issuer is not accepted"),
                        ErrorKind::InvalidAudience => bad("the token's audience is not accepted"),
                        ErrorKind::MissingRequiredClaim(claim) => {
                            Refusal::BadToken(format!("the token has no `{claim}` claim"))
                        }
                        ErrorKind::InvalidSignature => bad("the token's signature is not valid"),
                        _ => bad("the token is not valid"),
                    };
                }
            }
        }
        Err(last)
    }

    fn principal(&self, claims: &serde_json::Value, now_s: u64) -> Result<Principal, Refusal> {
        let bad = |why: String| Refusal::BadToken(why);
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| bad("the token's `exp` is not a number".to_owned()))?;
        if exp.saturating_add(self.leeway) <= now_s {
            return Err(bad("the token has expired".to_owned()));
        }
        if let Some(nbf) = claims.get("nbf").and_then(serde_json::Value::as_u64)
            && nbf > now_s.saturating_add(self.leeway)
        {
            return Err(bad("the token is not valid yet".to_owned()));
        }
        let role = match claims.get(&self.role_claim) {
            None => Role::Customer,
            Some(serde_json::Value::String(name)) => Role::parse(name)
                .ok_or_else(|| bad(format!("the token's `{}` is not a role", self.role_claim)))?,
            Some(_) => {
                return Err(bad(format!(
                    "the token's `{}` is not a string",
                    self.role_claim
                )));
            }
        };
        let subject = claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("token")
            .to_owned();
        let customer_id = if role == Role::Customer {
            let id = claims
                .get(&self.customer_claim)
                .and_then(serde_json::Value::as_str)
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "a customer's token needs a `{}` claim",
                        self.customer_claim
                    ))
                })?;
            Some(id)
        } else {
            None
        };
        Ok(Principal {
            role,
            name: subject,
            customer_id,
        })
    }
}

// --- the middleware -----------------------------------------------------------

fn unauthorized(detail: impl Into<String>) -> Response {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Credential missing or refused",
        detail,
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer realm=\"order-host\""),
    );
    response
}

fn forbidden(principal: &Principal, method: &Method, route: &str) -> Response {
    Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Not allowed for this role",
        format!(
            "the {} role may not call {method} {route} (see the role table in docs/http-api.md)",
            principal.role.name()
        ),
    )
    .into_response()
}

/// The same answer as for an id that does not exist.
fn not_found(entity: &str) -> Response {
    let mut problem = Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("no {entity} with that id"),
    );
    problem.entity = Some(entity.to_owned());
    problem.into_response()
}

/// Authenticates and authorises every request (see the module docs); puts
/// the [`Principal`] into the request's extensions for the handlers.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        // No route: the fallbacks answer 404 or 405 without reading anything.
        return next.run(request).await;
    };
    let method = request.method().clone();
    let roles = match allowed(&method, &route) {
        Some(None) => return next.run(request).await,
        Some(Some(roles)) => roles,
        // A method the route does not have: the fallback answers 405.
        None if RULES.iter().any(|(_, r, _)| *r == route) => {
            return next.run(request).await;
        }
        // A route missing from the table is closed (and a test fails).
        None => &[][..],
    };
    let auth = state.authenticator();
    if !auth.configured() {
        return unauthorized(
            "this server has no credential configured: give `serve --auth FILE` \
             a credentials file with API keys (`order-host api-key new`) or a token issuer; \
             see docs/http-api.md",
        );
    }
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match auth.authenticate(header, state.now_ms() / 1000) {
        Ok(principal) => principal,
        Err(Refusal::Missing) => {
            return unauthorized("send `Authorization: Bearer <API key or token>`");
        }
        Err(Refusal::Malformed) => {
            return unauthorized("the Authorization header must be `Bearer <API key or token>`");
        }
        Err(Refusal::UnknownKey) => return unauthorized("the API key is not valid"),
        Err(Refusal::BadToken(why)) => return unauthorized(why),
    };
    if !roles.contains(&principal.role) {
        return forbidden(&principal, &method, &route);
    }
    if let Some(customer) = principal.customer_id.clone() {
        let (parts, body) = request.into_parts();
        // `admit` has read the body into memory already (within its limit).
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(error) => return Problem::internal(&error).into_response(),
        };
        if let Err(response) = own_only(&state, &customer, &route, &parts, &bytes).await {
            return response;
        }
        let mut request = Request::from_parts(parts, axum::body::Body::from(bytes));
        request.extensions_mut().insert(principal);
        return next.run(request).await;
    }
    let mut request = request;
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The `{id}` of a request's path, from its template: the segment where the
/// template says `{id}`.
fn path_id(route: &str, path: &str) -> Option<String> {
    let index = route.split('/').position(|s| s == "{id}")?;
    path.split('/').nth(index).map(str::to_owned)
}

/// Lets a customer through only to its own orders (and their shipments and
/// returns) and to placing orders in its own name; anything else answers as
/// if it did not exist.
async fn own_only(
    state: &AppState,
    customer: &str,
    route: &str,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), Response> {
    let same = |other: &str| other.trim().eq_ignore_ascii_case(customer);
    if route == "/orders" {
        let named = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("customer_id")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
            });
        return match named {
            Some(named) if !same(&named) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this role",
                "a customer places orders in its own name only: `customer_id` must be the \
                 customer of the credential",
            )
            .with_field("customer_id")
            .into_response()),
            // Missing or malformed: the handler names the field.
            _ => Ok(()),
        };
    }
    if route == "/openapi.json" {
        return Ok(());
    }
    let Some(id) = path_id(route, parts.uri.path()) else {
        return Err(not_found("order"));
    };
    let (entity, owner) = if route.starts_with("/customers/") {
        ("customer", Ok(Some(id)))
    } else if route.starts_with("/orders/") {
        let owner = owner_of(state, id, |svc, id| {
            svc.get_order(id).map(|o| o.customer_id)
        });
        ("order", owner.await)
    } else if route.starts_with("/returns/") {
        let owner = owner_of(state, id, |svc, id| {
            svc.get_return(id).map(|r| r.customer_id)
        });
        ("return", owner.await)
    } else if route.starts_with("/shipments/") {
        let owner = owner_of(state, id, |svc, id| {
            let order_id = svc.get_shipment(id)?.order_id;
            svc.get_order(&order_id).map(|o| o.customer_id)
        });
        ("shipment", owner.await)
    } else {
        return Err(not_found("order"));
    };
    match owner {
        Ok(Some(owner)) if same(&owner) => Ok(()),
        // Unknown, or another customer's: the same 404.
        Ok(_) => Err(not_found(entity)),
        // A malformed id (400 naming it) or an unavailable store (503).
        Err(problem) => Err(problem.into_response()),
    }
}

/// The customer that owns what `id` names, read by `read` on the blocking
/// pool: `Ok(None)` when it is not found.
async fn owner_of(
    state: &AppState,
    id: String,
    read: impl FnOnce(&OrderService, &str) -> Result<String, ServiceError> + Send + 'static,
) -> Result<Option<String>, Problem> {
    state
        .blocking(move |host| lookup(read(&host.service, &id)))
        .await
}

/// `Ok(None)` for not found, the owner otherwise.
fn lookup(found: Result<String, ServiceError>) -> Result<Option<String>, Problem> {
    match found {
        Ok(owner) => Ok(Some(owner)),
        Err(ServiceError::Domain(CommandError::NotFound(_))) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
