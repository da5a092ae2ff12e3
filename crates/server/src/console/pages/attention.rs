//! `/console/attention`: the sagas that need a person — compensation
//! failed, stalled, held back or in doubt — with why and since when, their
//! support tickets, and a retry-now button.

use std::fmt::Write as _;

use axum::response::Response;

use super::order::retry_form;
use super::{Place, Signed, failed, orders_of, shown};
use crate::console::html::{badge, esc, time};
use crate::console::may;
use crate::console::parts::{self, col};
use crate::console::summaries::{self, OrderFilter};
use crate::text;
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::service::ServiceError;
use order_runtime::store::SagaState;

const ATTENTION: Place = Place {
    key: "attention",
    title: "Needs attention",
};

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
    let ended = orders_of(host, &failed, None, summaries::MAX_LIMIT)?;
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
pub(in crate::console) async fn attention(Signed { console, staff }: Signed) -> Response {
    let found = console
        .app
        .blocking(|host| attention_list(host).map_err(Problem::from))
        .await;
    let (list, total) = match found {
        Ok(found) => found,
        Err(problem) => return failed(&staff, ATTENTION.key, ATTENTION.title, &problem),
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
        body.push_str(&parts::empty("Nothing is stuck."));
        return shown(&staff, ATTENTION, Some(5), &body);
    }
    let retry = may(staff.principal.role, "POST", "/orders/{id}/saga/retry");
    let mut rows = String::new();
    for a in &list {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            parts::order_link(&a.order_id),
            badge(&a.phase),
            parts::list("ul", "", a.why.iter().map(|w| esc(w))),
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
                let label = format!("Retry the saga of order {} now", a.order_id);
                retry_form(&staff, &a.order_id, "Retry now", Some(label))
            } else {
                String::new()
            }
        );
    }
    body.push_str(&parts::table(
        Some("Stuck sagas"),
        &[
            col("Order"),
            col("Phase"),
            col("Why"),
            col("Since"),
            col("Next retry"),
            col("Support tickets"),
            col(""),
        ],
        &rows,
        "",
    ));
    shown(&staff, ATTENTION, Some(5), &body)
}
