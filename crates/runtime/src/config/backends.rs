//! Which backend serves each external context: the `[backends]` table
//! with the environment and the flags laid over it, the `--backend` flag,
//! and the choice they resolve to.

use std::time::Duration;

use super::layers::{BackendKind, BackendsConfig, ContextBackend};
use super::{ConfigError, DEFAULT_BACKEND_TIMEOUT_MS, error, number};
use crate::external::Context;
use crate::remote::{HttpBackendConfig, HttpClient};

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

impl ContextBackend {
    /// Serves the context over http at `url`.
    fn serve_at(&mut self, url: String) {
        self.base_url = Some(url);
        self.kind = Some(BackendKind::Http);
    }
}

impl BackendsConfig {
    /// These settings with the environment's laid over them
    /// (`ORDER_HOST_BACKENDS`, `ORDER_HOST_BACKEND_TIMEOUT_MS`,
    /// `ORDER_HOST_<CONTEXT>_URL`), then the flags' (`--backends KIND`,
    /// then each `--backend`), checked.
    pub(super) fn overridden(
        mut self,
        get: &dyn Fn(&str) -> Option<String>,
        kind: Option<BackendKind>,
        flags: &[BackendFlag],
    ) -> Result<Self, ConfigError> {
        if let Some(kind) = get("ORDER_HOST_BACKENDS") {
            self.kind = kind.parse()?;
        }
        if let Some(timeout_ms) = number(get, "ORDER_HOST_BACKEND_TIMEOUT_MS")? {
            self.timeout_ms = Some(timeout_ms);
        }
        for context in Context::ALL {
            let name = format!("ORDER_HOST_{}_URL", context.name().to_ascii_uppercase());
            if let Some(url) = get(&name) {
                self.context_mut(context).serve_at(url);
            }
        }
        if let Some(kind) = kind {
            self.kind = kind;
            for context in Context::ALL {
                self.context_mut(context).kind = None;
            }
        }
        for flag in flags {
            let table = self.context_mut(flag.context);
            match &flag.base_url {
                Some(url) => table.serve_at(url.clone()),
                None => table.kind = Some(BackendKind::Simulated),
            }
        }
        self.validate()?;
        Ok(self)
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
