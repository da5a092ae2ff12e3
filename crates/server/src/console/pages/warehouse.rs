//! `/console/warehouse`: the pick list (orders waiting to ship), the
//! shipments in flight and the returns on their way back, a page of orders
//! at a time.

use std::fmt::Write as _;

use axum::extract::Query;
use axum::response::Response;
use serde::Deserialize;

use super::{Place, Signed, failed, orders_of, shown};
use crate::console::html::{badge, esc, time, url_part};
use crate::console::parts::{self, col};
use crate::console::summaries::{self, OrderFilter};
use crate::text;
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::service::ServiceError;

const WAREHOUSE: Place = Place {
    key: "warehouse",
    title: "Warehouse",
};

#[derive(Deserialize, Default)]
pub(in crate::console) struct CursorQuery {
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
    let page = orders_of(host, &filter, cursor, summaries::MAX_LIMIT)?;
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
                    let r = crate::console::return_dto(r);
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
pub(in crate::console) async fn warehouse(
    Query(query): Query<CursorQuery>,
    Signed { console, staff }: Signed,
) -> Response {
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
        Err(problem) => return failed(&staff, WAREHOUSE.key, WAREHOUSE.title, &problem),
    };
    let mut body = String::from("<h1>Warehouse</h1>");
    body.push_str(&parts::section(
        "card",
        "pick",
        &format!("Pick list: orders waiting to ship ({})", w.pick.len()),
        &pick_list(&w.pick),
    ));
    let in_flight = w.in_flight.iter().map(|(o, s)| {
        let last = s.tracking_history.last().map_or(String::new(), |t| {
            format!(" — {} {}", time(t.timestamp), esc(&t.description))
        });
        format!(
            "{} {} <code>{}</code> {}{last}",
            parts::order_link(&o.order_id),
            badge(&s.carrier),
            esc(&s.tracking_number),
            badge(&s.status)
        )
    });
    body.push_str(&list_section(
        "flight",
        "Shipments in flight",
        in_flight.collect(),
        "No shipment in flight.",
    ));
    let to_receive = w.to_receive.iter().map(|(o, r)| {
        format!(
            "<a href=\"/console/orders/{}#return-{}\">Return {}</a> of order {} {}{}",
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
        )
    });
    body.push_str(&list_section(
        "receive",
        "Returns to receive",
        to_receive.collect(),
        "No return on its way.",
    ));
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
    shown(&staff, WAREHOUSE, None, &body)
}

/// A card headed `heading (count)` listing `items`, or saying `none`
/// (words) when there are none.
fn list_section(id: &str, heading: &str, items: Vec<String>, none: &str) -> String {
    let heading = format!("{heading} ({})", items.len());
    let inner = if items.is_empty() {
        parts::empty(none)
    } else {
        parts::list("ul", "", items)
    };
    parts::section("card", id, &heading, &inner)
}

fn pick_list(pick: &[(dto::Order, Option<dto::Shipment>)]) -> String {
    if pick.is_empty() {
        return parts::empty("Nothing to pick.");
    }
    let mut rows = String::new();
    for (o, shipment) in pick {
        let lines = o.items.iter().map(|i| {
            format!(
                "{} × {} <code>{}</code>",
                i.quantity,
                esc(&i.product_name),
                esc(&i.sku)
            )
        });
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            parts::order_link(&o.order_id),
            parts::list("ul", "", lines),
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
    parts::table(
        None,
        &[
            col("Order"),
            col("Pick"),
            col("Ship to"),
            col("Carrier label"),
        ],
        &rows,
        "",
    )
}
