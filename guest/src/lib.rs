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

/// The component's allocator: talc instead of the standard library's
/// dlmalloc, for the many small allocations a call makes (strings of the
/// canonical ABI, JSON, events); see docs/performance.md.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
