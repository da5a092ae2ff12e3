//! The arguments of `order-host serve`, in a file of their own: the
//! server's options grow (authentication, limits) without touching the
//! other commands.

use clap::Args;

pub const SERVE_EXAMPLES: &str = "\
Prints `listening on http://ADDR` on stdout once bound; logs requests on stderr
(RUST_LOG=debug for more). SIGINT or SIGTERM answers new requests 503,
lets the requests in flight finish, stops the saga driver between sagas and
exits, all within --shutdown-deadline; unfinished sagas resume on the next
start. /healthz is liveness, /readyz readiness (a real write to the store).
The server owns its store (a second process on it fails with exit code 5); a
corrupt store is refused with exit code 4; a store file deleted or replaced
under the server makes it answer 503 and acknowledge nothing more. The API is
described at /openapi.json and in docs/http-api.md.

Every route but /healthz, /readyz and the signed webhooks needs
`Authorization: Bearer <API key or JWT>`: give --auth FILE (or ORDER_HOST_AUTH)
a credentials file (API keys from `order-host api-key new`, a token issuer).
Without one, those routes answer 401, and a non-loopback --bind is refused
unless --no-auth says a gateway in front authenticates callers.

Settings (file < ORDER_HOST_* environment < flags): store, bind, webhooks.secret,
shutdown-deadline-seconds, seed, faults, policy, backends (--backends KIND,
--backend CONTEXT=URL|simulated); see docs/http-api.md.

Examples:
  order-host serve                                    on 127.0.0.1:8080, the default store
  order-host --store /var/lib/order-host/orders.db serve --auth /etc/order-host/auth.toml --bind 0.0.0.0:8080
  ORDER_HOST_WEBHOOK_SECRET=whsec_… order-host serve  accept signed webhooks
  order-host --config /etc/order-host.toml serve
  order-host --store memory serve --bind 127.0.0.1:0  a throw-away server on a free port
  order-host --backend payment=http://127.0.0.1:9000/v1 serve   payment over http, the rest simulated
";

#[derive(Args)]
pub struct ServeArgs {
    /// Where to listen, IP:PORT; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long, value_name = "IP:PORT")]
    pub bind: Option<String>,
    /// The shared secret that signs webhooks. Prefer the settings file or
    /// ORDER_HOST_WEBHOOK_SECRET: a flag is visible to other users in `ps`.
    #[arg(long, value_name = "SECRET")]
    pub webhook_secret: Option<String>,
    /// How often the idle saga driver looks for sagas that are due.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    pub driver_interval_ms: u64,
    /// How long SIGINT or SIGTERM may take to stop the server: requests in
    /// flight finish, new ones get 503, then the process exits regardless
    /// [default: 30, or shutdown-deadline-seconds in the settings].
    #[arg(long, value_name = "SECONDS")]
    pub shutdown_deadline: Option<u64>,
    /// How long a client may take to send a request's headers.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub header_timeout_ms: u64,
    /// How long a client may take to send a request's body (408 after).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub body_timeout_ms: u64,
    /// The largest request body accepted (413 above).
    #[arg(long, default_value_t = 1_048_576, value_name = "BYTES")]
    pub body_limit: usize,
    /// The credentials file: API keys (stored hashed, each with a role) and
    /// the token issuer (docs/http-api.md). Without one every route but
    /// health, readiness and the signed webhooks answers 401.
    #[arg(long, value_name = "FILE", env = "ORDER_HOST_AUTH")]
    pub auth: Option<std::path::PathBuf>,
    /// Turn authentication off: every request acts as an admin. Only behind
    /// a gateway that authenticates callers itself; also lets `--bind` take
    /// a non-loopback address without credentials.
    #[arg(long)]
    pub no_auth: bool,
    /// How long a saga this host claimed stays its own: on a shared
    /// (PostgreSQL) store, the sagas of a host that died are taken over by
    /// the others after this.
    #[arg(
        long,
        default_value_t = 30_000,
        value_name = "MS",
        env = "ORDER_HOST_SAGA_LEASE_MS"
    )]
    pub saga_lease_ms: u64,
    /// Outbound webhooks: the wait after a first failed delivery, doubled
    /// after each further failure up to --webhook-retry-max-ms.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub webhook_retry_base_ms: u64,
    /// Outbound webhooks: the longest wait between two attempts (retries go
    /// on until the endpoint answers 2xx or is deleted).
    #[arg(long, default_value_t = 3_600_000, value_name = "MS")]
    pub webhook_retry_max_ms: u64,
    /// Outbound webhooks: how often an idle endpoint looks for new events.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub webhook_poll_ms: u64,
    /// Outbound webhooks: how long one delivery may take.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub webhook_timeout_ms: u64,
}
