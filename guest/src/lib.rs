//! The order-management core: the domain of an e-commerce order (orders,
//! shipments, returns, the fulfilment saga, daily metrics) as plain Rust,
//! an application layer over ports, and, on `wasm32`, the bindings that make
//! it a WebAssembly component of the `oms:order-management` world.

pub mod app;
pub mod domain;

// The generated glue is unsafe by nature (exports, canonical ABI); the
// rest of the crate is not.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod bindings;

// The component's allocator (docs/performance.md): a call arena of 1 MiB
// in front of talc, which serves what the arena does not hold. The arena is
// plain Rust, tested natively.
#[cfg(any(test, all(target_family = "wasm", not(target_feature = "atomics"))))]
#[allow(unsafe_code)]
mod arena;

/// The global allocator of wasm builds (one thread).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
mod allocator {
    use super::arena::CallArena;

    const WASM_PAGE: usize = 64 * 1024;
    const ARENA_PAGES: usize = 16;

    #[global_allocator]
    static ALLOCATOR: CallArena<talc::wasm::WasmDynamicTalc> = CallArena::new(
        talc::wasm::new_wasm_dynamic_allocator(),
        ARENA_PAGES * WASM_PAGE,
        claim_pages,
    );

    /// The arena's region: new pages at the end of the memory.
    fn claim_pages(bytes: usize) -> Option<usize> {
        match core::arch::wasm32::memory_grow(0, bytes / WASM_PAGE) {
            usize::MAX => None,
            previous_pages => Some(previous_pages * WASM_PAGE),
        }
    }
}
