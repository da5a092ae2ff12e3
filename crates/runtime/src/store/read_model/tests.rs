//! The mapping from stored order events to a summary: statuses, saga
//! states, totals and times, the way the component's domain folds them.

use super::*;

const ORDER: &str = "0b0b0b0b-0000-4000-8000-000000000001";
const CUSTOMER: &str = "c0c0c0c0-0000-4000-8000-000000000001";

fn money(amount: u64, currency: &str) -> String {
    format!(r#"{{"amount":{amount},"currency":"{currency}"}}"#)
}

fn line(total: u64, currency: &str) -> String {
    format!(
        r#"{{"item_id":"i","quantity":1,"unit_price":{},"total_price":{}}}"#,
        money(total, currency),
        money(total, currency)
    )
}

fn draft_created(at: u64, lines: &[String]) -> (String, String) {
    (
        "draft-created".to_owned(),
        format!(
            r#"{{"type":"draft-created","order_id":"{ORDER}","customer_id":"{CUSTOMER}","items":[{}],"created_at":{at}}}"#,
            lines.join(",")
        ),
    )
}

fn placed(at: u64, total: u64) -> (String, String) {
    (
        "order-placed".to_owned(),
        format!(
            r#"{{"type":"order-placed","order_id":"{ORDER}","customer_id":"{CUSTOMER}","total":{},"placed_at":{at}}}"#,
            money(total, "EUR")
        ),
    )
}

fn plain(event_type: &str) -> (String, String) {
    (
        event_type.to_owned(),
        format!(r#"{{"type":"{event_type}"}}"#),
    )
}

fn step(event_type: &str, step: &str) -> (String, String) {
    (
        event_type.to_owned(),
        format!(r#"{{"type":"{event_type}","step":"{step}"}}"#),
    )
}

/// Folds `events`, recorded at 1000, 1001, ...; returns every intermediate summary.
fn fold_all(events: &[(String, String)]) -> Vec<Option<OrderSummary>> {
    let mut summary = None;
    let mut seen = Vec::new();
    for (index, (event_type, payload)) in events.iter().enumerate() {
        summary = OrderSummary::evolve(
            summary,
            ORDER,
            event_type,
            payload,
            index as u64 + 1,
            1_000 + index as u64,
        );
        seen.push(summary.clone());
    }
    seen
}

fn status_and_saga(summary: &Option<OrderSummary>) -> (String, Option<SagaState>) {
    let s = summary.as_ref().expect("a summary");
    (s.status.clone(), s.saga)
}

#[test]
fn a_draft_has_no_saga_and_totals_its_lines() {
    let seen = fold_all(&[draft_created(500, &[line(250, "GBP"), line(100, "GBP")])]);
    let draft = seen[0].clone().unwrap();
    assert_eq!(draft.status, "draft");
    assert_eq!(draft.saga, None);
    assert_eq!((draft.total, draft.currency.as_str()), (350, "GBP"));
    assert_eq!((draft.created_at, draft.placed_at), (500, None));
    assert_eq!(draft.listed_at(), 500);
    assert_eq!((draft.customer_id.as_str(), draft.version), (CUSTOMER, 1));
}

#[test]
fn a_happy_order_goes_from_pending_to_delivered_and_its_saga_completes() {
    let seen = fold_all(&[
        placed(700, 1_999),
        plain("saga-started"),
        plain("payment-confirmed"),
        plain("order-shipped"),
        plain("saga-completed"),
        plain("order-delivered"),
    ]);
    let states: Vec<_> = seen.iter().map(status_and_saga).collect();
    use SagaState::{Completed, Running};
    assert_eq!(
        states,
        vec![
            ("pending".into(), Some(Running)),
            ("pending".into(), Some(Running)),
            ("confirmed".into(), Some(Running)),
            ("shipped".into(), Some(Running)),
            ("shipped".into(), Some(Completed)),
            ("delivered".into(), Some(Completed)),
        ]
    );
    let last = seen[5].clone().unwrap();
    assert_eq!((last.total, last.currency.as_str()), (1_999, "EUR"));
    assert_eq!((last.placed_at, last.created_at), (Some(700), 700));
    assert_eq!((last.updated_at, last.version), (1_005, 6));
}

#[test]
fn placing_a_draft_prices_it_and_moves_it_in_the_listing() {
    let seen = fold_all(&[draft_created(500, &[line(250, "GBP")]), placed(900, 4_200)]);
    let order = seen[1].clone().unwrap();
    assert_eq!((order.status.as_str(), order.total), ("pending", 4_200));
    assert_eq!(order.currency, "EUR");
    assert_eq!((order.created_at, order.placed_at), (500, Some(900)));
    assert_eq!(order.listed_at(), 900);
}

#[test]
fn a_stalled_compensation_reads_as_compensation_failed_until_it_is_answered() {
    let seen = fold_all(&[
        placed(700, 100),
        plain("order-cancelled"),
        step("compensation-stalled", "process-payment"),
        step("compensation-stalled", "allocate-inventory"),
        step("compensation-completed", "process-payment"),
        step("compensation-skipped", "allocate-inventory"),
        plain("saga-compensated"),
    ]);
    let sagas: Vec<_> = seen.iter().map(|s| status_and_saga(s).1).collect();
    use SagaState::{Compensated, CompensationFailed, Running};
    assert_eq!(
        sagas,
        vec![
            Some(Running),
            Some(Running),
            Some(CompensationFailed),
            Some(CompensationFailed),
            Some(CompensationFailed),
            Some(Running),
            Some(Compensated),
        ]
    );
    assert_eq!(seen[3].as_ref().unwrap().stalled.len(), 2);
    assert_eq!(status_and_saga(&seen[6]).0, "cancelled");
}

#[test]
fn a_finished_saga_keeps_its_outcome() {
    let seen = fold_all(&[
        placed(700, 100),
        step("compensation-failed", "process-payment"),
        plain("saga-compensation-failed"),
        step("compensation-completed", "process-payment"),
        plain("saga-completed"),
    ]);
    assert_eq!(
        status_and_saga(&seen[4]).1,
        Some(SagaState::CompensationFailed)
    );
}

#[test]
fn a_return_makes_the_order_returned() {
    let seen = fold_all(&[
        placed(700, 100),
        plain("payment-confirmed"),
        plain("order-shipped"),
        plain("order-delivered"),
        plain("return-opened"),
        plain("order-refunded"),
        plain("order-returned"),
    ]);
    assert_eq!(status_and_saga(&seen[5]).0, "delivered");
    assert_eq!(status_and_saga(&seen[6]).0, "returned");
}

#[test]
fn a_stream_that_does_not_begin_an_order_has_no_summary() {
    let seen = fold_all(&[plain("payment-confirmed"), plain("order-shipped")]);
    assert_eq!(seen, vec![None, None]);
    let seen = fold_all(&[("draft-created".into(), "not json".into())]);
    let draft = seen[0].clone().unwrap();
    assert_eq!(
        (draft.order_id.as_str(), draft.customer_id.as_str()),
        (ORDER, "")
    );
    assert_eq!((draft.created_at, draft.total), (1_000, 0));
}

#[test]
fn only_order_streams_carry_an_order_id() {
    assert_eq!(order_id_of_stream("order-abc"), Some("abc"));
    assert_eq!(order_id_of_stream("order-"), None);
    assert_eq!(order_id_of_stream("shipment-abc"), None);
    assert_eq!(order_id_of_stream("metrics-2026-01-01"), None);
}

#[test]
fn a_query_filters_and_pages_newest_first() {
    let order = |id: &str, placed_at: Option<u64>, status: &str| OrderSummary {
        order_id: id.to_owned(),
        customer_id: CUSTOMER.to_owned(),
        status: status.to_owned(),
        saga: placed_at.map(|_| SagaState::Running),
        currency: "USD".to_owned(),
        total: 1,
        created_at: 10,
        placed_at,
        updated_at: 50,
        version: 1,
        saga_finished: false,
        stalled: Vec::new(),
    };
    let mut all = vec![
        order("a", Some(30), "pending"),
        order("b", Some(30), "shipped"),
        order("c", None, "draft"),
        order("d", Some(40), "pending"),
    ];
    sort_newest_first(&mut all);
    let matching = |query: &OrderQuery| -> Vec<String> {
        all.iter()
            .filter(|s| query.matches(s))
            .map(|s| s.order_id.clone())
            .collect()
    };
    let ids: Vec<&str> = all.iter().map(|s| s.order_id.as_str()).collect();
    assert_eq!(ids, ["d", "b", "a", "c"]);

    let query = OrderQuery {
        placed_from: Some(30),
        placed_to: Some(40),
        ..OrderQuery::default()
    };
    let ids = matching(&query);
    assert_eq!(ids, ["b", "a"]);

    let query = OrderQuery {
        after: Some(all[1].cursor()),
        statuses: vec!["pending".into(), "draft".into()],
        ..OrderQuery::default()
    };
    let ids = matching(&query);
    assert_eq!(ids, ["a", "c"]);

    let query = OrderQuery {
        statuses: vec!["lost".into()],
        ..OrderQuery::default()
    };
    assert!(matches!(query.validate(), Err(StoreError::Invalid(m)) if m.contains("lost")));
}
