// The WASI 0.2 interfaces the component imports besides its own: cli,
// clocks and io, from the browser build of jco's preview2 shim (no Node
// APIs). The wall clock is the runtime's `Date.now()`; the monotonic clock
// is `performance.now()`. Nothing else is offered: no filesystem, sockets,
// random or http.
export * as cli from './shim/cli.js';
export * as clocks from './shim/clocks.js';
export * as io from './shim/io.js';
