//! The wasmtime embedding: one [`Runtime`] per process (an `Engine`, the
//! compiled component, a `Linker` and one pre-instantiated component), and a
//! fresh [`Session`] (a `Store` plus an instance) per request.
//!
//! Guest calls run under limits: an epoch deadline bounds each call's time
//! and `StoreLimits` bound its memory. A call that hits a limit, or traps,
//! fails with an error; its session is then unusable, but the runtime keeps
//! serving new sessions.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    StoreLimitsBuilder, Trap,
};

use crate::bindings::{
    OrderManagement, OrderManagementPre, fulfillment_saga, inbound, orders, queries, returns,
    shipments,
};
use crate::state::{Backends, HostState};

/// `anyhow::Context::context` for wasmtime's own error type, which does not
/// implement `std::error::Error`.
trait WasmContext<T> {
    fn wasm_context(self, what: &'static str) -> anyhow::Result<T>;
}

impl<T> WasmContext<T> for wasmtime::Result<T> {
    fn wasm_context(self, what: &'static str) -> anyhow::Result<T> {
        self.map_err(anyhow::Error::from).context(what)
    }
}

/// How often the epoch advances; call time limits are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Where the compiled component is cached between runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CompileCache {
    /// `$XDG_CACHE_HOME/order-host`, else `~/.cache/order-host`; no cache
    /// if neither can be found.
    #[default]
    Default,
    /// This directory (created if missing).
    Dir(PathBuf),
    /// Compile on every start.
    Disabled,
}

impl CompileCache {
    /// The directory this setting resolves to, if any.
    pub fn dir(&self) -> Option<PathBuf> {
        match self {
            CompileCache::Default => default_cache_dir(),
            CompileCache::Dir(dir) => Some(dir.clone()),
            CompileCache::Disabled => None,
        }
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("order-host"))
}

/// The knobs of a [`Runtime`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// How long one guest call may run before it is interrupted.
    pub call_time_limit: Duration,
    /// How large the guest's linear memory may grow, in bytes.
    pub memory_limit: usize,
    /// How many sessions may exist at once (the size of the instance pool).
    /// Each pooled instance reserves (but does not commit) a few GiB of
    /// address space for its memories.
    pub max_instances: u32,
    /// Use wasmtime's pooling allocator: faster instantiation at the cost of
    /// reserving the pool up front. Turn it off where large address-space
    /// reservations fail.
    pub pooling: bool,
    /// Where to cache the compiled component.
    pub cache: CompileCache,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            call_time_limit: Duration::from_secs(5),
            memory_limit: 64 << 20,
            max_instances: 256,
            pooling: true,
            cache: CompileCache::Default,
        }
    }
}

/// How the compiled component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from the on-disk cache.
    Hit,
    /// Compiled, then written to the cache.
    Stored,
    /// Compiled; the cache could not be written (see the warning logged).
    Unwritable,
    /// Compiled; caching is off or no cache directory exists.
    Disabled,
}

/// Builds the engine every runtime uses: epoch interruption on, and the
/// pooling allocator sized from `config`.
pub fn build_engine(config: &RuntimeConfig) -> anyhow::Result<Engine> {
    let mut wasm = Config::new();
    wasm.epoch_interruption(true);
    if config.pooling {
        let instances = config.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::new();
        // A Rust wasm32-wasip2 component is a handful of core instances
        // (the program, the WASI adapter and its shims) with one or two
        // memories and a few tables; the multipliers leave headroom.
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(8))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .max_memory_size(config.memory_limit)
            // Resetting the first pages with memset instead of madvise makes
            // the next instantiation in the slot cheaper (see toolchain notes).
            .linear_memory_keep_resident(1 << 20)
            .table_keep_resident(1 << 16);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&wasm).wasm_context("creating the wasmtime engine")
}

/// Compiles `component`, or loads it from `cache` when an artifact for
/// exactly these bytes and this engine configuration is there. A missing,
/// stale or unreadable cache falls back to compiling.
pub fn load_component(
    engine: &Engine,
    component: &[u8],
    cache: &CompileCache,
) -> anyhow::Result<(Component, CacheOutcome)> {
    let Some(dir) = cache.dir() else {
        return Ok((compile(engine, component)?, CacheOutcome::Disabled));
    };
    let path = dir.join(format!("{}.cwasm", cache_key(engine, component)));
    if path.is_file() {
        match deserialize_cached(engine, &path) {
            Ok(compiled) => return Ok((compiled, CacheOutcome::Hit)),
            Err(error) => tracing::warn!(
                path = %path.display(),
                "ignoring the unusable cached component: {error:#}"
            ),
        }
    }
    let compiled = compile(engine, component)?;
    let outcome = match write_cached(&compiled, &dir, &path) {
        Ok(()) => CacheOutcome::Stored,
        Err(error) => {
            tracing::warn!(
                path = %path.display(),
                "could not cache the compiled component: {error:#}"
            );
            CacheOutcome::Unwritable
        }
    };
    Ok((compiled, outcome))
}

fn compile(engine: &Engine, component: &[u8]) -> anyhow::Result<Component> {
    Component::new(engine, component).wasm_context("compiling the component")
}

/// The cache file name: it changes whenever the component's bytes or
/// anything that makes compiled code incompatible (wasmtime version,
/// compiler settings, CPU features) changes.
fn cache_key(engine: &Engine, component: &[u8]) -> String {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    hasher.0.update(Sha256::digest(component));
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hasher
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[allow(unsafe_code)]
fn deserialize_cached(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: `deserialize_file` maps the file and runs its machine code, so
    // the file must be an artifact `Component::serialize` produced and must
    // not change while mapped. This cache directory holds only files that
    // `write_cached` produced from `Component::serialize`, each named by the
    // hash of its source bytes and of the engine's compatibility settings,
    // and written under a temporary name then renamed into place, so no
    // file is ever modified after it got its final name. Wasmtime itself
    // rejects artifacts from another version or configuration. The cache
    // directory must be as trusted as the host binary itself.
    let compiled = unsafe { Component::deserialize_file(engine, path) };
    Ok(compiled?)
}

fn write_cached(compiled: &Component, dir: &Path, path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let bytes = compiled
        .serialize()
        .wasm_context("serializing the compiled component")?;
    // Unique per process and call, so concurrent hosts never write into
    // each other's temporary file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let temporary = path.with_extension(format!(
        "cwasm.{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&temporary, &bytes)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| {
        // Leave no half-named file behind if the rename failed.
        let _ = std::fs::remove_file(&temporary);
        format!("renaming {} to {}", temporary.display(), path.display())
    })
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> anyhow::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("order-host-epoch".to_owned())
            .spawn(move || {
                // Ends when the sender is dropped (or sends).
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .context("starting the epoch thread")?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and increments; it cannot panic in a way
            // worth reporting from a destructor.
            let _ = thread.join();
        }
    }
}

/// The component compiled and linked once, ready to instantiate per request.
/// Share it between threads with `Arc`.
pub struct Runtime {
    engine: Engine,
    pre: OrderManagementPre<HostState>,
    backends: Arc<Backends>,
    config: RuntimeConfig,
    cache_outcome: CacheOutcome,
    deadline_ticks: u64,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Compiles (or loads from the cache) `component`, links WASI and the
    /// world's imports served by `backends`, and checks that the component
    /// exports the `order-management` world.
    pub fn new(
        component: &[u8],
        backends: Backends,
        config: RuntimeConfig,
    ) -> anyhow::Result<Self> {
        if component.is_empty() {
            anyhow::bail!("the component is empty");
        }
        let engine = build_engine(&config)?;
        let (compiled, cache_outcome) = load_component(&engine, component, &config.cache)?;

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).wasm_context("linking WASI")?;
        crate::state::link_imports(&mut linker)
            .wasm_context("linking the order-management imports")?;
        let instance_pre = linker
            .instantiate_pre(&compiled)
            .wasm_context("the component's imports do not match what this host provides")?;
        let pre = OrderManagementPre::new(instance_pre)
            .wasm_context("the component does not export the order-management world")?;

        let deadline_ticks = ticks_for(config.call_time_limit);
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            engine,
            pre,
            backends: Arc::new(backends),
            config,
            cache_outcome,
            deadline_ticks,
            _ticker: ticker,
        })
    }

    /// A fresh store and instance for one request.
    pub fn session(&self) -> anyhow::Result<Session> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.config.memory_limit)
            .build();
        let mut store = Store::new(&self.engine, HostState::new(self.backends.clone(), limits));
        store.limiter(|state| state.limits_mut());
        store.set_epoch_deadline(self.deadline_ticks);
        // Count guest time only: on every return from the host, the epoch
        // deadline is moved to what is left of the call's guest budget.
        let limit = self.config.call_time_limit;
        store.call_hook(move |mut ctx, hook| {
            let time = &mut ctx.data_mut().guest_time;
            match hook {
                // The host also calls into the guest while it serves an
                // import (to allocate the answer in guest memory): only the
                // outermost call starts a new budget.
                CallHook::CallingWasm => {
                    time.depth += 1;
                    if time.depth == 1 {
                        time.start_call();
                    }
                    time.enter_guest();
                }
                CallHook::ReturningFromHost => time.enter_guest(),
                CallHook::ReturningFromWasm => {
                    time.depth = time.depth.saturating_sub(1);
                    time.leave_guest();
                    return Ok(());
                }
                CallHook::CallingHost => {
                    time.leave_guest();
                    return Ok(());
                }
            }
            let left = limit.saturating_sub(time.used);
            ctx.set_epoch_deadline(ticks_for(left));
            Ok(())
        });
        let api = self
            .pre
            .instantiate(&mut store)
            .wasm_context("instantiating the component")?;
        Ok(Session {
            store,
            api,
            deadline_ticks: self.deadline_ticks,
            time_limit: self.config.call_time_limit,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The backends every session's imports are served by.
    pub fn backends(&self) -> &Arc<Backends> {
        &self.backends
    }

    /// The configuration the runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Whether the compiled component came from the cache.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache_outcome
    }
}

/// Ticks for `limit`, plus one because the first tick may come at once.
fn ticks_for(limit: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(limit.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// One instance of the component in its own store.
///
/// Each accessor ([`Session::orders`], [`Session::saga`], ...) restarts the
/// call time limit and returns the export together with the store, so a call
/// reads `let (orders, store) = session.orders(); orders.call_place_order(store, &cmd)?`.
/// After a call fails with an error (a trap or the time limit, not a
/// `command-error`), the instance must not be used again: make a new session.
pub struct Session {
    store: Store<HostState>,
    api: OrderManagement,
    deadline_ticks: u64,
    time_limit: Duration,
}

impl Session {
    /// The whole world's exports and the store, with the time limit restarted.
    pub fn parts(&mut self) -> (&OrderManagement, &mut Store<HostState>) {
        self.store.set_epoch_deadline(self.deadline_ticks);
        // A call that trapped may have left its bookkeeping half way.
        self.store.data_mut().guest_time = Default::default();
        (&self.api, &mut self.store)
    }

    /// Runs `call` with the time limit restarted, and explains a time-out.
    pub fn call<R>(
        &mut self,
        call: impl FnOnce(&OrderManagement, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> anyhow::Result<R> {
        let time_limit = self.time_limit;
        let (api, store) = self.parts();
        call(api, store).map_err(|error| {
            let timed_out = error.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
            let error = anyhow::Error::from(error);
            if timed_out {
                error.context(format!(
                    "the component call exceeded its time limit of {time_limit:?}"
                ))
            } else {
                error.context("the component call failed")
            }
        })
    }

    /// The `orders` export.
    pub fn orders(&mut self) -> (&orders::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_orders(), store)
    }

    /// The `shipments` export.
    pub fn shipments(&mut self) -> (&shipments::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_shipments(), store)
    }

    /// The `returns` export.
    pub fn returns(&mut self) -> (&returns::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_returns(), store)
    }

    /// The `fulfillment-saga` export.
    pub fn saga(&mut self) -> (&fulfillment_saga::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_fulfillment_saga(), store)
    }

    /// The `inbound` export.
    pub fn inbound(&mut self) -> (&inbound::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_inbound(), store)
    }

    /// The `queries` export.
    pub fn queries(&mut self) -> (&queries::Guest, &mut Store<HostState>) {
        let (api, store) = self.parts();
        (api.oms_order_management_queries(), store)
    }

    /// The store, for example to inspect its data.
    pub fn store(&mut self) -> &mut Store<HostState> {
        &mut self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::exports::oms::order_management::orders::PlaceOrderCommand;
    use crate::bindings::oms::order_management::types::{
        Address, CommandError, Money, OrderItemInput, PaymentMethod,
    };
    use crate::clock::ManualClock;
    use crate::policy::StorePolicy;
    use crate::store::MemoryStore;
    use crate::wiring::Simulation;

    /// The smallest valid component: a header and nothing else.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    fn cached_in(dir: &Path) -> RuntimeConfig {
        RuntimeConfig {
            cache: CompileCache::Dir(dir.to_path_buf()),
            max_instances: 8,
            ..RuntimeConfig::default()
        }
    }

    fn cache_files(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect()
    }

    fn simulated_backends() -> (Simulation, Backends, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_767_225_600_000));
        let simulation = Simulation::new(7, clock.clone());
        let store = Arc::new(MemoryStore::new(clock.clone()));
        let backends = simulation.backends(store, StorePolicy::default());
        (simulation, backends, clock)
    }

    #[test]
    fn runtime_and_session_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        fn assert_send<T: Send>() {}
        assert_send_sync::<Runtime>();
        assert_send::<Session>();
    }

    #[test]
    fn the_compiled_component_is_cached_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = cached_in(dir.path());
        let engine = build_engine(&config).unwrap();

        let (_, first) = load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        assert_eq!(first, CacheOutcome::Stored);
        let files = cache_files(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(files[0].extension().is_some_and(|ext| ext == "cwasm"));

        let (_, second) = load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        assert_eq!(second, CacheOutcome::Hit);
    }

    #[test]
    fn a_corrupt_cache_entry_is_replaced_by_a_fresh_compile() {
        let dir = tempfile::tempdir().unwrap();
        let config = cached_in(dir.path());
        let engine = build_engine(&config).unwrap();
        load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        let entry = cache_files(dir.path()).remove(0);
        std::fs::write(&entry, b"not a compiled component").unwrap();

        let (_, outcome) = load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        assert_eq!(outcome, CacheOutcome::Stored);
        let (_, outcome) = load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
    }

    #[test]
    fn an_unwritable_cache_still_compiles() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"").unwrap();
        // A directory cannot be created below a regular file.
        let config = cached_in(&blocker.join("cache"));
        let engine = build_engine(&config).unwrap();
        let (_, outcome) = load_component(&engine, EMPTY_COMPONENT, &config.cache).unwrap();
        assert_eq!(outcome, CacheOutcome::Unwritable);
    }

    #[test]
    fn the_cache_key_depends_on_the_bytes_and_the_engine() {
        let engine = build_engine(&RuntimeConfig::default()).unwrap();
        let other_engine = Engine::new(Config::new().epoch_interruption(false)).unwrap();
        let key = cache_key(&engine, EMPTY_COMPONENT);
        assert_eq!(key.len(), 64);
        assert_eq!(key, cache_key(&engine, EMPTY_COMPONENT));
        assert_ne!(key, cache_key(&engine, b"\0asm\x0d\x00\x01\x00\x00"));
        assert_ne!(key, cache_key(&other_engine, EMPTY_COMPONENT));
    }

    #[test]
    fn a_component_that_is_not_the_world_is_refused_with_an_error() {
        let (_, backends, _) = simulated_backends();
        let config = RuntimeConfig {
            cache: CompileCache::Disabled,
            max_instances: 4,
            ..RuntimeConfig::default()
        };
        let error = Runtime::new(EMPTY_COMPONENT, backends.clone(), config.clone())
            .err()
            .unwrap();
        assert!(
            format!("{error:#}").contains("does not export the order-management world"),
            "{error:#}"
        );
        let error = Runtime::new(b"", backends.clone(), config.clone())
            .err()
            .unwrap();
        assert!(error.to_string().contains("empty"), "{error:#}");
        let error = Runtime::new(b"garbage", backends, config).err().unwrap();
        assert!(format!("{error:#}").contains("compiling"), "{error:#}");
    }

    #[test]
    fn ticks_cover_the_whole_limit() {
        assert_eq!(ticks_for(Duration::from_secs(5)), 501);
        assert_eq!(ticks_for(Duration::from_millis(15)), 3);
        assert_eq!(ticks_for(Duration::ZERO), 1);
    }

    fn address() -> Address {
        Address {
            street1: "1 Main St".to_owned(),
            street2: None,
            city: "Springfield".to_owned(),
            state_province: "IL".to_owned(),
            postal_code: "62701".to_owned(),
            country: "US".to_owned(),
        }
    }

    fn place_order(order_id: &String) -> PlaceOrderCommand {
        PlaceOrderCommand {
            order_id: order_id.to_owned(),
            customer_id: "5d1e2f3a-0000-4000-8000-000000000001".to_owned(),
            items: vec![OrderItemInput {
                item_id: "5d1e2f3a-0000-4000-8000-0000000000a1".to_owned(),
                product_id: "5d1e2f3a-0000-4000-8000-0000000000b1".to_owned(),
                sku: "MUG-1".to_owned(),
                product_name: "Mug".to_owned(),
                quantity: 2,
                unit_price: Money {
                    amount: 1_250,
                    currency: "USD".to_owned(),
                },
            }],
            shipping_address: address(),
            billing_address: address(),
            payment_method: PaymentMethod::CreditCard,
        }
    }

    /// The component built by `make build` (which `make test` runs first).
    fn built_component() -> &'static [u8] {
        crate::embedded_component().expect("the component is embedded: run `make build` first")
    }

    #[test]
    fn the_built_component_runs_an_order_through_its_saga() {
        let component = built_component();
        let dir = tempfile::tempdir().unwrap();
        let (simulation, backends, _) = simulated_backends();
        let runtime = Runtime::new(component, backends.clone(), cached_in(dir.path())).unwrap();
        assert_eq!(runtime.cache_outcome(), CacheOutcome::Stored);

        let order_id = &"5d1e2f3a-0000-4000-8000-000000000101".to_owned();
        let mut session = runtime.session().unwrap();
        let (queries, store) = session.queries();
        let missing = queries.call_get_order(store, order_id).unwrap();
        assert!(
            matches!(missing, Err(CommandError::NotFound(_))),
            "{missing:?}"
        );

        let (orders, store) = session.orders();
        let placed = orders
            .call_place_order(store, &place_order(order_id))
            .unwrap()
            .unwrap();
        assert_eq!(placed.total.amount, 2_500);

        let report = runtime
            .session()
            .unwrap()
            .call(|api, store| {
                api.oms_order_management_fulfillment_saga()
                    .call_advance(store, order_id)
            })
            .unwrap()
            .unwrap();
        assert!(report.outcome.is_some(), "{report:?}");
        assert_eq!(simulation.payment.charges_for_order(order_id), 1);
        assert_eq!(simulation.carrier.shipments_for_order(order_id).len(), 1);

        // A second runtime over the same cache loads the compiled artifact.
        let again = Runtime::new(component, backends, cached_in(dir.path())).unwrap();
        assert_eq!(again.cache_outcome(), CacheOutcome::Hit);
    }
}
