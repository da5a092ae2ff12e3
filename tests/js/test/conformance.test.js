// Proves that this Node.js embedding passes the embedders' conformance kit
// (conformance/scenarios.json): every scenario's steps, the external calls
// with their idempotency keys, and the final timers and tags, as data.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { contains, loadKit, runScenario } from '../lib/conformance.js';

const kit = loadKit();

test('the kit has scenarios and the matcher can fail', () => {
  assert.ok(kit.scenarios.length >= 5);
  assert.equal(contains({ a: 1, b: 2 }, { a: 1 }), true);
  assert.equal(contains({ a: 1 }, { a: 2 }), false);
  assert.equal(contains([1, 2], [1]), false, 'arrays must have the listed length');
});

for (const scenario of kit.scenarios) {
  test(`conformance: ${scenario.name}`, async () => {
    const failures = await runScenario(kit, scenario);
    assert.deepEqual(failures, [], failures.join('\n'));
  });
}

test('an embedding that indexes only customer tags fails the kit', async () => {
  const onlyCustomers = { keepTag: (tag) => tag.startsWith('customer-') };
  const journey = kit.scenarios.find((s) => s.name === 'journey-place-ship-deliver');
  const failures = await runScenario(kit, journey, onlyCustomers);
  assert.ok(failures.some((f) => f.includes('shipments-of-order')), failures.join('\n'));
  const refund = kit.scenarios.find((s) => s.name === 'cancellation-refunds-the-charge');
  const refundFailures = await runScenario(kit, refund, onlyCustomers);
  assert.ok(refundFailures.some((f) => f.includes('refund-completed') || f.includes('inbound')), refundFailures.join('\n'));
});
