// Proves that the component runs in Node.js with its imports written in
// JavaScript: an order placed through `orders.place-order` is paid, allocated,
// shipped and confirmed by the fulfilment saga (driven through `advance`), the
// carrier's events arriving through the `inbound` exports take it to
// `delivered` with a complete tracking history, and the customer is charged
// exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createHost, describe } from '../lib/host.js';
import { instantiateComponent, advanceUntilFinished } from '../lib/component.js';
import { placeOrderCommand, ORDER_TOTAL, STOCK, products } from '../lib/fixtures.js';

test('an order placed in Node is paid, shipped, delivered and charged once', async () => {
  const host = createHost({ stock: STOCK });
  const oms = await instantiateComponent(host);
  const command = placeOrderCommand();
  const { orderId } = command;

  // Given a placed order: pending, priced, its saga due at once.
  const placed = oms.orders.placeOrder(command);
  assert.equal(placed.status, 'pending');
  assert.equal(placed.total.amount, ORDER_TOTAL);
  assert.equal(placed.items[0].totalPrice.amount, 2n * 4999n);
  assert.equal(host.store.timers.get(orderId), host.clock.now(), 'place-order schedules the saga');

  // When the saga runs to its end.
  const { report } = advanceUntilFinished(oms, host, orderId);

  // Then every step completed and the order is shipped.
  assert.equal(report.outcome?.tag, 'completed', describe(report));
  assert.deepEqual(
    report.steps.map((s) => [s.step, s.status]),
    [
      ['process-payment', 'completed'],
      ['allocate-inventory', 'completed'],
      ['create-shipment', 'completed'],
      ['notify-customer', 'completed'],
    ],
  );
  const shipmentId = report.output.shipmentId;
  assert.ok(shipmentId, 'the saga reports the shipment');
  assert.equal(host.store.timers.has(orderId), false, 'a finished saga leaves no timer');
  assert.equal(oms.queries.getOrder(orderId).status, 'shipped');
  assert.equal(host.inventory.stockOf(products.keyboard), STOCK[products.keyboard] - 2);
  assert.equal(host.inventory.stockOf(products.mouse), STOCK[products.mouse] - 1);
  assert.equal(host.customer.sentAbout(orderId, 'order-confirmation').length, 1);

  // When the carrier reports the parcel's journey.
  host.clock.advance(3_600_000);
  assert.equal(oms.inbound.onShipmentPickedUp(host.carrier.pickUp(shipmentId, 'Springfield depot')), 'applied');
  host.clock.advance(3_600_000);
  const inTransit = host.carrier.moveTo(shipmentId, 'Chicago hub');
  assert.equal(oms.inbound.onShipmentInTransit(inTransit), 'applied');
  assert.equal(oms.inbound.onShipmentInTransit(inTransit), 'duplicate', 'a redelivered event changes nothing');
  host.clock.advance(3_600_000);
  const delivered = host.carrier.deliver(shipmentId, 'J. Doe');
  assert.equal(oms.inbound.onShipmentDeliveredByCarrier(delivered), 'applied');

  // Then the order is delivered and the shipment's history is complete.
  const order = oms.queries.getOrder(orderId);
  assert.equal(order.status, 'delivered');
  assert.equal(order.delivery?.deliveredAt, delivered.deliveredAt);
  assert.equal(order.delivery?.signedBy, 'J. Doe');
  const shipment = oms.queries.getShipment(shipmentId);
  assert.equal(shipment.state, 'delivery-complete');
  assert.deepEqual(
    shipment.trackingHistory.map((e) => [e.status, e.location]),
    [
      ['awaiting-pickup', undefined],
      ['picked-up', 'Springfield depot'],
      ['in-transit', 'Chicago hub'],
      ['delivered', undefined],
    ],
  );

  // The order is found through the store's tags, too.
  assert.deepEqual(
    oms.queries.ordersOfCustomer(command.customerId).map((o) => [o.orderId, o.status]),
    [[orderId, 'delivered']],
  );

  // And the customer was charged exactly once, for the total.
  assert.equal(host.payment.charges.length, 1);
  assert.equal(host.payment.charges[0].amount.amount, ORDER_TOTAL);
  assert.equal(host.payment.netChargedFor(orderId), ORDER_TOTAL);
  assert.equal(order.payment?.transactionId, host.payment.charges[0].transactionId);
  for (const call of host.payment.callsOf('process-payment')) {
    assert.equal(call.key, `order-${orderId}/process-payment/action`);
  }
  assert.deepEqual(
    host.customer.sent.filter((m) => m.notificationType === 'shipping-update').map((m) => m.request.shippingStatus),
    ['picked-up', 'in-transit', 'delivered'],
  );
});
