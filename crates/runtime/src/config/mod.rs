//! The settings of `order-host`, from three layers, each overriding the one
//! before:
//!
//! 1. a TOML file: `--config FILE` (or `ORDER_HOST_CONFIG`), else
//!    `order-host.toml` in the working directory if there is one;
//! 2. environment variables `ORDER_HOST_*`;
//! 3. command-line flags.
//!
//! ```toml
//! store = "/var/lib/order-host/orders.db"   # or "memory", or "postgres://user@host/db";
//!                                           # a file is relative to this file
//! bind = "127.0.0.1:8080"
//! seed = 1
//! faults = "payment=transient:0.2;carrier=20ms"
//!
//! [webhooks]
//! secret = "whsec_…"
//! tolerance-seconds = 300
//!
//! [policy]                                  # kebab-case fields of StorePolicy
//! return-window-days = 30
//! pricing = { tax-rate-basis-points = 825, flat-shipping-minor = 499 }
//!
//! [backends]
//! kind = "simulated"                        # or "http": the default of every context
//! timeout-ms = 10000
//! [backends.payment]
//! kind = "http"
//! base-url = "https://payments.internal/v1"
//! ```
//!
//! The backends can also be set by `ORDER_HOST_<CONTEXT>_URL` (that context
//! over http), `--backends KIND` (every context) and `--backend
//! CONTEXT=URL|simulated` (one context); [`crate::wiring::backends`] builds
//! them. This module only reads settings: it builds no backend.
//!
//! Every error here is a usage error ([`ConfigError`]; exit code 2).

mod backends;
mod layers;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use backends::{BackendChoice, BackendFlag};
pub use layers::{
    BackendKind, BackendsConfig, ContextBackend, FaultSpecs, FileConfig, Flags, WebhooksConfig,
};

use crate::policy::StorePolicy;
use crate::simulation::FaultPlan;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "order-host.toml";
/// Where `serve` listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// How long `serve` may take to stop by default.
pub const DEFAULT_SHUTDOWN_DEADLINE_SECONDS: u64 = 30;
/// The simulated backends' seed unless told otherwise.
pub const DEFAULT_SEED: u64 = 1;
/// The time-out of an http backend's call unless told otherwise.
pub const DEFAULT_BACKEND_TIMEOUT_MS: u64 = 10_000;

/// A setting that cannot be used: a usage error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

pub(crate) fn error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// A SQLite file, `memory`, or a `postgres://` URL.
    pub store: String,
    pub component: Option<PathBuf>,
    pub seed: u64,
    /// The fault spec, as given.
    pub faults_spec: String,
    pub faults: FaultPlan,
    pub policy: StorePolicy,
    pub bind: SocketAddr,
    pub webhook_secret: Option<String>,
    pub webhook_tolerance: Duration,
    /// How long `serve` may take to stop after SIGINT or SIGTERM.
    pub shutdown_deadline: Duration,
    pub backends: BackendsConfig,
}

/// Reads an environment variable; empty counts as unset.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process's environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The number in the environment variable `name`, if it is set.
pub(crate) fn number(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<u64>, ConfigError> {
    get(name)
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| error(format!("{name} is not a number: `{text}`")))
        })
        .transpose()
}

impl Settings {
    /// Finds and reads the configuration file (the flag, else
    /// `ORDER_HOST_CONFIG`, else `./order-host.toml` if present), then
    /// resolves every setting: flags over environment over file over defaults.
    pub fn load(
        flags: &Flags,
        env: Env<'_>,
        default_store: &dyn Fn() -> String,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        let (file, path) = match flags
            .config
            .clone()
            .or_else(|| get("ORDER_HOST_CONFIG").map(PathBuf::from))
        {
            Some(path) => (FileConfig::read(&path)?, Some(path)),
            None => {
                let path = PathBuf::from(DEFAULT_CONFIG_FILE);
                if path.is_file() {
                    (FileConfig::read(&path)?, Some(path))
                } else {
                    (FileConfig::default(), None)
                }
            }
        };
        let mut settings = Self::resolve(file, path.as_deref(), flags, env, default_store)?;
        settings.config_file = path;
        Ok(settings)
    }

    /// Resolves every setting from `file` (read from `file_path`, against
    /// whose directory its relative paths are taken), `env` and `flags`.
    pub fn resolve(
        file: FileConfig,
        file_path: Option<&Path>,
        flags: &Flags,
        env: Env<'_>,
        default_store: &dyn Fn() -> String,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        let base = file_path
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty());
        let relative = |path: &Path| match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        };

        let store = flags
            .store
            .clone()
            .or_else(|| get("ORDER_HOST_STORE"))
            .or_else(|| {
                file.store.as_ref().map(|s| {
                    if s == "memory" || crate::store::is_postgres_url(s) {
                        s.clone()
                    } else {
                        relative(Path::new(s)).display().to_string()
                    }
                })
            })
            .unwrap_or_else(default_store);

        let component = flags
            .component
            .clone()
            .or_else(|| get("ORDER_HOST_COMPONENT").map(PathBuf::from))
            .or_else(|| file.component.as_deref().map(relative));

        let seed = match flags.seed {
            Some(seed) => seed,
            None => number(&get, "ORDER_HOST_SEED")?
                .or(file.seed)
                .unwrap_or(DEFAULT_SEED),
        };

        let faults_spec = if !flags.faults.is_empty() {
            flags.faults.join(";")
        } else if let Some(spec) = get("ORDER_HOST_FAULTS") {
            spec
        } else {
            file.faults
                .as_ref()
                .map(FaultSpecs::joined)
                .unwrap_or_default()
        };
        let faults: FaultPlan = faults_spec
            .parse()
            .map_err(|e| error(format!("invalid faults `{faults_spec}`: {e}")))?;

        let policy = match flags
            .policy
            .clone()
            .or_else(|| get("ORDER_HOST_POLICY").map(PathBuf::from))
        {
            Some(path) => layers::read_policy(&path)?,
            None => file.policy.clone().unwrap_or_default(),
        };
        policy.validate().map_err(|e| error(e.to_string()))?;

        let bind_text = flags
            .bind
            .clone()
            .or_else(|| get("ORDER_HOST_BIND"))
            .or_else(|| file.bind.clone())
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_text.trim().parse().map_err(|_| {
            error(format!(
                "the bind address `{bind_text}` is not IP:PORT (for example 127.0.0.1:8080)"
            ))
        })?;

        let webhook_secret = flags
            .webhook_secret
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| get("ORDER_HOST_WEBHOOK_SECRET"))
            .or_else(|| file.webhooks.secret.clone().filter(|s| !s.is_empty()));
        let tolerance = number(&get, "ORDER_HOST_WEBHOOK_TOLERANCE_SECONDS")?
            .or(file.webhooks.tolerance_seconds)
            .unwrap_or(300);

        let shutdown_deadline = match flags.shutdown_deadline {
            Some(seconds) => seconds,
            None => number(&get, "ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS")?
                .or(file.shutdown_deadline_seconds)
                .unwrap_or(DEFAULT_SHUTDOWN_DEADLINE_SECONDS),
        };

        let backends = file
            .backends
            .overridden(&get, flags.backends, &flags.backend)?;

        Ok(Settings {
            config_file: None,
            store,
            component,
            seed,
            faults_spec,
            faults,
            policy,
            bind,
            webhook_secret,
            webhook_tolerance: Duration::from_secs(tolerance),
            shutdown_deadline: Duration::from_secs(shutdown_deadline),
            backends,
        })
    }
}
