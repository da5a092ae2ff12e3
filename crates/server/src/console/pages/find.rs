//! `/console/orders`: find orders by id (straight to the order), or by
//! customer, status and day placed, a page at a time.

use std::fmt::Write as _;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{FIND, Signed, orders_of, render, shown, status_of};
use crate::Problem;
use crate::console::html::{Notice, NoticeKind, badge, esc, money, time, url_part};
use crate::console::parts::{self, col};
use crate::console::summaries::{self, OrderFilter};
use crate::console::{refused, see_other};
use crate::dto;
use order_runtime::store::read_model::ORDER_STATUSES;

#[derive(Deserialize, Default)]
pub(in crate::console) struct FindQuery {
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

/// The statuses the find form offers: the read model's, in lifecycle order.
const STATUSES: [&str; 7] = ORDER_STATUSES;

fn valid_day(day: &str) -> bool {
    let Ok(format) = ::time::format_description::parse_borrowed::<2>("[year]-[month]-[day]") else {
        return false;
    };
    day.len() == 10 && ::time::Date::parse(day, &format).is_ok()
}

/// `/console/orders`: by order id (straight to the order), by customer,
/// status and day, a page at a time.
pub(in crate::console) async fn orders(
    Query(query): Query<FindQuery>,
    Signed { console, staff }: Signed,
) -> Response {
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
    let refusal = |notice: &Notice, status: StatusCode, body: &str| {
        render(
            &staff,
            FIND.key,
            FIND.title,
            Some(notice),
            None,
            status,
            body,
        )
    };
    if !problems.is_empty() {
        let notice = Notice {
            kind: NoticeKind::Refused,
            title: "Invalid search:".to_owned(),
            detail: problems.join("; "),
        };
        return refusal(&notice, StatusCode::BAD_REQUEST, &body);
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
            orders_of(host, &filter, cursor_arg.as_deref(), limit).map_err(Problem::from)
        })
        .await;
    let page = match page {
        Ok(page) => page,
        Err(problem) => {
            return refusal(&refused(&problem), status_of(&problem), &body);
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
    shown(&staff, FIND, None, &body)
}

fn find_form(customer: &str, status: &str, day: &str, limit: usize) -> String {
    let mut options = String::from("<option value=\"\">any</option>");
    for s in STATUSES {
        let selected = if s == status { " selected" } else { "" };
        let _ = write!(options, "<option{selected}>{s}</option>");
    }
    format!(
        "<form class=\"card find\" method=\"get\" action=\"/console/orders\" role=\"search\">\
         <div>{}</div>\
         <button type=\"submit\">Open order</button></form>\
         <form class=\"card find\" method=\"get\" action=\"/console/orders\" role=\"search\">\
         <div>{}</div>\
         <div><label for=\"status\">Status</label><select id=\"status\" name=\"status\">{options}</select></div>\
         <div>{}</div>\
         <div>{}</div>\
         <button type=\"submit\">List orders</button></form>",
        parts::field("order_id", "Order id", "order_id", " spellcheck=\"false\""),
        parts::field(
            "customer_id",
            "Customer id",
            "customer_id",
            &format!(" value=\"{}\" spellcheck=\"false\"", esc(customer))
        ),
        parts::field(
            "day",
            "Day placed",
            "day",
            &format!(" type=\"date\" value=\"{}\"", esc(day))
        ),
        parts::field(
            "limit",
            "Per page",
            "limit",
            &format!(" type=\"number\" min=\"1\" max=\"200\" value=\"{limit}\"")
        ),
    )
}

fn order_table(orders: &[dto::Order]) -> String {
    if orders.is_empty() {
        return parts::empty("No order matches.");
    }
    let mut rows = String::new();
    for o in orders {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><a href=\"/console/orders?customer_id={}\">{}</a></td><td class=\"num\">{}</td><td>{}</td></tr>",
            parts::order_link(&o.order_id),
            badge(&o.status),
            url_part(&o.customer_id),
            esc(&o.customer_id),
            money(&o.total),
            o.placed_at.map_or_else(|| "not placed".to_owned(), time)
        );
    }
    parts::table(
        Some("Orders"),
        &[
            col("Order"),
            col("Status"),
            col("Customer"),
            col("Total"),
            col("Placed"),
        ],
        &rows,
        "",
    )
}
