// Proves that the component runs on the edge: inside workerd (Cloudflare's
// Workers runtime) as a Worker whose Durable Object keeps the event store in
// its SQLite storage and drives sagas on its alarm, with the external
// contexts reached by `fetch` through the HTTP backend contract. A placed
// order is paid, allocated, shipped and confirmed by the alarm-driven saga;
// signed carrier webhooks deliver it; a declined payment compensates and
// cancels; a transient backend failure is retried under the same key.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { workerdConfig } from '../scripts/config.js';
import { StubBackends } from './stub-backends.js';

const BUILD = fileURLToPath(new URL('../build/', import.meta.url));
const WORKERD = fileURLToPath(new URL('../node_modules/workerd/bin/workerd', import.meta.url));
const SECRET = 'whsec_edge_test';
/** Every wait in this file ends by this deadline (ms). */
const WAIT_MS = 20_000;

let stub;
let workerd;
let base;
let storageDir;
let log = '';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what, check) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last.done) return last.value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not happen within ${WAIT_MS} ms; last: ${JSON.stringify(last?.value)}\nworkerd log:\n${log}`);
}

async function api(method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function sign(body, secret = SECRET, t = Math.floor(Date.now() / 1000)) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

async function carrier(type, data, id = `evt_${randomUUID()}`) {
  const body = JSON.stringify({ id, type, data });
  return api('POST', '/webhooks/carrier', body, { 'order-signature': sign(body) });
}

const address = { street1: '1 Main St', city: 'Springfield', state_province: 'IL', postal_code: '62701', country: 'US' };
function orderRequest(customerId = randomUUID()) {
  return {
    order_id: randomUUID(),
    customer_id: customerId,
    items: [
      { item_id: randomUUID(), product_id: randomUUID(), sku: 'MUG-1', product_name: 'Mug', quantity: 2, unit_price: { amount: 1250, currency: 'USD' } },
    ],
    shipping_address: address,
    billing_address: address,
    payment_method: 'credit-card',
  };
}

async function orderReaches(orderId, status) {
  return until(`order ${orderId} reaching ${status}`, async () => {
    const { body } = await api('GET', `/orders/${orderId}`);
    return { done: body?.status === status, value: body };
  });
}

/** Waits for the order's saga to finish (the order ships before its confirmation is sent). */
async function sagaFinishes(orderId) {
  return until(`the saga of ${orderId} finishing`, async () => {
    const { body } = await api('GET', `/orders/${orderId}/saga`);
    return { done: body?.phase === 'finished', value: body };
  });
}

before(async () => {
  stub = new StubBackends();
  const backendUrl = await stub.start();
  storageDir = mkdtempSync(join(tmpdir(), 'oms-edge-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = join(BUILD, 'test.capnp');
  writeFileSync(config, workerdConfig({
    buildDir: BUILD,
    listen: `127.0.0.1:${port}`,
    storageDir,
    backendUrl,
    webhookSecret: SECRET,
    allow: ['local'],
    policy: {
      retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 200, jitter_permille: 0 },
      notification_retry: { max_attempts: 3, base_delay_ms: 50, max_delay_ms: 200, jitter_permille: 0 },
      call_lease_ms: 2000,
    },
  }));
  workerd = spawn(WORKERD, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  workerd.stdout.on('data', (d) => { log += d; });
  workerd.stderr.on('data', (d) => { log += d; });
  await until('workerd answering /healthz', async () => {
    if (workerd.exitCode !== null) throw new Error(`workerd exited with ${workerd.exitCode}:\n${log}`);
    try {
      const r = await fetch(`${base}/healthz`);
      return { done: r.ok, value: r.status };
    } catch (e) {
      return { done: false, value: e.message };
    }
  });
});

after(async () => {
  if (workerd && workerd.exitCode === null) {
    const exited = new Promise((resolve) => workerd.once('exit', resolve));
    workerd.kill('SIGTERM');
    await exited;
  }
  await stub?.stop();
  if (storageDir) rmSync(storageDir, { recursive: true, force: true });
});

test('a placed order is shipped by the alarm-driven saga and delivered by signed carrier webhooks', async () => {
  const request = orderRequest();
  const placed = await api('POST', '/orders', request);
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  assert.equal(placed.body.status, 'pending');
  assert.equal(placed.body.total.amount, 2500);

  const saga = await sagaFinishes(request.order_id);
  const shipped = (await api('GET', `/orders/${request.order_id}`)).body;
  assert.equal(shipped.status, 'shipped');
  const key = (step) => `order-${request.order_id}/${step}/action`;
  const payments = stub.callsTo('/payments').filter((c) => c.body.order_id === request.order_id);
  assert.equal(payments.length, 1, 'charged once');
  assert.equal(payments[0].key, key('process-payment'));
  assert.deepEqual(payments[0].body.payment_amount, { amount: 2500, currency: 'USD' });
  assert.ok(stub.charges.has(shipped.payment.transaction_id), 'the order records the gateway transaction');
  assert.equal(stub.callsTo('/allocations').filter((c) => c.key === key('allocate-inventory')).length, 1);
  assert.equal(stub.callsTo('/shipments').filter((c) => c.key === key('create-shipment')).length, 1);
  assert.equal(stub.callsTo('/notifications/order-confirmation').filter((c) => c.body.order_id === request.order_id).length, 1);

  assert.equal(saga.outcome.kind, 'completed');
  assert.equal(saga.next_wake_at, null, 'a finished saga waits for nothing');

  const shipmentId = shipped.shipping.shipment_id;
  const pickup = await carrier('shipment-picked-up', { shipment_id: shipmentId, location: 'Springfield depot', picked_up_at: new Date().toISOString() });
  assert.deepEqual(pickup.body?.status, 'applied', JSON.stringify(pickup.body));
  const deliveredEvent = { shipment_id: shipmentId, delivered_at: new Date(Date.now() + 1).toISOString(), signed_by: 'J. Doe' };
  const delivered = await carrier('shipment-delivered-by-carrier', deliveredEvent, 'evt_delivered_1');
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
  assert.deepEqual(delivered.body, { status: 'applied', id: 'evt_delivered_1' });
  const again = await carrier('shipment-delivered-by-carrier', deliveredEvent, 'evt_delivered_1');
  assert.deepEqual(again.body, { status: 'duplicate', id: 'evt_delivered_1' }, 'a redelivery changes nothing');

  const order = await api('GET', `/orders/${request.order_id}`);
  assert.equal(order.body.status, 'delivered');
  assert.equal(order.body.delivery.signed_by, 'J. Doe');
  // Times are RFC 3339, as the order API writes them.
  assert.equal(order.body.delivery.delivered_at, deliveredEvent.delivered_at);
  assert.match(order.body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const shipment = await api('GET', `/shipments/${shipmentId}`);
  assert.deepEqual(shipment.body.tracking_history.map((e) => e.status), ['awaiting-pickup', 'picked-up', 'delivered']);
  assert.ok(shipment.body.tracking_history.every((e) => !Number.isNaN(Date.parse(e.timestamp))), JSON.stringify(shipment.body));
  const numbered = await carrier('shipment-picked-up', { shipment_id: shipmentId, picked_up_at: Date.now() }, 'evt_numbered');
  assert.equal(numbered.status, 400, 'a time in milliseconds is refused');
  assert.equal(numbered.body.field, 'data.picked_up_at');
  const updates = stub.callsTo('/notifications/shipping-update').filter((c) => c.body.order_id === request.order_id);
  assert.deepEqual(updates.map((c) => c.body.shipping_status), ['picked-up', 'delivered']);
});

test('a permanently declined payment compensates the saga and cancels the order', async () => {
  const request = orderRequest();
  stub.declinedCustomers.add(request.customer_id);
  const placed = await api('POST', '/orders', request);
  assert.equal(placed.status, 201, JSON.stringify(placed.body));

  const saga = await sagaFinishes(request.order_id);
  assert.equal(saga.outcome.kind, 'compensated', JSON.stringify(saga));
  assert.equal(saga.outcome.failed_step, 'process-payment');
  const cancelled = (await api('GET', `/orders/${request.order_id}`)).body;
  assert.equal(cancelled.status, 'cancelled');
  assert.match(cancelled.cancellation.reason, /declined/);
  const mine = (path) => stub.callsTo(path).filter((c) => c.body.order_id === request.order_id);
  assert.equal(mine('/payments').length, 1, 'a permanent refusal is not retried');
  assert.equal(mine('/allocations').length, 0, 'nothing after the failed step runs');
  assert.equal(mine('/shipments').length, 0);
  assert.equal(mine('/notifications/order-cancellation').length, 1, 'the customer is told');
});

test('a transient backend failure is retried on the alarm under the same key', async () => {
  stub.inject('/allocations', 503, 1);
  const request = orderRequest();
  assert.equal((await api('POST', '/orders', request)).status, 201);
  assert.equal((await sagaFinishes(request.order_id)).outcome.kind, 'completed');
  const allocations = stub.callsTo('/allocations').filter((c) => c.body.order_id === request.order_id);
  assert.deepEqual(allocations.map((c) => c.status), [503, 200]);
  assert.equal(new Set(allocations.map((c) => c.key)).size, 1, 'the retry carries the same key');
});

test('retry now answers a finished saga as it stands, and refuses an unknown order and no requester by name', async () => {
  const request = orderRequest();
  assert.equal((await api('POST', '/orders', request)).status, 201);
  await sagaFinishes(request.order_id);
  const finished = await api('POST', `/orders/${request.order_id}/saga/retry`, { requested_by: 'support:sam' });
  assert.equal(finished.status, 200, JSON.stringify(finished.body));
  assert.equal(finished.body.phase, 'finished');
  const unknown = await api('POST', `/orders/${randomUUID()}/saga/retry`, { requested_by: 'support:sam' });
  assert.equal(unknown.status, 404);
  const nobody = await api('POST', `/orders/${request.order_id}/saga/retry`, {});
  assert.equal(nobody.status, 400);
  assert.equal(nobody.body.field, 'requested-by');
  const history = (await api('GET', `/orders/${request.order_id}/events`)).body;
  assert.ok(!history.some((e) => e.event_type === 'saga-retry-requested'), 'a finished saga and a refused retry write nothing');
});

test('refused requests answer problem+json naming the field or state, and change nothing', async () => {
  const bad = orderRequest();
  bad.items[0].sku = '';
  const refused = await api('POST', '/orders', bad);
  assert.equal(refused.status, 400);
  assert.equal(refused.body.field, 'items[0].sku');
  assert.equal((await api('GET', `/orders/${bad.order_id}`)).status, 404);

  const missing = await api('POST', '/orders', { order_id: randomUUID() });
  assert.equal(missing.status, 400, JSON.stringify(missing.body));

  const unsigned = JSON.stringify({ id: 'evt_x', type: 'shipment-picked-up', data: {} });
  const forged = await api('POST', '/webhooks/carrier', unsigned, { 'order-signature': sign(unsigned, 'wrong-secret') });
  assert.equal(forged.status, 401);

  const request = orderRequest();
  await api('POST', '/orders', request);
  await orderReaches(request.order_id, 'shipped');
  const cancel = await api('POST', `/orders/${request.order_id}/cancel`, { reason: 'changed my mind', cancelled_by: 'customer' });
  assert.equal(cancel.status, 409);
  assert.equal(cancel.body.state, 'shipped');
  assert.equal(cancel.body.command, 'cancel-order');
});
