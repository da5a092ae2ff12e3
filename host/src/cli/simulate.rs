//! `order-host simulate`: no component, no store, only the simulation,
//! served over the HTTP backend contract.

use std::sync::Arc;

use anyhow::Context as _;
use order_host::config::Settings;
use order_host::{Clock, Simulation, SystemClock};

use super::args::{Cli, SimulateArgs};

/// Serves the simulated backends until SIGINT or SIGTERM.
pub fn run(cli: &Cli, settings: &Settings, args: &SimulateArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sim = match &cli.sim_state {
        Some(path) => Simulation::open_durable(settings.seed, clock, path)
            .with_context(|| format!("opening the simulation state {}", path.display()))?,
        None => Simulation::new(settings.seed, clock),
    };
    sim.control.set_fault_plan(settings.faults.clone());
    order_host::simulate::serve(Arc::new(sim), args.bind)
}
