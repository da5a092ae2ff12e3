//! `order-host return request|get|approve|deny|receive|refund`: each
//! command on a return, printed as the return stands afterwards.

use anyhow::Context as _;
use order_host::Host;
use order_host::bindings::returns::{
    ApproveReturnCommand, DenyReturnCommand, ProcessRefundCommand, ReceiveReturnCommand,
    RequestReturnCommand,
};
use order_host::bindings::types::Money;
use order_server::dto;
use order_server::text;

use super::args::ReturnCommand;
use super::{print, read_file_or_stdin};

/// `order-host return …`: each command on a return, printed as the return
/// stands afterwards.
pub fn run(host: &Host, json: bool, command: &ReturnCommand) -> anyhow::Result<()> {
    let svc = &host.service;
    let view = match command {
        ReturnCommand::Request { file } => {
            let text = read_file_or_stdin(file)?;
            let request: dto::RequestReturnFile = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid return request", file.display()))?;
            let cmd = RequestReturnCommand::from(request);
            svc.retrying(|svc| svc.request_return(&cmd))?
        }
        ReturnCommand::Get { return_id } => svc.get_return(return_id)?,
        ReturnCommand::Approve {
            return_id,
            approved_by,
            label,
        } => {
            let cmd = ApproveReturnCommand {
                return_id: return_id.clone(),
                approved_by: approved_by.clone(),
                return_label: label.clone(),
            };
            svc.retrying(|svc| svc.approve_return(&cmd))?
        }
        ReturnCommand::Deny {
            return_id,
            denied_by,
            reason,
        } => {
            let cmd = DenyReturnCommand {
                return_id: return_id.clone(),
                denied_by: denied_by.clone(),
                reason: reason.clone(),
            };
            svc.retrying(|svc| svc.deny_return(&cmd))?
        }
        ReturnCommand::Receive {
            return_id,
            condition,
            partial,
        } => {
            let cmd = ReceiveReturnCommand {
                return_id: return_id.clone(),
                received_at: host.clock.now_ms(),
                condition: condition.clone(),
                all_items_received: !partial,
            };
            svc.retrying(|svc| svc.receive_return(&cmd))?
        }
        ReturnCommand::Refund {
            return_id,
            amount,
            currency,
            method,
        } => {
            let currency = match currency {
                Some(currency) => currency.clone(),
                None => {
                    let order_id = svc.get_return(return_id)?.order_id;
                    svc.get_order(&order_id)?.total.currency
                }
            };
            let cmd = ProcessRefundCommand {
                return_id: return_id.clone(),
                refund_amount: Money {
                    amount: *amount,
                    currency,
                },
                refund_method: (*method).into(),
            };
            svc.retrying(|svc| svc.process_refund(&cmd))?
        }
    };
    print(json, &dto::Return::from(view), text::return_)
}
