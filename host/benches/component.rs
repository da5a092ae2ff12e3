//! What calls into the component cost, end to end through the host: a
//! fresh instance, a query, placing an order, and a whole fulfilment saga
//! (place + four external calls + their records) on the in-memory store.
//! Run with `make bench`; figures are printed by criterion.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use order_host::bindings::orders::PlaceOrderCommand;
use order_host::bindings::types::{Money, OrderItemInput, PaymentMethod};
use order_host::engine::RuntimeConfig;
use order_host::simulation::fixtures::address;
use order_host::{Host, HostOptions, ManualClock};

fn order(n: u64) -> PlaceOrderCommand {
    let id = |what: &str| {
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{what}-{n}").as_bytes()).to_string()
    };
    PlaceOrderCommand {
        order_id: id("order"),
        customer_id: id("customer"),
        items: (0..3)
            .map(|i| OrderItemInput {
                item_id: id(&format!("item{i}")),
                product_id: id(&format!("product{i}")),
                sku: format!("SKU-{i}"),
                product_name: format!("Product {i}"),
                quantity: 2,
                unit_price: Money {
                    amount: 1_999,
                    currency: "USD".into(),
                },
            })
            .collect(),
        shipping_address: address(),
        billing_address: address(),
        payment_method: PaymentMethod::CreditCard,
    }
}

fn host() -> Host {
    Host::start(HostOptions {
        clock: Arc::new(ManualClock::new(1_795_521_600_000)),
        runtime: RuntimeConfig::default(),
        ..HostOptions::in_memory()
    })
    .expect("host (run `make build` first)")
}

fn bench(c: &mut Criterion) {
    let host = host();
    c.bench_function("instantiate", |b| {
        b.iter(|| host.service.runtime().session().expect("session"))
    });

    let placed = order(0);
    host.service.place_order(&placed).expect("placed");
    c.bench_function("get-order (instance + query)", |b| {
        b.iter(|| host.service.get_order(&placed.order_id).expect("order"))
    });

    let mut n = 1;
    c.bench_function("place-order", |b| {
        b.iter(|| {
            n += 1;
            let cmd = order(n);
            host.service.place_order(&cmd).expect("placed")
        })
    });

    let mut m = 1_000_000;
    c.bench_function("full saga (place + advance to completion)", |b| {
        b.iter(|| {
            m += 1;
            let cmd = order(m);
            host.service.place_order(&cmd).expect("placed");
            host.driver.advance(&cmd.order_id).expect("advanced")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
