// Builds the Worker into build/: the component transpiled by jco for
// instantiation by the Worker (its core modules become workerd `wasm`
// modules, compiled ahead by the runtime), with JSPI so that the imports of
// the external contexts may await `fetch`, plus the few WASI shim modules
// the component needs (cli, clocks, io). Fails with a hint when the
// component was never built.

import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHIM_FILES, requireJco, root, shimDir, transpile } from '../../scripts/jco.mjs';

const build = fileURLToPath(new URL('../build/', import.meta.url));
const npmDir = new URL('../', import.meta.url);
const shim = shimDir(npmDir);
const jco = requireJco(npmDir);

/** The functions of a WIT interface, read from wit/<name>.wit. */
export function witFunctions(name) {
  const text = readFileSync(new URL(`wit/${name}.wit`, root), 'utf8');
  return [...text.matchAll(/^\s*([a-z][a-z0-9-]*): func\(/gm)].map((m) => m[1]);
}

const PACKAGE = 'oms:order-management';
// The external contexts are served by `fetch`: their imports are async.
const asyncImports = ['payment-gateway', 'inventory-service', 'shipping-carrier', 'customer-service']
  .flatMap((i) => witFunctions(i).map((f) => `${PACKAGE}/${i}#${f}`));
// Any export may reach one of them (a saga step, a refund), so every export
// is async: it returns a promise.
const asyncExports = ['orders', 'shipments', 'returns', 'fulfillment-saga', 'inbound', 'queries']
  .flatMap((i) => witFunctions(i).map((f) => `${PACKAGE}/${i}#${f}`));

rmSync(build, { recursive: true, force: true });
mkdirSync(`${build}shim`, { recursive: true });
transpile(jco, `${build}gen`, [
  '--async-mode', 'jspi',
  '--async-imports', ...asyncImports,
  '--async-exports', ...asyncExports,
  '--no-typescript',
]);
for (const file of readdirSync(new URL('../src/', import.meta.url))) {
  copyFileSync(new URL(`../src/${file}`, import.meta.url), `${build}${file}`);
}
for (const file of SHIM_FILES) {
  copyFileSync(new URL(file, shim), `${build}shim/${file}`);
}
// The core modules as workerd `wasm` modules: the runtime compiles them when
// it loads the Worker (a Worker may not compile wasm from bytes at run time).
const cores = readdirSync(`${build}gen`).filter((f) => f.endsWith('.wasm'));
writeFileSync(
  `${build}cores.js`,
  `${cores.map((f, i) => `import m${i} from './gen/${f}';`).join('\n')}\n` +
    `export default { ${cores.map((f, i) => `'${f}': m${i}`).join(', ')} };\n`,
);
console.log(`edge: transpiled ${cores.length} core modules into ${build}gen`);
