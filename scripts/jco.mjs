// The built component and jco's `transpile` of it, shared by the Node
// scripts of tests/js (the test bindings, the embedders' package) and of
// edge/ (the Worker). Each passes the folder whose node_modules holds its
// own jco and preview2 shim.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = new URL('../', import.meta.url);
export const component = fileURLToPath(new URL('target/wasm32-wasip2/release/order_core.wasm', root));
/** The WASI shim modules the component needs (from jco's browser preview2 shim: no Node APIs). */
export const SHIM_FILES = ['cli.js', 'clocks.js', 'common.js', 'config.js', 'environment.js', 'io.js'];

/** The folder of the browser preview2 shim installed in `npmDir` (a folder URL). */
export function shimDir(npmDir) {
  return new URL('node_modules/@bytecodealliance/preview2-shim/dist/browser/', npmDir);
}

/**
 * The jco installed in `npmDir` (a folder URL), once the component is built
 * and jco is installed; otherwise exits with a hint saying which is missing.
 */
export function requireJco(npmDir) {
  const jco = fileURLToPath(new URL('node_modules/@bytecodealliance/jco/dist/jco.js', npmDir));
  if (!existsSync(component)) {
    console.error(`no component at ${component}: run \`make build\` first`);
    process.exit(1);
  }
  if (!existsSync(jco)) {
    const dir = relative(fileURLToPath(root), fileURLToPath(npmDir)).replace(/\/$/, '');
    console.error(`jco is not installed: run \`npm ci\` in ${dir}/ first`);
    process.exit(1);
  }
  return jco;
}

/**
 * Transpiles the component into `outDir` with `jco`, for instantiation with
 * the caller's imports (`--instantiation async`: the generated module exports
 * `instantiate(getCoreModule, imports)`), plus the caller's `options`.
 */
export function transpile(jco, outDir, options = []) {
  execFileSync(
    process.execPath,
    [jco, 'transpile', component, '--instantiation', 'async', '--name', 'order-core', ...options, '--out-dir', outDir, '--quiet'],
    { stdio: 'inherit' },
  );
}
