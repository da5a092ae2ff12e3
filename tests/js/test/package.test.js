// Proves that the embedders' package (`make package`) installs into an empty
// project from its tarball alone (npm, no registry) and runs a journey there:
// an order placed through the installed package is paid, allocated, shipped
// and confirmed; and that the package carries the component, its WIT and
// TypeScript types.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/package.js', import.meta.url));
const hostModule = new URL('../lib/host.js', import.meta.url).href;
const fixtures = new URL('../lib/fixtures.js', import.meta.url).href;

test('the package installs into an empty project and runs a journey there', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oms-package-'));
  try {
    const tarball = execFileSync(process.execPath, [script, join(dir, 'dist')], { encoding: 'utf8' }).trim().split('\n').at(-1);
    assert.match(tarball, /oms-order-core-\d+\.\d+\.\d+\.tgz$/);

    const project = join(dir, 'shop');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: 'pipe' });

    const installed = join(project, 'node_modules', '@oms', 'order-core');
    for (const file of ['order_core.wasm', 'wit/world.wit', 'wit/event-store.wit', 'index.d.ts', 'gen/order-core.d.ts', 'conformance/scenarios.json']) {
      assert.ok(existsSync(join(installed, file)), `the package has ${file}`);
    }
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    assert.equal(manifest.version, '0.1.0');
    assert.deepEqual(manifest.dependencies ?? {}, {}, 'the package needs nothing else');

    writeFileSync(
      join(project, 'journey.js'),
      `import { instantiate } from '@oms/order-core';
import { createHost } from ${JSON.stringify(hostModule)};
import { placeOrderCommand, STOCK } from ${JSON.stringify(fixtures)};
const host = createHost({ stock: STOCK });
// The d.ts lists versioned keys; the package accepts both.
const imports = Object.fromEntries(Object.entries(host.imports).map(([k, v]) => [k + '@0.1.0', v]));
const oms = await instantiate(imports, { wallClock: host.clock.wasiWallClock() });
const command = placeOrderCommand();
oms.orders.placeOrder(command);
let report;
for (let i = 0; i < 20; i += 1) {
  report = oms.fulfillmentSaga.advance(command.orderId);
  if (report.phase === 'finished') break;
  host.clock.advanceTo(report.nextWakeAt);
}
const order = oms.queries.getOrder(command.orderId);
console.log(JSON.stringify({ status: order.status, outcome: report.outcome?.tag, charges: host.payment.charges.length }));
`,
    );
    const output = execFileSync(process.execPath, ['journey.js'], { cwd: project, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1)), { status: 'shipped', outcome: 'completed', charges: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
