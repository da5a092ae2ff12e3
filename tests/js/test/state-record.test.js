// Proves that a long shipment stream carries a state record through jco as
// through wasmtime (decision 0022): from the shipment's 16th event on, each
// append stores the folded shipment and its history beside its events, `load-tail` answers
// the record and only the events after it, and the shipment a query shows
// is the same as the one its events fold to; a redelivered scan the record
// holds is still a duplicate.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createHost, describe } from '../lib/host.js';
import { instantiateComponent, advanceUntilFinished } from '../lib/component.js';
import { placeOrderCommand, STOCK } from '../lib/fixtures.js';

test('a long shipment stream is read through its state record in Node', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);
  const { orderId } = oms.orders.placeOrder(placeOrderCommand());
  const { report } = advanceUntilFinished(oms, host, orderId);
  assert.equal(report.outcome?.tag, 'completed', describe(report));
  const { shipmentId } = report.output;
  const stream = `shipment-${shipmentId}`;

  const scans = [];
  for (let hub = 1; hub <= 20; hub += 1) {
    host.clock.advance(60_000);
    const scan = host.carrier.moveTo(shipmentId, `hub ${hub}`);
    scans.push(scan);
    assert.equal(oms.inbound.onShipmentInTransit(scan), 'applied', `scan ${hub}`);
  }

  // 1 created + 20 scans: records from version 16 on, the last at 21.
  const events = host.store.streams.get(stream);
  assert.equal(events.length, 21);
  const tail = host.store.imports().loadTail(stream);
  assert.equal(tail.state?.version, 21n);
  assert.deepEqual(tail.events, []);
  // Shape 2: the history beside the shipment, with the scan keys it holds.
  const record = JSON.parse(tail.state.state);
  assert.equal(record.shape, 2);
  assert.equal(record.history.length, 21);
  assert.equal(record.seen.length, 21);

  // The query reads the record: the history is every scan, in order.
  host.store.calls.length = 0;
  const shipment = oms.queries.getShipment(shipmentId);
  assert.ok(host.store.calls.includes('load-tail'), host.store.calls.join(', '));
  assert.ok(!host.store.calls.includes('load'), 'the whole stream is not loaded');
  assert.deepEqual(
    shipment.trackingHistory.map((e) => e.location),
    [undefined, ...scans.map((s) => s.currentLocation)],
  );

  // A scan the record holds, redelivered, writes nothing.
  assert.equal(oms.inbound.onShipmentInTransit(scans[2]), 'duplicate');
  assert.equal(host.store.streams.get(stream).length, 21);
});
