// Proves that a permanent payment failure, answered by a JavaScript payment
// gateway as a thrown `external-error.permanent`, makes the fulfilment saga
// compensate in Node: the order is cancelled with the failure as its reason,
// the customer is sent the cancellation notice, and no charge, stock
// reservation or shipment is left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createHost } from '../lib/host.js';
import { instantiateComponent, advanceUntilFinished } from '../lib/component.js';
import { placeOrderCommand, STOCK, products } from '../lib/fixtures.js';

test('a declined payment cancels the order, tells the customer and leaves no charge', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);
  host.payment.declineAll = 'card declined: insufficient funds';
  const command = placeOrderCommand();
  const { orderId } = command;

  oms.orders.placeOrder(command);
  const { report } = advanceUntilFinished(oms, host, orderId);

  // The saga failed at its first step and compensated.
  assert.equal(report.outcome?.tag, 'compensated');
  assert.equal(report.outcome.val.failedStep, 'process-payment');
  assert.match(report.outcome.val.reason, /card declined: insufficient funds/);
  assert.equal(report.output.success, false);
  assert.match(report.output.errorReason ?? '', /card declined/);
  assert.equal(report.steps[0].status, 'failed');
  assert.equal(report.steps[0].attempts, 1, 'a permanent failure is not retried');

  // The order is cancelled, by the saga, with the failure as its reason.
  const order = oms.queries.getOrder(orderId);
  assert.equal(order.status, 'cancelled');
  assert.match(order.cancellation?.reason ?? '', /^process-payment failed: .*card declined: insufficient funds/);
  assert.equal(order.cancellation?.cancelledBy, 'fulfillment-saga');

  // The customer was told, once.
  const notices = host.customer.sentAbout(orderId, 'order-cancellation');
  assert.equal(notices.length, 1);
  assert.match(notices[0].request.reason, /card declined/);
  assert.equal(host.customer.sentAbout(orderId, 'order-confirmation').length, 0);

  // Nothing is left charged, reserved or booked.
  assert.equal(host.payment.netChargedFor(orderId), 0n);
  assert.equal(host.payment.charges.length, 0);
  assert.equal(host.inventory.callsOf('allocate-stock').length, 0);
  assert.equal(host.inventory.stockOf(products.keyboard), STOCK[products.keyboard]);
  assert.equal(host.carrier.callsOf('create-shipment').length, 0);
  assert.equal(host.store.timers.has(orderId), false);

  // A cancelled order cannot be shipped any more.
  assert.throws(
    () =>
      oms.orders.shipOrder({ orderId, shipmentId: crypto.randomUUID(), carrier: 'ups', trackingNumber: '1Z999' }),
    (e) => e.payload?.tag === 'invalid-transition' && e.payload.val.state === 'cancelled',
  );
});

test('stock that runs out after payment is refunded in full', async () => {
  const host = createHost({ stock: { ...STOCK, [products.mouse]: 0 } });
  const oms = await instantiateComponent(host);
  const command = placeOrderCommand();
  const { orderId } = command;

  oms.orders.placeOrder(command);
  const { report } = advanceUntilFinished(oms, host, orderId);

  assert.equal(report.outcome?.tag, 'compensated');
  assert.equal(report.outcome.val.failedStep, 'allocate-inventory');
  assert.deepEqual(
    report.steps.map((s) => [s.step, s.status]),
    [
      ['process-payment', 'compensated'],
      ['allocate-inventory', 'failed'],
      ['create-shipment', 'skipped'],
      ['notify-customer', 'skipped'],
    ],
  );
  assert.equal(host.payment.charges.length, 1, 'charged once');
  assert.equal(host.payment.refunds.length, 1, 'refunded once');
  assert.equal(host.payment.netChargedFor(orderId), 0n, 'no charge left');
  assert.equal(host.payment.callsOf('refund-payment')[0].key, `order-${orderId}/process-payment/compensation`);
  const order = oms.queries.getOrder(orderId);
  assert.equal(order.status, 'cancelled');
  assert.equal(order.refunded.amount, order.total.amount);
  assert.equal(host.inventory.stockOf(products.keyboard), STOCK[products.keyboard], 'nothing stays reserved');
  assert.equal(host.customer.sentAbout(orderId, 'order-cancellation').length, 1);
});
