//! `order-host load`: many orders at once, reported; exit code 3 when
//! work is left.

use std::time::Duration;

use order_host::config::Settings;
use order_host::{Host, load};

use super::args::LoadArgs;

/// Runs the load and prints its summary; an unfinished load is an error
/// ([`load::Incomplete`], exit code 3).
pub fn run(host: &Host, settings: &Settings, json: bool, args: &LoadArgs) -> anyhow::Result<()> {
    let options = load::LoadOptions {
        orders: args.orders,
        concurrency: usize::from(args.concurrency),
        cancel_every: args.cancel_every,
        cancel_after: Duration::from_millis(args.cancel_after_ms),
        wait: Duration::from_secs(args.wait),
        seed: settings.seed,
        stock: args.stock,
        progress: !json && load::stderr_is_terminal(),
        pace: None,
    };
    let summary = load::run(host, &options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{summary}");
    }
    if !summary.complete() {
        return Err(load::Incomplete {
            unfinished: summary.unfinished,
            sagas: summary.sagas_unfinished,
            errors: summary.errors,
        }
        .into());
    }
    Ok(())
}
