//! Who may do what, on the real `order-host serve`: every route but health,
//! readiness and the signed webhooks answers 401 without a credential or
//! with a bad one; API keys (stored hashed) and RS256/ES256 tokens of a
//! configured issuer authenticate; each role gets 403 outside the role
//! table; a customer sees and changes only its own orders (another's answer
//! 404, as if absent); the actor recorded on events is the authenticated
//! principal; `serve` refuses a non-loopback address without credentials;
//! and `order-host api-key` makes keys the server then accepts.

mod support;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sha2::Digest as _;
use support::{ADMIN_KEY, Launch, Server, id, order};

const SUPPORT_KEY: &str = "ohk_support_1111111111111111111111111111111111111111111111111111111";
const WAREHOUSE_KEY: &str = "ohk_warehouse_22222222222222222222222222222222222222222222222222222";
const REPORTING_KEY: &str = "ohk_reporting_33333333333333333333333333333333333333333333333333333";
const CUSTOMER_A_KEY: &str = "ohk_customer_a_444444444444444444444444444444444444444444444444444";
const CUSTOMER_B_KEY: &str = "ohk_customer_b_555555555555555555555555555555555555555555555555555";
const ISSUER: &str = "https://id.shop.test/";
const AUDIENCE: &str = "order-api";

fn hash(key: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(key.as_bytes()))
    )
}

fn customer(name: &str) -> String {
    id(&format!("customer:{name}"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/auth")
        .join(name)
}

/// A credentials file with one key per role (two customers) and the test
/// issuer's JWKS.
fn auth_file(dir: &Path) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, role, key, customer_id) in [
        ("root", "admin", ADMIN_KEY, None),
        ("sam", "support", SUPPORT_KEY, None),
        ("dock", "warehouse", WAREHOUSE_KEY, None),
        ("bi", "reporting", REPORTING_KEY, None),
        ("web-a", "customer", CUSTOMER_A_KEY, Some(customer("a"))),
        ("web-b", "customer", CUSTOMER_B_KEY, Some(customer("b"))),
    ] {
        text.push_str(&format!(
            "[[api-keys]]\nname = \"{name}\"\nrole = \"{role}\"\nhash = \"{}\"\n",
            hash(key)
        ));
        if let Some(c) = customer_id {
            text.push_str(&format!("customer-id = \"{c}\"\n"));
        }
    }
    std::fs::copy(fixture("jwks.json"), dir.join("jwks.json")).unwrap();
    text.push_str(&format!(
        "[jwt]\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\nkeys = \"jwks.json\"\n"
    ));
    let path = dir.join("auth.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(dir: &Path) -> Server {
    let auth = auth_file(dir);
    Server::start(
        dir,
        &Launch::serve(dir.join("orders.db")).args(&[
            "--auth",
            auth.to_str().unwrap(),
            "--webhook-secret",
            "whsec_auth_tests",
        ]),
    )
}

struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    json: Value,
}

fn call(
    server: &Server,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let headers: Vec<(&str, String)> = bearer
        .map(|token| ("authorization", format!("Bearer {token}")))
        .into_iter()
        .collect();
    let url = format!("http://{}{path}", server.address());
    let body = body.map(|body| ("application/json", body.to_string()));
    let mut response = support::exchange(
        &support::agent(Duration::from_secs(30)),
        method,
        &url,
        body,
        &headers,
    )
    .expect("the server answers");
    let www_authenticate = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status: response.status().as_u16(),
        www_authenticate,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// `GET path` with `key` as the bearer credential.
fn get(server: &Server, path: &str, key: &str) -> Answer {
    call(server, "GET", path, Some(key), None)
}

/// `POST path` of `body` with `key` as the bearer credential.
fn post(server: &Server, path: &str, key: &str, body: &Value) -> Answer {
    call(server, "POST", path, Some(key), Some(body))
}

fn order_of(customer_name: &str, name: &str) -> Value {
    let mut body = order(name, "store-tests");
    body["customer_id"] = json!(customer(customer_name));
    body
}

/// A cart of the customer: it stays a draft (no saga moves it on), so it
/// can be cancelled whenever a test gets to it.
fn draft_of(customer_name: &str, name: &str) -> Value {
    let mut body = order_of(customer_name, name);
    body["draft"] = json!(true);
    body
}

/// Every `(method, path)` of the OpenAPI document, with `{id}` filled in.
fn routes(server: &Server) -> Vec<(String, String)> {
    let doc = get(server, "/openapi.json", ADMIN_KEY).json;
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_some() {
                routes.push((
                    method.to_uppercase(),
                    path.replace("{id}", &id("some-entity")),
                ));
            }
        }
    }
    assert!(routes.len() > 20, "the document lists the routes");
    routes
}

#[test]
fn every_route_but_health_and_webhooks_needs_a_valid_credential() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let open = ["/healthz", "/readyz"];
    for (method, path) in routes(&server) {
        let body = (method != "GET").then(|| json!({}));
        for bearer in [None, Some("ohk_not_a_key"), Some("a.b.c")] {
            let answer = call(&server, &method, &path, bearer, body.as_ref());
            if open.contains(&path.as_str()) {
                assert_eq!(answer.status, 200, "{method} {path} is open");
            } else if path.starts_with("/webhooks/") {
                // Open to the signature check, which refuses an unsigned
                // body (no bearer challenge: no credential is asked for).
                assert_eq!(answer.status, 401, "{method} {path}");
                assert_eq!(answer.www_authenticate, None, "{method} {path}");
            } else {
                assert_eq!(
                    answer.status, 401,
                    "{method} {path} with {bearer:?}: {}",
                    answer.json
                );
                assert_eq!(
                    answer.json["type"], "urn:order-host:problem:unauthorized",
                    "{method} {path}"
                );
                assert_eq!(
                    answer.www_authenticate.as_deref(),
                    Some("Bearer realm=\"order-host\""),
                    "{method} {path}"
                );
            }
        }
    }
    // Every served route is in the role table.
    for (method, path) in routes(&server) {
        let template = path.replace(&id("some-entity"), "{id}");
        assert!(
            order_server::auth::RULES
                .iter()
                .any(|(m, r, _)| *m == method && *r == template),
            "{method} {template} is not in the role table"
        );
    }
}

#[test]
fn each_role_is_refused_what_the_table_does_not_give_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let some = id("unknown");
    let forbidden = |key: &str, method: &str, path: &str, body: Option<Value>| {
        let answer = call(&server, method, path, Some(key), body.as_ref());
        assert_eq!(answer.status, 403, "{method} {path}: {}", answer.json);
        assert_eq!(answer.json["type"], "urn:order-host:problem:forbidden");
    };
    let allowed = |key: &str, method: &str, path: &str, body: Option<Value>| {
        let answer = call(&server, method, path, Some(key), body.as_ref());
        assert!(
            answer.status != 401 && answer.status != 403,
            "{method} {path} is allowed: {} {}",
            answer.status,
            answer.json
        );
        answer
    };
    // Reporting reads, never writes.
    forbidden(
        REPORTING_KEY,
        "POST",
        "/orders",
        Some(order("r", "store-tests")),
    );
    forbidden(
        REPORTING_KEY,
        "POST",
        &format!("/orders/{some}/cancel"),
        Some(json!({"reason": "x"})),
    );
    assert_eq!(allowed(REPORTING_KEY, "GET", "/metrics", None).status, 200);
    allowed(REPORTING_KEY, "GET", &format!("/orders/{some}"), None);
    // The warehouse receives returns, but does not decide or refund them.
    allowed(
        WAREHOUSE_KEY,
        "POST",
        &format!("/returns/{some}/receive"),
        Some(json!({"condition": "as new", "all_items_received": true})),
    );
    forbidden(
        WAREHOUSE_KEY,
        "POST",
        &format!("/returns/{some}/approve"),
        Some(json!({})),
    );
    forbidden(
        WAREHOUSE_KEY,
        "POST",
        &format!("/returns/{some}/refund"),
        Some(json!({"refund_amount": {"amount": 1}, "refund_method": "gift-card"})),
    );
    forbidden(WAREHOUSE_KEY, "GET", "/metrics/daily?date=2026-12-01", None);
    // Support decides and refunds, but sees no metrics.
    allowed(
        SUPPORT_KEY,
        "POST",
        &format!("/returns/{some}/refund"),
        Some(json!({"refund_amount": {"amount": 1}, "refund_method": "credit-card"})),
    );
    forbidden(SUPPORT_KEY, "GET", "/metrics", None);
    forbidden(
        SUPPORT_KEY,
        "POST",
        &format!("/returns/{some}/receive"),
        Some(json!({"condition": "as new", "all_items_received": true})),
    );
    // A customer neither decides nor refunds its own return, nor sees metrics.
    for action in ["approve", "deny", "refund", "close", "receive"] {
        forbidden(
            CUSTOMER_A_KEY,
            "POST",
            &format!("/returns/{some}/{action}"),
            Some(json!({})),
        );
    }
    forbidden(CUSTOMER_A_KEY, "GET", "/metrics", None);
    forbidden(CUSTOMER_A_KEY, "GET", &format!("/orders/{some}/saga"), None);
    // The admin may do everything.
    assert_eq!(allowed(ADMIN_KEY, "GET", "/metrics", None).status, 200);
    assert_eq!(
        allowed(ADMIN_KEY, "GET", "/metrics/daily?date=2026-12-01", None).status,
        200
    );
}

#[test]
fn a_customer_sees_and_changes_only_its_own_orders() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let mine = draft_of("a", "mine");
    let order_id = mine["order_id"].as_str().unwrap().to_owned();

    // Placing in another customer's name is refused, naming the field.
    let other = post(&server, "/orders", CUSTOMER_A_KEY, &order_of("b", "theirs"));
    assert_eq!(other.status, 403, "{}", other.json);
    assert_eq!(other.json["field"], "customer_id");

    let placed = post(&server, "/orders", CUSTOMER_A_KEY, &mine);
    assert_eq!(placed.status, 201, "{}", placed.json);
    let got = get(&server, &format!("/orders/{order_id}"), CUSTOMER_A_KEY);
    assert_eq!(got.status, 200);
    assert_eq!(got.json["order_id"], order_id.as_str());

    // Customer B learns nothing: the same 404 as for an order that is not there.
    let absent = get(
        &server,
        &format!("/orders/{}", id("absent")),
        CUSTOMER_B_KEY,
    );
    assert_eq!(absent.status, 404);
    for path in [
        format!("/orders/{order_id}"),
        format!("/orders/{order_id}/events"),
        format!("/orders/{order_id}/shipments"),
        format!("/orders/{order_id}/returns"),
        format!("/customers/{}/orders", customer("a")),
    ] {
        let answer = get(&server, &path, CUSTOMER_B_KEY);
        assert_eq!(answer.status, 404, "{path}: {}", answer.json);
        assert_eq!(answer.json["type"], absent.json["type"], "{path}");
        assert!(
            !answer.json.to_string().contains(&customer("a")),
            "{path} says nothing of the order"
        );
    }
    let cancel = post(
        &server,
        &format!("/orders/{order_id}/cancel"),
        CUSTOMER_B_KEY,
        &json!({"reason": "not mine"}),
    );
    assert_eq!(cancel.status, 404, "{}", cancel.json);
    let list = get(
        &server,
        &format!("/customers/{}/orders", customer("a")),
        CUSTOMER_A_KEY,
    );
    assert_eq!(list.status, 200);
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));

    // Its own cancellation records the key, whatever the body says.
    let cancelled = post(
        &server,
        &format!("/orders/{order_id}/cancel"),
        CUSTOMER_A_KEY,
        &json!({"reason": "changed my mind", "cancelled_by": "the support team"}),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.json);
    assert_eq!(
        cancelled.json["cancellation"]["cancelled_by"],
        "customer:web-a"
    );
    // Still the customer's to read, by staff too.
    let read = get(&server, &format!("/orders/{order_id}"), SUPPORT_KEY);
    assert_eq!(read.json["status"], "cancelled");
}

#[test]
fn staff_commands_record_the_authenticated_principal_as_the_actor() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let body = draft_of("a", "staff-cancel");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(post(&server, "/orders", SUPPORT_KEY, &body).status, 201);
    let cancelled = post(
        &server,
        &format!("/orders/{order_id}/cancel"),
        SUPPORT_KEY,
        &json!({"reason": "fraud suspected", "cancelled_by": "customer"}),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.json);
    assert_eq!(
        cancelled.json["cancellation"]["cancelled_by"],
        "support:sam"
    );
    let events = get(
        &server,
        &format!("/orders/{order_id}/events"),
        REPORTING_KEY,
    );
    assert!(
        events.json.to_string().contains("support:sam"),
        "the event names the principal: {}",
        events.json
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(algorithm: jsonwebtoken::Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let (key, file) = match algorithm {
        jsonwebtoken::Algorithm::RS256 => (true, "rsa-private.pem"),
        _ => (false, "ec-private.pem"),
    };
    let pem = std::fs::read(fixture(file)).unwrap();
    let key = if key {
        jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap()
    } else {
        jsonwebtoken::EncodingKey::from_ec_pem(&pem).unwrap()
    };
    let mut header = jsonwebtoken::Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[test]
fn tokens_of_the_configured_issuer_authenticate_and_bad_ones_are_refused() {
    use jsonwebtoken::Algorithm::{ES256, RS256};
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let body = order_of("a", "jwt");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(post(&server, "/orders", ADMIN_KEY, &body).status, 201);
    let path = format!("/orders/{order_id}");
    let claims =
        |sub: &str| json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now() + 600});

    // A customer's token (no role claim) reads its own order, not another's.
    let a = token(RS256, Some("rsa-1"), &claims(&customer("a")));
    assert_eq!(get(&server, &path, &a).status, 200);
    let b = token(ES256, Some("ec-1"), &claims(&customer("b")));
    assert_eq!(get(&server, &path, &b).status, 404);
    // A staff token carries its role.
    let mut staff = claims("agent-7");
    staff["role"] = json!("support");
    let support = token(ES256, None, &staff);
    assert_eq!(get(&server, &path, &support).status, 200);
    assert_eq!(get(&server, "/metrics", &support).status, 403);

    let mut refused = Vec::new();
    let mut expired = claims(&customer("a"));
    expired["exp"] = json!(now() - 3600);
    refused.push(("expired", token(RS256, Some("rsa-1"), &expired)));
    let mut audience = claims(&customer("a"));
    audience["aud"] = json!("another-api");
    refused.push(("another audience", token(RS256, Some("rsa-1"), &audience)));
    let mut issuer = claims(&customer("a"));
    issuer["iss"] = json!("https://evil.test/");
    refused.push(("another issuer", token(RS256, Some("rsa-1"), &issuer)));
    let mut no_exp = claims(&customer("a"));
    no_exp.as_object_mut().unwrap().remove("exp");
    refused.push(("no expiry", token(RS256, Some("rsa-1"), &no_exp)));
    let mut bad_role = claims(&customer("a"));
    bad_role["role"] = json!("superuser");
    refused.push(("an unknown role", token(RS256, Some("rsa-1"), &bad_role)));
    // The EC key's signature under the RSA key's id.
    refused.push((
        "a kid of another key",
        token(ES256, Some("rsa-1"), &claims(&customer("a"))),
    ));
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(&customer("a")),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    refused.push(("HS256", hs));
    let mut tampered = a.clone();
    tampered.pop();
    tampered.push(if a.ends_with('A') { 'B' } else { 'A' });
    refused.push(("a tampered signature", tampered));
    for (what, token) in refused {
        let answer = get(&server, &path, &token);
        assert_eq!(answer.status, 401, "{what}: {}", answer.json);
        assert_eq!(
            answer.json["type"], "urn:order-host:problem:unauthorized",
            "{what}"
        );
    }
}

#[test]
fn without_credentials_serve_refuses_outside_loopback_and_answers_401_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    // A non-loopback address is refused before anything is bound.
    let output = support::cli(dir.path(), &store, &["serve", "--bind", "0.0.0.0:0"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        support::stderr(&output)
    );
    assert!(
        support::stderr(&output).contains("no credential configured"),
        "{}",
        support::stderr(&output)
    );

    // On loopback it serves, but every protected route says how to configure a key.
    let server = Server::start(dir.path(), &Launch::serve(&store).args(&["--no-auth"]));
    let open = call(&server, "GET", "/metrics", None, None);
    assert_eq!(open.status, 200, "--no-auth turns authentication off");
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("orders.db");
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let server = Server::start(
        dir.path(),
        &Launch::serve(&store).args(&["--auth", empty.to_str().unwrap()]),
    );
    assert_eq!(call(&server, "GET", "/healthz", None, None).status, 200);
    let answer = get(&server, &format!("/orders/{}", id("x")), ADMIN_KEY);
    assert_eq!(answer.status, 401);
    assert!(
        answer.json["detail"].as_str().unwrap().contains("--auth"),
        "{}",
        answer.json
    );
}

#[test]
fn api_key_new_makes_a_key_that_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let output = support::order_host(dir.path())
        .args(["api-key", "new", "--role", "reporting", "--name", "bi"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr(&output));
    let entry = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = support::stderr(&output);
    let key = stderr
        .split_whitespace()
        .find(|w| w.starts_with("ohk_"))
        .expect("the key is printed on stderr");
    assert!(!entry.contains(key), "the entry keeps only the hash");
    assert!(entry.contains(&hash(key)), "{entry}");

    // `api-key hash` gives the same hash.
    let mut child = support::order_host(dir.path())
        .args(["api-key", "hash"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), key.as_bytes()).unwrap();
    let hashed = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(hashed.stdout).unwrap().trim(), hash(key));

    let auth = dir.path().join("auth.toml");
    std::fs::write(&auth, &entry).unwrap();
    let server = Server::start(
        dir.path(),
        &Launch::serve(dir.path().join("orders.db")).args(&["--auth", auth.to_str().unwrap()]),
    );
    assert_eq!(get(&server, "/metrics", key).status, 200);
    assert_eq!(
        call(
            &server,
            "POST",
            "/orders",
            Some(key),
            Some(&order("k", "store-tests"))
        )
        .status,
        403
    );

    // A malformed credentials file is a usage error naming the entry.
    std::fs::write(
        &auth,
        "[[api-keys]]\nname = \"x\"\nrole = \"customer\"\nhash = \"sha256:00\"\n",
    )
    .unwrap();
    let output = support::cli(
        dir.path(),
        &dir.path().join("orders.db"),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--auth",
            auth.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        support::stderr(&output).contains("api-keys[0].hash"),
        "{}",
        support::stderr(&output)
    );
}
