//! A payment gateway in memory that keeps a real ledger of charges and
//! refunds, so tests can assert that nothing was charged or refunded twice.

use std::collections::HashMap;

use super::{
    PaymentGateway, PaymentSucceeded, ProcessPaymentRequest, RefundCompleted, RefundPaymentRequest,
};
use crate::bindings::oms::order_management::types::Money;
use crate::external::{Context, ExternalError, Operation};
use crate::simulation::{
    Memo, Records, Replay, Replayed, SimBackend, SimControl, derived_id, request,
};

/// A charge the simulated gateway made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The gateway's id of the charge.
    pub transaction_id: String,
    /// The order paid for.
    pub order_id: String,
    /// Who paid.
    pub customer_id: String,
    /// How much.
    pub amount: Money,
    /// How much of it has been refunded, in minor units.
    pub refunded: u64,
}

/// A refund the simulated gateway made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The charge refunded.
    pub transaction_id: String,
    /// How much.
    pub amount: Money,
    /// Why, as the caller said.
    pub reason: String,
}

/// The simulated [`PaymentGateway`].
pub struct SimulatedPayment {
    core: SimBackend<State>,
}

#[derive(Default)]
struct State {
    charge_outcomes: Memo<Result<PaymentSucceeded, ExternalError>>,
    refund_outcomes: Memo<Result<RefundCompleted, ExternalError>>,
    ledger: Ledger,
}

#[derive(Default)]
struct Ledger {
    /// The most recent charges (see [`Records`]), and where each is.
    charges: Records<Charge>,
    by_transaction: HashMap<String, usize>,
    refunds: Records<Refund>,
    /// Sums over every charge and refund ever made, in minor units.
    total_charged: u64,
    total_refunded: u64,
    decline_above: Option<u64>,
}

impl SimulatedPayment {
    /// A gateway without charges, sharing `sim`'s seed, clock, log and faults.
    pub fn new(sim: SimControl) -> Self {
        Self {
            core: SimBackend::new(sim),
        }
    }

    /// Declines (permanently) every charge above `amount` minor units, as a
    /// card limit would; `None` accepts any amount.
    pub fn set_decline_above(&self, amount: Option<u64>) {
        let now = self.core.sim.now_ms();
        let mut state = self.core.lock();
        state.ledger.decline_above = amount;
        // A failure is logged and makes every later call fail transiently.
        let _ = self.core.sim.journal_change(
            Context::Payment,
            "set-decline-above",
            now,
            &amount,
            "null",
        );
    }

    /// Every charge made, oldest first (the most recent 20,000: a gateway
    /// that ran longer has forgotten the oldest, and refuses refunds of them
    /// as unknown transactions).
    pub fn charges(&self) -> Vec<Charge> {
        self.core.lock().ledger.charges.to_vec()
    }

    /// How many charges were made for `order_id`.
    pub fn charges_for_order(&self, order_id: &str) -> usize {
        self.core
            .lock()
            .ledger
            .charges
            .iter()
            .filter(|c| c.order_id == order_id)
            .count()
    }

    /// The sum of all charges ever made, in minor units (whatever their currency).
    pub fn total_charged(&self) -> u64 {
        self.core.lock().ledger.total_charged
    }

    /// Every refund made, oldest first (the most recent 20,000).
    pub fn refunds(&self) -> Vec<Refund> {
        self.core.lock().ledger.refunds.to_vec()
    }

    /// The amounts refunded on `transaction_id`, oldest first.
    pub fn refunds_for(&self, transaction_id: &str) -> Vec<u64> {
        self.core
            .lock()
            .ledger
            .refunds
            .iter()
            .filter(|r| r.transaction_id == transaction_id)
            .map(|r| r.amount.amount)
            .collect()
    }

    /// The sum of all refunds ever made, in minor units.
    pub fn total_refunded(&self) -> u64 {
        self.core.lock().ledger.total_refunded
    }
}

impl Ledger {
    fn charge(
        &mut self,
        key: &str,
        request: &ProcessPaymentRequest,
        now: u64,
    ) -> Result<PaymentSucceeded, ExternalError> {
        if let Some(limit) = self
            .decline_above
            .filter(|limit| request.payment_amount.amount > *limit)
        {
            return Err(ExternalError::permanent(format!(
                "card declined: {} exceeds the limit of {limit}",
                request.payment_amount.amount
            )));
        }
        let transaction_id = format!("txn_{}", derived_id("charge", key).simple());
        let (index, dropped) = self.charges.push(Charge {
            transaction_id: transaction_id.clone(),
            order_id: request.order_id.clone(),
            customer_id: request.customer_id.clone(),
            amount: request.payment_amount.clone(),
            refunded: 0,
        });
        if let Some(dropped) = dropped {
            self.by_transaction.remove(&dropped.transaction_id);
        }
        self.by_transaction.insert(transaction_id.clone(), index);
        self.total_charged = self
            .total_charged
            .saturating_add(request.payment_amount.amount);
        Ok(PaymentSucceeded {
            transaction_id,
            order_id: request.order_id.clone(),
            payment_amount: request.payment_amount.clone(),
            processed_at: now,
        })
    }

    fn refund(
        &mut self,
        request: &RefundPaymentRequest,
        now: u64,
    ) -> Result<RefundCompleted, ExternalError> {
        let Some(charge) = self
            .by_transaction
            .get(&request.transaction_id)
            .and_then(|index| self.charges.get_mut(*index))
        else {
            return Err(ExternalError::permanent(format!(
                "unknown transaction `{}`",
                request.transaction_id
            )));
        };
        let amount = &request.refund_amount;
        if amount.currency != charge.amount.currency {
            return Err(ExternalError::permanent(format!(
                "refund currency {} differs from the charge's {}",
                amount.currency, charge.amount.currency
            )));
        }
        if amount.amount == 0 {
            return Err(ExternalError::permanent("refund amount must be positive"));
        }
        let refundable = charge.amount.amount.saturating_sub(charge.refunded);
        if amount.amount > refundable {
            return Err(ExternalError::permanent(format!(
                "refund of {} exceeds the {refundable} left to refund on `{}`",
                amount.amount, request.transaction_id
            )));
        }
        charge.refunded += amount.amount;
        self.total_refunded = self.total_refunded.saturating_add(amount.amount);
        self.refunds.push(Refund {
            transaction_id: request.transaction_id.clone(),
            amount: amount.clone(),
            reason: request.reason.clone(),
        });
        Ok(RefundCompleted {
            transaction_id: request.transaction_id.clone(),
            refund_amount: amount.clone(),
            refunded_at: now,
        })
    }
}

impl PaymentGateway for SimulatedPayment {
    fn process_payment(
        &self,
        key: &str,
        request: &ProcessPaymentRequest,
    ) -> Result<PaymentSucceeded, ExternalError> {
        self.core.call(
            Operation::ProcessPayment,
            key,
            request,
            |s| (&mut s.charge_outcomes, &mut s.ledger),
            |ledger, now| ledger.charge(key, request, now),
        )
    }

    fn refund_payment(
        &self,
        key: &str,
        request: &RefundPaymentRequest,
    ) -> Result<RefundCompleted, ExternalError> {
        self.core.call(
            Operation::RefundPayment,
            key,
            request,
            |s| (&mut s.refund_outcomes, &mut s.ledger),
            |ledger, now| ledger.refund(request, now),
        )
    }
}

impl Replay for SimulatedPayment {
    fn replay(&self, action: &str, key: &str, json: &str) -> anyhow::Result<Replayed> {
        Ok(match action {
            "process-payment" => Replayed::call(&self.process_payment(key, &request(json)?)),
            "refund-payment" => Replayed::call(&self.refund_payment(key, &request(json)?)),
            "set-decline-above" => {
                self.set_decline_above(request(json)?);
                Replayed::Change
            }
            action => anyhow::bail!("unknown action payment.{action}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::fixtures::{charge, usd};
    use crate::simulation::test_control;
    use crate::simulation::{CallOutcome, Scripted};

    fn gateway() -> (SimulatedPayment, SimControl) {
        let sim = test_control(5_000);
        (SimulatedPayment::new(sim.clone()), sim)
    }

    fn refund_request(transaction_id: &str, amount: u64) -> RefundPaymentRequest {
        RefundPaymentRequest {
            transaction_id: transaction_id.to_owned(),
            refund_amount: usd(amount),
            reason: "returned".to_owned(),
        }
    }

    #[test]
    fn a_repeated_key_charges_once_and_answers_the_same() {
        let (gateway, sim) = gateway();
        let first = gateway
            .process_payment("order-1/pay", &charge("order-1", 2_500))
            .unwrap();
        let again = gateway
            .process_payment("order-1/pay", &charge("order-1", 2_500))
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.processed_at, 5_000);
        assert!(first.transaction_id.len() <= 100);
        assert_eq!(gateway.charges_for_order("order-1"), 1);
        assert_eq!(gateway.total_charged(), 2_500);
        assert_eq!(sim.log().len(), 2);
    }

    #[test]
    fn transaction_ids_are_deterministic_per_key() {
        let (one, _) = gateway();
        let (two, _) = gateway();
        let request = charge("order-1", 100);
        assert_eq!(
            one.process_payment("k", &request).unwrap().transaction_id,
            two.process_payment("k", &request).unwrap().transaction_id
        );
        assert_ne!(
            one.process_payment("k2", &request).unwrap().transaction_id,
            two.process_payment("k", &request).unwrap().transaction_id
        );
    }

    #[test]
    fn refunds_never_exceed_what_is_left() {
        let (gateway, _) = gateway();
        let txn = gateway
            .process_payment("pay", &charge("order-1", 1_000))
            .unwrap()
            .transaction_id;
        gateway
            .refund_payment("r1", &refund_request(&txn, 600))
            .unwrap();
        let too_much = gateway.refund_payment("r2", &refund_request(&txn, 500));
        assert!(matches!(too_much, Err(ExternalError::Permanent(m)) if m.contains("400 left")));
        gateway
            .refund_payment("r3", &refund_request(&txn, 400))
            .unwrap();
        // A replay of an earlier key changes nothing.
        gateway
            .refund_payment("r1", &refund_request(&txn, 600))
            .unwrap();
        assert_eq!(gateway.refunds_for(&txn), [600, 400]);
        assert_eq!(gateway.total_refunded(), 1_000);
        assert_eq!(gateway.charges()[0].refunded, 1_000);
    }

    #[test]
    fn refusals_are_permanent_and_remembered() {
        let (gateway, sim) = gateway();
        let unknown = gateway.refund_payment("r", &refund_request("txn_nope", 1));
        assert!(matches!(unknown, Err(ExternalError::Permanent(_))));
        gateway.set_decline_above(Some(10_000));
        let declined = gateway.process_payment("big", &charge("order-2", 10_001));
        assert!(matches!(&declined, Err(ExternalError::Permanent(m)) if m.contains("declined")));
        gateway.set_decline_above(None);
        // The key's first outcome stands, even though the limit is gone.
        assert_eq!(
            gateway.process_payment("big", &charge("order-2", 10_001)),
            declined
        );
        assert_eq!(gateway.total_charged(), 0);
        assert_eq!(
            sim.log()
                .count(Operation::ProcessPayment, CallOutcome::Permanent),
            2
        );
    }

    #[test]
    fn transient_faults_charge_nothing_and_the_retry_charges_once() {
        let (gateway, sim) = gateway();
        sim.script(
            Operation::ProcessPayment,
            [Scripted::Transient, Scripted::Transient, Scripted::Ok],
        );
        let request = charge("order-1", 700);
        assert!(
            gateway
                .process_payment("k", &request)
                .unwrap_err()
                .is_transient()
        );
        assert!(
            gateway
                .process_payment("k", &request)
                .unwrap_err()
                .is_transient()
        );
        assert_eq!(gateway.charges_for_order("order-1"), 0);
        gateway.process_payment("k", &request).unwrap();
        gateway.process_payment("k", &request).unwrap();
        assert_eq!(gateway.charges_for_order("order-1"), 1);
        let outcomes: Vec<_> = sim.log().entries().iter().map(|e| e.outcome).collect();
        assert_eq!(
            outcomes,
            [
                CallOutcome::Transient,
                CallOutcome::Transient,
                CallOutcome::Ok,
                CallOutcome::Ok
            ]
        );
    }
}
