//! The console's pages and actions, a module each: [`find`], [`order`]
//! (one order and what can be done to it), [`actions`], [`attention`],
//! [`warehouse`], [`metrics`] (the day in pictures). Each page reads
//! through the typed service on the blocking pool, as the API's handlers
//! do; each action is the command of the API route that does the same,
//! allowed to the same roles, with the signed-in principal as its actor.
//! What they share is here: the frame around a page, the refusal page, and
//! the early answer a handler ends with.

pub(super) mod actions;
pub(super) mod attention;
pub(super) mod find;
pub(super) mod metrics;
pub(super) mod order;
mod returns;
pub(super) mod warehouse;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::html::{self, Frame, Notice, esc};
use super::summaries::{self, OrderFilter, Page};
use super::{Console, Staff, may, refused, see_other};
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::service::ServiceError;

/// An answer that ends a handler before its page: the sign-in page, a
/// refusal. `?` turns the checks' boxed answers into it.
pub(super) struct Early(Box<Response>);

impl From<Box<Response>> for Early {
    fn from(response: Box<Response>) -> Self {
        Self(response)
    }
}

impl IntoResponse for Early {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a handler answers: its page, or an early answer.
type Answer = Result<Response, Early>;

/// The signed-in staff a page is for, with the console; taken after the
/// page's other extractors, so their refusals come first as before.
pub(super) struct Signed {
    console: Console,
    staff: Staff,
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Early;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Early> {
        Ok(Self {
            staff: console.staff(&parts.headers)?,
            console: console.clone(),
        })
    }
}

/// A page of the orders under `filter` from the read model.
fn orders_of(
    host: &Host,
    filter: &OrderFilter,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<dto::Order>, ServiceError> {
    summaries::orders_page(&host.service, host.store.as_ref(), filter, cursor, limit)
}

/// A page of the navigation: its key and its title (also its heading).
#[derive(Clone, Copy)]
struct Place {
    key: &'static str,
    title: &'static str,
}

const FIND: Place = Place {
    key: "orders",
    title: "Find orders",
};

/// The navigation: `(key, href, label)`, each shown when the role may open it.
fn nav(staff: &Staff) -> Vec<(&'static str, &'static str, &'static str)> {
    let role = staff.principal.role;
    let mut entries = vec![
        ("orders", "/console/orders", "Find orders"),
        ("attention", "/console/attention", "Needs attention"),
        ("warehouse", "/console/warehouse", "Warehouse"),
    ];
    if may(role, "GET", "/metrics/daily") {
        entries.push(("metrics", "/console/metrics", "The day in pictures"));
    }
    entries
}

/// A page in the frame of `staff`, under the navigation entry `current`.
fn render(
    staff: &Staff,
    current: &str,
    title: &str,
    notice: Option<&Notice>,
    live: Option<u32>,
    status: StatusCode,
    body: &str,
) -> Response {
    let nav = nav(staff);
    let frame = Frame {
        principal: &staff.principal,
        csrf: &staff.csrf,
        current,
        nav: &nav,
    };
    html_response(status, html::page(title, Some(&frame), notice, live, body))
}

/// The page `place` with `body`, as it stands (200, no notice); `live`
/// as in [`html::page`].
fn shown(staff: &Staff, place: Place, live: Option<u32>, body: &str) -> Response {
    render(
        staff,
        place.key,
        place.title,
        None,
        live,
        StatusCode::OK,
        body,
    )
}

/// The page `title` under `current` with only its heading and the
/// problem's words above it, in the problem's status.
fn failed(staff: &Staff, current: &str, title: &str, problem: &Problem) -> Response {
    render(
        staff,
        current,
        title,
        Some(&refused(problem)),
        None,
        status_of(problem),
        &format!("<h1>{}</h1>", esc(title)),
    )
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A page that only says what went wrong, in the problem's words.
pub(super) fn problem_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"problem\">{}</p>\
         <p><a href=\"/console/orders\">Back to the console</a> · \
         <a href=\"/console/sign-in\">Sign in with another credential</a></p>",
        esc(title),
        esc(detail)
    );
    html_response(status, html::page(title, None, None, None, &body))
}

fn status_of(problem: &Problem) -> StatusCode {
    StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The sign-in page.
pub(super) fn sign_in(token: &str, notice: Option<&Notice>, status: StatusCode) -> Response {
    let body = format!(
        "<h1>Sign in</h1>\
         <form class=\"card narrow\" method=\"post\" action=\"/console/sign-in\">\
         <label for=\"credential\">API key or token</label>\
         <input id=\"credential\" name=\"credential\" type=\"password\" autocomplete=\"off\" \
          required autofocus spellcheck=\"false\">\
         {}<button type=\"submit\">Sign in</button>\
         <p class=\"hint\">The same credential as the API (<code>order-host api-key new</code>, \
         or a JWT of the shop's identity provider). Support, warehouse, reporting and admin \
         credentials open the console.</p></form>",
        html::csrf_field(token)
    );
    html_response(status, html::page("Sign in", None, notice, None, &body))
}

/// `/console`: the find page.
pub(super) async fn home(_: Signed) -> Response {
    see_other("/console/orders")
}
