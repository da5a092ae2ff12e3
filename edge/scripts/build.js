// Builds the Worker into build/: the component transpiled by jco for
// instantiation by the Worker (its core modules become workerd `wasm`
// modules, compiled ahead by the runtime), with JSPI so that the imports of
// the external contexts may await `fetch`, plus the few WASI shim modules
// the component needs (cli, clocks, io). Fails with a hint when the
// component was never built.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const component = fileURLToPath(new URL('target/wasm32-wasip2/release/order_core.wasm', root));
const build = fileURLToPath(new URL('../build/', import.meta.url));
const jco = fileURLToPath(new URL('../node_modules/@bytecodealliance/jco/dist/jco.js', import.meta.url));
const shim = new URL('../node_modules/@bytecodealliance/preview2-shim/dist/browser/', import.meta.url);

if (!existsSync(component)) {
  console.error(`no component at ${component}: run \`make build\` first`);
  process.exit(1);
}
if (!existsSync(jco)) {
  console.error('jco is not installed: run `npm ci` in edge/ first');
  process.exit(1);
}

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
execFileSync(
  process.execPath,
  [
    jco, 'transpile', component,
    '--instantiation', 'async',
    '--async-mode', 'jspi',
    '--async-imports', ...asyncImports,
    '--async-exports', ...asyncExports,
    '--name', 'order-core',
    '--no-typescript',
    '--out-dir', `${build}gen`,
    '--quiet',
  ],
  { stdio: 'inherit' },
);
for (const file of readdirSync(new URL('../src/', import.meta.url))) {
  copyFileSync(new URL(`../src/${file}`, import.meta.url), `${build}${file}`);
}
for (const file of ['cli.js', 'clocks.js', 'common.js', 'config.js', 'environment.js', 'io.js']) {
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
