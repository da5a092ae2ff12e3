// A stub of the HTTP backend contract (docs/backends.md) on 127.0.0.1: the
// four contexts behind one base URL, each operation honouring its
// idempotency key (a repeated key answers the stored status and body with
// no second effect; nothing is stored for a transient failure), every call
// recorded for the test's assertions.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

function derivedUuid(...parts) {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class StubBackends {
  constructor() {
    this.calls = [];
    this.answers = new Map();
    this.charges = new Map();
    this.refunds = [];
    this.shipments = new Map();
    /** Customers whose payments the gateway declines (a permanent 402). */
    this.declinedCustomers = new Set();
    /** Answers to give before any other, per path: `{ status, body }`, oldest first. */
    this.faults = new Map();
  }

  /** The calls to `path`, oldest first. */
  callsTo(path) {
    return this.calls.filter((c) => c.path === path);
  }

  /** The next `times` calls to `path` answer `status` (e.g. 503) without an effect. */
  inject(path, status, times = 1) {
    const list = this.faults.get(path) ?? [];
    for (let i = 0; i < times; i += 1) list.push({ status, body: { error: `injected ${status}` } });
    this.faults.set(path, list);
  }

  /** Starts listening on 127.0.0.1 on a free port; resolves to the base URL. */
  async start() {
    this.server = createServer((req, res) => this.#handle(req, res));
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${this.server.address().port}/v1`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  async #handle(req, res) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const path = new URL(req.url, 'http://stub').pathname.replace(/^\/v1/, '');
    const key = req.headers['idempotency-key'];
    const body = text ? JSON.parse(text) : {};
    const call = { path, key, body, replayed: false };
    this.calls.push(call);
    const send = ({ status, body: answer }) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    if (req.method !== 'POST' || !key) return send({ status: 400, body: { error: 'POST with an Idempotency-Key' } });
    const stored = this.answers.get(`${path} ${key}`);
    if (stored) {
      call.replayed = true;
      return send(stored);
    }
    const fault = this.faults.get(path)?.shift();
    if (fault) return send(fault);
    const answer = this.#perform(path, key, body);
    if (!(answer.status >= 500 || answer.status === 408 || answer.status === 429)) {
      this.answers.set(`${path} ${key}`, answer);
    }
    return send(answer);
  }

  #perform(path, key, r) {
    const now = Date.now();
    const ok = (body) => ({ status: 200, body });
    if (path === '/payments') {
      if (this.declinedCustomers.has(r.customer_id)) return { status: 402, body: { error: 'card declined' } };
      const transactionId = `txn_${derivedUuid('charge', key).replaceAll('-', '')}`;
      this.charges.set(transactionId, { orderId: r.order_id, amount: r.payment_amount.amount, refunded: 0 });
      return ok({ transaction_id: transactionId, order_id: r.order_id, payment_amount: r.payment_amount, processed_at: now });
    }
    if (path === '/refunds') {
      const charge = this.charges.get(r.transaction_id);
      if (!charge) return { status: 404, body: { error: `unknown transaction ${r.transaction_id}` } };
      if (r.refund_amount.amount > charge.amount - charge.refunded) return { status: 422, body: { error: 'refund exceeds the charge' } };
      charge.refunded += r.refund_amount.amount;
      this.refunds.push(r);
      return ok({ transaction_id: r.transaction_id, refund_amount: r.refund_amount, refunded_at: now });
    }
    if (path === '/allocations') return ok({ order_id: r.order_id, all_items_allocated: true, allocated_at: now });
    if (path === '/releases') return ok({ order_id: r.order_id, released_at: now });
    if (path === '/restocks') return ok({ return_id: r.return_id, restocked_at: now });
    if (path === '/shipments') {
      const shipmentId = derivedUuid('shipment', key);
      const trackingNumber = `1Z${shipmentId.replaceAll('-', '').slice(0, 16).toUpperCase()}`;
      this.shipments.set(shipmentId, { orderId: r.order_id, status: 'booked' });
      return ok({
        shipment_id: shipmentId, order_id: r.order_id, carrier: r.carrier, tracking_number: trackingNumber,
        estimated_delivery: now + 3 * 86_400_000, created_at: now,
      });
    }
    const cancel = path.match(/^\/shipments\/([^/]+)\/cancel$/);
    if (cancel) {
      const parcel = this.shipments.get(decodeURIComponent(cancel[1]));
      if (!parcel) return { status: 404, body: { error: 'unknown shipment' } };
      parcel.status = 'cancelled';
      return ok({ shipment_id: r.shipment_id, cancelled_at: now });
    }
    const notification = path.match(/^\/notifications\/(order-confirmation|order-cancellation|shipping-update)$/);
    if (notification) return ok({ customer_id: r.customer_id, notification_type: notification[1], sent_at: now });
    if (path === '/tickets') return ok({ ticket_id: `T-${this.callsTo('/tickets').length}`, order_id: r.order_id, created_at: now });
    return { status: 404, body: { error: `no route ${path}` } };
  }
}
