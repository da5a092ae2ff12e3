// Proves that an invalid command reaches a Node.js caller as the typed WIT
// error, not a trap: a sku of 51 characters makes `place-order` throw a
// ComponentError whose payload is `command-error.validation` naming the field
// `items[0].sku`, and nothing is written to the event store or sent to any
// external context. Bounds count characters, not UTF-8 bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createHost } from '../lib/host.js';
import { instantiateComponent } from '../lib/component.js';
import { placeOrderCommand, STOCK } from '../lib/fixtures.js';

function withFirstSku(sku) {
  const command = placeOrderCommand();
  command.items[0] = { ...command.items[0], sku };
  return command;
}

test('a sku of 51 characters is a validation error on items[0].sku and writes nothing', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);
  const command = withFirstSku('S'.repeat(51));

  let thrown;
  assert.throws(() => oms.orders.placeOrder(command), (e) => {
    thrown = e;
    return true;
  });
  assert.ok(thrown instanceof Error, 'jco throws a ComponentError');
  assert.equal(thrown.payload.tag, 'validation');
  assert.equal(thrown.payload.val.field, 'items[0].sku');
  assert.match(thrown.payload.val.reason, /50/);

  assert.deepEqual(host.store.allEvents(), [], 'no event written');
  assert.equal(host.store.calls.includes('append'), false, 'no append attempted');
  assert.equal(host.store.timers.size, 0, 'no saga scheduled');
  for (const backend of [host.payment, host.inventory, host.carrier, host.customer]) {
    assert.deepEqual(backend.calls, []);
  }
  assert.throws(
    () => oms.queries.getOrder(command.orderId),
    (e) => e.payload?.tag === 'not-found' && e.payload.val.entity === 'order',
  );
});

test('sku bounds count characters: 50 two-byte characters are accepted, 51 are not', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);

  assert.throws(
    () => oms.orders.placeOrder(withFirstSku('é'.repeat(51))),
    (e) => e.payload?.tag === 'validation' && e.payload.val.field === 'items[0].sku',
  );
  const placed = oms.orders.placeOrder(withFirstSku('é'.repeat(50)));
  assert.equal(placed.status, 'pending');
  assert.equal(placed.items[0].sku, 'é'.repeat(50));
});
