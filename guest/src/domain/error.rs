//! The one error type of the domain. Every failed command returns one of
//! these and changes nothing; the bindings map them onto `command-error`.

use std::fmt;

/// Which entity an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Order,
    Shipment,
    Return,
    Saga,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Order => "order",
            Entity::Shipment => "shipment",
            Entity::Return => "return",
            Entity::Saga => "saga",
        })
    }
}

/// An error from an external context, split by whether retrying may help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalError {
    /// The callee said the call had no effect.
    Transient(String),
    Permanent(String),
    /// The outcome is unknown: the call may have taken effect.
    InDoubt(String),
}

impl ExternalError {
    pub fn message(&self) -> &str {
        match self {
            ExternalError::Transient(m)
            | ExternalError::Permanent(m)
            | ExternalError::InDoubt(m) => m,
        }
    }

    /// True when retrying may help: the call had no effect, or its outcome
    /// is unknown and a repeat under the same key will tell. The saga tells
    /// the two apart with [`ExternalError::is_in_doubt`]: an answer in
    /// doubt is never taken for "no effect".
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ExternalError::Transient(_) | ExternalError::InDoubt(_)
        )
    }

    /// True when the call may have taken effect.
    pub fn is_in_doubt(&self) -> bool {
        matches!(self, ExternalError::InDoubt(_))
    }
}

impl fmt::Display for ExternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternalError::Transient(m) => write!(f, "transient: {m}"),
            ExternalError::Permanent(m) => write!(f, "permanent: {m}"),
            ExternalError::InDoubt(m) => write!(f, "in doubt: {m}"),
        }
    }
}

/// Why a command or query failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid {field}: {reason}")]
    Validation { field: String, reason: String },
    #[error("{command} is not allowed while the {entity} is {state}")]
    InvalidTransition {
        entity: Entity,
        state: String,
        command: String,
    },
    #[error("{entity} {id} not found")]
    NotFound { entity: Entity, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{message}")]
    RuleViolated {
        rule: String,
        field: Option<String>,
        message: String,
    },
    #[error("external call failed: {0}")]
    External(ExternalError),
    #[error("storage failed: {0}")]
    Storage(String),
}

impl DomainError {
    pub fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn transition(entity: Entity, state: impl fmt::Display, command: &str) -> Self {
        DomainError::InvalidTransition {
            entity,
            state: state.to_string(),
            command: command.to_string(),
        }
    }

    pub fn not_found(entity: Entity, id: impl Into<String>) -> Self {
        DomainError::NotFound {
            entity,
            id: id.into(),
        }
    }

    pub fn rule(rule: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        DomainError::RuleViolated {
            rule: rule.to_string(),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
