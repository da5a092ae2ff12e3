//! The web console's refusals on the real `order-host serve`, without a
//! browser: it signs in with the API's credentials into an HttpOnly,
//! SameSite=Strict cookie (no `Secure` on loopback); a customer credential
//! gets 403; a page without a sign-in goes to the sign-in form; a form
//! without the sign-in's token is refused; an action the role table does
//! not give the role is refused in words and changes nothing; and the
//! retry route is open to support and admin only.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use sha2::Digest as _;
use support::{ADMIN_KEY, Launch, Server, id, order};

const SUPPORT_KEY: &str = "ohk_console_support_111111111111111111111111111111111111111111111111";
const WAREHOUSE_KEY: &str = "ohk_console_warehouse_2222222222222222222222222222222222222222222222";
const CUSTOMER_KEY: &str = "ohk_console_customer_33333333333333333333333333333333333333333333333";

fn start(dir: &Path) -> Server {
    let hash = |key: &str| {
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(key.as_bytes()))
        )
    };
    let mut text = String::new();
    for (name, role, key) in [
        ("root", "admin", ADMIN_KEY),
        ("sam", "support", SUPPORT_KEY),
        ("dock", "warehouse", WAREHOUSE_KEY),
        ("web", "customer", CUSTOMER_KEY),
    ] {
        text.push_str(&format!(
            "[[api-keys]]\nname = \"{name}\"\nrole = \"{role}\"\nhash = \"{}\"\n",
            hash(key)
        ));
        if role == "customer" {
            text.push_str(&format!("customer-id = \"{}\"\n", id("customer:console")));
        }
    }
    let auth = dir.join("auth.toml");
    std::fs::write(&auth, text).unwrap();
    Server::start(
        dir,
        &Launch::serve(dir.join("orders.db")).args(&["--auth", auth.to_str().unwrap()]),
    )
}

#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    text: String,
}

fn send(
    server: &Server,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    bearer: Option<&str>,
) -> Answer {
    let mut headers = Vec::new();
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie.to_owned()));
    }
    if let Some(token) = bearer {
        headers.push(("authorization", format!("Bearer {token}")));
        headers.push(("idempotency-key", id(&format!("{path}{token}"))));
    }
    let url = format!("http://{}{path}", server.address());
    let body = form.map(|form| ("application/x-www-form-urlencoded", form.to_owned()));
    let mut response = support::exchange(
        &support::agent_following(Duration::from_secs(30), false),
        method,
        &url,
        body,
        &headers,
    )
    .expect("the server answers");
    let header = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let location = header("location").pop();
    let cookies = header("set-cookie");
    Answer {
        status: response.status().as_u16(),
        location,
        cookies,
        text: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// The value of `name="csrf"` in a page.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    page[at..at + 64].to_owned()
}

/// Signs `key` in; the cookie header to send afterwards, or the answer.
/// Asserts that `answer` has `status` and its page says `words`.
fn assert_answers(answer: &Answer, status: u16, words: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert!(answer.text.contains(words), "{}", answer.text);
}

fn sign_in(server: &Server, key: &str) -> Result<String, Answer> {
    let form = send(server, "GET", "/console/sign-in", None, None, None);
    assert_eq!(form.status, 200);
    let pre = form.cookies[0].split(';').next().unwrap().to_owned();
    let answer = send(
        server,
        "POST",
        "/console/sign-in",
        Some(&pre),
        Some(&format!("credential={key}&csrf={}", csrf(&form.text))),
        None,
    );
    if answer.status != 303 {
        return Err(answer);
    }
    let session = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("order_console="))
        .expect("the credential's cookie")
        .clone();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(
        !session.contains("Secure"),
        "plain HTTP on loopback: {session}"
    );
    Ok(session.split(';').next().unwrap().to_owned())
}

#[test]
fn the_console_signs_staff_in_and_refuses_customers_forged_forms_and_other_roles() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());

    // Without a sign-in, every page sends to the form.
    let page = send(&server, "GET", "/console/warehouse", None, None, None);
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/console/sign-in"));

    // A wrong key and a customer's key do not open it.
    let wrong = sign_in(&server, "ohk_wrong").unwrap_err();
    assert_answers(&wrong, 401, "the API key is not valid");
    let customer = sign_in(&server, CUSTOMER_KEY).unwrap_err();
    assert_answers(&customer, 403, "The console is for staff");
    assert!(
        customer
            .cookies
            .iter()
            .all(|c| !c.starts_with("order_console="))
    );

    // The sign-in form's own token is checked.
    let forged = send(
        &server,
        "POST",
        "/console/sign-in",
        Some("order_console_sign_in=abc"),
        Some(&format!("credential={SUPPORT_KEY}&csrf=def")),
        None,
    );
    assert_eq!(forged.status, 403);

    // An order delivered through the API, with a return requested.
    let body = order("console-refusals", "console");
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    let placed = send(&server, "POST", "/orders", None, None, None);
    assert_eq!(
        placed.status, 401,
        "the API still wants a bearer credential"
    );
    let agent = support::agent(Duration::from_secs(30));
    let placed = agent
        .post(format!("http://{}/orders", server.address()))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .header("idempotency-key", "console-place")
        .send_json(&body)
        .unwrap();
    assert_eq!(placed.status().as_u16(), 201);

    let support = sign_in(&server, SUPPORT_KEY).unwrap();
    let page = send(
        &server,
        "GET",
        &format!("/console/orders/{order_id}"),
        Some(&support),
        None,
        None,
    );
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(&order_id));
    assert!(page.text.contains("Fulfilment saga"));
    let token = csrf(&page.text);

    // A form without the token, or with another sign-in's, is refused.
    let cancel = format!("/console/orders/{order_id}/cancel");
    let refused = send(
        &server,
        "POST",
        &cancel,
        Some(&support),
        Some("reason=x"),
        None,
    );
    assert_eq!(refused.status, 403, "no token: {}", refused.text);
    let refused = send(
        &server,
        "POST",
        &cancel,
        Some(&support),
        Some(&format!("reason=x&csrf={}", "0".repeat(64))),
        None,
    );
    assert_answers(&refused, 403, "security token does not match");
    let warehouse = sign_in(&server, WAREHOUSE_KEY).unwrap();
    let refused = send(
        &server,
        "POST",
        &cancel,
        Some(&warehouse),
        Some(&format!("reason=x&csrf={token}")),
        None,
    );
    assert_eq!(
        refused.status, 403,
        "support's token is not the warehouse's"
    );

    // The warehouse's own token, but a role that may not cancel.
    let wpage = send(
        &server,
        "GET",
        &format!("/console/orders/{order_id}"),
        Some(&warehouse),
        None,
        None,
    );
    assert!(
        !wpage.text.contains("Cancel order"),
        "no cancel button for the warehouse"
    );
    let refused = send(
        &server,
        "POST",
        &cancel,
        Some(&warehouse),
        Some(&format!("reason=x&csrf={}", csrf(&wpage.text))),
        None,
    );
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .text
            .contains("the warehouse role may not cancel orders"),
        "{}",
        refused.text
    );
    let metrics = send(
        &server,
        "GET",
        "/console/metrics",
        Some(&support),
        None,
        None,
    );
    assert_eq!(
        metrics.status, 403,
        "the daily metrics are admin's and reporting's"
    );

    // Support's cancel of a shipped order is refused in the problem's words.
    let shipped = send(
        &server,
        "POST",
        &cancel,
        Some(&support),
        Some(&format!("reason=changed+mind&csrf={token}")),
        None,
    );
    if shipped.status == 303 {
        // The saga had not shipped it yet: the cancellation went through.
        let order: Value = agent
            .get(format!("http://{}/orders/{order_id}", server.address()))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        assert_eq!(order["status"], "cancelled");
        assert_eq!(
            order["cancellation"]["cancelled_by"], "support:sam",
            "the actor is the signed-in person"
        );
    } else {
        assert_eq!(shipped.status, 409, "{}", shipped.text);
        assert!(
            shipped
                .text
                .contains("cancel-order is not allowed while the order is"),
            "{}",
            shipped.text
        );
    }

    // The retry route: support yes, warehouse no.
    let retry = format!("/orders/{order_id}/saga/retry");
    let answer = send(&server, "POST", &retry, None, None, Some(WAREHOUSE_KEY));
    assert_eq!(answer.status, 403, "{}", answer.text);
    let answer = send(&server, "POST", &retry, None, None, Some(SUPPORT_KEY));
    assert_eq!(answer.status, 200, "{}", answer.text);
    let report: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(report["order_id"], order_id.as_str());

    // Signing out clears the cookie.
    let out = send(
        &server,
        "POST",
        "/console/sign-out",
        Some(&support),
        Some(&format!("csrf={token}")),
        None,
    );
    assert_eq!(out.status, 303);
    assert!(
        out.cookies
            .iter()
            .any(|c| c.starts_with("order_console=;") && c.contains("Max-Age=0"))
    );
    server.stop();
}
