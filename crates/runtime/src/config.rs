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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::external::Context;
use crate::policy::StorePolicy;
use crate::remote::{HttpBackendConfig, HttpClient};
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

fn error(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// Faults as one spec string or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FaultSpecs {
    One(String),
    Many(Vec<String>),
}

impl FaultSpecs {
    fn joined(&self) -> String {
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

/// How one context is served, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    Simulated,
    Http {
        base_url: String,
        timeout: Duration,
        connect_timeout: Option<Duration>,
    },
}

impl BackendsConfig {
    /// Every context over http behind one server at `base_url` (their
    /// paths do not overlap), with the default time-out.
    pub fn all_http(base_url: &str) -> Self {
        let context = || ContextBackend {
            base_url: Some(base_url.to_owned()),
            ..ContextBackend::default()
        };
        BackendsConfig {
            kind: BackendKind::Http,
            timeout_ms: None,
            payment: context(),
            inventory: context(),
            carrier: context(),
            customer: context(),
        }
    }

    /// The table of `context`.
    pub fn context(&self, context: Context) -> &ContextBackend {
        match context {
            Context::Payment => &self.payment,
            Context::Inventory => &self.inventory,
            Context::Carrier => &self.carrier,
            Context::Customer => &self.customer,
        }
    }

    fn context_mut(&mut self, context: Context) -> &mut ContextBackend {
        match context {
            Context::Payment => &mut self.payment,
            Context::Inventory => &mut self.inventory,
            Context::Carrier => &mut self.carrier,
            Context::Customer => &mut self.customer,
        }
    }

    /// How `context` is served; an http context needs a base URL and a
    /// time-out above zero.
    pub fn choice(&self, context: Context) -> Result<BackendChoice, ConfigError> {
        let table = self.context(context);
        match table.kind.unwrap_or(self.kind) {
            BackendKind::Simulated => Ok(BackendChoice::Simulated),
            BackendKind::Http => {
                let base_url = table.base_url.clone().filter(|u| !u.is_empty()).ok_or_else(|| {
                    error(format!(
                        "backends.{context}.base-url is required when the {context} backend is http"
                    ))
                })?;
                let timeout_ms = table
                    .timeout_ms
                    .or(self.timeout_ms)
                    .unwrap_or(DEFAULT_BACKEND_TIMEOUT_MS);
                if timeout_ms == 0 {
                    return Err(error(format!(
                        "backends.{context}.timeout-ms must be above 0"
                    )));
                }
                Ok(BackendChoice::Http {
                    base_url,
                    timeout: Duration::from_millis(timeout_ms),
                    connect_timeout: table.connect_timeout_ms.map(Duration::from_millis),
                })
            }
        }
    }

    /// The settings of the http client of `context`, or `None` when it is
    /// simulated.
    pub fn http_config(&self, context: Context) -> Result<Option<HttpBackendConfig>, ConfigError> {
        Ok(match self.choice(context)? {
            BackendChoice::Simulated => None,
            BackendChoice::Http {
                base_url,
                timeout,
                connect_timeout,
            } => {
                let mut config = HttpBackendConfig::new(base_url).with_timeout(timeout);
                if let Some(connect_timeout) = connect_timeout {
                    config = config.with_connect_timeout(connect_timeout);
                }
                Some(config)
            }
        })
    }

    /// Checks every context's settings, the base URL and time-outs of an
    /// http context included (nothing is contacted).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for context in Context::ALL {
            if let Some(http) = self.http_config(context)? {
                HttpClient::new(context, &http)
                    .map_err(|e| error(format!("backends.{context}: {e}")))?;
            }
        }
        Ok(())
    }

    /// True when every context is simulated.
    pub fn all_simulated(&self) -> bool {
        Context::ALL
            .iter()
            .all(|c| matches!(self.choice(*c), Ok(BackendChoice::Simulated)))
    }
}

/// One `--backend CONTEXT=URL|simulated` flag: a URL serves that context
/// over http at that base URL (like `ORDER_HOST_<CONTEXT>_URL`),
/// `simulated` serves it in-process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendFlag {
    pub context: Context,
    /// The base URL; `None` for `simulated`.
    pub base_url: Option<String>,
}

impl std::str::FromStr for BackendFlag {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let (name, target) = text.split_once('=').ok_or_else(|| {
            error(format!(
                "`{text}` is not CONTEXT=URL or CONTEXT=simulated \
                 (for example payment=http://127.0.0.1:9000/v1)"
            ))
        })?;
        let context: Context = name.trim().parse().map_err(|e| error(format!("{e}")))?;
        let target = target.trim();
        let base_url = match target {
            "" => {
                return Err(error(format!(
                    "`{text}` gives no URL for the {context} backend"
                )));
            }
            "simulated" => None,
            url => Some(url.to_owned()),
        };
        Ok(BackendFlag { context, base_url })
    }
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
fn number(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>, ConfigError> {
    get(name)
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| error(format!("{name} is not a number: `{text}`")))
        })
        .transpose()
}

fn read_policy(path: &Path) -> Result<StorePolicy, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| error(format!("cannot read the policy {}: {e}", path.display())))?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| error(format!("invalid policy in {}: {e}", path.display())))
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
                    if s == "memory" || crate::store::PostgresStore::is_url(s) {
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
            Some(path) => read_policy(&path)?,
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

        let mut backends = file.backends;
        if let Some(kind) = get("ORDER_HOST_BACKENDS") {
            backends.kind = kind.parse()?;
        }
        if let Some(timeout_ms) = number(&get, "ORDER_HOST_BACKEND_TIMEOUT_MS")? {
            backends.timeout_ms = Some(timeout_ms);
        }
        for context in Context::ALL {
            let name = format!("ORDER_HOST_{}_URL", context.name().to_ascii_uppercase());
            if let Some(url) = get(&name) {
                let table = backends.context_mut(context);
                table.base_url = Some(url);
                table.kind = Some(BackendKind::Http);
            }
        }
        if let Some(kind) = flags.backends {
            backends.kind = kind;
            for context in Context::ALL {
                backends.context_mut(context).kind = None;
            }
        }
        for flag in &flags.backend {
            let table = backends.context_mut(flag.context);
            match &flag.base_url {
                Some(url) => {
                    table.base_url = Some(url.clone());
                    table.kind = Some(BackendKind::Http);
                }
                None => table.kind = Some(BackendKind::Simulated),
            }
        }
        backends.validate()?;

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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::bindings::types::CarrierCode;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn default_store() -> String {
        "/default/orders.db".to_owned()
    }

    const FILE: &str = r#"
        store = "file.db"
        bind = "127.0.0.1:7001"
        seed = 11
        faults = ["payment=transient:0.5"]

        [webhooks]
        secret = "from-file"

        [policy]
        return-window-days = 14
        default-carrier = "dhl"
    "#;

    fn resolve(env: &[(&str, &str)], flags: &Flags) -> Settings {
        let file = FileConfig::parse(FILE, "test").unwrap();
        Settings::resolve(
            file,
            Some(Path::new("/etc/order-host/order-host.toml")),
            flags,
            &env_of(env),
            &default_store,
        )
        .unwrap()
    }

    #[test]
    fn a_postgres_url_in_the_file_is_not_taken_for_a_relative_path() {
        let file =
            FileConfig::parse(r#"store = "postgres://shop@db.internal/orders""#, "test").unwrap();
        let s = Settings::resolve(
            file,
            Some(Path::new("/etc/order-host/order-host.toml")),
            &Flags::default(),
            &env_of(&[]),
            &default_store,
        )
        .unwrap();
        assert_eq!(s.store, "postgres://shop@db.internal/orders");
        let env = Settings::resolve(
            FileConfig::default(),
            None,
            &Flags::default(),
            &env_of(&[("ORDER_HOST_STORE", "postgresql://a@b/c")]),
            &default_store,
        )
        .unwrap();
        assert_eq!(env.store, "postgresql://a@b/c");
    }

    #[test]
    fn the_file_is_used_when_nothing_overrides_it() {
        let s = resolve(&[], &Flags::default());
        // Relative paths in the file are taken from the file's directory.
        assert_eq!(s.store, "/etc/order-host/file.db");
        assert_eq!(s.bind, "127.0.0.1:7001".parse().unwrap());
        assert_eq!(s.seed, 11);
        assert_eq!(s.faults_spec, "payment=transient:0.5");
        assert_eq!(s.webhook_secret.as_deref(), Some("from-file"));
        assert_eq!(s.policy.return_window_days, 14);
        assert_eq!(s.policy.default_carrier, CarrierCode::Dhl);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        std::fs::write(&policy, r#"{"return-window-days": 60}"#).unwrap();
        let s = resolve(
            &[
                ("ORDER_HOST_STORE", "env.db"),
                ("ORDER_HOST_BIND", "127.0.0.1:7002"),
                ("ORDER_HOST_SEED", "22"),
                ("ORDER_HOST_FAULTS", "carrier=20ms"),
                ("ORDER_HOST_WEBHOOK_SECRET", "from-env"),
                ("ORDER_HOST_POLICY", policy.to_str().unwrap()),
            ],
            &Flags::default(),
        );
        assert_eq!(s.store, "env.db");
        assert_eq!(s.bind, "127.0.0.1:7002".parse().unwrap());
        assert_eq!(s.seed, 22);
        assert_eq!(s.faults_spec, "carrier=20ms");
        assert_eq!(s.webhook_secret.as_deref(), Some("from-env"));
        assert_eq!(s.policy.return_window_days, 60);
    }

    #[test]
    fn the_shutdown_deadline_comes_from_flag_then_environment_then_file() {
        let file = FileConfig::parse("shutdown-deadline-seconds = 7\n", "test").unwrap();
        let default_store = || "orders.db".to_owned();
        let none = env_of(&[]);
        let s = Settings::resolve(file.clone(), None, &Flags::default(), &none, &default_store)
            .unwrap();
        assert_eq!(s.shutdown_deadline, Duration::from_secs(7));
        let env = env_of(&[("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS", "9")]);
        let s =
            Settings::resolve(file.clone(), None, &Flags::default(), &env, &default_store).unwrap();
        assert_eq!(s.shutdown_deadline, Duration::from_secs(9));
        let flags = Flags {
            shutdown_deadline: Some(3),
            ..Flags::default()
        };
        let s = Settings::resolve(file, None, &flags, &env, &default_store).unwrap();
        assert_eq!(s.shutdown_deadline, Duration::from_secs(3));
        let s = Settings::resolve(
            FileConfig::default(),
            None,
            &Flags::default(),
            &none,
            &default_store,
        )
        .unwrap();
        assert_eq!(s.shutdown_deadline, Duration::from_secs(30));
        let bad = env_of(&[("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS", "soon")]);
        let error = Settings::resolve(
            FileConfig::default(),
            None,
            &Flags::default(),
            &bad,
            &default_store,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ORDER_HOST_SHUTDOWN_DEADLINE_SECONDS")
        );
    }

    #[test]
    fn flags_override_the_environment_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, "return-window-days = 90\n").unwrap();
        let flags = Flags {
            store: Some("flag.db".to_owned()),
            seed: Some(33),
            faults: vec!["inventory=permanent:1".to_owned()],
            policy: Some(policy),
            bind: Some("127.0.0.1:7003".to_owned()),
            webhook_secret: Some("from-flag".to_owned()),
            ..Flags::default()
        };
        let s = resolve(
            &[
                ("ORDER_HOST_STORE", "env.db"),
                ("ORDER_HOST_BIND", "127.0.0.1:7002"),
                ("ORDER_HOST_SEED", "22"),
                ("ORDER_HOST_FAULTS", "carrier=20ms"),
                ("ORDER_HOST_WEBHOOK_SECRET", "from-env"),
            ],
            &flags,
        );
        assert_eq!(s.store, "flag.db");
        assert_eq!(s.bind, "127.0.0.1:7003".parse().unwrap());
        assert_eq!(s.seed, 33);
        assert_eq!(s.faults_spec, "inventory=permanent:1");
        assert_eq!(s.webhook_secret.as_deref(), Some("from-flag"));
        assert_eq!(s.policy.return_window_days, 90);
    }

    #[test]
    fn defaults_apply_without_file_environment_or_flags() {
        let s = Settings::resolve(
            FileConfig::default(),
            None,
            &Flags::default(),
            &env_of(&[]),
            &default_store,
        )
        .unwrap();
        assert_eq!(s.store, "/default/orders.db");
        assert_eq!(s.bind, DEFAULT_BIND.parse().unwrap());
        assert_eq!(s.seed, DEFAULT_SEED);
        assert_eq!(s.webhook_secret, None);
        assert_eq!(s.webhook_tolerance, Duration::from_secs(300));
        assert_eq!(s.policy, StorePolicy::default());
        assert!(s.backends.all_simulated());
    }

    #[test]
    fn empty_environment_variables_count_as_unset() {
        let s = resolve(&[("ORDER_HOST_WEBHOOK_SECRET", "")], &Flags::default());
        assert_eq!(s.webhook_secret.as_deref(), Some("from-file"));
    }

    #[test]
    fn unusable_settings_are_usage_errors_that_say_which() {
        let bad = |file: &str, env: &[(&str, &str)]| {
            let file = FileConfig::parse(file, "test")?;
            Settings::resolve(file, None, &Flags::default(), &env_of(env), &default_store)
        };
        assert!(bad("colour = 1", &[]).unwrap_err().0.contains("colour"));
        assert!(
            bad("bind = \"localhost\"", &[])
                .unwrap_err()
                .0
                .contains("IP:PORT")
        );
        assert!(
            bad("", &[("ORDER_HOST_SEED", "x")])
                .unwrap_err()
                .0
                .contains("ORDER_HOST_SEED")
        );
        assert!(
            bad("faults = \"payment=often\"", &[])
                .unwrap_err()
                .0
                .contains("invalid faults")
        );
        let error = bad("[backends.payment]\nkind = \"http\"", &[]).unwrap_err();
        assert!(error.0.contains("backends.payment.base-url"), "{error}");
        assert!(bad("[policy]\ncall-lease-ms = 0", &[]).is_err());
    }

    #[test]
    fn backends_are_simulated_unless_configured_as_http() {
        let file = FileConfig::parse(
            r#"
            [backends]
            timeout-ms = 2000
            [backends.carrier]
            kind = "http"
            base-url = "https://carrier.internal"
            "#,
            "test",
        )
        .unwrap();
        assert_eq!(
            file.backends.choice(Context::Payment).unwrap(),
            BackendChoice::Simulated
        );
        assert_eq!(
            file.backends.choice(Context::Carrier).unwrap(),
            BackendChoice::Http {
                base_url: "https://carrier.internal".to_owned(),
                timeout: Duration::from_secs(2),
                connect_timeout: None,
            }
        );
        // An environment URL makes that context http.
        let s = Settings::resolve(
            FileConfig::default(),
            None,
            &Flags::default(),
            &env_of(&[("ORDER_HOST_PAYMENT_URL", "http://pay.test")]),
            &default_store,
        )
        .unwrap();
        assert!(matches!(
            s.backends.choice(Context::Payment),
            Ok(BackendChoice::Http { .. })
        ));
        assert!(!s.backends.all_simulated());
    }

    #[test]
    fn backend_flags_override_the_environment_and_the_file() {
        let file = FileConfig::parse(
            r#"
            [backends.payment]
            kind = "http"
            base-url = "http://file.test/pay"
            [backends.carrier]
            kind = "http"
            base-url = "http://file.test/ship"
            "#,
            "test",
        )
        .unwrap();
        let env = env_of(&[("ORDER_HOST_INVENTORY_URL", "http://env.test/stock")]);
        let flags = Flags {
            backend: vec![
                "payment=http://flag.test/pay".parse().unwrap(),
                "carrier=simulated".parse().unwrap(),
            ],
            ..Flags::default()
        };
        let s = Settings::resolve(file.clone(), None, &flags, &env, &default_store).unwrap();
        let url = |context| match s.backends.choice(context).unwrap() {
            BackendChoice::Http { base_url, .. } => Some(base_url),
            BackendChoice::Simulated => None,
        };
        assert_eq!(
            url(Context::Payment).as_deref(),
            Some("http://flag.test/pay")
        );
        assert_eq!(
            url(Context::Inventory).as_deref(),
            Some("http://env.test/stock")
        );
        assert_eq!(url(Context::Carrier), None);
        assert_eq!(url(Context::Customer), None);

        // `--backends simulated` turns every context simulated; a
        // `--backend` flag beside it still serves its context over http.
        let flags = Flags {
            backends: Some(BackendKind::Simulated),
            backend: vec!["customer=http://flag.test/cs".parse().unwrap()],
            ..Flags::default()
        };
        let s = Settings::resolve(file, None, &flags, &env, &default_store).unwrap();
        for context in [Context::Payment, Context::Inventory, Context::Carrier] {
            assert_eq!(
                s.backends.choice(context).unwrap(),
                BackendChoice::Simulated
            );
        }
        assert!(matches!(
            s.backends.choice(Context::Customer),
            Ok(BackendChoice::Http { .. })
        ));
    }

    #[test]
    fn backend_flags_and_urls_that_cannot_work_are_usage_errors() {
        for bad in ["payment", "bank=http://x", "payment=", "=http://x"] {
            assert!(bad.parse::<BackendFlag>().is_err(), "`{bad}` was accepted");
        }
        let flag: BackendFlag = " carrier = https://c.test/v1 ".parse().unwrap();
        assert_eq!(flag.context, Context::Carrier);
        assert_eq!(flag.base_url.as_deref(), Some("https://c.test/v1"));

        let resolve = |flag: &str| {
            let flags = Flags {
                backend: vec![flag.parse().unwrap()],
                ..Flags::default()
            };
            Settings::resolve(
                FileConfig::default(),
                None,
                &flags,
                &env_of(&[]),
                &default_store,
            )
        };
        let error = resolve("payment=ftp://pay.test").unwrap_err();
        assert!(error.0.contains("backends.payment"), "{error}");
        assert!(error.0.contains("ftp://pay.test"), "{error}");
        assert!(resolve("payment=http://127.0.0.1:9/v1").is_ok());
    }
}
