//! Drives the simulated backends through the calls of many orders (charge,
//! allocate, book, pick up, deliver, confirm, two shipping updates; every
//! fifth order cancelled: refund, release, cancel the booking, tell the
//! customer) without the component, and prints the process's resident
//! memory as it goes, to show that the simulation's memory levels off
//! instead of growing with every order.
//!
//! `cargo run -p order-host --example sim_memory -- 100000` (the order count,
//! default 100,000), or `make bench-memory`.

use std::sync::Arc;

use order_host::Simulation;
use order_host::bindings::oms::order_management::types::{
    CarrierCode, PaymentMethod, ShipmentStatus,
};
use order_host::carrier::{
    CancelShipmentRequest, CreateShipmentRequest, PackageItem, ShippingCarrier as _,
};
use order_host::customer::{
    CustomerService as _, OrderDetails, SendOrderCancellationRequest, SendOrderConfirmationRequest,
    SendShippingUpdateRequest,
};
use order_host::inventory::{
    AllocateStockRequest, InventoryService as _, ReleaseStockRequest, StockItem,
};
use order_host::load::resident_memory_kib;
use order_host::payment::{PaymentGateway as _, ProcessPaymentRequest, RefundPaymentRequest};
use order_host::simulation::fixtures::{address, usd};

fn main() -> anyhow::Result<()> {
    let orders: usize = match std::env::args().nth(1) {
        Some(text) => text
            .parse()
            .map_err(|e| anyhow::anyhow!("the order count `{text}`: {e}"))?,
        None => 100_000,
    };
    let sim = Simulation::new(1, Arc::new(order_host::SystemClock));
    sim.control
        .set_fault_plan("all=transient:0.05,lost:0.05".parse()?);
    sim.inventory.set_default_stock(u64::MAX / 4);
    let address = address();
    let step = (orders / 10).max(1);
    println!("orders  RSS MiB  (peak MiB)");
    for i in 0..orders {
        let order = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &i.to_le_bytes()).to_string();
        let key = |step: &str| format!("order-{order}/{step}");
        // Ask again while the answer is in doubt or the service is down.
        macro_rules! settle {
            ($call:expr) => {{
                let mut result = $call;
                for _ in 0..20 {
                    if result.is_ok() {
                        break;
                    }
                    result = $call;
                }
                result
            }};
        }
        let paid = settle!(sim.payment.process_payment(
            &key("process-payment/action"),
            &ProcessPaymentRequest {
                order_id: order.clone(),
                payment_amount: usd(2_500),
                payment_method: PaymentMethod::CreditCard,
                customer_id: "customer".to_owned(),
            },
        ));
        let stock = vec![StockItem {
            product_id: format!("product-{}", i % 16),
            sku: "SKU-1".to_owned(),
            quantity: 2,
        }];
        let _ = settle!(sim.inventory.allocate_stock(
            &key("allocate-inventory/action"),
            &AllocateStockRequest {
                order_id: order.clone(),
                stock_items: stock.clone(),
            },
        ));
        let booked = settle!(sim.carrier.create_shipment(
            &key("create-shipment/action"),
            &CreateShipmentRequest {
                order_id: order.clone(),
                carrier: CarrierCode::Ups,
                shipping_address: address.clone(),
                package_items: vec![PackageItem {
                    product_id: stock[0].product_id.clone(),
                    quantity: 2,
                    weight_grams: None,
                }],
            },
        ));
        if i % 5 == 4 {
            if let Ok(paid) = &paid {
                let _ = settle!(sim.payment.refund_payment(
                    &key("process-payment/compensation"),
                    &RefundPaymentRequest {
                        transaction_id: paid.transaction_id.clone(),
                        refund_amount: usd(2_500),
                        reason: "cancelled".to_owned(),
                    },
                ));
            }
            let _ = settle!(sim.inventory.release_stock(
                &key("allocate-inventory/compensation"),
                &ReleaseStockRequest {
                    order_id: order.clone(),
                    stock_items: stock.clone(),
                },
            ));
            if let Ok(booked) = &booked {
                let _ = settle!(sim.carrier.cancel_shipment(
                    &key("create-shipment/compensation"),
                    &CancelShipmentRequest {
                        shipment_id: booked.shipment_id.clone(),
                        reason: "cancelled".to_owned(),
                    },
                ));
            }
            let _ = settle!(sim.customer.send_order_cancellation(
                &key("notify-customer/compensation"),
                &SendOrderCancellationRequest {
                    order_id: order.clone(),
                    customer_id: "customer".to_owned(),
                    reason: "cancelled".to_owned(),
                },
            ));
        } else {
            if let Ok(booked) = &booked {
                let _ = sim.carrier.pick_up(&booked.shipment_id);
                let _ = sim.carrier.deliver(&booked.shipment_id, None);
            }
            let _ = settle!(sim.customer.send_order_confirmation(
                &key("notify-customer/action"),
                &SendOrderConfirmationRequest {
                    order_id: order.clone(),
                    customer_id: "customer".to_owned(),
                    order_details: OrderDetails {
                        items: Vec::new(),
                        total: usd(2_500),
                        tracking_number: None,
                    },
                },
            ));
            for status in [ShipmentStatus::PickedUp, ShipmentStatus::Delivered] {
                let _ = settle!(sim.customer.send_shipping_update(
                    &key(&format!("shipping-update/{status:?}")),
                    &SendShippingUpdateRequest {
                        order_id: order.clone(),
                        customer_id: "customer".to_owned(),
                        tracking_number: "1Z".to_owned(),
                        shipping_status: status,
                    },
                ));
            }
        }
        if (i + 1) % step == 0 || i + 1 == orders {
            let mib = |kib: Option<u64>| kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
            let (peak, now) = resident_memory_kib();
            println!("{:>7}  {:>7.1}  ({:.1})", i + 1, mib(now), mib(peak));
        }
    }
    println!(
        "{} calls, {} charges made ({} kept), {} shipments booked",
        sim.log().len(),
        sim.payment.total_charged() / 2_500,
        sim.payment.charges().len(),
        sim.carrier.shipments_booked()
    );
    Ok(())
}
