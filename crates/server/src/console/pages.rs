//! The console's pages and actions: find, one order, needs attention,
//! warehouse, the day in pictures. Each page reads through the typed
//! service on the blocking pool, as the API's handlers do; each action is
//! the command of the API route that does the same, allowed to the same
//! roles, with the signed-in principal as its actor.

use std::fmt::Write as _;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::html::{self, Frame, Notice, NoticeKind, badge, esc, money, time, url_part};
use super::summaries::{self, OrderFilter};
use super::{Console, Staff, may, refused, role_refused, see_other};
use crate::text;
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::bindings::types::CommandError;
use order_runtime::service::ServiceError;
use order_runtime::store::SagaState;

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
pub(super) async fn home(State(console): State<Console>, headers: HeaderMap) -> Response {
    match console.staff(&headers) {
        Ok(_) => see_other("/console/orders"),
        Err(response) => *response,
    }
}

// --- find -----------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub(super) struct FindQuery {
    #[serde(default)]
    order_id: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    limit: String,
}

const STATUSES: [&str; 7] = [
    "draft",
    "pending",
    "confirmed",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
];

fn valid_day(day: &str) -> bool {
    let Ok(format) = ::time::format_description::parse_borrowed::<2>("[year]-[month]-[day]") else {
        return false;
    };
    day.len() == 10 && ::time::Date::parse(day, &format).is_ok()
}

/// `/console/orders`: by order id (straight to the order), by customer,
/// status and day, a page at a time.
pub(super) async fn orders(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<FindQuery>,
) -> Response {
    let staff = match console.staff(&headers) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    let order_id = query.order_id.trim();
    if !order_id.is_empty() {
        return see_other(&format!("/console/orders/{}", url_part(order_id)));
    }
    let mut problems = Vec::new();
    let limit = match query.limit.trim() {
        "" => summaries::DEFAULT_LIMIT,
        text => match text.parse::<usize>() {
            Ok(n) if (1..=summaries::MAX_LIMIT).contains(&n) => n,
            _ => {
                problems.push("limit: must be a whole number from 1 to 200".to_owned());
                summaries::DEFAULT_LIMIT
            }
        },
    };
    let status = query.status.trim().to_owned();
    if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
        problems.push(format!("status: `{status}` is not an order status"));
    }
    let day = query.day.trim().to_owned();
    if !day.is_empty() && !valid_day(&day) {
        problems.push(format!("day: `{day}` is not a date (YYYY-MM-DD)"));
    }
    let customer = query.customer_id.trim().to_owned();
    let cursor = query.cursor.trim().to_owned();

    let mut body = String::from("<h1>Find orders</h1>");
    body.push_str(&find_form(&customer, &status, &day, limit));
    if !problems.is_empty() {
        let notice = Notice {
            kind: NoticeKind::Refused,
            title: "Invalid search:".to_owned(),
            detail: problems.join("; "),
        };
        return render(
            &staff,
            "orders",
            "Find orders",
            Some(&notice),
            None,
            StatusCode::BAD_REQUEST,
            &body,
        );
    }
    let filter = OrderFilter {
        customer_id: (!customer.is_empty()).then_some(customer.clone()),
        statuses: if status.is_empty() {
            vec![]
        } else {
            vec![status.clone()]
        },
        day: (!day.is_empty()).then_some(day.clone()),
        ..OrderFilter::default()
    };
    let cursor_arg = (!cursor.is_empty()).then_some(cursor);
    let page = console
        .app
        .blocking(move |host| {
            summaries::orders_page(
                &host.service,
                host.store.as_ref(),
                &filter,
                cursor_arg.as_deref(),
                limit,
            )
            .map_err(Problem::from)
        })
        .await;
    let page = match page {
        Ok(page) => page,
        Err(problem) => {
            return render(
                &staff,
                "orders",
                "Find orders",
                Some(&refused(&problem)),
                None,
                status_of(&problem),
                &body,
            );
        }
    };
    body.push_str(&order_table(&page.items));
    if let Some(next) = &page.next_cursor {
        let _ = write!(
            body,
            "<p><a rel=\"next\" class=\"button\" href=\"/console/orders?customer_id={}&amp;status={}&amp;day={}&amp;limit={limit}&amp;cursor={}\">Next page</a></p>",
            url_part(&customer),
            url_part(&status),
            url_part(&day),
            url_part(next)
        );
    }
    if customer.is_empty() {
        let _ = write!(
            body,
            "<p class=\"hint\">{} orders read for this page; without a customer the list scans the store in order id order.</p>",
            page.scanned
        );
    }
    render(
        &staff,
        "orders",
        "Find orders",
        None,
        None,
        StatusCode::OK,
        &body,
    )
}

fn find_form(customer: &str, status: &str, day: &str, limit: usize) -> String {
    let mut options = String::from("<option value=\"\">any</option>");
    for s in STATUSES {
        let selected = if s == status { " selected" } else { "" };
        let _ = write!(options, "<option{selected}>{s}</option>");
    }
    format!(
        "<form class=\"card find\" method=\"get\" action=\"/console/orders\" role=\"search\">\
         <div><label for=\"order_id\">Order id</label>\
         <input id=\"order_id\" name=\"order_id\" spellcheck=\"false\"></div>\
         <button type=\"submit\">Open order</button></form>\
         <form class=\"card find\" method=\"get\" action=\"/console/orders\" role=\"search\">\
         <div><label for=\"customer_id\">Customer id</label>\
         <input id=\"customer_id\" name=\"customer_id\" value=\"{}\" spellcheck=\"false\"></div>\
         <div><label for=\"status\">Status</label><select id=\"status\" name=\"status\">{options}</select></div>\
         <div><label for=\"day\">Day placed</label><input id=\"day\" name=\"day\" type=\"date\" value=\"{}\"></div>\
         <div><label for=\"limit\">Per page</label><input id=\"limit\" name=\"limit\" type=\"number\" min=\"1\" max=\"200\" value=\"{limit}\"></div>\
         <button type=\"submit\">List orders</button></form>",
        esc(customer),
        esc(day)
    )
}

fn order_table(orders: &[dto::Order]) -> String {
    if orders.is_empty() {
        return "<p class=\"empty\">No order matches.</p>".to_owned();
    }
    let mut out = String::from(
        "<div class=\"scroll\"><table><caption>Orders</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Customer</th><th scope=\"col\">Total</th><th scope=\"col\">Placed</th></tr></thead><tbody>",
    );
    for o in orders {
        let _ = write!(
            out,
            "<tr><td><a href=\"/console/orders/{}\">{}</a></td><td>{}</td><td><a href=\"/console/orders?customer_id={}\">{}</a></td><td class=\"num\">{}</td><td>{}</td></tr>",
            url_part(&o.order_id),
            esc(&o.order_id),
            badge(&o.status),
            url_part(&o.customer_id),
            esc(&o.customer_id),
            money(&o.total),
            o.placed_at.map_or_else(|| "not placed".to_owned(), time)
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

// --- one order -------------------------------------------------------------------

/// Everything the order page shows.
struct OrderPage {
    order: dto::Order,
    saga: Option<dto::SagaReport>,
    history: Vec<dto::HistoryEntry>,
    shipments: Vec<dto::Shipment>,
    returns: Vec<dto::Return>,
}

fn load_order(host: &Host, id: &str) -> Result<OrderPage, ServiceError> {
    let svc = &host.service;
    let order = dto::Order::from(svc.get_order(id)?);
    let id = order.order_id.clone();
    let saga = match svc.saga_status(&id) {
        Ok(report) => Some(report.into()),
        // A draft has no saga yet.
        Err(ServiceError::Domain(
            CommandError::NotFound(_) | CommandError::InvalidTransition(_),
        )) => None,
        Err(other) => return Err(other),
    };
    Ok(OrderPage {
        history: svc
            .order_history(&id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        shipments: svc
            .shipments_of_order(&id)?
            .into_iter()
            .map(Into::into)
            .collect(),
        returns: svc
            .returns_of_order(&id)?
            .into_iter()
            .map(super::return_dto)
            .collect(),
        saga,
        order,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// `/console/orders/{id}`.
pub(super) async fn order(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let staff = match console.staff(&headers) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    let notice = done_notice(&query.done);
    order_response(&console, &staff, id, notice, StatusCode::OK).await
}

fn done_notice(done: &str) -> Option<Notice> {
    let words = match done {
        "cancelled" => "The order is cancelled; its compensations run through the saga.",
        "retried" => "The saga was advanced now, as far as it goes; see its steps below.",
        "approved" => "The return is approved.",
        "denied" => "The return is denied.",
        "received" => "The return is recorded as received.",
        "refunded" => "The refund was sent to the payment gateway.",
        _ => return None,
    };
    Some(super::done("Done.", words.to_owned()))
}

async fn order_response(
    console: &Console,
    staff: &Staff,
    id: String,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let loaded = console
        .app
        .blocking(move |host| load_order(host, &id).map_err(Problem::from))
        .await;
    match loaded {
        Ok(page) => {
            let title = format!("Order {}", page.order.order_id);
            let body = order_body(staff, &page);
            render(
                staff,
                "orders",
                &title,
                notice.as_ref(),
                Some(5),
                status,
                &body,
            )
        }
        Err(problem) => {
            let notice = notice.unwrap_or_else(|| refused(&problem));
            let body = "<h1>Order</h1><p><a href=\"/console/orders\">Find another order</a></p>";
            let status = if status.is_success() {
                status_of(&problem)
            } else {
                status
            };
            render(staff, "orders", "Order", Some(&notice), None, status, body)
        }
    }
}

fn order_body(staff: &Staff, page: &OrderPage) -> String {
    let o = &page.order;
    let role = staff.principal.role;
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Order <code>{}</code> {}</h1>\
         <p>Customer <a href=\"/console/orders?customer_id={}\">{}</a> · created {} · placed {}</p>",
        esc(&o.order_id),
        badge(&o.status),
        url_part(&o.customer_id),
        esc(&o.customer_id),
        time(o.created_at),
        o.placed_at.map_or_else(|| "not yet".to_owned(), time),
    );

    // Money.
    let paid = o.payment.as_ref().map_or(0, |p| p.amount_paid.amount);
    let currency = o.total.currency.clone();
    let m = |amount: u64| {
        money(&dto::Money {
            amount,
            currency: currency.clone(),
        })
    };
    let outstanding = paid.saturating_sub(o.refunded.amount);
    let _ = write!(
        out,
        "<section class=\"card\" aria-labelledby=\"money\"><h2 id=\"money\">Money</h2><dl class=\"grid\">\
         <dt>Total</dt><dd>{}</dd><dt>Paid</dt><dd>{}</dd><dt>Refunded</dt><dd>{}</dd>\
         <dt>Kept (paid − refunded)</dt><dd>{}</dd><dt>Due from the customer</dt><dd>{}</dd></dl></section>",
        money(&o.total),
        m(paid),
        money(&o.refunded),
        m(outstanding),
        m(if o.payment.is_some() {
            0
        } else {
            o.total.amount
        }),
    );

    // Lines.
    out.push_str("<section class=\"card\" aria-labelledby=\"lines\"><h2 id=\"lines\">Lines</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Product</th><th scope=\"col\">SKU</th><th scope=\"col\" class=\"num\">Qty</th><th scope=\"col\" class=\"num\">Unit</th><th scope=\"col\" class=\"num\">Line</th></tr></thead><tbody>");
    for i in &o.items {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&i.product_name),
            esc(&i.sku),
            i.quantity,
            money(&i.unit_price),
            money(&i.total_price)
        );
    }
    let _ = write!(
        out,
        "</tbody><tfoot><tr><td colspan=\"4\">Subtotal · tax · shipping</td><td class=\"num\">{} · {} · {}</td></tr></tfoot></table></div></section>",
        money(&o.subtotal),
        money(&o.tax),
        money(&o.shipping_cost)
    );

    // Addresses.
    let address = |a: &Option<dto::Address>| {
        a.as_ref()
            .map_or_else(|| "none".to_owned(), |a| esc(&text::address(a)))
    };
    let _ = write!(
        out,
        "<section class=\"card\" aria-labelledby=\"addresses\"><h2 id=\"addresses\">Addresses</h2><dl class=\"grid\">\
         <dt>Shipping</dt><dd>{}</dd><dt>Billing</dt><dd>{}</dd><dt>Payment method</dt><dd>{}</dd></dl></section>",
        address(&o.shipping_address),
        address(&o.billing_address),
        o.payment_method
            .as_ref()
            .map_or_else(|| "none".to_owned(), badge),
    );

    // Order actions.
    if may(role, "POST", "/orders/{id}/cancel")
        && matches!(
            o.status,
            dto::OrderStatus::Draft | dto::OrderStatus::Pending | dto::OrderStatus::Confirmed
        )
    {
        let _ = write!(
            out,
            "<form class=\"card action\" method=\"post\" action=\"/console/orders/{}/cancel\">\
             <h2>Cancel the order</h2>{}<label for=\"cancel-reason\">Reason</label>\
             <input id=\"cancel-reason\" name=\"reason\" required maxlength=\"500\" value=\"customer request\">\
             <button type=\"submit\" class=\"danger\">Cancel order</button></form>",
            url_part(&o.order_id),
            html::csrf_field(&staff.csrf)
        );
    }

    // Saga.
    if let Some(saga) = &page.saga {
        out.push_str(&saga_section(staff, saga));
    }

    // Shipments.
    out.push_str("<section class=\"card\" aria-labelledby=\"shipments\"><h2 id=\"shipments\">Shipments and tracking</h2>");
    if page.shipments.is_empty() {
        out.push_str("<p class=\"empty\">No shipment yet.</p>");
    }
    for s in &page.shipments {
        let _ = write!(
            out,
            "<h3>{} <code>{}</code> {}</h3><ol class=\"timeline\">",
            badge(&s.carrier),
            esc(&s.tracking_number),
            badge(&s.status)
        );
        for t in &s.tracking_history {
            let _ = write!(
                out,
                "<li>{} {} {}{}</li>",
                time(t.timestamp),
                badge(&t.status),
                esc(&t.description),
                t.location
                    .as_ref()
                    .map_or(String::new(), |l| format!(" — {}", esc(l)))
            );
        }
        out.push_str("</ol>");
        if let Some(reason) = &s.failure_reason {
            let _ = write!(out, "<p class=\"problem\">Failed: {}</p>", esc(reason));
        }
    }
    out.push_str("</section>");

    // Returns.
    out.push_str(&returns_section(staff, o, &page.returns));

    // History.
    out.push_str("<section class=\"card\" aria-labelledby=\"history\"><h2 id=\"history\">History</h2><ol class=\"timeline\">");
    for e in &page.history {
        let _ = write!(
            out,
            "<li>{} {}</li>",
            time(e.recorded_at),
            esc(&event_in_words(e))
        );
    }
    out.push_str("</ol></section>");
    if !o.notes.is_empty() {
        out.push_str("<section class=\"card\"><h2>Notes</h2><ul>");
        for n in &o.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul></section>");
    }
    out
}

fn saga_section(staff: &Staff, saga: &dto::SagaReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"card\" aria-labelledby=\"saga\"><h2 id=\"saga\">Fulfilment saga {}</h2>",
        badge(&saga.phase)
    );
    out.push_str("<ol class=\"steps\">");
    for s in &saga.steps {
        let _ = write!(
            out,
            "<li class=\"step step-{}\"><strong>{}</strong> {} <span>{} attempt{}</span>{}</li>",
            esc(&text::kebab(&s.status)),
            esc(&text::kebab(&s.step)),
            badge(&s.status),
            s.attempts,
            if s.attempts == 1 { "" } else { "s" },
            s.last_error.as_ref().map_or(String::new(), |e| format!(
                "<span class=\"problem\">last error: {}</span>",
                esc(e)
            ))
        );
    }
    out.push_str("</ol><dl class=\"grid\">");
    let _ = write!(
        out,
        "<dt>Next retry</dt><dd>{}</dd>",
        saga.next_wake_at
            .map_or_else(|| "none scheduled".to_owned(), time)
    );
    match &saga.outcome {
        None => {}
        Some(dto::SagaOutcome::Completed { .. }) => {
            out.push_str("<dt>Outcome</dt><dd>completed: paid, allocated and shipped</dd>");
        }
        Some(dto::SagaOutcome::Compensated {
            failed_step,
            reason,
        }) => {
            let _ = write!(
                out,
                "<dt>Outcome</dt><dd>compensated after {} failed: {}</dd>",
                esc(&text::kebab(failed_step)),
                esc(reason)
            );
        }
        Some(dto::SagaOutcome::CompensationFailed {
            failed_step,
            reason,
            pending,
        }) => {
            let _ = write!(
                out,
                "<dt>Outcome</dt><dd><span class=\"badge badge-compensation-failed\">compensation-failed</span> {}{}</dd><dt>Compensation left to do</dt><dd>{}</dd>",
                failed_step.as_ref().map_or(String::new(), |s| format!(
                    "after {} failed: ",
                    esc(&text::kebab(s))
                )),
                esc(reason),
                esc(&pending.join("; "))
            );
        }
    }
    out.push_str("</dl>");
    if !saga.notes.is_empty() {
        out.push_str("<h3>Notes and support tickets</h3><ul>");
        for n in &saga.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>");
    }
    let unfinished = saga.phase != dto::SagaPhase::Finished;
    if unfinished && may(staff.principal.role, "POST", "/orders/{id}/saga/retry") {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/console/orders/{}/saga/retry\">{}<button type=\"submit\">Retry the saga now</button></form>",
            url_part(&saga.order_id),
            html::csrf_field(&staff.csrf)
        );
    }
    out.push_str("</section>");
    out
}

fn returns_section(staff: &Staff, order: &dto::Order, returns: &[dto::Return]) -> String {
    let role = staff.principal.role;
    let mut out = String::from(
        "<section class=\"card\" aria-labelledby=\"returns\"><h2 id=\"returns\">Returns</h2>",
    );
    if returns.is_empty() {
        out.push_str("<p class=\"empty\">No return.</p>");
    }
    let paid = order.payment.as_ref().map_or(0, |p| p.amount_paid.amount);
    let left = paid.saturating_sub(order.refunded.amount);
    for r in returns {
        let id = url_part(&r.return_id);
        let _ = write!(
            out,
            "<article class=\"return\" id=\"return-{}\"><h3>Return <code>{}</code> {} refund {}</h3><p>Requested {} — {}{}</p><ul>",
            esc(&r.return_id),
            esc(&r.return_id),
            badge(&r.status),
            badge(&r.refund_status),
            time(r.requested_at),
            esc(&text::kebab(&r.return_reason)),
            r.comments
                .as_ref()
                .map_or(String::new(), |c| format!(": {}", esc(c)))
        );
        let mut due = 0u64;
        for item in &r.return_items {
            let line = order.items.iter().find(|i| i.item_id == item.item_id);
            if let Some(line) = line {
                due = due.saturating_add(
                    line.unit_price
                        .amount
                        .saturating_mul(u64::from(item.quantity)),
                );
            }
            let _ = write!(
                out,
                "<li>{} × {} ({})</li>",
                item.quantity,
                esc(line.map_or(item.product_id.as_str(), |l| l.product_name.as_str())),
                esc(&item.condition)
            );
        }
        out.push_str("</ul>");
        if let Some(by) = &r.decided_by {
            let _ = write!(
                out,
                "<p>Decided by {}{}</p>",
                esc(by),
                r.decided_at
                    .map_or(String::new(), |t| format!(" at {}", time(t)))
            );
        }
        if let Some(reason) = &r.denial_reason {
            let _ = write!(out, "<p>Denied: {}</p>", esc(reason));
        }
        if let Some(amount) = &r.refund_amount {
            let _ = write!(
                out,
                "<p>Refund of {} {}</p>",
                money(amount),
                if r.refund_confirmed {
                    "confirmed by the gateway"
                } else {
                    "sent, not confirmed yet"
                }
            );
        }
        let csrf = html::csrf_field(&staff.csrf);
        let requested = r.status == dto::ReturnStatus::Requested;
        if requested && may(role, "POST", "/returns/{id}/approve") {
            let _ = write!(
                out,
                "<form class=\"action inline\" method=\"post\" action=\"/console/returns/{id}/approve\">{csrf}\
                 <label for=\"label-{id}\">Return label (optional)</label><input id=\"label-{id}\" name=\"return_label\" maxlength=\"500\">\
                 <button type=\"submit\">Approve return</button></form>"
            );
        }
        if requested && may(role, "POST", "/returns/{id}/deny") {
            let _ = write!(
                out,
                "<form class=\"action inline\" method=\"post\" action=\"/console/returns/{id}/deny\">{csrf}\
                 <label for=\"deny-{id}\">Reason to deny</label><input id=\"deny-{id}\" name=\"reason\" required maxlength=\"500\">\
                 <button type=\"submit\" class=\"danger\">Deny return</button></form>"
            );
        }
        if matches!(
            r.status,
            dto::ReturnStatus::Approved | dto::ReturnStatus::Shipped
        ) && may(role, "POST", "/returns/{id}/receive")
        {
            let _ = write!(
                out,
                "<form class=\"action inline\" method=\"post\" action=\"/console/returns/{id}/receive\">{csrf}\
                 <label for=\"cond-{id}\">Condition on arrival</label><input id=\"cond-{id}\" name=\"condition\" required maxlength=\"200\" value=\"as described\">\
                 <label class=\"check\"><input type=\"checkbox\" name=\"all_items_received\" value=\"true\" checked> every item arrived (restock)</label>\
                 <button type=\"submit\">Record receipt</button></form>"
            );
        }
        if r.status == dto::ReturnStatus::Received && may(role, "POST", "/returns/{id}/refund") {
            let currency = if order.total.currency.is_empty() {
                "USD"
            } else {
                order.total.currency.as_str()
            };
            let amount = due.min(left);
            let method = order
                .payment_method
                .as_ref()
                .map(text::kebab)
                .unwrap_or_else(|| "credit-card".to_owned());
            let mut methods = String::new();
            for m in [
                "credit-card",
                "debit-card",
                "paypal",
                "bank-transfer",
                "gift-card",
            ] {
                let selected = if m == method { " selected" } else { "" };
                let _ = write!(methods, "<option{selected}>{m}</option>");
            }
            let _ = write!(
                out,
                "<form class=\"action inline\" method=\"post\" action=\"/console/returns/{id}/refund\">{csrf}\
                 <label for=\"amount-{id}\">Refund amount ({})</label><input id=\"amount-{id}\" name=\"amount\" inputmode=\"decimal\" required value=\"{}\">\
                 <label for=\"method-{id}\">Refund to</label><select id=\"method-{id}\" name=\"method\">{methods}</select>\
                 <button type=\"submit\">Refund</button></form>",
                esc(currency),
                esc(&major(amount, currency)),
            );
        }
        out.push_str("</article>");
    }
    out.push_str("</section>");
    out
}

/// Minor units as a decimal amount without the currency, `12.50`.
fn major(amount: u64, currency: &str) -> String {
    let shown = text::money(&dto::Money {
        amount,
        currency: currency.to_owned(),
    });
    shown.split(' ').next().unwrap_or("0").to_owned()
}

/// A decimal amount in `currency` as minor units; `None` when it is not one.
fn parse_major(text: &str, currency: &str) -> Option<u64> {
    let digits = major(0, currency).split('.').nth(1).map_or(0, str::len);
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > digits
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let padded = format!("{fraction:0<digits$}");
    let fraction: u64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole
        .checked_mul(10u64.pow(digits as u32))?
        .checked_add(fraction)
}

/// One event of the history in words: `Saga step started: process-payment`,
/// `Order cancelled by support:sam — customer request`, with the amount,
/// the attempt and the reason or error when the event has them.
pub(super) fn event_in_words(e: &dto::HistoryEntry) -> String {
    let mut words = e.event_type.replace('-', " ");
    if let Some(first) = words.get(0..1) {
        words = first.to_uppercase() + &words[1..];
    }
    let Some(fields) = e.payload.as_object() else {
        return words;
    };
    if let Some(step) = fields.get("step").and_then(|v| v.as_str()) {
        let _ = write!(words, ": {step}");
    }
    if let Some(attempt) = fields.get("attempt").and_then(serde_json::Value::as_u64)
        && attempt > 1
    {
        let _ = write!(words, " (attempt {attempt})");
    }
    for key in ["amount_paid", "refund_amount", "amount"] {
        let amount = fields.get(key).and_then(|v| {
            Some(dto::Money {
                amount: v.get("amount")?.as_u64()?,
                currency: v.get("currency")?.as_str()?.to_owned(),
            })
        });
        if let Some(amount) = amount {
            let _ = write!(words, " {}", text::money(&amount));
            break;
        }
    }
    for (key, value) in fields {
        if let Some(value) = value.as_str()
            && key.replace('_', "-").ends_with("-by")
        {
            let _ = write!(words, " by {value}");
        }
    }
    for (key, value) in fields {
        if let Some(value) = value.as_str()
            && (key.contains("reason") || key == "error" || key == "message")
        {
            let _ = write!(words, " — {value}");
        }
    }
    words
}

// --- actions ---------------------------------------------------------------------

/// Runs a command of the order `order_id` for `staff`, then shows the order
/// again: a redirect with what was done, or the page with the refusal in
/// the problem's words.
async fn act(
    console: &Console,
    staff: Staff,
    order_id: String,
    done: &'static str,
    command: impl FnOnce(&Host) -> Result<(), ServiceError> + Send + 'static,
) -> Response {
    let result = console.app.on_order(Some(&order_id), command).await;
    match result {
        Ok(()) => {
            console.app.wake_driver();
            see_other(&format!(
                "/console/orders/{}?done={done}",
                url_part(&order_id)
            ))
        }
        Err(problem) => {
            let status = status_of(&problem);
            order_response(console, &staff, order_id, Some(refused(&problem)), status).await
        }
    }
}

/// Whether `staff` may call the API route; the refusal page otherwise.
fn allow(staff: &Staff, route: &str, what: &str) -> Result<(), Box<Response>> {
    if may(staff.principal.role, "POST", route) {
        Ok(())
    } else {
        Err(Box::new(role_refused(&staff.principal, what)))
    }
}

#[derive(Deserialize)]
pub(super) struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn cancel(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(&staff, "/orders/{id}/cancel", "cancel orders") {
        return *response;
    }
    let request = dto::CancelOrderRequest {
        reason: form.reason,
        cancelled_by: None,
    };
    let command = match request.into_command(id.clone(), staff.principal.actor()) {
        Ok(command) => command,
        Err(problem) => {
            return order_response(
                &console,
                &staff,
                id,
                Some(refused(&problem)),
                status_of(&problem),
            )
            .await;
        }
    };
    act(&console, staff, id, "cancelled", move |host| {
        host.service
            .retrying(|svc| svc.cancel_order(&command))
            .map(drop)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn retry_saga(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TokenOnly>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(&staff, "/orders/{id}/saga/retry", "retry sagas") {
        return *response;
    }
    let order_id = id.clone();
    let actor = staff.principal.actor();
    act(&console, staff, id, "retried", move |host| {
        host.driver.retry_now(&order_id, &actor).map(drop)
    })
    .await
}

/// A command on a return: finds its order (for the per-order lock and the
/// page to show after), then runs it.
async fn on_return(
    console: &Console,
    staff: Staff,
    return_id: String,
    done: &'static str,
    command: impl FnOnce(&Host) -> Result<(), ServiceError> + Send + 'static,
) -> Response {
    match console.app.order_of_return(&return_id).await {
        Ok(order_id) => act(console, staff, order_id, done, command).await,
        Err(problem) => render(
            &staff,
            "orders",
            "Return",
            Some(&refused(&problem)),
            None,
            status_of(&problem),
            "<h1>Return</h1>",
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct ApproveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    return_label: String,
}

pub(super) async fn approve(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(&staff, "/returns/{id}/approve", "approve returns") {
        return *response;
    }
    let label = form.return_label.trim();
    let request = dto::ApproveReturnRequest {
        approved_by: None,
        return_label: (!label.is_empty()).then(|| label.to_owned()),
    };
    let command = match request.into_command(id.clone(), staff.principal.actor()) {
        Ok(command) => command,
        Err(problem) => return problem_page(status_of(&problem), &problem.title, &problem.detail),
    };
    on_return(&console, staff, id, "approved", move |host| {
        host.service
            .retrying(|svc| svc.approve_return(&command))
            .map(drop)
    })
    .await
}

pub(super) async fn deny(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(&staff, "/returns/{id}/deny", "deny returns") {
        return *response;
    }
    let request = dto::DenyReturnRequest {
        denied_by: None,
        reason: form.reason,
    };
    let command = match request.into_command(id.clone(), staff.principal.actor()) {
        Ok(command) => command,
        Err(problem) => return problem_page(status_of(&problem), &problem.title, &problem.detail),
    };
    on_return(&console, staff, id, "denied", move |host| {
        host.service
            .retrying(|svc| svc.deny_return(&command))
            .map(drop)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct ReceiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    condition: String,
    #[serde(default)]
    all_items_received: Option<String>,
}

pub(super) async fn receive(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ReceiveForm>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(
        &staff,
        "/returns/{id}/receive",
        "record returns as received",
    ) {
        return *response;
    }
    let request = dto::ReceiveReturnRequest {
        received_at: None,
        condition: form.condition,
        all_items_received: form.all_items_received.as_deref() == Some("true"),
    };
    let command = request.into_command(id.clone(), console.app.host().clock.now_ms());
    on_return(&console, staff, id, "received", move |host| {
        host.service
            .retrying(|svc| svc.receive_return(&command))
            .map(drop)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct RefundForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
}

pub(super) async fn refund(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> Response {
    let staff = match console.staff_posting(&headers, &form.csrf) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if let Err(response) = allow(&staff, "/returns/{id}/refund", "refund returns") {
        return *response;
    }
    let return_id = id.clone();
    let order = console
        .app
        .blocking(move |host| {
            {
                let r = host.service.get_return(&return_id)?;
                Ok(host.service.get_order(&r.order_id)?)
            }
            .map_err(|e: ServiceError| Problem::from(e))
        })
        .await;
    let order = match order {
        Ok(order) => dto::Order::from(order),
        Err(problem) => {
            return render(
                &staff,
                "orders",
                "Return",
                Some(&refused(&problem)),
                None,
                status_of(&problem),
                "<h1>Return</h1>",
            );
        }
    };
    let currency = if order.total.currency.is_empty() {
        "USD".to_owned()
    } else {
        order.total.currency.clone()
    };
    let refuse = |detail: String| Notice {
        kind: NoticeKind::Refused,
        title: "Invalid request:".to_owned(),
        detail,
    };
    let Some(amount) = parse_major(&form.amount, &currency) else {
        let notice = refuse(format!(
            "amount: `{}` is not an amount of {currency} (for example 12.50)",
            form.amount.trim()
        ));
        return order_response(
            &console,
            &staff,
            order.order_id,
            Some(notice),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let method: dto::PaymentMethod =
        match serde_json::from_value(serde_json::Value::String(form.method.trim().to_owned())) {
            Ok(method) => method,
            Err(_) => {
                let notice = refuse(format!(
                    "method: `{}` is not a payment method",
                    form.method.trim()
                ));
                return order_response(
                    &console,
                    &staff,
                    order.order_id,
                    Some(notice),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
        };
    let command = dto::ProcessRefundRequest {
        refund_amount: dto::Money { amount, currency },
        refund_method: method,
    }
    .into_command(id.clone());
    on_return(&console, staff, id, "refunded", move |host| {
        host.service
            .retrying(|svc| svc.process_refund(&command))
            .map(drop)
    })
    .await
}

// --- needs attention ---------------------------------------------------------------

/// How long past its due time a saga's timer may be before the saga counts
/// as stalled (the driver looks every 250 ms by default).
const STALLED_AFTER_MS: u64 = 60_000;
/// The most unfinished sagas the attention list reads.
const ATTENTION_LIMIT: usize = 500;

/// One saga that needs a person.
struct Attention {
    order_id: String,
    why: Vec<String>,
    since: Option<u64>,
    next: Option<u64>,
    tickets: Vec<String>,
    phase: dto::SagaPhase,
}

fn attention_list(host: &Host) -> Result<(Vec<Attention>, usize), ServiceError> {
    let now = host.clock.now_ms();
    let timers = host
        .store
        .all_timers()
        .map_err(|e| ServiceError::Runtime(anyhow::anyhow!(e)))?;
    let total = timers.len();
    let held: std::collections::HashMap<String, (u32, std::time::Duration)> = host
        .driver
        .held_back()
        .into_iter()
        .map(|(id, n, left)| (id, (n, left)))
        .collect();
    let mut list = Vec::new();
    let mut ids: Vec<(String, Option<u64>)> = timers
        .into_iter()
        .take(ATTENTION_LIMIT)
        .map(|t| (t.saga_id, Some(t.due_at)))
        .collect();
    for id in held.keys() {
        if !ids.iter().any(|(i, _)| i == id) {
            ids.push((id.clone(), None));
        }
    }
    // A saga that ended compensation-failed has no timer left (its ticket
    // is open): the order read model lists them.
    let failed = OrderFilter {
        sagas: vec![SagaState::CompensationFailed],
        ..OrderFilter::default()
    };
    let ended = summaries::orders_page(
        &host.service,
        host.store.as_ref(),
        &failed,
        None,
        summaries::MAX_LIMIT,
    )?;
    for order in ended.items {
        if !ids.iter().any(|(i, _)| *i == order.order_id) {
            ids.push((order.order_id, None));
        }
    }
    for (id, due) in ids {
        let report = match host.service.saga_status(&id) {
            Ok(report) => dto::SagaReport::from(report),
            Err(ServiceError::Domain(_)) => continue,
            Err(other) => return Err(other),
        };
        let mut why = Vec::new();
        if let Some(dto::SagaOutcome::CompensationFailed {
            reason, pending, ..
        }) = &report.outcome
        {
            why.push(format!(
                "compensation-failed: {reason}; left to do: {}",
                pending.join("; ")
            ));
        }
        for step in &report.steps {
            if step.status == dto::StepStatus::Retrying && step.attempts >= 2 {
                why.push(format!(
                    "retrying: {} failed {} times{}",
                    text::kebab(&step.step),
                    step.attempts,
                    step.last_error
                        .as_ref()
                        .map_or(String::new(), |e| format!("; last error: {e}"))
                ));
            }
        }
        if why.is_empty()
            && report.phase == dto::SagaPhase::Compensating
            && let Some(error) = report.steps.iter().rev().find_map(|s| s.last_error.clone())
        {
            why.push(format!("compensating; last error: {error}"));
        }
        if let Some((failures, left)) = held.get(&id) {
            why.push(format!(
                "held back: the last {failures} advance(s) failed; tried again in {} ms",
                left.as_millis()
            ));
        }
        if let Some(due) = due
            && due + STALLED_AFTER_MS < now
        {
            why.push(format!(
                "stalled: due {} s ago and not advanced",
                (now - due) / 1000
            ));
        }
        for s in &report.steps {
            if let Some(error) = &s.last_error
                && (error.contains("in doubt")
                    || error.contains("in-doubt")
                    || error.contains("did not answer"))
                && s.status != dto::StepStatus::Completed
            {
                why.push(format!("in doubt: {} — {error}", text::kebab(&s.step)));
            }
        }
        if why.is_empty() {
            continue;
        }
        // Since when: the last event of the order, when the saga last moved.
        let since = host
            .service
            .order_history(&id)
            .ok()
            .and_then(|h| h.last().map(|e| e.recorded_at));
        let tickets = report
            .notes
            .iter()
            .filter(|n| n.contains("ticket"))
            .cloned()
            .collect();
        list.push(Attention {
            order_id: report.order_id.clone(),
            why,
            since,
            next: report.next_wake_at,
            tickets,
            phase: report.phase,
        });
    }
    list.sort_by_key(|a| a.since.unwrap_or(0));
    Ok((list, total))
}

/// `/console/attention`: sagas that are compensation-failed, stalled, held
/// back or in doubt, with why and since when, and their support tickets.
pub(super) async fn attention(State(console): State<Console>, headers: HeaderMap) -> Response {
    let staff = match console.staff(&headers) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    let found = console
        .app
        .blocking(|host| attention_list(host).map_err(Problem::from))
        .await;
    let (list, total) = match found {
        Ok(found) => found,
        Err(problem) => {
            return render(
                &staff,
                "attention",
                "Needs attention",
                Some(&refused(&problem)),
                None,
                status_of(&problem),
                "<h1>Needs attention</h1>",
            );
        }
    };
    let mut body = format!(
        "<h1>Needs attention</h1><p class=\"hint\">{total} unfinished saga(s) scheduled; {} need a person.</p>",
        list.len()
    );
    if total > ATTENTION_LIMIT {
        let _ = write!(
            body,
            "<p class=\"hint\">Only the {ATTENTION_LIMIT} earliest are read.</p>"
        );
    }
    if list.is_empty() {
        body.push_str("<p class=\"empty\">Nothing is stuck.</p>");
    } else {
        body.push_str("<div class=\"scroll\"><table><caption>Stuck sagas</caption><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Phase</th><th scope=\"col\">Why</th><th scope=\"col\">Since</th><th scope=\"col\">Next retry</th><th scope=\"col\">Support tickets</th><th scope=\"col\"></th></tr></thead><tbody>");
        let retry = may(staff.principal.role, "POST", "/orders/{id}/saga/retry");
        for a in &list {
            let id = url_part(&a.order_id);
            let _ = write!(
                body,
                "<tr><td><a href=\"/console/orders/{id}\">{}</a></td><td>{}</td><td><ul>{}</ul></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.order_id),
                badge(&a.phase),
                a.why
                    .iter()
                    .map(|w| format!("<li>{}</li>", esc(w)))
                    .collect::<String>(),
                a.since.map_or_else(|| "unknown".to_owned(), time),
                a.next.map_or_else(|| "none".to_owned(), time),
                if a.tickets.is_empty() {
                    "none".to_owned()
                } else {
                    a.tickets
                        .iter()
                        .map(|t| esc(t))
                        .collect::<Vec<_>>()
                        .join("<br>")
                },
                if retry && a.phase != dto::SagaPhase::Finished {
                    format!(
                        "<form method=\"post\" action=\"/console/orders/{id}/saga/retry\">{}<button type=\"submit\" aria-label=\"Retry the saga of order {} now\">Retry now</button></form>",
                        html::csrf_field(&staff.csrf),
                        esc(&a.order_id)
                    )
                } else {
                    String::new()
                }
            );
        }
        body.push_str("</tbody></table></div>");
    }
    render(
        &staff,
        "attention",
        "Needs attention",
        None,
        Some(5),
        StatusCode::OK,
        &body,
    )
}

// --- warehouse ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub(super) struct CursorQuery {
    #[serde(default)]
    cursor: String,
}

struct Warehouse {
    /// Confirmed orders (paid, waiting for the carrier booking) and shipped
    /// ones whose parcel waits for pickup, with that shipment.
    pick: Vec<(dto::Order, Option<dto::Shipment>)>,
    in_flight: Vec<(dto::Order, dto::Shipment)>,
    to_receive: Vec<(dto::Order, dto::Return)>,
    next: Option<String>,
    scanned: usize,
}

fn warehouse_lists(host: &Host, cursor: Option<&str>) -> Result<Warehouse, ServiceError> {
    let filter = OrderFilter {
        statuses: vec!["confirmed".into(), "shipped".into(), "delivered".into()],
        ..OrderFilter::default()
    };
    let page = summaries::orders_page(
        &host.service,
        host.store.as_ref(),
        &filter,
        cursor,
        summaries::MAX_LIMIT,
    )?;
    let mut out = Warehouse {
        pick: vec![],
        in_flight: vec![],
        to_receive: vec![],
        next: page.next_cursor,
        scanned: page.scanned,
    };
    for order in page.items {
        match order.status {
            dto::OrderStatus::Confirmed => out.pick.push((order, None)),
            dto::OrderStatus::Shipped => {
                for s in host.service.shipments_of_order(&order.order_id)? {
                    let s = dto::Shipment::from(s);
                    match s.status {
                        dto::ShipmentStatus::AwaitingPickup => {
                            out.pick.push((order.clone(), Some(s)))
                        }
                        dto::ShipmentStatus::Delivered | dto::ShipmentStatus::ReturnedToSender => {}
                        _ => out.in_flight.push((order.clone(), s)),
                    }
                }
            }
            _ => {
                for r in host.service.returns_of_order(&order.order_id)? {
                    let r = super::return_dto(r);
                    if matches!(
                        r.status,
                        dto::ReturnStatus::Approved | dto::ReturnStatus::Shipped
                    ) {
                        out.to_receive.push((order.clone(), r));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// `/console/warehouse`: the pick list, shipments in flight, returns to receive.
pub(super) async fn warehouse(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<CursorQuery>,
) -> Response {
    let staff = match console.staff(&headers) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    let cursor = query.cursor.trim().to_owned();
    let found = console
        .app
        .blocking(move |host| {
            warehouse_lists(host, (!cursor.is_empty()).then_some(cursor.as_str()))
                .map_err(Problem::from)
        })
        .await;
    let w = match found {
        Ok(w) => w,
        Err(problem) => {
            return render(
                &staff,
                "warehouse",
                "Warehouse",
                Some(&refused(&problem)),
                None,
                status_of(&problem),
                "<h1>Warehouse</h1>",
            );
        }
    };
    let mut body = String::from("<h1>Warehouse</h1>");
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"pick\"><h2 id=\"pick\">Pick list: orders waiting to ship ({})</h2>",
        w.pick.len()
    );
    if w.pick.is_empty() {
        body.push_str("<p class=\"empty\">Nothing to pick.</p>");
    } else {
        body.push_str("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">Pick</th><th scope=\"col\">Ship to</th><th scope=\"col\">Carrier label</th></tr></thead><tbody>");
        for (o, shipment) in &w.pick {
            let lines: String = o
                .items
                .iter()
                .map(|i| {
                    format!(
                        "<li>{} × {} <code>{}</code></li>",
                        i.quantity,
                        esc(&i.product_name),
                        esc(&i.sku)
                    )
                })
                .collect();
            let _ = write!(
                body,
                "<tr><td><a href=\"/console/orders/{}\">{}</a></td><td><ul>{lines}</ul></td><td>{}</td><td>{}</td></tr>",
                url_part(&o.order_id),
                esc(&o.order_id),
                o.shipping_address
                    .as_ref()
                    .map_or_else(String::new, |a| esc(&text::address(a))),
                shipment.as_ref().map_or_else(
                    || "not booked yet".to_owned(),
                    |s| format!(
                        "{} <code>{}</code>",
                        badge(&s.carrier),
                        esc(&s.tracking_number)
                    )
                )
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>");
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"flight\"><h2 id=\"flight\">Shipments in flight ({})</h2>",
        w.in_flight.len()
    );
    if w.in_flight.is_empty() {
        body.push_str("<p class=\"empty\">No shipment in flight.</p>");
    } else {
        body.push_str("<ul>");
        for (o, s) in &w.in_flight {
            {
                let last = s.tracking_history.last().map_or(String::new(), |t| {
                    format!(" — {} {}", time(t.timestamp), esc(&t.description))
                });
                let _ = write!(
                    body,
                    "<li><a href=\"/console/orders/{}\">{}</a> {} <code>{}</code> {}{last}</li>",
                    url_part(&o.order_id),
                    esc(&o.order_id),
                    badge(&s.carrier),
                    esc(&s.tracking_number),
                    badge(&s.status)
                );
            }
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    let _ = write!(
        body,
        "<section class=\"card\" aria-labelledby=\"receive\"><h2 id=\"receive\">Returns to receive ({})</h2>",
        w.to_receive.len()
    );
    if w.to_receive.is_empty() {
        body.push_str("<p class=\"empty\">No return on its way.</p>");
    } else {
        body.push_str("<ul>");
        for (o, r) in &w.to_receive {
            let _ = write!(
                body,
                "<li><a href=\"/console/orders/{}#return-{}\">Return {}</a> of order {} {}{}</li>",
                url_part(&o.order_id),
                esc(&r.return_id),
                esc(&r.return_id),
                esc(&o.order_id),
                badge(&r.status),
                r.return_tracking_number
                    .as_ref()
                    .map_or(String::new(), |t| format!(
                        " tracking <code>{}</code>",
                        esc(t)
                    ))
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    let _ = write!(
        body,
        "<p class=\"hint\">{} orders read for this page.</p>",
        w.scanned
    );
    if let Some(next) = &w.next {
        let _ = write!(
            body,
            "<p><a rel=\"next\" class=\"button\" href=\"/console/warehouse?cursor={}\">More orders</a></p>",
            url_part(next)
        );
    }
    render(
        &staff,
        "warehouse",
        "Warehouse",
        None,
        None,
        StatusCode::OK,
        &body,
    )
}

// --- the day in pictures -------------------------------------------------------------

/// How many days the charts show.
const DAYS: u64 = 30;

/// `/console/metrics`: the daily metrics of the last 30 days per currency,
/// as bar charts drawn on the server (inline SVG).
pub(super) async fn metrics(State(console): State<Console>, headers: HeaderMap) -> Response {
    let staff = match console.staff(&headers) {
        Ok(staff) => staff,
        Err(response) => return *response,
    };
    if !may(staff.principal.role, "GET", "/metrics/daily") {
        return role_refused(&staff.principal, "read the daily metrics");
    }
    let today = console.app.host().clock.now_ms() / 86_400_000;
    let days = console
        .app
        .query(move |svc| {
            (0..DAYS)
                .rev()
                .map(|back| {
                    svc.get_daily_metrics(&text::date((today - back) * 86_400_000))
                        .map(dto::DailyMetrics::from)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    let days = match days {
        Ok(days) => days,
        Err(problem) => {
            return render(
                &staff,
                "metrics",
                "The day in pictures",
                Some(&refused(&problem)),
                None,
                status_of(&problem),
                "<h1>The day in pictures</h1>",
            );
        }
    };
    let mut currencies: Vec<String> = days
        .iter()
        .flat_map(|d| d.totals.iter().map(|t| t.currency.clone()))
        .collect();
    currencies.sort();
    currencies.dedup();
    let mut body = format!(
        "<h1>The day in pictures</h1><p class=\"hint\">The last {DAYS} days, UTC, from {} to {}.</p>",
        esc(&days[0].date),
        esc(&days[days.len() - 1].date)
    );
    if currencies.is_empty() {
        body.push_str("<p class=\"empty\">No order in these days.</p>");
    }
    for currency in &currencies {
        let series = |f: &dyn Fn(&dto::CurrencyTotals) -> u64| -> Vec<(String, u64)> {
            days.iter()
                .map(|d| {
                    (
                        d.date.clone(),
                        d.totals
                            .iter()
                            .find(|t| &t.currency == currency)
                            .map_or(0, f),
                    )
                })
                .collect()
        };
        let _ = write!(
            body,
            "<section class=\"card charts\" aria-labelledby=\"c-{0}\"><h2 id=\"c-{0}\">{0}</h2>",
            esc(currency)
        );
        body.push_str(&chart(
            "Orders",
            &series(&|t| u64::from(t.order_count)),
            None,
        ));
        body.push_str(&chart(
            "Revenue",
            &series(&|t| t.total_revenue),
            Some(currency),
        ));
        body.push_str(&chart(
            "Cancellations",
            &series(&|t| u64::from(t.cancellation_count)),
            None,
        ));
        body.push_str(&chart(
            "Refunds",
            &series(&|t| t.refund_total),
            Some(currency),
        ));
        body.push_str("</section>");
    }
    render(
        &staff,
        "metrics",
        "The day in pictures",
        None,
        None,
        StatusCode::OK,
        &body,
    )
}

/// One bar chart as inline SVG, with a text alternative: the total and the
/// best day, and each bar's value in its title.
fn chart(title: &str, values: &[(String, u64)], currency: Option<&str>) -> String {
    let show = |v: u64| match currency {
        Some(c) => text::money(&dto::Money {
            amount: v,
            currency: c.to_owned(),
        }),
        None => v.to_string(),
    };
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    let total: u64 = values.iter().map(|v| v.1).sum();
    let (width, height, bar) = (600u64, 120u64, 600 / values.len().max(1) as u64);
    let best = values
        .iter()
        .max_by_key(|v| v.1)
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let mut out = format!(
        "<figure class=\"chart\"><figcaption>{} — total {}</figcaption>\
         <svg viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"{}: total {}, highest on {}\" preserveAspectRatio=\"none\">",
        esc(title),
        esc(&show(total)),
        height + 14,
        esc(title),
        esc(&show(total)),
        esc(&best)
    );
    for (i, (date, v)) in values.iter().enumerate() {
        let h = v * height / max;
        let x = i as u64 * bar;
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" class=\"bar\"><title>{}: {}</title></rect>",
            x + 1,
            height - h,
            bar.saturating_sub(2).max(1),
            esc(date),
            esc(&show(*v))
        );
    }
    let _ = write!(
        out,
        "<text x=\"0\" y=\"{}\" class=\"axis\">{}</text><text x=\"{width}\" y=\"{}\" class=\"axis end\">{}</text></svg></figure>",
        height + 12,
        esc(values.first().map_or("", |v| v.0.as_str())),
        height + 12,
        esc(values.last().map_or("", |v| v.0.as_str()))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_the_currency_s_units() {
        assert_eq!(parse_major("12.50", "USD"), Some(1250));
        assert_eq!(parse_major("12", "USD"), Some(1200));
        assert_eq!(parse_major("12.5", "USD"), Some(1250));
        assert_eq!(parse_major("1200", "JPY"), Some(1200));
        assert_eq!(parse_major("1.5", "JPY"), None);
        assert_eq!(parse_major("1.234", "USD"), None);
        assert_eq!(parse_major("-1", "USD"), None);
        assert_eq!(parse_major("", "USD"), None);
        assert_eq!(parse_major("abc", "USD"), None);
        assert_eq!(major(1250, "USD"), "12.50");
    }

    #[test]
    fn events_read_as_words_with_who_and_why() {
        let entry = dto::HistoryEntry {
            version: 3,
            event_type: "order-cancelled".into(),
            payload: serde_json::json!({"cancelled_by": "support:sam", "reason": "customer request"}),
            recorded_at: 0,
        };
        assert_eq!(
            event_in_words(&entry),
            "Order cancelled by support:sam — customer request"
        );
    }

    #[test]
    fn a_chart_has_one_bar_per_day_and_says_its_total() {
        let svg = chart(
            "Orders",
            &[("2026-12-01".into(), 2), ("2026-12-02".into(), 0)],
            None,
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("total 2"), "{svg}");
    }
}
