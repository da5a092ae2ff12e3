//! The web console at `/console`: the order service for customer-service
//! and warehouse staff in a browser, served by `serve` itself
//! (docs/console.md; the choices are decision 0017).
//!
//! Server-rendered HTML ([`html`], the shared [`parts`], a module per page
//! in [`pages`]) with one small script that polls the live pages, and a
//! style sheet, both compiled into the binary.
//! Sign-in takes an API key or a JWT and checks it with the API's
//! [`Authenticator`](crate::auth::Authenticator) on every request;
//! the credential is kept in an HttpOnly, SameSite=Strict cookie (Secure
//! unless the console is reached on a loopback address). Every form
//! carries a token derived from the credential with a key of this process
//! (HMAC-SHA256), checked on every POST. What a role may do is read from
//! the API's role table ([`auth::RULES`]): each console action is allowed
//! exactly when the API route doing the same is. Commands go through the
//! typed service, with the signed-in principal as their actor.

mod html;
mod pages;
mod parts;
pub mod summaries;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::{self, Principal, Refusal, Role};
use crate::{AppState, Problem, dto};
use html::{Notice, NoticeKind};

/// The cookie that holds the credential.
const COOKIE: &str = "order_console";
/// The cookie of the sign-in form's token (before there is a credential).
const SIGN_IN_COOKIE: &str = "order_console_sign_in";

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    app: AppState,
    /// The key of the forms' tokens, random per process.
    secret: Arc<[u8; 32]>,
}

/// The console's routes, with their own state; merged beside the API.
pub fn router(app: AppState) -> Router<AppState> {
    let mut secret = [0u8; 32];
    if let Err(error) = random(&mut secret) {
        tracing::error!(%error, "no random key for the console's form tokens; the console refuses every form");
    }
    let console = Console {
        app,
        secret: Arc::new(secret),
    };
    Router::new()
        .route("/console", get(pages::home))
        .route("/console/", get(pages::home))
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/orders", get(pages::find::orders))
        .route("/console/orders/{id}", get(pages::order::order))
        .route("/console/orders/{id}/cancel", post(pages::actions::cancel))
        .route(
            "/console/orders/{id}/saga/retry",
            post(pages::actions::retry_saga),
        )
        .route(
            "/console/returns/{id}/approve",
            post(pages::actions::approve),
        )
        .route("/console/returns/{id}/deny", post(pages::actions::deny))
        .route(
            "/console/returns/{id}/receive",
            post(pages::actions::receive),
        )
        .route("/console/returns/{id}/refund", post(pages::actions::refund))
        .route("/console/attention", get(pages::attention::attention))
        .route("/console/warehouse", get(pages::warehouse::warehouse))
        .route("/console/metrics", get(pages::metrics::metrics))
        .layer(axum::middleware::from_fn(headers))
        .with_state(console)
}

fn random(bytes: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")?.read_exact(bytes)
}

/// Every console answer: never cached, never framed, scripts and styles
/// from this server only.
async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

// --- who is asking ------------------------------------------------------------

/// A signed-in member of staff, with the token of their forms.
pub struct Staff {
    pub principal: Principal,
    pub csrf: String,
}

impl Console {
    fn token(&self, credential: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(self.secret.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(b"console-form\0");
        mac.update(credential.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The principal behind the request's cookie, checked now by the API's
    /// authenticator; otherwise the answer to give (the sign-in page, or
    /// 403 for a customer).
    fn staff(&self, headers: &HeaderMap) -> Result<Staff, Box<Response>> {
        let Some(credential) = cookie(headers, COOKIE) else {
            return Err(Box::new(to_sign_in(None)));
        };
        let now_s = self.app.host().clock.now_ms() / 1000;
        match self
            .app
            .authenticator()
            .authenticate(Some(&format!("Bearer {credential}")), now_s)
        {
            Ok(principal) if may_open(principal.role) => Ok(Staff {
                csrf: self.token(&credential),
                principal,
            }),
            Ok(principal) => Err(Box::new(customer_refused(&principal))),
            Err(refusal) => Err(Box::new(to_sign_in(Some(refusal_words(&refusal))))),
        }
    }

    /// [`Console::staff`] for a form: also checks its token.
    fn staff_posting(&self, headers: &HeaderMap, token: &str) -> Result<Staff, Box<Response>> {
        let staff = self.staff(headers)?;
        if !same(token.as_bytes(), staff.csrf.as_bytes()) {
            return Err(Box::new(csrf_refused()));
        }
        Ok(staff)
    }
}

/// Whether a role may open the console at all: the roles that may read a
/// saga through the API (staff), never a customer.
pub fn may_open(role: Role) -> bool {
    role != Role::Customer && may(role, "GET", "/orders/{id}/saga")
}

/// Whether `role` may do in the console what the API route `method path`
/// does: the one role table, [`auth::RULES`].
pub fn may(role: Role, method: &str, route: &str) -> bool {
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return false;
    };
    match auth::allowed(&method, route) {
        Some(Some(roles)) => roles.contains(&role),
        Some(None) => true,
        None => false,
    }
}

/// The console's answer to a role the API table does not allow.
fn role_refused(principal: &Principal, what: &str) -> Response {
    pages::problem_page(
        StatusCode::FORBIDDEN,
        "Not allowed for this role",
        &format!(
            "the {} role may not {what} (the role table is in docs/http-api.md)",
            principal.role.name()
        ),
    )
}

fn customer_refused(principal: &Principal) -> Response {
    pages::problem_page(
        StatusCode::FORBIDDEN,
        "The console is for staff",
        &format!(
            "a {} credential cannot open the console; customers use the API or the shop",
            principal.role.name()
        ),
    )
}

fn csrf_refused() -> Response {
    pages::problem_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "the form's security token does not match this sign-in (it may come from an older \
         page or another site); open the page again and repeat the action",
    )
}

fn refusal_words(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Missing | Refusal::Malformed => "enter an API key or a token".to_owned(),
        Refusal::UnknownKey => "the API key is not valid".to_owned(),
        Refusal::BadToken(why) => why.clone(),
    }
}

/// Compares two byte strings in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// True when the request came to a loopback name, where a cookie without
/// `Secure` is acceptable (plain HTTP on this machine).
fn on_loopback(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let secure = if on_loopback(headers) { "" } else { "; Secure" };
    let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict{secure}{age}"
    ))
    .unwrap_or(HeaderValue::from_static("invalid=1"))
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

fn to_sign_in(why: Option<String>) -> Response {
    match why {
        None => see_other("/console/sign-in"),
        Some(why) => see_other(&format!("/console/sign-in?why={}", html::url_part(&why))),
    }
}

// --- sign-in and sign-out -------------------------------------------------------

#[derive(Deserialize)]
struct SignInQuery {
    why: Option<String>,
}

async fn sign_in_page(headers: HeaderMap, Query(query): Query<SignInQuery>) -> Response {
    let mut token = [0u8; 32];
    if random(&mut token).is_err() {
        return Problem::internal(&"no randomness for the sign-in form").into_response();
    }
    let token = hex::encode(token);
    let notice = query.why.map(|why| Notice {
        kind: NoticeKind::Refused,
        title: "Not signed in:".to_owned(),
        detail: why,
    });
    let mut response = pages::sign_in(&token, notice.as_ref(), StatusCode::OK);
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&headers, SIGN_IN_COOKIE, &token, Some(600)),
    );
    response
}

#[derive(Deserialize)]
struct SignInForm {
    credential: String,
    #[serde(default)]
    csrf: String,
}

/// Characters a credential may have: those of API keys and JWTs, which are
/// also safe in a cookie.
fn credential_ok(credential: &str) -> bool {
    !credential.is_empty()
        && credential.len() <= 8192
        && credential.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~' | b'+' | b'/' | b'=')
        })
}

async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(expected.as_bytes(), form.csrf.as_bytes()) {
        return csrf_refused();
    }
    let refuse = |detail: String| {
        let notice = Notice {
            kind: NoticeKind::Refused,
            title: "Not signed in:".to_owned(),
            detail,
        };
        pages::sign_in(&form.csrf, Some(&notice), StatusCode::UNAUTHORIZED)
    };
    let credential = form.credential.trim();
    let credential = credential
        .strip_prefix("Bearer ")
        .unwrap_or(credential)
        .trim();
    if !credential_ok(credential) {
        return refuse(
            "credential: an API key (ohk_…) or a JWT, without spaces or other characters"
                .to_owned(),
        );
    }
    if !console.app.authenticator().configured() {
        return refuse(
            "this server has no credential configured: start `serve --auth FILE` \
             (docs/http-api.md)"
                .to_owned(),
        );
    }
    let now_s = console.app.host().clock.now_ms() / 1000;
    match console
        .app
        .authenticator()
        .authenticate(Some(&format!("Bearer {credential}")), now_s)
    {
        Ok(principal) if may_open(principal.role) => {
            tracing::info!(actor = %principal.actor(), "console sign-in");
            let mut response = see_other("/console/orders");
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&headers, COOKIE, credential, None),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&headers, SIGN_IN_COOKIE, "", Some(0)),
            );
            response
        }
        Ok(principal) => customer_refused(&principal),
        Err(refusal) => refuse(refusal_words(&refusal)),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    // A stale sign-in still signs out; only a forged form is refused.
    if let Some(credential) = cookie(&headers, COOKIE)
        && !same(form.csrf.as_bytes(), console.token(&credential).as_bytes())
    {
        return csrf_refused();
    }
    let mut response = see_other("/console/sign-in");
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&headers, COOKIE, "", Some(0)),
    );
    response
}

/// The problem's words of a refused command, for the page.
fn refused(problem: &Problem) -> Notice {
    Notice {
        kind: NoticeKind::Refused,
        title: format!("{}:", problem.title),
        detail: problem.detail.clone(),
    }
}

fn done(title: &str, detail: String) -> Notice {
    Notice {
        kind: NoticeKind::Done,
        title: title.to_owned(),
        detail,
    }
}

/// Used by the pages for the order of a return.
pub(crate) fn return_dto(view: order_runtime::bindings::queries::ReturnView) -> dto::Return {
    view.into()
}
