//! What the layers give before anything is resolved: the configuration
//! file's TOML shape (kebab-case, unknown fields refused) and its reading,
//! the policy file a flag or variable names, and the command-line flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, error};
use crate::config::BackendFlag;
use crate::policy::StorePolicy;

/// Faults as one spec string or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FaultSpecs {
    One(String),
    Many(Vec<String>),
}

impl FaultSpecs {
    pub(super) fn joined(&self) -> String {
        match self {
            FaultSpecs::One(spec) => spec.clone(),
            FaultSpecs::Many(specs) => specs.join(";"),
        }
    }
}

/// The `[webhooks]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebhooksConfig {
    /// The shared secret that signs deliveries.
    pub secret: Option<String>,
    /// How far a signature's timestamp may be from now (default 300).
    pub tolerance_seconds: Option<u64>,
}

/// Where an external context is served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// In-process, deterministic under the seed, with the configured faults.
    #[default]
    Simulated,
    /// JSON over HTTP to `base-url`.
    Http,
}

impl std::str::FromStr for BackendKind {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "simulated" => Ok(BackendKind::Simulated),
            "http" => Ok(BackendKind::Http),
            other => Err(error(format!(
                "unknown backend kind `{other}` (expected simulated or http)"
            ))),
        }
    }
}

/// One context's table under `[backends]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct ContextBackend {
    /// Overrides `[backends] kind` for this context.
    pub kind: Option<BackendKind>,
    /// The http backend's base URL.
    pub base_url: Option<String>,
    /// Overrides `[backends] timeout-ms` for this context.
    pub timeout_ms: Option<u64>,
    /// How long connecting may take, in milliseconds.
    pub connect_timeout_ms: Option<u64>,
}

/// The `[backends]` table: simulated or http, per context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct BackendsConfig {
    /// The kind of every context that does not say.
    pub kind: BackendKind,
    /// The time-out of every http call, in milliseconds (default 10 000).
    pub timeout_ms: Option<u64>,
    pub payment: ContextBackend,
    pub inventory: ContextBackend,
    pub carrier: ContextBackend,
    pub customer: ContextBackend,
}

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    /// A SQLite file, `memory`, or a `postgres://` URL.
    pub store: Option<String>,
    /// A component to run instead of the embedded one.
    pub component: Option<PathBuf>,
    /// Where `serve` listens, `IP:PORT`.
    pub bind: Option<String>,
    /// The simulated backends' seed.
    pub seed: Option<u64>,
    /// The simulated backends' faults (the `--fault` syntax).
    pub faults: Option<FaultSpecs>,
    /// The store policy.
    pub policy: Option<StorePolicy>,
    /// How long `serve` may take to stop after SIGINT or SIGTERM.
    pub shutdown_deadline_seconds: Option<u64>,
    pub webhooks: WebhooksConfig,
    pub backends: BackendsConfig,
}

impl FileConfig {
    /// Parses TOML text.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| error(format!("invalid configuration in {origin}: {e}")))
    }

    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            error(format!(
                "cannot read the configuration {}: {e}",
                path.display()
            ))
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// The store policy in the JSON or (by its `.toml` ending) TOML file at `path`.
pub(super) fn read_policy(path: &Path) -> Result<StorePolicy, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(format!("cannot read the policy {}: {e}", path.display())))?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| error(format!("invalid policy in {}: {e}", path.display())))
}

/// The settings given on the command line (`None`/empty: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub store: Option<String>,
    pub component: Option<PathBuf>,
    pub seed: Option<u64>,
    pub faults: Vec<String>,
    pub policy: Option<PathBuf>,
    pub bind: Option<String>,
    pub webhook_secret: Option<String>,
    /// `serve --shutdown-deadline SECONDS`.
    pub shutdown_deadline: Option<u64>,
    /// `--backends KIND`: the kind of every context.
    pub backends: Option<BackendKind>,
    /// `--backend CONTEXT=URL|simulated`, applied after `backends`.
    pub backend: Vec<BackendFlag>,
}
