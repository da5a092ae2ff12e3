//! The order service: the component behind typed calls. Each call runs in a
//! fresh instance (the component keeps nothing between calls), so the
//! service is cheap to share between threads.

use std::sync::Arc;

use crate::bindings::OrderManagement;
use crate::bindings::types::{CommandError, EntityKind, ExternalError};
use crate::engine::Runtime;
use crate::state::HostState;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The component refused the command; nothing changed.
    #[error("{}", describe(.0))]
    Domain(CommandError),
    /// The host or the component broke (trap, time limit, instantiation).
    #[error("{0:#}")]
    Runtime(#[from] anyhow::Error),
}

impl ServiceError {
    /// The command error, when the component refused the command.
    pub fn command_error(&self) -> Option<&CommandError> {
        match self {
            ServiceError::Domain(e) => Some(e),
            ServiceError::Runtime(_) => None,
        }
    }

    /// True for a version conflict: reading again and retrying resolves it.
    pub fn is_conflict(&self) -> bool {
        matches!(self, ServiceError::Domain(CommandError::Conflict(_)))
    }
}

fn entity(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Order => "order",
        EntityKind::Shipment => "shipment",
        EntityKind::Return => "return",
        EntityKind::Saga => "saga",
    }
}

/// One line for people, naming the field or the state.
pub fn describe(e: &CommandError) -> String {
    match e {
        CommandError::Validation(v) => format!("invalid {}: {}", v.field, v.reason),
        CommandError::InvalidTransition(t) => format!(
            "{} is not allowed while the {} is {}",
            t.command,
            entity(t.entity),
            t.state
        ),
        CommandError::NotFound(n) => format!("{} {} not found", entity(n.entity), n.id),
        CommandError::Conflict(m) => format!("conflict: {m}"),
        CommandError::RuleViolated(r) => match &r.field {
            Some(f) => format!("{} ({}: {})", r.message, r.rule, f),
            None => format!("{} ({})", r.message, r.rule),
        },
        CommandError::External(ExternalError::Transient(m)) => {
            format!("external service unavailable (transient): {m}")
        }
        CommandError::External(ExternalError::Permanent(m)) => {
            format!("external service refused (permanent): {m}")
        }
        CommandError::External(ExternalError::InDoubt(m)) => {
            format!("external service did not answer (outcome in doubt): {m}")
        }
        CommandError::Storage(m) => format!("storage failed: {m}"),
    }
}

/// The component behind typed calls; clone it freely.
#[derive(Clone)]
pub struct OrderService {
    runtime: Arc<Runtime>,
}

impl OrderService {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Self { runtime }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Calls the component once in a fresh instance.
    ///
    /// ```ignore
    /// let order = service.call(|api, store| {
    ///     api.oms_order_management_queries().call_get_order(store, &id)
    /// })?;
    /// ```
    pub fn call<R>(
        &self,
        f: impl FnOnce(
            &OrderManagement,
            &mut wasmtime::Store<HostState>,
        ) -> wasmtime::Result<Result<R, CommandError>>,
    ) -> Result<R, ServiceError> {
        let mut session = self.runtime.session()?;
        session.call(f)?.map_err(ServiceError::Domain)
    }

    /// Like [`OrderService::call`], retrying version conflicts a few times:
    /// a conflict means another writer won the race, and the command is
    /// decided again on the new state.
    pub fn call_retrying<R>(
        &self,
        mut f: impl FnMut(
            &OrderManagement,
            &mut wasmtime::Store<HostState>,
        ) -> wasmtime::Result<Result<R, CommandError>>,
    ) -> Result<R, ServiceError> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.call(&mut f) {
                Err(e) if e.is_conflict() && attempt < ATTEMPTS => continue,
                other => return other,
            }
        }
    }
}
