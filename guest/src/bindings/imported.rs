//! The application's ports over the component's imports: each port call
//! becomes the matching WIT import call, and its answer a domain value.

use super::*;

pub(super) struct Ports;

pub(super) fn ext_from(e: t::ExternalError) -> ExternalError {
    match e {
        t::ExternalError::Transient(m) => ExternalError::Transient(m),
        t::ExternalError::Permanent(m) => ExternalError::Permanent(m),
        t::ExternalError::InDoubt(m) => ExternalError::InDoubt(m),
    }
}

pub(super) fn store_err(e: es::StoreError) -> ports::StoreError {
    match e {
        es::StoreError::Conflict(c) => ports::StoreError::Conflict {
            stream_id: c.stream_id,
            expected: c.expected,
            actual: c.actual,
        },
        es::StoreError::Unavailable(m) => ports::StoreError::Unavailable(m),
        es::StoreError::Invalid(m) => ports::StoreError::Invalid(m),
    }
}

fn stored(events: Vec<es::RecordedEvent>) -> Vec<StoredEvent> {
    events
        .into_iter()
        .map(|e| StoredEvent {
            stream_id: e.stream_id,
            version: e.version,
            event_type: e.event_type,
            payload: e.payload,
            recorded_at: e.recorded_at,
        })
        .collect()
}

impl ports::EventStore for Ports {
    fn load(&self, stream_id: &str) -> Result<Vec<StoredEvent>, ports::StoreError> {
        es::load(stream_id).map(stored).map_err(store_err)
    }

    fn load_tail(&self, stream_id: &str) -> Result<ports::StreamTail, ports::StoreError> {
        let tail = es::load_tail(stream_id).map_err(store_err)?;
        Ok(ports::StreamTail {
            state: tail.state.map(|s| ports::StoredState {
                version: s.version,
                state: s.state,
            }),
            events: stored(tail.events),
        })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, ports::StoreError> {
        es::stream_version(stream_id).map_err(store_err)
    }

    fn append(&self, batch: &ports::AppendBatch) -> Result<(), ports::StoreError> {
        let batch = es::AppendBatch {
            streams: batch
                .streams
                .iter()
                .map(|s| es::StreamAppend {
                    stream_id: s.stream_id.clone(),
                    expected_version: s.expected_version,
                    tags: s.tags.clone(),
                    events: s
                        .events
                        .iter()
                        .map(|e| es::NewEvent {
                            event_type: e.event_type.clone(),
                            payload: e.payload.clone(),
                        })
                        .collect(),
                    state: s.state.clone(),
                })
                .collect(),
            timers: batch
                .timers
                .iter()
                .map(|(saga_id, due_at)| es::SagaTimer {
                    saga_id: saga_id.clone(),
                    due_at: *due_at,
                })
                .collect(),
        };
        es::append(&batch).map_err(store_err)
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, ports::StoreError> {
        es::find_streams(tag).map_err(store_err)
    }
}

pub(super) fn retry_from(r: pol::RetryPolicy) -> dsaga::RetryPolicy {
    dsaga::RetryPolicy {
        max_attempts: r.max_attempts.max(1),
        base_delay_ms: r.base_delay_ms,
        max_delay_ms: r.max_delay_ms.max(r.base_delay_ms),
        jitter_permille: r.jitter_permille.min(1000),
    }
}

impl ports::Policy for Ports {
    fn policy(&self) -> ports::StorePolicy {
        let p = pol::get_policy();
        ports::StorePolicy {
            return_window_days: p.return_window_days,
            default_carrier: p.default_carrier.into(),
            saga: SagaPolicy {
                retry: retry_from(p.retry),
                notification_retry: retry_from(p.notification_retry),
                call_lease_ms: p.call_lease_ms.max(1),
            },
        }
    }

    fn quote(
        &self,
        items: &[v::OrderItem],
        subtotal: &Money,
        address: &v::Address,
    ) -> (Money, Money) {
        let items: Vec<t::OrderItem> = items.iter().map(item_to).collect();
        let quote = pol::quote(&items, &money_to(subtotal), &address_to(address));
        // Currency and bounds are checked by the caller, naming the field.
        let raw = |m: t::Money| Money {
            amount: m.amount,
            currency: v::Currency::parse("pricing", &m.currency)
                .unwrap_or_else(|_| subtotal.currency.clone()),
        };
        (raw(quote.tax), raw(quote.shipping_cost))
    }
}

impl ports::PaymentGateway for Ports {
    fn process_payment(
        &self,
        key: &str,
        req: &ports::ChargeRequest,
    ) -> Result<ports::PaymentReceipt, ExternalError> {
        let r = pg::process_payment(
            key,
            &pg::ProcessPaymentRequest {
                order_id: req.order_id.to_string(),
                payment_amount: money_to(req.amount),
                payment_method: req.method.into(),
                customer_id: req.customer_id.to_string(),
            },
        )
        .map_err(ext_from)?;
        let amount = Money::parse(
            "payment-amount",
            r.payment_amount.amount,
            &r.payment_amount.currency,
        )
        .map_err(|e| ExternalError::Permanent(format!("the gateway answered nonsense: {e}")))?;
        Ok(ports::PaymentReceipt {
            transaction_id: r.transaction_id,
            amount,
            processed_at: r.processed_at,
        })
    }

    fn refund_payment(&self, key: &str, req: &ports::RefundRequest) -> Result<(), ExternalError> {
        pg::refund_payment(
            key,
            &pg::RefundPaymentRequest {
                transaction_id: req.transaction_id.to_string(),
                refund_amount: money_to(req.amount),
                reason: req.reason.chars().take(500).collect(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

pub(super) fn stock_to(items: &[ports::StockItem]) -> Vec<inv::StockItem> {
    items
        .iter()
        .map(|i| inv::StockItem {
            product_id: i.product_id.clone(),
            sku: i.sku.clone(),
            quantity: i.quantity,
        })
        .collect()
}

impl ports::InventoryService for Ports {
    fn allocate_stock(
        &self,
        key: &str,
        req: &ports::StockRequest,
    ) -> Result<bool, ports::AllocationError> {
        inv::allocate_stock(
            key,
            &inv::AllocateStockRequest {
                order_id: req.order_id.to_string(),
                stock_items: stock_to(req.items),
            },
        )
        .map(|a| a.all_items_allocated)
        .map_err(|e| match e {
            inv::AllocationError::OutOfStock(f) => ports::AllocationError::OutOfStock(
                f.unavailable_items
                    .into_iter()
                    .map(|u| ports::Unavailable {
                        product_id: u.product_id,
                        requested: u.requested_quantity,
                        available: u.available_quantity,
                    })
                    .collect(),
            ),
            inv::AllocationError::Failed(e) => ports::AllocationError::Failed(ext_from(e)),
        })
    }

    fn release_stock(&self, key: &str, req: &ports::StockRequest) -> Result<(), ExternalError> {
        inv::release_stock(
            key,
            &inv::ReleaseStockRequest {
                order_id: req.order_id.to_string(),
                stock_items: stock_to(req.items),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn restock_items(&self, key: &str, req: &ports::RestockRequest) -> Result<(), ExternalError> {
        inv::restock_items(
            key,
            &inv::RestockItemsRequest {
                return_id: req.return_id.to_string(),
                order_id: req.order_id.to_string(),
                stock_items: stock_to(req.items),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

impl ports::ShippingCarrier for Ports {
    fn create_shipment(
        &self,
        key: &str,
        req: &ports::ShipmentRequest,
    ) -> Result<ports::Booking, ExternalError> {
        let b = sc::create_shipment(
            key,
            &sc::CreateShipmentRequest {
                order_id: req.order_id.to_string(),
                carrier: req.carrier.into(),
                shipping_address: address_to(req.address),
                package_items: req
                    .items
                    .iter()
                    .map(|i| sc::PackageItem {
                        product_id: i.product_id.clone(),
                        quantity: i.quantity,
                        weight_grams: None,
                    })
                    .collect(),
            },
        )
        .map_err(ext_from)?;
        let bad = |e: DomainError| {
            ExternalError::Permanent(format!("the carrier answered nonsense: {e}"))
        };
        let shipment_id = v::parse_uuid("shipment-id", &b.shipment_id).map_err(bad)?;
        v::check_len("tracking-number", &b.tracking_number, 1, 100).map_err(bad)?;
        Ok(ports::Booking {
            shipment_id,
            carrier: b.carrier.into(),
            tracking_number: b.tracking_number,
            estimated_delivery: b.estimated_delivery,
        })
    }

    fn cancel_shipment(
        &self,
        key: &str,
        req: &ports::CancelShipmentRequest,
    ) -> Result<(), ExternalError> {
        sc::cancel_shipment(
            key,
            &sc::CancelShipmentRequest {
                shipment_id: req.shipment_id.to_string(),
                reason: req.reason.chars().take(500).collect(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }
}

impl ports::CustomerService for Ports {
    fn send_order_confirmation(
        &self,
        key: &str,
        req: &ports::ConfirmationRequest,
    ) -> Result<(), ExternalError> {
        cs::send_order_confirmation(
            key,
            &cs::SendOrderConfirmationRequest {
                order_id: req.order_id.to_string(),
                customer_id: req.customer_id.to_string(),
                order_details: cs::OrderDetails {
                    items: req.items.iter().map(item_to).collect(),
                    total: money_to(req.total),
                    tracking_number: req.tracking_number.map(str::to_string),
                },
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn send_order_cancellation(
        &self,
        key: &str,
        req: &ports::CancellationRequest,
    ) -> Result<(), ExternalError> {
        cs::send_order_cancellation(
            key,
            &cs::SendOrderCancellationRequest {
                order_id: req.order_id.to_string(),
                customer_id: req.customer_id.to_string(),
                reason: req.reason.to_string(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn send_shipping_update(
        &self,
        key: &str,
        req: &ports::ShippingUpdateRequest,
    ) -> Result<(), ExternalError> {
        cs::send_shipping_update(
            key,
            &cs::SendShippingUpdateRequest {
                order_id: req.order_id.to_string(),
                customer_id: req.customer_id.to_string(),
                tracking_number: req.tracking_number.to_string(),
                shipping_status: req.status.into(),
            },
        )
        .map(|_| ())
        .map_err(ext_from)
    }

    fn create_support_ticket(
        &self,
        key: &str,
        req: &ports::TicketRequest,
    ) -> Result<String, ExternalError> {
        cs::create_support_ticket(
            key,
            &cs::CreateSupportTicketRequest {
                order_id: req.order_id.to_string(),
                customer_id: req.customer_id.to_string(),
                issue: req.issue.chars().take(1000).collect(),
                priority: match req.priority {
                    ports::TicketPriority::Low => cs::TicketPriority::Low,
                    ports::TicketPriority::Normal => cs::TicketPriority::Normal,
                    ports::TicketPriority::High => cs::TicketPriority::High,
                    ports::TicketPriority::Urgent => cs::TicketPriority::Urgent,
                },
            },
        )
        .map(|t| t.ticket_id)
        .map_err(ext_from)
    }
}

impl ports::Clock for Ports {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Timestamp)
    }
}
