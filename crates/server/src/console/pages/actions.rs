//! The console's actions: cancel an order, retry its saga now, approve,
//! deny, receive and refund a return. Each checks the form's token and the
//! role table for the API route that does the same, runs that command
//! with the signed-in principal as its actor, and shows the order again.

use axum::extract::{Form, FromRequest, FromRequestParts as _, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;

use super::order::order_response;
use super::returns::{parse_major, refund_currency};
use super::{Answer, Early, failed, problem_page, status_of};
use crate::console::html::{Notice, NoticeKind, url_part};
use crate::console::{Console, Staff, may, refused, role_refused, see_other};
use crate::{Problem, dto};
use order_runtime::Host;
use order_runtime::service::{OrderService, ServiceError};

/// A form posted to an action on `{id}`: the signed-in staff behind it
/// (its token checked), the id, and the fields. Extracted in the order the
/// handlers took them before: the path, the form, then the sign-in.
pub(in crate::console) struct Posted {
    console: Console,
    staff: Staff,
    id: String,
    form: ActionForm,
}

impl FromRequest<Console> for Posted {
    type Rejection = Early;

    async fn from_request(request: Request, console: &Console) -> Result<Self, Early> {
        let (mut parts, body) = request.into_parts();
        let Path(id) = Path::<String>::from_request_parts(&mut parts, console)
            .await
            .map_err(|r| Early(Box::new(r.into_response())))?;
        let headers = parts.headers.clone();
        let Form(form) =
            Form::<ActionForm>::from_request(Request::from_parts(parts, body), console)
                .await
                .map_err(|r| Early(Box::new(r.into_response())))?;
        let staff = console.staff_posting(&headers, &form.csrf)?;
        Ok(Self {
            console: console.clone(),
            staff,
            id,
            form,
        })
    }
}

impl Posted {
    /// This form, when the staff's role may call the API route `route`
    /// (POST); the refusal otherwise, which says they may not `what`.
    fn allowed(self, route: &str, what: &str) -> Result<Self, Early> {
        if !may(self.staff.principal.role, "POST", route) {
            return Err(Box::new(role_refused(&self.staff.principal, what)).into());
        }
        Ok(self)
    }
}

/// The fields of every action's form (each form sends the ones it has;
/// a missing one is empty).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(in crate::console) struct ActionForm {
    csrf: String,
    reason: String,
    return_label: String,
    condition: String,
    all_items_received: Option<String>,
    amount: String,
    method: String,
}

/// `command` as a step of [`act`]: decided again after a version conflict.
fn retried<C, R>(
    command: C,
    run: impl Fn(&OrderService, &C) -> Result<R, ServiceError> + Send + 'static,
) -> impl FnOnce(&Host) -> Result<(), ServiceError> + Send + 'static
where
    C: Send + 'static,
{
    move |host| host.service.retrying(|svc| run(svc, &command)).map(drop)
}

/// Runs a command of the order `order_id` for `staff`, then shows the order
/// again: a redirect with what was done, or the page with the refusal in
/// the problem's words.
async fn act(
    console: &Console,
    staff: Staff,
    order_id: String,
    done: &'static str,
    command: impl FnOnce(&Host) -> Result<(), ServiceError> + Send + 'static,
) -> Response {
    let result = console.app.on_order(Some(&order_id), command).await;
    match result {
        Ok(()) => see_other(&format!(
            "/console/orders/{}?done={done}",
            url_part(&order_id)
        )),
        Err(problem) => {
            let status = status_of(&problem);
            order_response(console, &staff, order_id, Some(refused(&problem)), status).await
        }
    }
}

/// A command on a return: finds its order (for the per-order lock and the
/// page to show after), then runs it.
async fn on_return(
    console: &Console,
    staff: Staff,
    return_id: String,
    done: &'static str,
    command: impl FnOnce(&Host) -> Result<(), ServiceError> + Send + 'static,
) -> Response {
    match console.app.order_of_return(&return_id).await {
        Ok(order_id) => act(console, staff, order_id, done, command).await,
        Err(problem) => failed(&staff, "orders", "Return", &problem),
    }
}

/// The page a form the API would refuse ends on: the problem in words.
fn invalid(problem: &Problem) -> Early {
    Box::new(problem_page(
        status_of(problem),
        &problem.title,
        &problem.detail,
    ))
    .into()
}

pub(in crate::console) async fn cancel(posted: Posted) -> Answer {
    let Posted {
        console,
        staff,
        id,
        form,
    } = posted.allowed("/orders/{id}/cancel", "cancel orders")?;
    let request = dto::CancelOrderRequest {
        reason: form.reason,
        cancelled_by: None,
    };
    let command = match request.into_command(id.clone(), staff.principal.actor()) {
        Ok(command) => command,
        Err(problem) => {
            let notice = Some(refused(&problem));
            return Ok(order_response(&console, &staff, id, notice, status_of(&problem)).await);
        }
    };
    let command = retried(command, OrderService::cancel_order);
    Ok(act(&console, staff, id, "cancelled", command).await)
}

pub(in crate::console) async fn retry_saga(posted: Posted) -> Answer {
    let Posted {
        console, staff, id, ..
    } = posted.allowed("/orders/{id}/saga/retry", "retry sagas")?;
    let order_id = id.clone();
    let actor = staff.principal.actor();
    let command = move |host: &Host| host.driver.retry_now(&order_id, &actor).map(drop);
    Ok(act(&console, staff, id, "retried", command).await)
}

pub(in crate::console) async fn approve(posted: Posted) -> Answer {
    let posted = posted.allowed("/returns/{id}/approve", "approve returns")?;
    let label = posted.form.return_label.trim();
    let command = dto::ApproveReturnRequest {
        approved_by: None,
        return_label: (!label.is_empty()).then(|| label.to_owned()),
    }
    .into_command(posted.id.clone(), posted.staff.principal.actor());
    decide(posted, "approved", command, OrderService::approve_return).await
}

pub(in crate::console) async fn deny(posted: Posted) -> Answer {
    let posted = posted.allowed("/returns/{id}/deny", "deny returns")?;
    let command = dto::DenyReturnRequest {
        denied_by: None,
        reason: posted.form.reason.clone(),
    }
    .into_command(posted.id.clone(), posted.staff.principal.actor());
    decide(posted, "denied", command, OrderService::deny_return).await
}

pub(in crate::console) async fn receive(posted: Posted) -> Answer {
    let posted = posted.allowed("/returns/{id}/receive", "record returns as received")?;
    let command = dto::ReceiveReturnRequest {
        received_at: None,
        condition: posted.form.condition.clone(),
        all_items_received: posted.form.all_items_received.as_deref() == Some("true"),
    }
    .into_command(posted.id.clone(), posted.console.app.host().clock.now_ms());
    decide(
        posted,
        "received",
        Ok(command),
        OrderService::receive_return,
    )
    .await
}

/// Runs the command on a return made from the form, `done` when it ran;
/// a form the API would refuse ends on the page that says why.
async fn decide<C, R>(
    posted: Posted,
    done: &'static str,
    command: Result<C, Problem>,
    run: impl Fn(&OrderService, &C) -> Result<R, ServiceError> + Send + 'static,
) -> Answer
where
    C: Send + 'static,
{
    let command = retried(command.map_err(|problem| invalid(&problem))?, run);
    let Posted {
        console, staff, id, ..
    } = posted;
    Ok(on_return(&console, staff, id, done, command).await)
}

pub(in crate::console) async fn refund(posted: Posted) -> Answer {
    let Posted {
        console,
        staff,
        id,
        form,
    } = posted.allowed("/returns/{id}/refund", "refund returns")?;
    let return_id = id.clone();
    let order = console
        .app
        .query(move |svc| {
            let r = svc.get_return(&return_id)?;
            svc.get_order(&r.order_id)
        })
        .await;
    let order = match order {
        Ok(order) => dto::Order::from(order),
        Err(problem) => return Ok(failed(&staff, "orders", "Return", &problem)),
    };
    let currency = refund_currency(&order);
    let (amount, method) = match refund_form(&form, &currency) {
        Ok(read) => read,
        Err(detail) => {
            let notice = Notice {
                kind: NoticeKind::Refused,
                title: "Invalid request:".to_owned(),
                detail,
            };
            let page = order_response(
                &console,
                &staff,
                order.order_id,
                Some(notice),
                StatusCode::BAD_REQUEST,
            );
            return Ok(page.await);
        }
    };
    let command = dto::ProcessRefundRequest {
        refund_amount: dto::Money { amount, currency },
        refund_method: method,
    }
    .into_command(id.clone());
    let command = retried(command, OrderService::process_refund);
    // The return's order was read above: no second look-up of the return.
    Ok(act(&console, staff, order.order_id, "refunded", command).await)
}

/// The refund form's amount (in minor units of `currency`) and method, or
/// what is wrong with the first field that is wrong.
fn refund_form(form: &ActionForm, currency: &str) -> Result<(u64, dto::PaymentMethod), String> {
    let Some(amount) = parse_major(&form.amount, currency) else {
        return Err(format!(
            "amount: `{}` is not an amount of {currency} (for example 12.50)",
            form.amount.trim()
        ));
    };
    let method = form.method.trim();
    serde_json::from_value(serde_json::Value::String(method.to_owned()))
        .map(|method| (amount, method))
        .map_err(|_| format!("method: `{method}` is not a payment method"))
}
