//! Fault injection for the simulated contexts: random faults that are a pure
//! function of the seed and the call (so a run replays exactly, whatever the
//! thread timing), scripted faults for tests, and latency.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::rng::{Fnv64, unit_interval};
use crate::external::{Context, Operation};

/// Faults and latency of one simulated context.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultConfig {
    /// Probability in `[0, 1]` that a call fails transiently (no effect).
    pub transient: f64,
    /// Probability in `[0, 1]` that a call fails permanently (no effect,
    /// remembered for its idempotency key).
    pub permanent: f64,
    /// Probability in `[0, 1]` that a call's answer is lost: the call takes
    /// effect (remembered for its idempotency key, so asking again answers
    /// with it), but the caller gets an in-doubt failure.
    pub lost: f64,
    /// Delay added to every call.
    pub latency: Duration,
}

impl FaultConfig {
    /// No faults and no latency.
    pub const NONE: FaultConfig = FaultConfig {
        transient: 0.0,
        permanent: 0.0,
        lost: 0.0,
        latency: Duration::ZERO,
    };

    /// Checks that the probabilities are in `[0, 1]` and add up to at most 1;
    /// `target` (a context or an operation) names the config in errors.
    pub fn validate(&self, target: impl fmt::Display) -> Result<(), FaultSpecError> {
        let context = target;
        for (name, p) in [
            ("transient", self.transient),
            ("permanent", self.permanent),
            ("lost", self.lost),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(FaultSpecError::new(
                    format!("{context}={name}:{p}"),
                    "a probability must be between 0 and 1",
                ));
            }
        }
        if self.transient + self.permanent + self.lost > 1.0 {
            return Err(FaultSpecError::new(
                format!(
                    "{context}=transient:{},permanent:{},lost:{}",
                    self.transient, self.permanent, self.lost
                ),
                "the transient, permanent and lost probabilities add up to more than 1",
            ));
        }
        Ok(())
    }
}

/// The outcome a test scripts for the next call of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// No injected fault: the call does its real work (which may still fail
    /// permanently, for example a refund that is too large).
    Ok,
    /// The call fails transiently without effect.
    Transient,
    /// The call fails permanently without effect.
    Permanent,
    /// The call takes effect (its outcome is remembered for its key) but the
    /// answer is lost: the caller gets an in-doubt failure.
    Lost,
    /// The service is down: the call fails transiently without effect,
    /// even for a key whose outcome is remembered (unlike every other
    /// script, this one is consumed by such a call too).
    Unavailable,
}

/// What fault, if any, a call gets before it does its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Transient,
    Permanent,
    Lost,
}

impl From<Scripted> for Fault {
    fn from(scripted: Scripted) -> Self {
        match scripted {
            Scripted::Ok => Fault::None,
            Scripted::Transient => Fault::Transient,
            Scripted::Permanent => Fault::Permanent,
            Scripted::Lost => Fault::Lost,
            // Decided before the key's memo is read (see `SimControl::run`).
            Scripted::Unavailable => Fault::Transient,
        }
    }
}

/// Draws the fault of one call: the same seed, context, operation, key and
/// attempt number always give the same fault.
pub(crate) fn draw(
    seed: u64,
    operation: Operation,
    key: &str,
    attempt: u64,
    config: &FaultConfig,
) -> Fault {
    if config.transient <= 0.0 && config.permanent <= 0.0 && config.lost <= 0.0 {
        return Fault::None;
    }
    let bits = Fnv64::new()
        .u64(seed)
        .str(operation.context().name())
        .str(operation.name())
        .str(key)
        .u64(attempt)
        .finish();
    let u = unit_interval(bits);
    if u < config.transient {
        Fault::Transient
    } else if u < config.transient + config.permanent {
        Fault::Permanent
    } else if u < config.transient + config.permanent + config.lost {
        Fault::Lost
    } else {
        Fault::None
    }
}

/// A malformed fault spec, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault spec `{part}`: {reason}")]
pub struct FaultSpecError {
    /// The offending part of the spec.
    pub part: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FaultSpecError {
    fn new(part: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            part: part.into(),
            reason: reason.into(),
        }
    }
}

/// One `CONTEXT=FAULT[,FAULT...]` spec as given on a command line, for
/// example `payment=transient:0.2,permanent:0.05` or `carrier=20ms`.
///
/// A fault is `transient:P`, `permanent:P`, `lost:P` (P a probability
/// such as `0.2` or `20%`; `lost` means the call takes effect but its
/// answer is lost, so the caller gets an in-doubt failure), a latency (`20ms`, `1.5s`, `500us`, or `latency:20ms`), or
/// `none` to clear the context's faults. The context `all` names all four.
/// Fields a spec leaves out keep their previous value when applied to a
/// [`FaultPlan`].
///
/// `CONTEXT.OPERATION=...` (for example `payment.process-payment=permanent:0.03`)
/// overrides the given fields for one operation only; the operation keeps
/// following its context for the fields it does not override. This is how a
/// run declines charges without also refusing refunds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    /// The contexts the spec applies to.
    pub contexts: Vec<Context>,
    /// The operations the spec applies to (instead of whole contexts).
    pub operations: Vec<Operation>,
    /// Clear the contexts' faults before applying the rest.
    pub reset: bool,
    /// The transient-failure probability, if given.
    pub transient: Option<f64>,
    /// The permanent-failure probability, if given.
    pub permanent: Option<f64>,
    /// The lost-answer probability, if given.
    pub lost: Option<f64>,
    /// The latency, if given.
    pub latency: Option<Duration>,
}

impl FaultSpec {
    /// Applies the spec's fields to `config`.
    pub fn apply_to(&self, config: &mut FaultConfig) {
        if self.reset {
            *config = FaultConfig::NONE;
        }
        *config = self.fields().over(*config);
    }

    /// The fields the spec gives.
    fn fields(&self) -> Override {
        Override {
            transient: self.transient,
            permanent: self.permanent,
            lost: self.lost,
            latency: self.latency,
        }
    }
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        let Some((context, faults)) = spec.split_once('=') else {
            return Err(FaultSpecError::new(
                spec,
                "expected CONTEXT=FAULTS, for example payment=transient:0.2,permanent:0.05",
            ));
        };
        let target = context.trim();
        let (context, operation) = match target.split_once('.') {
            Some((context, operation)) => (context.trim(), Some(operation.trim())),
            None => (target, None),
        };
        let contexts = if context == "all" && operation.is_none() {
            Context::ALL.to_vec()
        } else {
            vec![context.parse::<Context>().map_err(|_| {
                FaultSpecError::new(
                    context,
                    "unknown context (expected payment, inventory, carrier, customer or all)",
                )
            })?]
        };
        let mut parsed = match operation {
            None => FaultSpec {
                contexts,
                ..FaultSpec::default()
            },
            Some(name) => {
                let operation = name
                    .parse::<Operation>()
                    .ok()
                    .filter(|o| contexts.contains(&o.context()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = Operation::ALL
                            .iter()
                            .filter(|o| contexts.contains(&o.context()))
                            .map(|o| o.name())
                            .collect();
                        FaultSpecError::new(
                            target,
                            format!(
                                "unknown operation of {context} (expected {})",
                                names.join(", ")
                            ),
                        )
                    })?;
                FaultSpec {
                    operations: vec![operation],
                    ..FaultSpec::default()
                }
            }
        };
        if faults.trim().is_empty() {
            return Err(FaultSpecError::new(spec, "no fault after `=`"));
        }
        for item in faults.split(',').map(str::trim) {
            match item.split_once(':') {
                Some(("transient", p)) => parsed.transient = Some(parse_probability(item, p)?),
                Some(("permanent", p)) => parsed.permanent = Some(parse_probability(item, p)?),
                Some(("lost", p)) => parsed.lost = Some(parse_probability(item, p)?),
                Some(("latency", d)) => parsed.latency = Some(parse_duration(item, d)?),
                None if item == "none" => parsed.reset = true,
                None if item.starts_with(|c: char| c.is_ascii_digit()) => {
                    parsed.latency = Some(parse_duration(item, item)?);
                }
                _ => {
                    return Err(FaultSpecError::new(
                        item,
                        "expected transient:P, permanent:P, lost:P, a latency such as 20ms, or none",
                    ));
                }
            }
        }
        Ok(parsed)
    }
}

fn parse_probability(item: &str, text: &str) -> Result<f64, FaultSpecError> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    match value {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(FaultSpecError::new(
            item,
            "the probability must be a number from 0 to 1 (or 0% to 100%)",
        )),
    }
}

fn parse_duration(item: &str, text: &str) -> Result<Duration, FaultSpecError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "us" | "µs" => 1e-6,
        _ => f64::NAN,
    };
    let seconds = number.parse::<f64>().map(|n| n * seconds_per_unit);
    match seconds {
        // An hour is far beyond any useful simulated latency; the bound also
        // keeps `from_secs_f64` from panicking.
        Ok(s) if (0.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(FaultSpecError::new(
            item,
            "expected a latency such as 20ms, 1.5s or 500us (at most 1 hour)",
        )),
    }
}

/// The fields one operation overrides of its context's faults.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Override {
    transient: Option<f64>,
    permanent: Option<f64>,
    lost: Option<f64>,
    latency: Option<Duration>,
}

impl Override {
    /// Every field of `config`.
    fn all(config: FaultConfig) -> Self {
        Self {
            transient: Some(config.transient),
            permanent: Some(config.permanent),
            lost: Some(config.lost),
            latency: Some(config.latency),
        }
    }

    /// These fields with those `later` gives replacing them.
    fn then(self, later: Override) -> Self {
        Self {
            transient: later.transient.or(self.transient),
            permanent: later.permanent.or(self.permanent),
            lost: later.lost.or(self.lost),
            latency: later.latency.or(self.latency),
        }
    }

    fn over(&self, mut config: FaultConfig) -> FaultConfig {
        if let Some(p) = self.transient {
            config.transient = p;
        }
        if let Some(p) = self.permanent {
            config.permanent = p;
        }
        if let Some(p) = self.lost {
            config.lost = p;
        }
        if let Some(latency) = self.latency {
            config.latency = latency;
        }
        config
    }
}

/// The faults of all four contexts, and of single operations that override
/// their context's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    configs: BTreeMap<Context, FaultConfig>,
    overrides: BTreeMap<Operation, Override>,
}

impl FaultPlan {
    /// A plan without faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The faults of `context` (operations may override them: see
    /// [`FaultPlan::for_operation`]).
    pub fn get(&self, context: Context) -> FaultConfig {
        self.configs.get(&context).copied().unwrap_or_default()
    }

    /// The faults a call of `operation` gets: its context's, with the
    /// fields the operation overrides replaced.
    pub fn for_operation(&self, operation: Operation) -> FaultConfig {
        let config = self.get(operation.context());
        match self.overrides.get(&operation) {
            Some(o) => o.over(config),
            None => config,
        }
    }

    /// Replaces the faults of `context`, refusing invalid probabilities
    /// (also those of an operation of the context that overrides only some
    /// fields).
    pub fn set(&mut self, context: Context, config: FaultConfig) -> Result<(), FaultSpecError> {
        config.validate(context)?;
        let previous = self.configs.insert(context, config);
        if let Err(error) = self.validate_overrides() {
            match previous {
                Some(previous) => self.configs.insert(context, previous),
                None => self.configs.remove(&context),
            };
            return Err(error);
        }
        Ok(())
    }

    /// Replaces the faults of one operation (all fields), refusing invalid
    /// probabilities.
    pub fn set_operation(
        &mut self,
        operation: Operation,
        config: FaultConfig,
    ) -> Result<(), FaultSpecError> {
        config.validate(Qualified(operation))?;
        self.overrides.insert(operation, Override::all(config));
        Ok(())
    }

    fn validate_overrides(&self) -> Result<(), FaultSpecError> {
        for operation in self.overrides.keys() {
            self.for_operation(*operation)
                .validate(Qualified(*operation))?;
        }
        Ok(())
    }

    /// Applies one spec on top of the plan; on error the plan is unchanged.
    pub fn apply(&mut self, spec: &FaultSpec) -> Result<(), FaultSpecError> {
        let mut next = self.clone();
        for context in &spec.contexts {
            let mut config = next.get(*context);
            spec.apply_to(&mut config);
            next.set(*context, config)?;
        }
        for operation in &spec.operations {
            let o = next.overrides.entry(*operation).or_default();
            if spec.reset {
                *o = Override::all(FaultConfig::NONE);
            }
            *o = o.then(spec.fields());
        }
        next.validate_overrides()?;
        *self = next;
        Ok(())
    }
}

/// An operation named with its context, as in specs: `payment.refund-payment`.
struct Qualified(Operation);

impl fmt::Display for Qualified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0.context(), self.0)
    }
}

/// Parses specs separated by `;` or whitespace, for example
/// `payment=transient:0.2,permanent:0.05; carrier=20ms`.
impl FromStr for FaultPlan {
    type Err = FaultSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut plan = FaultPlan::new();
        for spec in text
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            plan.apply(&spec.parse()?)?;
        }
        Ok(plan)
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (context, config) in &self.configs {
            if *config == FaultConfig::NONE {
                continue;
            }
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(
                f,
                "{context}=transient:{},permanent:{},lost:{},latency:{}us",
                config.transient,
                config.permanent,
                config.lost,
                config.latency.as_micros()
            )?;
        }
        for (operation, o) in &self.overrides {
            let mut fields = Vec::new();
            if let Some(p) = o.transient {
                fields.push(format!("transient:{p}"));
            }
            if let Some(p) = o.permanent {
                fields.push(format!("permanent:{p}"));
            }
            if let Some(p) = o.lost {
                fields.push(format!("lost:{p}"));
            }
            if let Some(latency) = o.latency {
                fields.push(format!("latency:{}us", latency.as_micros()));
            }
            if fields.is_empty() {
                // Overrides nothing: the operation follows its context.
                continue;
            }
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{}={}", Qualified(*operation), fields.join(","))?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(transient: f64, permanent: f64, latency_ms: u64) -> FaultConfig {
        FaultConfig {
            transient,
            permanent,
            lost: 0.0,
            latency: Duration::from_millis(latency_ms),
        }
    }

    #[test]
    fn parses_probabilities_and_latency() {
        let plan: FaultPlan = "payment=transient:0.2,permanent:0.05;carrier=20ms"
            .parse()
            .unwrap();
        assert_eq!(plan.get(Context::Payment), config(0.2, 0.05, 0));
        assert_eq!(plan.get(Context::Carrier), config(0.0, 0.0, 20));
        assert_eq!(plan.get(Context::Inventory), FaultConfig::NONE);
    }

    #[test]
    fn later_specs_merge_into_earlier_ones() {
        let plan: FaultPlan = "all=transient:10% payment=latency:1.5s inventory=none"
            .parse()
            .unwrap();
        assert_eq!(plan.get(Context::Payment), config(0.1, 0.0, 1_500));
        assert_eq!(plan.get(Context::Customer), config(0.1, 0.0, 0));
        assert_eq!(plan.get(Context::Inventory), FaultConfig::NONE);
    }

    #[test]
    fn errors_name_the_bad_part() {
        let error = |spec: &str| spec.parse::<FaultPlan>().unwrap_err();
        assert_eq!(error("bank=transient:0.1").part, "bank");
        assert_eq!(error("payment=transient:1.5").part, "transient:1.5");
        assert_eq!(error("payment=transient:abc").part, "transient:abc");
        assert_eq!(error("payment=flaky").part, "flaky");
        assert_eq!(error("carrier=20parsecs").part, "20parsecs");
        assert_eq!(error("payment").part, "payment");
        assert_eq!(error("payment=").part, "payment=");
        let too_likely = error("payment=transient:0.7,permanent:0.6");
        assert!(too_likely.reason.contains("more than 1"), "{too_likely}");
        assert!(
            error("payment=transient:2")
                .to_string()
                .starts_with("invalid fault spec `transient:2`:")
        );
    }

    #[test]
    fn display_round_trips() {
        let plan: FaultPlan = "payment=transient:0.25,permanent:0.5;carrier=20ms"
            .parse()
            .unwrap();
        assert_eq!(plan.to_string().parse::<FaultPlan>().unwrap(), plan);
        assert_eq!(FaultPlan::new().to_string(), "none");
    }

    #[test]
    fn an_operation_overrides_only_the_fields_it_names() {
        let plan: FaultPlan =
            "payment=transient:0.2,latency:3ms;payment.process-payment=permanent:0.05"
                .parse()
                .unwrap();
        assert_eq!(
            plan.for_operation(Operation::ProcessPayment),
            config(0.2, 0.05, 3)
        );
        assert_eq!(
            plan.for_operation(Operation::RefundPayment),
            config(0.2, 0.0, 3)
        );
        assert_eq!(plan.get(Context::Payment), config(0.2, 0.0, 3));
        // A later context spec still reaches the fields not overridden.
        let mut later = plan.clone();
        later
            .apply(&"payment=transient:0.1".parse().unwrap())
            .unwrap();
        assert_eq!(
            later.for_operation(Operation::ProcessPayment).transient,
            0.1
        );
        assert_eq!(
            later.for_operation(Operation::ProcessPayment).permanent,
            0.05
        );
        let cleared: FaultPlan = "all=transient:0.5 inventory.release-stock=none"
            .parse()
            .unwrap();
        assert_eq!(
            cleared.for_operation(Operation::ReleaseStock),
            FaultConfig::NONE
        );
        assert_eq!(
            cleared.for_operation(Operation::AllocateStock).transient,
            0.5
        );
    }

    #[test]
    fn operation_specs_are_checked() {
        let error = |spec: &str| spec.parse::<FaultPlan>().unwrap_err();
        assert!(
            error("payment.allocate-stock=permanent:0.1")
                .reason
                .contains("refund-payment")
        );
        assert_eq!(error("bank.refund-payment=permanent:0.1").part, "bank");
        assert_eq!(error("all.refund-payment=permanent:0.1").part, "all");
        // The merged probabilities must stay valid, whichever spec comes last.
        assert!(
            "payment.refund-payment=permanent:0.6 payment=transient:0.6"
                .parse::<FaultPlan>()
                .is_err()
        );
    }

    #[test]
    fn operation_overrides_round_trip_through_display() {
        let plan: FaultPlan = "carrier=2ms;payment.process-payment=permanent:0.03"
            .parse()
            .unwrap();
        let text = plan.to_string();
        assert!(
            text.contains("payment.process-payment=permanent:0.03"),
            "{text}"
        );
        assert_eq!(text.parse::<FaultPlan>().unwrap(), plan);
    }

    #[test]
    fn draws_are_deterministic_and_follow_the_probabilities() {
        let faults = config(0.2, 0.1, 0);
        let draws = |seed| -> Vec<Fault> {
            (0..2_000)
                .map(|i| {
                    draw(
                        seed,
                        Operation::ProcessPayment,
                        &format!("order-{i}"),
                        1,
                        &faults,
                    )
                })
                .collect()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let all = draws(7);
        let transient = all.iter().filter(|f| **f == Fault::Transient).count();
        let permanent = all.iter().filter(|f| **f == Fault::Permanent).count();
        assert!((330..470).contains(&transient), "{transient}");
        assert!((140..260).contains(&permanent), "{permanent}");
    }

    #[test]
    fn retries_of_one_key_draw_afresh() {
        let faults = config(0.5, 0.0, 0);
        let attempts: Vec<Fault> = (1..=64)
            .map(|attempt| draw(1, Operation::CreateShipment, "k", attempt, &faults))
            .collect();
        assert!(attempts.contains(&Fault::None));
        assert!(attempts.contains(&Fault::Transient));
    }

    #[test]
    fn no_probability_never_faults() {
        assert_eq!(
            draw(1, Operation::RefundPayment, "k", 1, &FaultConfig::NONE),
            Fault::None
        );
    }

    #[test]
    fn lost_answers_are_a_fault_per_context_and_per_operation() {
        let plan: FaultPlan = "payment=lost:0.2;carrier.create-shipment=lost:30%"
            .parse()
            .unwrap();
        assert_eq!(plan.for_operation(Operation::ProcessPayment).lost, 0.2);
        assert_eq!(plan.for_operation(Operation::RefundPayment).lost, 0.2);
        assert_eq!(plan.for_operation(Operation::CreateShipment).lost, 0.3);
        assert_eq!(plan.for_operation(Operation::CancelShipment).lost, 0.0);
        assert_eq!(plan.to_string().parse::<FaultPlan>().unwrap(), plan);
        let error = "payment=transient:0.5,lost:0.6"
            .parse::<FaultPlan>()
            .unwrap_err();
        assert!(error.reason.contains("more than 1"), "{error}");
        assert_eq!(
            "payment=lost:2".parse::<FaultPlan>().unwrap_err().part,
            "lost:2"
        );
    }

    #[test]
    fn lost_draws_follow_their_probability_and_leave_other_draws_alone() {
        let with_lost = FaultConfig {
            lost: 0.25,
            ..config(0.2, 0.1, 0)
        };
        let without = config(0.2, 0.1, 0);
        let mut lost = 0;
        for i in 0..2_000 {
            let key = format!("order-{i}");
            let a = draw(7, Operation::ProcessPayment, &key, 1, &with_lost);
            let b = draw(7, Operation::ProcessPayment, &key, 1, &without);
            // Adding lost answers only turns some successes into lost ones.
            if a == Fault::Lost {
                lost += 1;
                assert_eq!(b, Fault::None);
            } else {
                assert_eq!(a, b);
            }
        }
        assert!((400..600).contains(&lost), "{lost}");
    }
}
