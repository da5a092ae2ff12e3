//! What the guest spends natively on an order's stream: decoding its
//! stored events, encoding them, folding them, and the whole lifecycle
//! (place, saga, pickup, delivery) over the memory ports. Run with `cargo
//! bench -p order-core --features memory-ports --bench codec`; criterion
//! prints the figures.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use order_core::app::memory::{MemoryPorts, sample_address};
use order_core::app::ports::{Clock, StoredEvent};
use order_core::domain::codec;
use order_core::domain::order::{Order, OrderEvent, OrderStatus, PlaceOrder};
use order_core::domain::values::{OrderItemInput, PaymentMethod, ShipmentStatus};

fn id(what: &str, n: u64) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{what}-{n}").as_bytes()).to_string()
}

/// An order of three lines, as the bench and load workloads place them.
fn place(n: u64) -> PlaceOrder {
    PlaceOrder::validate(
        &id("order", n),
        &id("customer", n),
        (0..3)
            .map(|i| OrderItemInput {
                item_id: id(&format!("item{i}"), n),
                product_id: id(&format!("product{i}"), n),
                sku: format!("SKU-{i}"),
                product_name: format!("Product {i}"),
                quantity: 2,
                unit_price_amount: 1_999,
                unit_price_currency: "USD".into(),
            })
            .collect(),
        sample_address(),
        sample_address(),
        PaymentMethod::CreditCard,
    )
    .expect("a valid order")
}

/// Places order `n` and runs it to delivered: what `order-host bench`'s
/// native row does per order.
fn lifecycle(ports: &MemoryPorts, n: u64) -> String {
    let app = ports.app();
    let order_id = app.place_order(place(n)).expect("placed").order_id;
    for _ in 0..20 {
        app.advance_saga(&order_id).expect("advanced");
        if ports.store.timer(&order_id).is_none() {
            break;
        }
    }
    let order = app.get_order(&order_id).expect("order");
    let shipment = order.shipping.expect("shipped").shipment_id;
    let now = ports.clock.now();
    app.on_tracking(&shipment, ShipmentStatus::PickedUp, None, now)
        .expect("picked up");
    app.on_delivered(&shipment, now, Some("Recipient".into()))
        .expect("delivered");
    let order = app.get_order(&order_id).expect("order");
    assert_eq!(order.status, OrderStatus::Delivered);
    order_id
}

/// The stored events of one delivered order.
fn delivered_stream() -> Vec<StoredEvent> {
    let ports = MemoryPorts::new();
    let order_id = lifecycle(&ports, 0);
    ports.app().order_history(&order_id).expect("history")
}

fn serde_tagged(events: &[StoredEvent]) -> Vec<OrderEvent> {
    events
        .iter()
        .map(|e| serde_json::from_str(&e.payload).expect("decodes"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let stream = delivered_stream();
    let decoded = serde_tagged(&stream);
    let bytes: usize = stream.iter().map(|e| e.payload.len()).sum();
    eprintln!(
        "a delivered order's stream: {} events, {bytes} payload bytes",
        stream.len()
    );

    let mut decode = c.benchmark_group("decode a delivered order's stream");
    decode.bench_function("serde, internally tagged", |b| {
        b.iter(|| serde_tagged(black_box(&stream)))
    });
    decode.bench_function("streamed by the stored type", |b| {
        b.iter(|| {
            black_box(&stream)
                .iter()
                .map(|e| codec::decode::<OrderEvent>(&e.event_type, &e.payload).expect("decodes"))
                .collect::<Vec<_>>()
        })
    });
    decode.finish();

    c.bench_function("encode a delivered order's stream", |b| {
        b.iter(|| {
            black_box(&decoded)
                .iter()
                .map(|e| (e.event_type(), serde_json::to_string(e).unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    });

    c.bench_function("fold a delivered order's stream", |b| {
        b.iter(|| Order::fold(black_box(&decoded)))
    });

    let ports = MemoryPorts::new();
    let next = AtomicU64::new(1);
    c.bench_function("lifecycle natively (place to delivered)", |b| {
        b.iter(|| lifecycle(&ports, next.fetch_add(1, Ordering::Relaxed)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
