//! `order-host order|customer|shipment|metrics|saga …`: the commands and
//! queries of orders, printed as the HTTP API's JSON with `--json`.

use std::time::Duration;

use anyhow::Context as _;
use order_host::bindings::orders::CancelOrderCommand;
use order_host::{Host, demo};
use order_server::dto;
use order_server::text;

use super::args::{CustomerCommand, MetricsCommand, OrderCommand, SagaCommand, ShipmentCommand};
use super::{print, read_file_or_stdin};

/// `order place|get|events|cancel`.
pub fn order(host: &Host, json: bool, command: &OrderCommand) -> anyhow::Result<()> {
    let svc = &host.service;
    match command {
        OrderCommand::Place { file } => {
            let text = read_file_or_stdin(file)?;
            let request: dto::PlaceOrderRequest =
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is not a valid order (the JSON body of POST /orders)",
                        file.display()
                    )
                })?;
            let order_id = request.order_id.clone();
            let placement = request.into_placement().map_err(|field| {
                anyhow::anyhow!(
                    "{}: {field} is required to place an order (or set \"draft\": true)",
                    file.display()
                )
            })?;
            match placement {
                dto::Placement::Place(cmd) => {
                    svc.retrying(|svc| svc.place_order(&cmd))?;
                    host.driver.run_until_idle(Duration::from_secs(30))?;
                }
                dto::Placement::Draft(cmd) => {
                    svc.retrying(|svc| svc.create_draft(&cmd))?;
                }
            }
            let order = svc.get_order(&order_id)?;
            print(json, &dto::Order::from(order), text::order)
        }
        OrderCommand::Get { order_id } => {
            let order = svc.get_order(order_id)?;
            print(json, &dto::Order::from(order), text::order)
        }
        OrderCommand::Events { order_id } => {
            let events = svc.order_history(order_id)?;
            if json {
                let events: Vec<dto::HistoryEntry> = events.into_iter().map(Into::into).collect();
                println!("{}", serde_json::to_string_pretty(&events)?);
            } else {
                for e in &events {
                    println!(
                        "{:>4}  {:<26} {}",
                        e.version,
                        e.event_type,
                        demo::describe_event(&e.event_type, &e.payload)
                    );
                }
            }
            Ok(())
        }
        OrderCommand::Cancel(args) => {
            let cmd = CancelOrderCommand {
                order_id: args.order_id.clone(),
                reason: args.reason.clone(),
                cancelled_by: args.cancelled_by.clone(),
            };
            let order = svc.retrying(|svc| svc.cancel_order(&cmd))?;
            print(json, &dto::Order::from(order), text::order)
        }
    }
}

/// `customer orders`.
pub fn customer(host: &Host, json: bool, command: &CustomerCommand) -> anyhow::Result<()> {
    let CustomerCommand::Orders { customer_id } = command;
    let orders = host.service.orders_of_customer(customer_id)?;
    let orders: Vec<dto::Order> = orders.into_iter().map(Into::into).collect();
    print(json, &orders, |orders| text::orders(customer_id, orders))
}

/// `shipment get`.
pub fn shipment(host: &Host, json: bool, command: &ShipmentCommand) -> anyhow::Result<()> {
    let ShipmentCommand::Get { shipment_id } = command;
    let shipment = host.service.get_shipment(shipment_id)?;
    print(json, &dto::Shipment::from(shipment), text::shipment)
}

/// `metrics daily`.
pub fn metrics(host: &Host, json: bool, command: &MetricsCommand) -> anyhow::Result<()> {
    let MetricsCommand::Daily { date } = command;
    let metrics = host.service.get_daily_metrics(date)?;
    print(json, &dto::DailyMetrics::from(metrics), text::daily_metrics)
}

/// `saga resume|status`.
pub fn saga(host: &Host, json: bool, command: &SagaCommand) -> anyhow::Result<()> {
    match command {
        SagaCommand::Resume {
            order_id: Some(order_id),
            requested_by,
            ..
        } => {
            let report = host.driver.retry_now(order_id, requested_by)?;
            print(json, &dto::SagaReport::from(report), text::saga)
        }
        SagaCommand::Resume {
            order_id: None,
            wait,
            ..
        } => {
            let report = host.driver.run_until_idle(Duration::from_secs(*wait))?;
            let pending = host.store.all_timers()?.len();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"advanced": report.advanced, "failed": report.failed,
                        "finished": report.finished, "still_scheduled": pending})
                );
            } else {
                println!(
                    "advanced {} saga(s), {} finished, {} failed; {} still scheduled",
                    report.advanced, report.finished, report.failed, pending
                );
            }
            Ok(())
        }
        SagaCommand::Status { order_id } => {
            let report = host.service.saga_status(order_id)?;
            print(json, &dto::SagaReport::from(report), text::saga)
        }
    }
}
