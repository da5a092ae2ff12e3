// The order-management component for JavaScript hosts (Node.js 20+,
// browsers, Workers). `instantiate(imports)` gives a fresh instance whose
// exports are `orders`, `shipments`, `returns`, `fulfillmentSaga`,
// `inbound` and `queries`; `imports` holds the six host interfaces of the
// world (event-store, policy, payment-gateway, inventory-service,
// shipping-carrier, customer-service), keyed with or without `@0.1.0`.
// WASI (cli, clocks, io) is provided by the package; pass `wallClock` to
// give the component your clock.

import { instantiate as instantiateGenerated } from './gen/order-core.js';
import * as cli from './wasi/cli.js';
import * as clocks from './wasi/clocks.js';
import * as io from './wasi/io.js';

/** The component itself and its WIT, for other runtimes. */
export const componentUrl = new URL('./order_core.wasm', import.meta.url);
export const witUrl = new URL('./wit/', import.meta.url);

const compiled = new Map();

/** Compiles a core module of the transpiled component once per process. */
export function compileCoreModule(name) {
  if (!compiled.has(name)) {
    const url = new URL(`./gen/${name}`, import.meta.url);
    compiled.set(
      name,
      url.protocol === 'file:'
        ? import('node:fs/promises').then(({ readFile }) => readFile(url)).then((b) => WebAssembly.compile(b))
        : WebAssembly.compileStreaming(fetch(url)),
    );
  }
  return compiled.get(name);
}

/**
 * The WASI 0.2 imports the component needs: cli (no arguments, no
 * environment, output to the console), clocks and io. `wallClock` replaces
 * `wasi:clocks/wall-clock` (an object with `now()` returning
 * `{ seconds: bigint, nanoseconds: number }` and `resolution()`).
 */
export function wasiImports({ wallClock } = {}) {
  return {
    'wasi:cli/environment': cli.environment,
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:clocks/wall-clock': wallClock ?? clocks.wallClock,
    'wasi:clocks/monotonic-clock': clocks.monotonicClock,
    'wasi:io/error': io.error,
    'wasi:io/poll': io.poll,
    'wasi:io/streams': io.streams,
  };
}

/** A fresh instance of the component with `imports` (see the top of this file). */
export async function instantiate(imports, { wallClock, getCoreModule = compileCoreModule } = {}) {
  const unversioned = Object.fromEntries(Object.entries(imports).map(([k, v]) => [k.replace(/@[0-9.]+$/, ''), v]));
  return instantiateGenerated(getCoreModule, { ...wasiImports({ wallClock }), ...unversioned });
}
