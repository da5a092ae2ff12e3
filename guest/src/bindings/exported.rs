//! The component's exports over the application layer: each export
//! converts its command, runs the use case, and converts the answer.

use super::*;

pub(super) fn with_app<T>(
    f: impl FnOnce(&App<'_>) -> DomainResult<T>,
) -> Result<T, t::CommandError> {
    let p = Ports;
    let app = App::new(Env {
        store: &p,
        policy: &p,
        payment: &p,
        inventory: &p,
        carrier: &p,
        customer: &p,
        clock: &p,
    });
    f(&app).map_err(error_to)
}

pub(super) fn inbound_to(i: Inbound) -> ib::InboundOutcome {
    match i {
        Inbound::Applied => ib::InboundOutcome::Applied,
        Inbound::Duplicate => ib::InboundOutcome::Duplicate,
    }
}

impl ord::Guest for Component {
    fn create_draft(c: ord::CreateDraftCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::CreateDraft::validate(
                &c.order_id,
                &c.customer_id,
                c.items.into_iter().map(item_input_from).collect(),
                c.shipping_address.map(address_from),
                c.billing_address.map(address_from),
                c.payment_method.map(Into::into),
            )?;
            app.create_draft(cmd).map(|o| order_view(&o))
        })
    }

    fn update_draft(c: ord::UpdateDraftCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::UpdateDraft::validate(
                c.items
                    .map(|i| i.into_iter().map(item_input_from).collect()),
                c.shipping_address.map(address_from),
                c.billing_address.map(address_from),
                c.payment_method.map(Into::into),
            )?;
            app.update_draft(&c.order_id, cmd).map(|o| order_view(&o))
        })
    }

    fn place_order(c: ord::PlaceOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let cmd = crate::domain::order::PlaceOrder::validate(
                &c.order_id,
                &c.customer_id,
                c.items.into_iter().map(item_input_from).collect(),
                address_from(c.shipping_address),
                address_from(c.billing_address),
                c.payment_method.into(),
            )?;
            app.place_order(cmd).map(|o| order_view(&o))
        })
    }

    fn confirm_payment(c: ord::ConfirmPaymentCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let amount = money_from("amount-paid", c.amount_paid)?;
            app.confirm_payment(&c.order_id, &c.transaction_id, amount)
                .map(|o| order_view(&o))
        })
    }

    fn allocate_inventory(
        c: ord::AllocateInventoryCommand,
    ) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            let allocations: Vec<(String, bool)> = c
                .allocations
                .into_iter()
                .map(|a| (a.item_id, a.allocated))
                .collect();
            app.allocate_inventory(&c.order_id, &allocations)
                .map(|o| order_view(&o))
        })
    }

    fn ship_order(c: ord::ShipOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.ship_order(
                &c.order_id,
                &c.shipment_id,
                c.carrier.into(),
                &c.tracking_number,
            )
            .map(|o| order_view(&o))
        })
    }

    fn deliver_order(c: ord::DeliverOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.deliver_order(&c.order_id, c.delivered_at, c.signed_by)
                .map(|o| order_view(&o))
        })
    }

    fn cancel_order(c: ord::CancelOrderCommand) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| {
            app.cancel_order(&c.order_id, &c.reason, &c.cancelled_by)
                .map(|o| order_view(&o))
        })
    }
}

impl shp::Guest for Component {
    fn init_shipment(c: shp::InitShipmentCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.init_shipment(crate::domain::shipment::InitShipment {
                shipment_id: c.shipment_id,
                order_id: c.order_id,
                carrier: c.carrier.into(),
                tracking_number: c.tracking_number,
                shipping_address: address_from(c.shipping_address),
                items: c
                    .items
                    .into_iter()
                    .map(|i| ShipmentItem {
                        item_id: i.item_id,
                        product_id: i.product_id,
                        quantity: i.quantity,
                    })
                    .collect(),
            })
            .map(|s| shipment_view(&s))
        })
    }

    fn update_tracking(
        c: shp::UpdateTrackingCommand,
    ) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.update_tracking(&c.shipment_id, c.status.into(), c.location, &c.description)
                .map(|s| shipment_view(&s))
        })
    }

    fn mark_delivered(c: shp::MarkDeliveredCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.mark_delivered(&c.shipment_id, c.delivered_at, c.signed_by)
                .map(|s| shipment_view(&s))
        })
    }

    fn mark_failed(c: shp::MarkFailedCommand) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| {
            app.mark_failed(&c.shipment_id, &c.reason)
                .map(|s| shipment_view(&s))
        })
    }
}

impl ret::Guest for Component {
    fn request_return(c: ret::RequestReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.request_return(crate::domain::returns::RequestReturn {
                return_id: c.return_id,
                order_id: c.order_id,
                customer_id: c.customer_id,
                return_items: c
                    .return_items
                    .into_iter()
                    .map(|i| ReturnItem {
                        item_id: i.item_id,
                        product_id: i.product_id,
                        quantity: i.quantity,
                        return_reason: i.return_reason.into(),
                        condition: i.condition,
                    })
                    .collect(),
                return_reason: c.return_reason.into(),
                comments: c.comments,
            })
            .map(|r| return_view(&r))
        })
    }

    fn approve_return(c: ret::ApproveReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.approve_return(&c.return_id, &c.approved_by, c.return_label)
                .map(|r| return_view(&r))
        })
    }

    fn deny_return(c: ret::DenyReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.deny_return(&c.return_id, &c.denied_by, &c.reason)
                .map(|r| return_view(&r))
        })
    }

    fn ship_return(c: ret::ShipReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.ship_return(&c.return_id, c.carrier.into(), &c.tracking_number)
                .map(|r| return_view(&r))
        })
    }

    fn receive_return(c: ret::ReceiveReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.receive_return(
                &c.return_id,
                c.received_at,
                &c.condition,
                c.all_items_received,
            )
            .map(|r| return_view(&r))
        })
    }

    fn process_refund(c: ret::ProcessRefundCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            let amount = money_from("refund-amount", c.refund_amount)?;
            app.process_refund(&c.return_id, amount, c.refund_method.into())
                .map(|r| return_view(&r))
        })
    }

    fn close_return(c: ret::CloseReturnCommand) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| {
            app.close_return(&c.return_id, &c.reason)
                .map(|r| return_view(&r))
        })
    }
}

impl fs::Guest for Component {
    fn start(input: fs::SagaInput) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| {
            let input = SagaInput {
                order_id: input.order_id,
                customer_id: input.customer_id,
                items: items_from("items", input.items)?,
                total: money_from("total", input.total)?,
                payment_method: input.payment_method.into(),
                shipping_address: address_from(input.shipping_address)
                    .validated("shipping-address")?,
            };
            app.start_saga(input).map(|o| saga_report(&o))
        })
    }

    fn advance(order_id: String) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| app.advance_saga(&order_id).map(|o| saga_report(&o)))
    }

    fn retry_now(
        order_id: String,
        requested_by: String,
    ) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| {
            app.retry_saga_now(&order_id, &requested_by)
                .map(|o| saga_report(&o))
        })
    }

    fn status(order_id: String) -> Result<fs::SagaReport, t::CommandError> {
        with_app(|app| app.get_order(&order_id).map(|o| saga_report(&o)))
    }
}

impl ib::Guest for Component {
    fn on_payment_succeeded(
        e: pg::PaymentSucceeded,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let amount = money_from("payment-amount", e.payment_amount)?;
            app.on_payment_succeeded(&e.order_id, &e.transaction_id, amount)
                .map(inbound_to)
        })
    }

    fn on_payment_failed(e: pg::PaymentFailed) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_payment_failed(&e.order_id, &e.reason)
                .map(inbound_to)
        })
    }

    fn on_refund_completed(e: pg::RefundCompleted) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let amount = money_from("refund-amount", e.refund_amount)?;
            app.on_refund_completed(&e.transaction_id, amount, e.refunded_at)
                .map(inbound_to)
        })
    }

    fn on_stock_allocated(e: inv::StockAllocated) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_stock_allocated(&e.order_id, e.all_items_allocated)
                .map(inbound_to)
        })
    }

    fn on_stock_allocation_failed(
        e: inv::StockAllocationFailed,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            let detail: Vec<String> = e
                .unavailable_items
                .iter()
                .map(|u| {
                    format!(
                        "{} ({} requested, {} available)",
                        u.product_id, u.requested_quantity, u.available_quantity
                    )
                })
                .collect();
            app.on_stock_allocation_failed(&e.order_id, &detail.join(", "))
                .map(inbound_to)
        })
    }

    fn on_shipment_created_by_carrier(
        e: sc::ShipmentCreatedByCarrier,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_shipment_created(
                &e.shipment_id,
                &e.order_id,
                e.carrier.into(),
                &e.tracking_number,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_picked_up(
        e: sc::ShipmentPickedUp,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::PickedUp,
                e.location,
                e.picked_up_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_in_transit(
        e: sc::ShipmentInTransit,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::InTransit,
                e.current_location,
                e.updated_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_out_for_delivery(
        e: sc::ShipmentOutForDelivery,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_tracking(
                &e.shipment_id,
                v::ShipmentStatus::OutForDelivery,
                e.location,
                e.updated_at,
            )
            .map(inbound_to)
        })
    }

    fn on_shipment_delivered_by_carrier(
        e: sc::ShipmentDeliveredByCarrier,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivered(&e.shipment_id, e.delivered_at, e.signed_by)
                .map(inbound_to)
        })
    }

    fn on_shipment_delivery_failed(
        e: sc::ShipmentDeliveryFailed,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivery_failed(&e.shipment_id, &e.reason)
                .map(inbound_to)
        })
    }

    fn on_shipment_cancelled(
        e: sc::ShipmentCancelled,
    ) -> Result<ib::InboundOutcome, t::CommandError> {
        with_app(|app| {
            app.on_delivery_failed(&e.shipment_id, "cancelled by carrier")
                .map(inbound_to)
        })
    }
}

impl q::Guest for Component {
    fn get_order(order_id: String) -> Result<ord::OrderView, t::CommandError> {
        with_app(|app| app.get_order(&order_id).map(|o| order_view(&o)))
    }

    fn orders_of_customer(customer_id: String) -> Result<Vec<ord::OrderView>, t::CommandError> {
        with_app(|app| {
            app.orders_of_customer(&customer_id)
                .map(|os| os.iter().map(order_view).collect())
        })
    }

    fn order_history(order_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.order_history(&order_id).map(history))
    }

    fn shipment_history(shipment_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.shipment_history(&shipment_id).map(history))
    }

    fn return_history(return_id: String) -> Result<Vec<q::HistoryEntry>, t::CommandError> {
        with_app(|app| app.return_history(&return_id).map(history))
    }

    fn get_shipment(shipment_id: String) -> Result<shp::ShipmentView, t::CommandError> {
        with_app(|app| app.get_shipment(&shipment_id).map(|s| shipment_view(&s)))
    }

    fn shipments_of_order(order_id: String) -> Result<Vec<shp::ShipmentView>, t::CommandError> {
        with_app(|app| {
            app.shipments_of_order(&order_id)
                .map(|ss| ss.iter().map(shipment_view).collect())
        })
    }

    fn get_return(return_id: String) -> Result<ret::ReturnView, t::CommandError> {
        with_app(|app| app.get_return(&return_id).map(|r| return_view(&r)))
    }

    fn returns_of_order(order_id: String) -> Result<Vec<ret::ReturnView>, t::CommandError> {
        with_app(|app| {
            app.returns_of_order(&order_id)
                .map(|rs| rs.iter().map(return_view).collect())
        })
    }

    fn get_daily_metrics(date: String) -> Result<q::DailyMetrics, t::CommandError> {
        with_app(|app| {
            app.daily_metrics(&date).map(|m| q::DailyMetrics {
                order_count: m.order_count(),
                cancellation_count: m.cancellation_count(),
                refund_count: m.refund_count(),
                totals: m
                    .by_currency
                    .iter()
                    .map(|(currency, t)| q::CurrencyTotals {
                        currency: currency.clone(),
                        order_count: t.order_count,
                        total_revenue: t.total_revenue,
                        average_order_value: t.average_order_value(),
                        cancellation_count: t.cancellation_count,
                        refund_count: t.refund_count,
                        refund_total: t.refund_total,
                    })
                    .collect(),
                date: m.date,
            })
        })
    }
}
