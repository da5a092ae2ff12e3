//! `order-host init`: create the event store, or check the one there is.

use order_host::Host;
use order_host::config::Settings;

/// Says what the store (opened, so created or checked, by the host) holds.
pub fn init(host: &Host, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let stats = host.store.stats()?;
    let format = host.store.format();
    if json {
        println!(
            "{}",
            serde_json::json!({"store": settings.store, "format": format,
                "streams": stats.streams, "events": stats.events, "timers": stats.timers})
        );
    } else {
        let format = format.map(|f| format!(" ({f})")).unwrap_or_default();
        println!(
            "event store {}{format} is ready: {} stream(s), {} event(s), {} saga(s) scheduled",
            settings.store, stats.streams, stats.events, stats.timers
        );
    }
    Ok(())
}
