// Proves that the saga's durable timer works through a JavaScript event
// store: a payment gateway that times out twice makes the saga wait (its
// timer set to the policy's backoff), `advance` before that time makes no
// call, and the retry after it reuses the idempotency key and charges once.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createHost, transient } from '../lib/host.js';
import { instantiateComponent, advanceUntilFinished } from '../lib/component.js';
import { placeOrderCommand, STOCK } from '../lib/fixtures.js';

test('a gateway time-out is retried after the backoff with the same key and charges once', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);
  host.payment.inject('process-payment', transient('gateway timed out'), 2);
  const command = placeOrderCommand();
  const { orderId } = command;
  oms.orders.placeOrder(command);

  const placedAt = host.clock.now();
  const first = oms.fulfillmentSaga.advance(orderId);
  assert.equal(first.phase, 'running');
  assert.equal(first.steps[0].status, 'retrying');
  assert.match(first.steps[0].lastError ?? '', /gateway timed out/);
  const baseDelay = host.policy.policy.retry.baseDelayMs;
  assert.equal(first.nextWakeAt, placedAt + baseDelay, 'first retry after the base delay (no jitter)');
  assert.equal(host.store.timers.get(orderId), first.nextWakeAt, 'the wake-up is a durable timer');

  // Too early: nothing is called.
  const early = oms.fulfillmentSaga.advance(orderId);
  assert.equal(early.nextWakeAt, first.nextWakeAt);
  assert.equal(host.payment.callsOf('process-payment').length, 1);

  const { report } = advanceUntilFinished(oms, host, orderId);
  assert.equal(report.outcome?.tag, 'completed');
  assert.equal(report.steps[0].attempts, 3);
  const calls = host.payment.callsOf('process-payment');
  assert.equal(calls.length, 3);
  assert.equal(new Set(calls.map((c) => c.key)).size, 1, 'every attempt carries the same key');
  assert.equal(host.payment.charges.length, 1);
  assert.ok(host.clock.now() >= placedAt + baseDelay * 3n, 'the second retry waited twice as long');
});
