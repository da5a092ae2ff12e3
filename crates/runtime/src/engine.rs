//! The wasmtime embedding: one [`Runtime`] per process (an `Engine`, the
//! compiled component, a `Linker` and one pre-instantiated component), and
//! [`Session`]s (a `Store` plus an instance) that serve the calls.
//!
//! [`Runtime::call`] runs one call on a ready session taken from a small
//! pool of idle ones, and puts it back afterwards when it is still sound:
//! its call returned, its guest memory stayed under
//! [`RuntimeConfig::reuse_memory_limit`], and the guest holds no resources
//! between calls. Otherwise the session is dropped and the next call gets a
//! fresh instance (decision 0018). The component keeps no state between
//! calls, so a reused instance answers exactly as a fresh one would.
//!
//! Guest calls run under limits: an epoch deadline bounds each call's time
//! (restarted for every call, on a reused instance too) and `StoreLimits`
//! bound its memory. A call that hits a limit, or traps, fails with an
//! error; its session is then never used again, and the runtime keeps
//! serving with fresh ones.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, StoreLimitsBuilder, Trap,
};

use crate::bindings::{
    OrderManagement, OrderManagementPre, fulfillment_saga, inbound, orders, queries, returns,
    shipments,
};
use crate::driver::DueSignal;
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
    /// How many idle instances are kept ready for the next calls (at most
    /// `max_instances`); 0 makes a fresh instance for every call.
    pub reuse_instances: u32,
    /// An instance whose guest memory has grown past this many bytes is
    /// dropped after its call instead of reused, so one large answer does
    /// not keep its heap resident in the pool.
    pub reuse_memory_limit: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            call_time_limit: Duration::from_secs(5),
            memory_limit: 64 << 20,
            max_instances: 256,
            pooling: true,
            cache: CompileCache::Default,
            reuse_instances: 16,
            reuse_memory_limit: 8 << 20,
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

/// The component compiled and linked once, with a pool of ready instances.
/// Share it between threads with `Arc`.
pub struct Runtime {
    engine: Engine,
    pre: OrderManagementPre<HostState>,
    backends: Arc<Backends>,
    config: RuntimeConfig,
    cache_outcome: CacheOutcome,
    deadline_ticks: u64,
    idle: Mutex<Vec<Session>>,
    idle_capacity: usize,
    counts: InstanceCounts,
    due: Arc<DueSignal>,
    _ticker: EpochTicker,
}

/// What became of the runtime's instances so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InstanceStats {
    /// Fresh instances made.
    pub instantiated: u64,
    /// Calls served by an instance that had served a call before.
    pub reused: u64,
    /// Instances dropped because their call failed (a trap, the time
    /// limit, the memory limit).
    pub dropped_after_failure: u64,
    /// Instances dropped because their guest memory grew past
    /// [`RuntimeConfig::reuse_memory_limit`].
    pub dropped_for_memory: u64,
    /// Instances dropped because the guest kept resources (WASI handles)
    /// open after its call.
    pub dropped_holding_resources: u64,
    /// Ready instances in the pool now.
    pub idle: usize,
}

#[derive(Default)]
struct InstanceCounts {
    instantiated: AtomicU64,
    reused: AtomicU64,
    failed: AtomicU64,
    memory: AtomicU64,
    resources: AtomicU64,
}

/// Why a session may not serve another call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spent {
    /// A call failed: the instance may be half way through anything.
    Failed,
    /// The guest's memory grew past the reuse limit.
    Memory,
    /// The guest holds resources between calls.
    Resources,
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
        let mut idle_capacity = config.reuse_instances;
        if config.pooling {
            idle_capacity = idle_capacity.min(config.max_instances);
        }
        let idle_capacity = usize::try_from(idle_capacity).unwrap_or(usize::MAX);
        Ok(Self {
            engine,
            pre,
            backends: Arc::new(backends),
            config,
            cache_outcome,
            deadline_ticks,
            idle: Mutex::new(Vec::with_capacity(idle_capacity)),
            idle_capacity,
            counts: InstanceCounts::default(),
            due: Arc::default(),
            _ticker: ticker,
        })
    }

    /// Runs one call of the component on a ready instance (a reused one
    /// when the pool has one, else a fresh one), with the time limit
    /// restarted, and puts the instance back in the pool afterwards if it
    /// is still sound (see the module's documentation). A panic in `call`
    /// drops the instance.
    ///
    /// ```ignore
    /// let order = runtime.call(|api, store| {
    ///     api.oms_order_management_queries().call_get_order(store, &id)
    /// })?;
    /// ```
    pub fn call<R>(
        &self,
        call: impl FnOnce(&OrderManagement, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> anyhow::Result<R> {
        let mut session = self.checkout()?;
        let result = session.call(call);
        self.check_in(session);
        result
    }

    /// A ready instance: the most recently returned idle one, else a fresh
    /// one.
    fn checkout(&self) -> anyhow::Result<Session> {
        let ready = lock(&self.idle).pop();
        if let Some(session) = ready {
            self.counts.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(session);
        }
        match self.session() {
            Ok(session) => Ok(session),
            Err(error) if !self.config.pooling => Err(error),
            Err(error) => {
                // The pooling allocator's slots may all be taken, some by
                // idle instances other calls returned meanwhile: free them
                // and try once more.
                let idle = std::mem::take(&mut *lock(&self.idle));
                if idle.is_empty() {
                    return Err(error);
                }
                drop(idle);
                self.session()
            }
        }
    }

    /// Puts `session` back in the pool, or drops it (outside the pool's
    /// lock: a teardown takes a while) when it may not serve again or the
    /// pool is full.
    fn check_in(&self, session: Session) {
        let spent = session.spent.or_else(|| {
            let state = session.store.data();
            if state.memory_peak > self.config.reuse_memory_limit {
                Some(Spent::Memory)
            } else if state.holds_resources() {
                Some(Spent::Resources)
            } else {
                None
            }
        });
        if let Some(spent) = spent {
            let counter = match spent {
                Spent::Failed => &self.counts.failed,
                Spent::Memory => &self.counts.memory,
                Spent::Resources => &self.counts.resources,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Nothing of the call is left but what the guest's heap holds, which
        // the guest does not read again (it keeps no state between calls);
        // the next call's `Session::parts` restarts the time limit and the
        // guest-time bookkeeping.
        let mut idle = lock(&self.idle);
        if idle.len() < self.idle_capacity {
            idle.push(session);
            return;
        }
        drop(idle);
        drop(session);
    }

    /// The signal that wakes the saga drivers over this runtime when a
    /// saga may be due.
    pub fn due_signal(&self) -> &Arc<DueSignal> {
        &self.due
    }

    /// What became of the runtime's instances so far.
    pub fn instance_stats(&self) -> InstanceStats {
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        InstanceStats {
            instantiated: count(&self.counts.instantiated),
            reused: count(&self.counts.reused),
            dropped_after_failure: count(&self.counts.failed),
            dropped_for_memory: count(&self.counts.memory),
            dropped_holding_resources: count(&self.counts.resources),
            idle: lock(&self.idle).len(),
        }
    }

    /// A fresh store and instance, outside the pool: dropping it tears the
    /// instance down. [`Runtime::call`] is the usual way through.
    pub fn session(&self) -> anyhow::Result<Session> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.config.memory_limit)
            .build();
        let mut store = Store::new(&self.engine, HostState::new(self.backends.clone(), limits));
        store.limiter(|state| state);
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
        self.counts.instantiated.fetch_add(1, Ordering::Relaxed);
        Ok(Session {
            store,
            api,
            deadline_ticks: self.deadline_ticks,
            time_limit: self.config.call_time_limit,
            spent: None,
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

/// Locks `mutex`, also after a thread panicked while holding it: every
/// critical section of the runtime (the instance pool, the saga driver's
/// queues and signal) leaves its data whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The store's memory limits, with a record of how large the guest's
/// memory has grown (wasmtime asks before creating and before growing a
/// memory), which decides whether the instance may be reused.
impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self
            .limits_mut()
            .memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits_mut().memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits_mut().table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits_mut().table_grow_failed(error)
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
/// [`Session::call`] runs one call and remembers whether it failed (the
/// runtime's pool only ever serves calls this way). Each accessor ([`Session::orders`], [`Session::saga`], ...) restarts the
/// call time limit and returns the export together with the store, so a call
/// reads `let (orders, store) = session.orders(); orders.call_place_order(store, &cmd)?`.
/// After a call fails with an error (a trap or the time limit, not a
/// `command-error`), the instance must not be used again: make a new session.
pub struct Session {
    store: Store<HostState>,
    api: OrderManagement,
    deadline_ticks: u64,
    time_limit: Duration,
    spent: Option<Spent>,
}

/// One accessor per export of the world on [`Session`]: the export and the
/// store, with the time limit restarted (as [`Session::parts`]).
macro_rules! export_accessors {
    ($($(#[$doc:meta])* fn $name:ident -> $export:ty = $getter:ident;)*) => {
        impl Session {
            $(
                $(#[$doc])*
                pub fn $name(&mut self) -> (&$export, &mut Store<HostState>) {
                    let (api, store) = self.parts();
                    (api.$getter(), store)
                }
            )*
        }
    };
}

export_accessors! {
    /// The `orders` export.
    fn orders -> orders::Guest = oms_order_management_orders;
    /// The `shipments` export.
    fn shipments -> shipments::Guest = oms_order_management_shipments;
    /// The `returns` export.
    fn returns -> returns::Guest = oms_order_management_returns;
    /// The `fulfillment-saga` export.
    fn saga -> fulfillment_saga::Guest = oms_order_management_fulfillment_saga;
    /// The `inbound` export.
    fn inbound -> inbound::Guest = oms_order_management_inbound;
    /// The `queries` export.
    fn queries -> queries::Guest = oms_order_management_queries;
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
    /// A failed call marks the session spent.
    pub fn call<R>(
        &mut self,
        call: impl FnOnce(&OrderManagement, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> anyhow::Result<R> {
        let time_limit = self.time_limit;
        let (api, store) = self.parts();
        let result = call(api, store);
        if result.is_err() {
            self.spent = Some(Spent::Failed);
        }
        result.map_err(|error| {
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

    /// The store, for example to inspect its data.
    pub fn store(&mut self) -> &mut Store<HostState> {
        &mut self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::exports::oms::order_management::orders::{CancelOrderCommand, OrderView};
    use crate::bindings::oms::order_management::types::{CommandError, OrderStatus};
    use crate::clock::ManualClock;
    use crate::policy::StorePolicy;
    use crate::simulation::fixtures::place_order;
    use crate::store::MemoryStore;
    use crate::store::{AppendBatch, NewEvent, StreamAppend};
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

    /// A runtime over `backends` that keeps at most `reuse` idle instances.
    fn pooled(backends: &Backends, reuse: u32, tweak: impl FnOnce(&mut RuntimeConfig)) -> Runtime {
        let mut config = RuntimeConfig {
            cache: CompileCache::Default,
            max_instances: 8,
            reuse_instances: reuse,
            ..RuntimeConfig::default()
        };
        tweak(&mut config);
        Runtime::new(built_component(), backends.clone(), config).unwrap()
    }

    fn order_id(n: usize) -> String {
        format!("5d1e2f3a-0000-4000-8000-{:012}", 0x200 + n)
    }

    fn get_order(runtime: &Runtime, id: &str) -> anyhow::Result<Result<OrderView, CommandError>> {
        let id = id.to_owned();
        runtime.call(|api, store| {
            api.oms_order_management_queries()
                .call_get_order(store, &id)
        })
    }

    fn place(runtime: &Runtime, id: &str) -> OrderView {
        runtime
            .call(|api, store| {
                api.oms_order_management_orders()
                    .call_place_order(store, &place_order(id))
            })
            .unwrap()
            .unwrap()
    }

    /// An order id far larger than the guest may allocate: lowering it into
    /// the guest's memory fails, and the guest aborts (a trap).
    fn oversized_id(bytes: usize) -> String {
        "x".repeat(bytes)
    }

    #[test]
    fn one_reused_instance_serves_many_calls_with_the_state_of_the_store() {
        let (_, backends, _) = simulated_backends();
        let runtime = pooled(&backends, 1, |_| {});
        for n in 0..40 {
            let placed = place(&runtime, &order_id(n));
            assert_eq!(
                (placed.order_id.as_str(), placed.version),
                (order_id(n).as_str(), 1)
            );
        }
        // Every order reads back as the store has it, not as the instance
        // last saw an order.
        for n in (0..40).rev() {
            let order = get_order(&runtime, &order_id(n)).unwrap().unwrap();
            assert_eq!(order.order_id, order_id(n));
            assert_eq!(order.status, OrderStatus::Pending);
        }
        // A write the reused instance did not make is seen by its next call.
        let cancel = CancelOrderCommand {
            order_id: order_id(7),
            reason: "changed my mind".to_owned(),
            cancelled_by: "customer".to_owned(),
        };
        let elsewhere = pooled(&backends, 0, |_| {});
        elsewhere
            .call(|api, store| {
                api.oms_order_management_orders()
                    .call_cancel_order(store, &cancel)
            })
            .unwrap()
            .unwrap();
        let order = get_order(&runtime, &order_id(7)).unwrap().unwrap();
        assert_eq!(order.status, OrderStatus::Cancelled);
        assert!(order.version > 1, "{order:?}");
        let missing = get_order(&runtime, &order_id(99)).unwrap();
        assert!(
            matches!(missing, Err(CommandError::NotFound(_))),
            "{missing:?}"
        );

        let stats = runtime.instance_stats();
        assert_eq!(
            (stats.instantiated, stats.reused, stats.idle),
            (1, 81, 1),
            "{stats:?}"
        );
        assert_eq!(elsewhere.instance_stats().instantiated, 1);
        assert_eq!(elsewhere.instance_stats().idle, 0);
    }

    #[test]
    fn without_reuse_every_call_gets_a_fresh_instance() {
        let (_, backends, _) = simulated_backends();
        let runtime = pooled(&backends, 0, |_| {});
        for n in 0..3 {
            place(&runtime, &order_id(n));
        }
        let stats = runtime.instance_stats();
        assert_eq!(
            (stats.instantiated, stats.reused, stats.idle),
            (3, 0, 0),
            "{stats:?}"
        );
    }

    #[test]
    fn a_call_that_traps_drops_its_instance_and_the_next_call_gets_a_fresh_one() {
        let (_, backends, _) = simulated_backends();
        let runtime = pooled(&backends, 4, |c| c.memory_limit = 16 << 20);
        place(&runtime, &order_id(1));
        assert_eq!(runtime.instance_stats().idle, 1);

        // The memory limit holds on the reused instance: the guest cannot
        // take 32 MiB to receive this argument, and aborts.
        let error = get_order(&runtime, &oversized_id(32 << 20)).unwrap_err();
        assert!(
            format!("{error:#}").contains("the component call failed"),
            "{error:#}"
        );
        let stats = runtime.instance_stats();
        assert_eq!(
            (
                stats.instantiated,
                stats.reused,
                stats.dropped_after_failure,
                stats.idle
            ),
            (1, 1, 1, 0),
            "{stats:?}"
        );

        let order = get_order(&runtime, &order_id(1)).unwrap().unwrap();
        assert_eq!(order.order_id, order_id(1));
        let stats = runtime.instance_stats();
        assert_eq!((stats.instantiated, stats.idle), (2, 1), "{stats:?}");
    }

    #[test]
    fn an_instance_whose_memory_grew_past_the_reuse_limit_is_not_reused() {
        let (_, backends, _) = simulated_backends();
        // A fresh instance is just over 2 MiB after its first call: 1.06 MiB
        // to start with and the 1 MiB of the guest's call arena.
        let runtime = pooled(&backends, 4, |c| c.reuse_memory_limit = 3 << 20);
        place(&runtime, &order_id(1));
        assert_eq!(
            runtime.instance_stats().idle,
            1,
            "a fresh instance is under the limit"
        );

        // A 4 MiB argument grows the guest's heap; the call itself answers.
        let answer = get_order(&runtime, &oversized_id(4 << 20)).unwrap();
        assert!(answer.is_err(), "no such order: {answer:?}");
        let stats = runtime.instance_stats();
        assert_eq!((stats.dropped_for_memory, stats.idle), (1, 0), "{stats:?}");

        get_order(&runtime, &order_id(1)).unwrap().unwrap();
        let stats = runtime.instance_stats();
        assert_eq!(
            (stats.instantiated, stats.reused, stats.idle),
            (2, 1, 1),
            "{stats:?}"
        );
    }

    /// Writes a stream far longer than the guest folds within `limit`.
    fn pathological_order(runtime: &Runtime, backends: &Backends) -> String {
        let id = order_id(500);
        let placed = place(runtime, &id);
        let note = NewEvent {
            event_type: "note-recorded".to_owned(),
            payload: r#"{"type":"note-recorded","note":"n","recorded_at":0}"#.to_owned(),
        };
        backends
            .store
            .append(&AppendBatch {
                streams: vec![StreamAppend {
                    stream_id: format!("order-{id}"),
                    expected_version: placed.version,
                    tags: Vec::new(),
                    events: vec![note; 300_000],
                    state: None,
                }],
                timers: Vec::new(),
            })
            .unwrap();
        id
    }

    #[test]
    fn the_time_limit_restarts_and_still_fires_on_a_reused_instance() {
        let (_, backends, _) = simulated_backends();
        let limit = Duration::from_millis(50);
        let runtime = pooled(&backends, 1, |c| {
            c.call_time_limit = limit;
            c.memory_limit = 512 << 20;
            c.reuse_memory_limit = 512 << 20;
        });
        let slow = pathological_order(&runtime, &backends);

        // Idle time between calls does not count: had the deadline been
        // left where the previous call set it, the epoch would be past it.
        for n in 0..3 {
            std::thread::sleep(limit * 3);
            place(&runtime, &order_id(n));
        }
        assert_eq!(runtime.instance_stats().reused, 3);

        let error = get_order(&runtime, &slow).unwrap_err();
        assert!(format!("{error:#}").contains("time limit"), "{error:#}");
        let stats = runtime.instance_stats();
        assert_eq!(
            (
                stats.instantiated,
                stats.reused,
                stats.dropped_after_failure
            ),
            (1, 4, 1),
            "the call that timed out ran on the reused instance: {stats:?}"
        );

        let order = get_order(&runtime, &order_id(0)).unwrap().unwrap();
        assert_eq!(order.order_id, order_id(0));
        assert_eq!(runtime.instance_stats().instantiated, 2);
    }

    #[test]
    fn concurrent_calls_share_the_pool_and_every_answer_is_its_own() {
        let (_, backends, _) = simulated_backends();
        let runtime = pooled(&backends, 2, |_| {});
        std::thread::scope(|scope| {
            for worker in 0..4 {
                let runtime = &runtime;
                scope.spawn(move || {
                    for n in 0..10 {
                        let id = order_id(worker * 100 + n);
                        place(runtime, &id);
                        let order = get_order(runtime, &id).unwrap().unwrap();
                        assert_eq!(order.order_id, id);
                    }
                });
            }
        });
        let stats = runtime.instance_stats();
        assert_eq!(stats.instantiated + stats.reused, 80, "{stats:?}");
        assert!(stats.instantiated <= 4 + 80 / 2, "{stats:?}");
        assert!(stats.idle <= 2, "{stats:?}");
    }
}
