//! `order-host init`: create the event store, or check the one there is.

use order_host::Host;
use order_host::config::Settings;

/// Says what the store (opened, so created or checked, by the host) holds.
pub fn init(host: &Host, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let stats = host.store.stats()?;
    if json {
        println!(
            "{}",
            serde_json::json!({"store": settings.store, "streams": stats.streams,
                "events": stats.events, "timers": stats.timers})
        );
    } else {
        println!(
            "event store {} is ready: {} stream(s), {} event(s), {} saga(s) scheduled",
            settings.store, stats.streams, stats.events, stats.timers
        );
    }
    Ok(())
}
