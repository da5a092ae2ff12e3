//! What one `Store` carries: the guest's WASI context, its resource table,
//! its limits, and the backends its imports delegate to.
//!
//! Each import is implemented beside its backend's trait, on a small view
//! of its own ([`crate::store::EventStoreView`], [`crate::policy::PolicyView`],
//! [`crate::payment::PaymentView`], [`crate::inventory::InventoryView`],
//! [`crate::carrier::CarrierView`], [`crate::customer::CustomerView`]), with
//! its own `add_to_linker`; none of them knows [`HostState`].
//! [`link_imports`] links them all, each given its part of [`Backends`].

use std::sync::Arc;

use wasmtime::StoreLimits;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::oms::order_management::types;
use crate::carrier::{self, CarrierView, ShippingCarrier};
use crate::clock::{Clock, WasiWallClock};
use crate::customer::{self, CustomerService, CustomerView};
use crate::inventory::{self, InventoryService, InventoryView};
use crate::payment::{self, PaymentGateway, PaymentView};
use crate::policy::{self, PolicyView, StorePolicy};
use crate::store::{self, EventStore, EventStoreView};

/// Everything the component's imports are served by. Shared by every
/// session of a runtime.
#[derive(Clone)]
pub struct Backends {
    /// Durable event storage.
    pub store: Arc<dyn EventStore>,
    /// The payment gateway.
    pub payment: Arc<dyn PaymentGateway>,
    /// The inventory service.
    pub inventory: Arc<dyn InventoryService>,
    /// The shipping carrier.
    pub carrier: Arc<dyn ShippingCarrier>,
    /// Customer service.
    pub customer: Arc<dyn CustomerService>,
    /// The store's settings.
    pub policy: StorePolicy,
    /// The wall clock the guest sees through WASI.
    pub clock: Arc<dyn Clock>,
}

/// The data of one `wasmtime::Store`: one per session, dropped with it. The
/// backends are the runtime's, the same for every call the session serves.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    backends: Arc<Backends>,
    pub(crate) guest_time: GuestTime,
    /// The largest size, in bytes, any of the guest's memories has been
    /// allowed to reach (memories never shrink).
    pub(crate) memory_peak: usize,
}

/// The time a call spends running guest code, as opposed to waiting for
/// the host (a payment gateway, the disk). The call time limit applies to
/// guest time only, so a slow backend cannot make a healthy call time out,
/// while a guest that loops is still stopped.
#[derive(Debug, Default)]
pub(crate) struct GuestTime {
    /// Guest time used by the current call before `since`.
    pub used: std::time::Duration,
    /// When the guest last started running, while it runs.
    pub since: Option<std::time::Instant>,
    /// Host-to-guest calls in progress (the export, and any allocation the
    /// host makes in guest memory while serving an import).
    pub depth: u32,
}

impl GuestTime {
    /// A new call starts.
    pub fn start_call(&mut self) {
        self.used = std::time::Duration::ZERO;
        self.since = None;
    }

    /// The guest (re)gains control.
    pub fn enter_guest(&mut self) {
        self.since = Some(std::time::Instant::now());
    }

    /// The guest hands control to the host (or returns to it).
    pub fn leave_guest(&mut self) {
        if let Some(since) = self.since.take() {
            self.used += since.elapsed();
        }
    }
}

impl HostState {
    /// State for one session: a WASI context with no files, no network, no
    /// environment and no arguments, whose wall clock is `backends.clock`,
    /// and whose stdout and stderr go to the host's stderr (so a guest
    /// panic message is seen, and the host's stdout stays clean for
    /// machine-readable output).
    pub fn new(backends: Arc<Backends>, limits: StoreLimits) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(std::io::stderr())
            .stderr(std::io::stderr())
            .wall_clock(WasiWallClock(backends.clock.clone()))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limits,
            backends,
            guest_time: GuestTime::default(),
            memory_peak: 0,
        }
    }

    /// The backends the imports delegate to.
    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    pub(crate) fn limits_mut(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }

    /// Whether the guest holds WASI resources (streams, descriptors) open.
    pub(crate) fn holds_resources(&self) -> bool {
        !self.table.is_empty()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// `types` declares only types, but the generated linker still asks for it.
impl types::Host for HostState {}

/// `events` only declares the typed domain events: nothing to serve.
impl crate::bindings::events::Host for HostState {}

/// Links every import of the `order-management` world, each served by its
/// part of the store's [`Backends`]. (WASI is linked separately.)
pub fn link_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    crate::bindings::events::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    store::add_to_linker(linker, |s| EventStoreView(&*s.backends.store))?;
    policy::add_to_linker(linker, |s| PolicyView(&s.backends.policy))?;
    payment::add_to_linker(linker, |s| PaymentView(&*s.backends.payment))?;
    inventory::add_to_linker(linker, |s| InventoryView(&*s.backends.inventory))?;
    carrier::add_to_linker(linker, |s| CarrierView(&*s.backends.carrier))?;
    customer::add_to_linker(linker, |s| CustomerView(&*s.backends.customer))?;
    Ok(())
}
