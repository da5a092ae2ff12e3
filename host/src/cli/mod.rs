//! What the `order-host` commands do, one module per command group, over
//! the arguments parsed in [`args`]: `orders.rs` (order, customer,
//! shipment, metrics, saga), `returns.rs`, `serve.rs`, `load.rs`,
//! `simulate.rs`, `store.rs` (init); the demo is `order_host::demo`. This
//! module holds what they share: the settings in force, the host they run
//! on, and how a result is printed. [`exit`] maps a failure to its exit code.

mod api_key;
pub mod args;
pub mod exit;
mod load;
mod orders;
mod returns;
mod serve;
mod simulate;
mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use order_host::config::{BackendChoice, ConfigError, Flags, Settings};
use order_host::{Context, Host, HostOptions, StoreChoice, SystemClock, demo};
use serde::Serialize;

use args::{Cli, Command};

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Bench(args) = &cli.command {
        return order_host::bench::main(&args.options(cli.component.clone()), cli.json);
    }
    if let Command::ApiKey(command) = &cli.command {
        return api_key::run(command);
    }
    let settings = settings(&cli)?;
    if let Command::Simulate(args) = &cli.command {
        return simulate::run(&cli, &settings, args);
    }
    // Credentials are checked before the store is opened or created.
    let auth = match &cli.command {
        Command::Serve(args) => Some(serve::authenticator(args, settings.bind)?),
        _ => None,
    };
    let fresh = matches!(cli.command, Command::Demo { fresh: true });
    let host = start(&cli, &settings, fresh)?;
    let json = cli.json;
    match &cli.command {
        Command::Demo { .. } => demo::run(&host),
        Command::Order(command) => orders::order(&host, json, command),
        Command::Customer(command) => orders::customer(&host, json, command),
        Command::Shipment(command) => orders::shipment(&host, json, command),
        Command::Metrics(command) => orders::metrics(&host, json, command),
        Command::Saga(command) => orders::saga(&host, json, command),
        Command::Return(command) => returns::run(&host, json, command),
        Command::Load(args) => load::run(&host, &settings, json, args),
        Command::Init => store::init(&host, &settings, json),
        Command::Serve(args) => serve::run(&host, &settings, args, auth.unwrap_or_default()),
        // Served before a host is started.
        Command::Simulate(_) | Command::Bench(_) | Command::ApiKey(_) => Ok(()),
    }
}

/// Where the store is unless the settings say otherwise.
fn default_store() -> String {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("order-host/orders.db").display().to_string()
}

/// The settings in force: flags over `ORDER_HOST_*` over the settings file.
fn settings(cli: &Cli) -> Result<Settings, ConfigError> {
    let mut flags = Flags {
        config: cli.config.clone(),
        store: cli.store.clone(),
        component: cli.component.clone(),
        seed: cli.seed,
        faults: cli
            .faults
            .iter()
            .cloned()
            .chain(cli.latencies.iter().map(|l| match l.split_once('=') {
                Some((target, duration)) => format!("{target}=latency:{duration}"),
                // Let the fault parser name what is wrong.
                None => l.clone(),
            }))
            .collect(),
        policy: cli.policy.clone(),
        backends: cli.backends,
        backend: cli.backend.clone(),
        ..Flags::default()
    };
    if let Command::Serve(args) = &cli.command {
        flags.bind = args.bind.clone();
        flags.webhook_secret = args.webhook_secret.clone();
        flags.shutdown_deadline = args.shutdown_deadline;
    }
    let settings = Settings::load(&flags, &order_host::config::process_env, &default_store)?;
    // The demo and the load generator play the external contexts' parts
    // through the simulation (declines, stock, pickups and deliveries).
    let needs: &[Context] = match &cli.command {
        Command::Demo { .. } => &Context::ALL,
        Command::Load(args) if args.stock.is_some() => &[Context::Carrier, Context::Inventory],
        Command::Load(_) => &[Context::Carrier],
        _ => &[],
    };
    for context in needs {
        if !matches!(
            settings.backends.choice(*context)?,
            BackendChoice::Simulated
        ) {
            let command = if matches!(cli.command, Command::Demo { .. }) {
                "demo"
            } else {
                "load"
            };
            return Err(ConfigError(format!(
                "`{command}` drives the simulated {context} backend, but the {context} \
                 backend is http; run it with `--backend {context}=simulated`"
            )));
        }
    }
    Ok(settings)
}

fn start(cli: &Cli, settings: &Settings, fresh: bool) -> anyhow::Result<Host> {
    let store = StoreChoice::parse(&settings.store);
    let mut files = Vec::new();
    if fresh && let StoreChoice::Sqlite(path) = &store {
        files.push(path.clone());
    }
    if fresh && let Some(path) = &cli.sim_state {
        files.push(path.clone());
    }
    for path in &files {
        // Never empty a store another process is using: take its lock
        // first (released again before the store is opened anew).
        let _owner = if path.exists() {
            Some(order_host::lockfile::LockFile::acquire(path, "the file")?)
        } else {
            None
        };
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
    }
    // Only these commands may create the store; the others read or change
    // one that exists, so a mistyped path is an error, not a new store.
    let create_store = matches!(
        cli.command,
        Command::Init | Command::Serve(_) | Command::Load(_) | Command::Demo { .. }
    );
    Host::start(HostOptions {
        store,
        create_store,
        component: settings.component.clone(),
        sim_state: cli.sim_state.clone(),
        seed: settings.seed,
        faults: settings.faults.clone(),
        policy: settings.policy.clone(),
        clock: Arc::new(SystemClock),
        backends: settings.backends.clone(),
        ..HostOptions::in_memory()
    })
}

/// `value` as the HTTP API's JSON with `--json`, else as `text` says it.
pub(crate) fn print<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    let mut out = if json {
        serde_json::to_string_pretty(value)? + "\n"
    } else {
        text(value)
    };
    if out.is_empty() {
        out.push('\n');
    }
    // A reader that stopped reading (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The text of `file`, or of stdin for `-`.
pub(crate) fn read_file_or_stdin(file: &Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}
