// Builds the embedders' package: the component transpiled by jco (for
// instantiation with the caller's imports, with TypeScript types), the WASI
// shim modules it needs (cli, clocks, io, from jco's preview2 shim: no Node
// APIs), the component itself and its WIT, as one versioned npm tarball.
// Usage: node scripts/package.js [OUT_DIR]  (default: target/package)

import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHIM_FILES, component, requireJco, root, shimDir, transpile } from '../../../scripts/jco.mjs';

const path = (rel) => fileURLToPath(new URL(rel, root));
const npmDir = new URL('../', import.meta.url);
const shim = shimDir(npmDir);
const out = process.argv[2] ?? path('target/package');
const jco = requireJco(npmDir);

const cargo = readFileSync(path('Cargo.toml'), 'utf8');
const version = cargo.match(/\[workspace\.package\][^[]*?version\s*=\s*"([^"]+)"/)?.[1];
if (!version) throw new Error('no [workspace.package] version in Cargo.toml');

const stage = `${out}/stage`;
rmSync(stage, { recursive: true, force: true });
mkdirSync(`${stage}/wasi`, { recursive: true });
transpile(jco, `${stage}/gen`);
for (const file of SHIM_FILES) {
  copyFileSync(new URL(file, shim), `${stage}/wasi/${file}`);
}
for (const file of ['index.js', 'index.d.ts']) copyFileSync(new URL(`../package/${file}`, import.meta.url), `${stage}/${file}`);
copyFileSync(component, `${stage}/order_core.wasm`);
cpSync(path('wit'), `${stage}/wit`, { recursive: true });
copyFileSync(path('docs/embedding.md'), `${stage}/EMBEDDING.md`);
copyFileSync(path('docs/wit-reference.md'), `${stage}/WIT-REFERENCE.md`);
cpSync(path('conformance'), `${stage}/conformance`, { recursive: true });
writeFileSync(
  `${stage}/README.md`,
  `# @oms/order-core ${version}\n\nThe order-management core, one WebAssembly component (world\n` +
    '`oms:order-management/order-management@0.1.0`), for JavaScript hosts through jco, with its\n' +
    'WIT (`wit/`), the component itself (`order_core.wasm`) for other runtimes, and the\n' +
    "embedders' conformance kit (`conformance/`). How to embed it: `EMBEDDING.md`; every WIT\n" +
    'item: `WIT-REFERENCE.md`.\n\n```js\nimport { instantiate } from \'@oms/order-core\';\n' +
    "const oms = await instantiate({ 'oms:order-management/event-store': store, /* policy, payment-gateway, ... */ });\n" +
    'const order = oms.orders.placeOrder(command);\n```\n',
);
writeFileSync(
  `${stage}/package.json`,
  `${JSON.stringify(
    {
      name: '@oms/order-core',
      version,
      description: 'The order-management core as a WebAssembly component, transpiled for JavaScript, with its WIT',
      type: 'module',
      license: 'Apache-2.0',
      main: './index.js',
      types: './index.d.ts',
      exports: {
        '.': { types: './index.d.ts', default: './index.js' },
        './order_core.wasm': './order_core.wasm',
        './wit/*': './wit/*',
        './conformance/*': './conformance/*',
        './package.json': './package.json',
      },
      engines: { node: '>=20' },
      sideEffects: false,
    },
    null,
    2,
  )}\n`,
);
const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }).trim().split('\n').at(-1);
rmSync(stage, { recursive: true, force: true });
console.log(`${out}/${packed}`);
