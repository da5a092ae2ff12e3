// Transpiles the built component into gen/ with jco, so the tests always run
// the component that `make build` produced last. Fails with a hint when the
// component was never built.

import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const component = fileURLToPath(new URL('../../../target/wasm32-wasip2/release/order_core.wasm', import.meta.url));
const gen = fileURLToPath(new URL('../gen/', import.meta.url));
const jco = fileURLToPath(new URL('../node_modules/@bytecodealliance/jco/dist/jco.js', import.meta.url));

if (!existsSync(component)) {
  console.error(`no component at ${component}: run \`make build\` first`);
  process.exit(1);
}
if (!existsSync(jco)) {
  console.error('jco is not installed: run `npm ci` in tests/js first');
  process.exit(1);
}
rmSync(gen, { recursive: true, force: true });
// --instantiation async: the generated module exports `instantiate(getCoreModule,
// imports)`, so the imports are a plain object given at instantiation time.
execFileSync(
  process.execPath,
  [jco, 'transpile', component, '--instantiation', 'async', '--name', 'order-core', '--out-dir', gen, '--quiet'],
  { stdio: 'inherit' },
);
