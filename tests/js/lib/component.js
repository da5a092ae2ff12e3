// Loads the component as transpiled by `jco transpile --instantiation async`
// (see `npm run transpile`) and instantiates it with the JavaScript host of
// `host.js` plus the WASI shim, and drives fulfilment sagas the way a host's
// saga driver does: by calling `advance` when their timers are due.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cli, clocks, io, random } from '@bytecodealliance/preview2-shim';

const GEN = new URL('../gen/', import.meta.url);

let transpiled;
const modules = new Map();

async function loadTranspiled() {
  try {
    transpiled ??= await import(new URL('order-core.js', GEN));
  } catch (e) {
    throw new Error(
      `the transpiled component is missing in ${fileURLToPath(GEN)}: run \`npm test\` ` +
        '(which transpiles target/wasm32-wasip2/release/order_core.wasm first; `make build` builds that)',
      { cause: e },
    );
  }
  return transpiled;
}

// Core modules are compiled once per process and shared by every instance.
function getCoreModule(name) {
  if (!modules.has(name)) {
    modules.set(name, readFile(new URL(name, GEN)).then((bytes) => WebAssembly.compile(bytes)));
  }
  return modules.get(name);
}

/**
 * The WASI interfaces the component may use, keyed as jco's generated code
 * looks them up (`wasi:<package>/<interface>`, without the version). Only
 * cli, clocks, io and random are offered: no filesystem, no sockets, no http.
 * The wall clock is the host's clock, so tests can move time.
 */
export function wasiImports(clock) {
  const imports = {};
  for (const [pkg, interfaces] of Object.entries({ cli, clocks, io, random })) {
    for (const [name, implementation] of Object.entries(interfaces)) {
      if (name.startsWith('_') || typeof implementation !== 'object') continue;
      const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      imports[`wasi:${pkg}/${kebab}`] = implementation;
    }
  }
  if (clock) imports['wasi:clocks/wall-clock'] = clock.wasiWallClock();
  return imports;
}

/**
 * A fresh instance of the component whose imports are `host.imports`.
 * Returns its exports: `orders`, `shipments`, `returns`, `fulfillmentSaga`,
 * `inbound`, `queries`.
 */
export async function instantiateComponent(host) {
  const { instantiate } = await loadTranspiled();
  return instantiate(getCoreModule, { ...wasiImports(host.clock), ...host.imports });
}

/** True when a saga needs nothing more from the driver. */
export function isSettled(report) {
  return report.phase === 'finished';
}

/**
 * Calls `advance` for the order's saga until it has finished, jumping the
 * clock to each `next-wake-at` in between (a retry's backoff), and checks the
 * store's timer agrees with each report. Returns the last report and how
 * many times `advance` ran.
 */
export function advanceUntilFinished(oms, host, orderId, { maxCalls = 50 } = {}) {
  for (let calls = 1; calls <= maxCalls; calls += 1) {
    const report = oms.fulfillmentSaga.advance(orderId);
    const timer = host.store.timers.get(orderId);
    if (timer !== report.nextWakeAt) {
      throw new Error(`store timer ${timer} disagrees with the report's next-wake-at ${report.nextWakeAt}`);
    }
    if (isSettled(report)) return { report, calls };
    if (report.nextWakeAt === undefined) throw new Error(`saga ${orderId} waits for nothing: ${report.phase}`);
    host.clock.advanceTo(report.nextWakeAt);
  }
  throw new Error(`saga ${orderId} did not finish within ${maxCalls} calls of advance`);
}
