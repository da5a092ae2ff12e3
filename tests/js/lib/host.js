// The component's imports implemented in JavaScript: an in-memory event
// store, the store policy, and simulated payment, inventory, carrier and
// customer-service backends. Each backend honours idempotency keys (a repeated
// key answers the first outcome without a second effect), records every call
// for the tests, and accepts injected faults.
//
// jco maps a WIT `result<T, E>` returned by an import like this: return `T`
// for `ok`, throw for `err`. The thrown value must carry the WIT error in an
// own `payload` property (see `ImportError`); any other `Error` traps the
// component instance.

import { createHash } from 'node:crypto';

/** Thrown by an import to answer `err(payload)`. */
export class ImportError extends Error {
  constructor(payload) {
    super(typeof payload === 'string' ? payload : `${payload.tag}: ${describe(payload.val)}`);
    Object.defineProperty(this, 'payload', { value: payload, enumerable: true });
  }
}

/**
 * What a call answers: `{ err }` for a fault injected into it, else
 * `{ ok }` with what `perform()` returns, or `{ err }` with the payload of the
 * `ImportError` it throws (any other error propagates).
 */
export function outcomeOf(fault, perform) {
  if (fault) return { err: fault };
  try {
    return { ok: perform() };
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    return { err: e.payload };
  }
}

/** JSON for messages, with bigints (u64 values) as numbers in text. */
export function describe(value) {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** `external-error.transient(reason)`. */
export const transient = (reason) => ({ tag: 'transient', val: reason });
/** `external-error.permanent(reason)`. */
export const permanent = (reason) => ({ tag: 'permanent', val: reason });

/** A UUID derived from text, so simulated ids are stable under a key. */
export function derivedUuid(...parts) {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Wall-clock time that moves only when told to, shared by the component (its
 * `wasi:clocks/wall-clock`), the store and the backends, so a test can jump
 * to a saga's next wake-up without waiting.
 */
export class ManualClock {
  constructor(startMs = Date.UTC(2025, 0, 15, 9, 0, 0)) {
    this.ms = BigInt(startMs);
  }
  /** Now, in milliseconds since the epoch, as a WIT `timestamp` (bigint). */
  now() {
    return this.ms;
  }
  /** Moves time forward by `ms` and returns the new time. */
  advance(ms) {
    this.ms += BigInt(ms);
    return this.ms;
  }
  /** Sets the time, never backwards. */
  advanceTo(ms) {
    if (BigInt(ms) > this.ms) this.ms = BigInt(ms);
    return this.ms;
  }
  /** `wasi:clocks/wall-clock` backed by this clock. */
  wasiWallClock() {
    return {
      now: () => ({ seconds: this.ms / 1000n, nanoseconds: Number(this.ms % 1000n) * 1_000_000 }),
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    };
  }
}

/** Faults to answer instead of performing an operation, oldest first. */
class Faults {
  constructor() {
    this.queued = new Map();
  }
  /** The next `times` calls of `operation` fail with `error` (a WIT error value). */
  inject(operation, error, times = 1) {
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < times; i += 1) list.push(error);
    this.queued.set(operation, list);
  }
  take(operation) {
    return this.queued.get(operation)?.shift();
  }
}

/**
 * The common shape of an external context: remember outcomes by key, record
 * calls, apply injected faults. Transient failures are not remembered, since
 * they mean "no effect" and the caller retries with the same key.
 */
class Backend {
  constructor(clock) {
    this.clock = clock;
    this.calls = [];
    this.outcomes = new Map();
    this.faults = new Faults();
  }

  inject(operation, error, times = 1) {
    this.faults.inject(operation, error, times);
  }

  /** Calls of `operation`, oldest first. */
  callsOf(operation) {
    return this.calls.filter((c) => c.operation === operation);
  }

  call(operation, key, request, perform) {
    const call = { operation, key, request, replayed: false };
    this.calls.push(call);
    const remembered = this.outcomes.get(key);
    if (remembered) {
      if (remembered.operation !== operation) {
        call.outcome = { err: permanent(`idempotency key ${key} was used for ${remembered.operation}`) };
        throw new ImportError(call.outcome.err);
      }
      call.replayed = true;
      call.outcome = remembered.outcome;
      if ('err' in remembered.outcome) throw new ImportError(remembered.outcome.err);
      return remembered.outcome.ok;
    }
    const outcome = outcomeOf(this.faults.take(operation), perform);
    call.outcome = outcome;
    const isTransient = 'err' in outcome && outcome.err.tag === 'transient';
    if (!isTransient) this.outcomes.set(key, { operation, outcome });
    if ('err' in outcome) throw new ImportError(outcome.err);
    return outcome.ok;
  }
}

/**
 * `event-store`: append-only streams with optimistic concurrency. A batch is
 * checked as a whole before anything is written, so its appends, tags,
 * state records and timers take effect together or not at all. A stream's
 * state record (the component's folded state, `state` of an append) is
 * kept at the version after its append; `loadTail` returns it and the
 * events after it.
 */
export class MemoryEventStore {
  constructor(clock) {
    this.clock = clock;
    this.streams = new Map();
    this.states = new Map();
    this.tags = new Map();
    this.timers = new Map();
    this.calls = [];
    this.faults = new Faults();
  }

  /** Every event in every stream, in append order per stream. */
  allEvents() {
    return [...this.streams.values()].flat();
  }

  /** Timers that are due at `now`, earliest first. */
  dueTimers(now = this.clock.now()) {
    return [...this.timers.entries()]
      .filter(([, dueAt]) => dueAt <= now)
      .sort(([a, x], [b, y]) => (x < y ? -1 : x > y ? 1 : a.localeCompare(b)))
      .map(([sagaId, dueAt]) => ({ sagaId, dueAt }));
  }

  imports() {
    return {
      load: (streamId) => this.#op('load', () => {
        checkStreamId(streamId);
        return (this.streams.get(streamId) ?? []).map((e) => ({ ...e }));
      }),
      loadTail: (streamId) => this.#op('load-tail', () => {
        checkStreamId(streamId);
        const state = this.states.get(streamId);
        const events = (this.streams.get(streamId) ?? []).slice(Number(state?.version ?? 0n));
        return { state: state && { ...state }, events: events.map((e) => ({ ...e })) };
      }),
      streamVersion: (streamId) => this.#op('stream-version', () => {
        checkStreamId(streamId);
        return BigInt(this.streams.get(streamId)?.length ?? 0);
      }),
      append: (batch) => this.#op('append', () => this.#append(batch)),
      findStreams: (tag) => this.#op('find-streams', () => [...(this.tags.get(tag) ?? [])]),
    };
  }

  #op(operation, perform) {
    this.calls.push(operation);
    const fault = this.faults.take(operation);
    if (fault) throw new ImportError(fault);
    return perform();
  }

  #append(batch) {
    const seen = new Set();
    for (const s of batch.streams) {
      checkStreamId(s.streamId);
      if (seen.has(s.streamId)) throw new ImportError({ tag: 'invalid', val: `stream ${s.streamId} appears twice in one batch` });
      seen.add(s.streamId);
      const actual = BigInt(this.streams.get(s.streamId)?.length ?? 0);
      if (actual !== s.expectedVersion) {
        throw new ImportError({
          tag: 'conflict',
          val: { streamId: s.streamId, expected: s.expectedVersion, actual },
        });
      }
    }
    for (const t of batch.timers) {
      if (t.sagaId === '') throw new ImportError({ tag: 'invalid', val: 'empty saga id' });
    }
    const recordedAt = this.clock.now();
    for (const s of batch.streams) {
      if (s.events.length > 0) {
        const events = this.streams.get(s.streamId) ?? [];
        for (const e of s.events) {
          events.push({
            streamId: s.streamId,
            version: BigInt(events.length + 1),
            eventType: e.eventType,
            payload: e.payload,
            recordedAt,
          });
        }
        this.streams.set(s.streamId, events);
      }
      if (s.state !== undefined) {
        this.states.set(s.streamId, { version: s.expectedVersion + BigInt(s.events.length), state: s.state });
      }
      for (const tag of s.tags) {
        const tagged = this.tags.get(tag) ?? new Set();
        tagged.add(s.streamId);
        this.tags.set(tag, tagged);
      }
    }
    for (const t of batch.timers) {
      if (t.dueAt === undefined) this.timers.delete(t.sagaId);
      else this.timers.set(t.sagaId, t.dueAt);
    }
  }
}

function checkStreamId(streamId) {
  if (streamId === '') throw new ImportError({ tag: 'invalid', val: 'empty stream id' });
}

/** `policy`: zero tax and shipping, a 30-day return window, quick retries, a 10 s call lease. */
export class StorePolicy {
  constructor() {
    this.policy = {
      returnWindowDays: 30,
      defaultCarrier: 'ups',
      retry: { maxAttempts: 3, baseDelayMs: 20n, maxDelayMs: 200n, jitterPermille: 0 },
      notificationRetry: { maxAttempts: 3, baseDelayMs: 20n, maxDelayMs: 200n, jitterPermille: 0 },
      callLeaseMs: 10_000n,
    };
  }
  imports() {
    return {
      getPolicy: () => structuredClone(this.policy),
      quote: (_items, subtotal, _address) => ({
        tax: { amount: 0n, currency: subtotal.currency },
        shippingCost: { amount: 0n, currency: subtotal.currency },
      }),
    };
  }
}

/** `payment-gateway`: a ledger of charges and refunds. */
export class PaymentGateway extends Backend {
  constructor(clock) {
    super(clock);
    this.charges = [];
    this.refunds = [];
    this.declineAll = undefined;
  }

  /** Charges for `orderId` minus their refunds, in minor units. */
  netChargedFor(orderId) {
    return this.charges
      .filter((c) => c.orderId === orderId)
      .reduce((sum, c) => sum + c.amount.amount - c.refunded, 0n);
  }

  imports() {
    return {
      processPayment: (key, request) =>
        this.call('process-payment', key, request, () => {
          if (this.declineAll) throw new ImportError(permanent(this.declineAll));
          const transactionId = `txn_${derivedUuid('charge', key).replaceAll('-', '')}`;
          this.charges.push({
            transactionId,
            orderId: request.orderId,
            customerId: request.customerId,
            amount: request.paymentAmount,
            refunded: 0n,
          });
          return {
            transactionId,
            orderId: request.orderId,
            paymentAmount: request.paymentAmount,
            processedAt: this.clock.now(),
          };
        }),
      refundPayment: (key, request) =>
        this.call('refund-payment', key, request, () => {
          const charge = this.charges.find((c) => c.transactionId === request.transactionId);
          if (!charge) throw new ImportError(permanent(`unknown transaction ${request.transactionId}`));
          if (request.refundAmount.currency !== charge.amount.currency) {
            throw new ImportError(permanent('refund currency differs from the charge'));
          }
          if (request.refundAmount.amount > charge.amount.amount - charge.refunded) {
            throw new ImportError(permanent('refund exceeds what is left of the charge'));
          }
          charge.refunded += request.refundAmount.amount;
          this.refunds.push({ ...request });
          return {
            transactionId: request.transactionId,
            refundAmount: request.refundAmount,
            refundedAt: this.clock.now(),
          };
        }),
    };
  }
}

/** `inventory-service`: real stock levels, reservations per order. */
export class InventoryService extends Backend {
  constructor(clock, stock = {}) {
    super(clock);
    this.available = new Map(Object.entries(stock));
    this.reserved = new Map();
  }

  /** Sets the units on the shelf for a product. */
  setStock(productId, units) {
    this.available.set(productId, units);
  }

  stockOf(productId) {
    return this.available.get(productId) ?? 0;
  }

  imports() {
    return {
      allocateStock: (key, request) =>
        this.call('allocate-stock', key, request, () => {
          const wanted = totals(request.stockItems);
          const unavailableItems = [...wanted]
            .filter(([productId, n]) => this.stockOf(productId) < n)
            .map(([productId, n]) => ({ productId, requestedQuantity: n, availableQuantity: this.stockOf(productId) }));
          if (unavailableItems.length > 0) {
            throw new ImportError({
              tag: 'out-of-stock',
              val: { orderId: request.orderId, unavailableItems, failedAt: this.clock.now() },
            });
          }
          for (const [productId, n] of wanted) this.available.set(productId, this.stockOf(productId) - n);
          this.reserved.set(request.orderId, wanted);
          return { orderId: request.orderId, allItemsAllocated: true, allocatedAt: this.clock.now() };
        }),
      releaseStock: (key, request) =>
        this.call('release-stock', key, request, () => {
          for (const [productId, n] of this.reserved.get(request.orderId) ?? []) {
            this.available.set(productId, this.stockOf(productId) + n);
          }
          this.reserved.delete(request.orderId);
          return { orderId: request.orderId, releasedAt: this.clock.now() };
        }),
      restockItems: (key, request) =>
        this.call('restock-items', key, request, () => {
          for (const [productId, n] of totals(request.stockItems)) {
            this.available.set(productId, this.stockOf(productId) + n);
          }
          return { returnId: request.returnId, restockedAt: this.clock.now() };
        }),
    };
  }
}

function totals(stockItems) {
  const wanted = new Map();
  for (const item of stockItems) wanted.set(item.productId, (wanted.get(item.productId) ?? 0) + item.quantity);
  return wanted;
}

/**
 * `shipping-carrier`: books parcels and, when the test moves them, produces
 * the carrier's events for the component's `inbound` exports.
 */
export class ShippingCarrier extends Backend {
  constructor(clock) {
    super(clock);
    this.shipments = new Map();
  }

  /** The carrier collects the parcel: the `shipment-picked-up` event. */
  pickUp(shipmentId, location) {
    this.#parcel(shipmentId).status = 'picked-up';
    return { shipmentId, location, pickedUpAt: this.clock.now() };
  }

  /** The parcel reached a facility: the `shipment-in-transit` event. */
  moveTo(shipmentId, currentLocation) {
    this.#parcel(shipmentId).status = 'in-transit';
    return { shipmentId, currentLocation, updatedAt: this.clock.now() };
  }

  /** The parcel was handed over: the `shipment-delivered-by-carrier` event. */
  deliver(shipmentId, signedBy) {
    this.#parcel(shipmentId).status = 'delivered';
    return { shipmentId, deliveredAt: this.clock.now(), signedBy };
  }

  #parcel(shipmentId) {
    const parcel = this.shipments.get(shipmentId);
    if (!parcel) throw new Error(`the carrier has no shipment ${shipmentId}`);
    return parcel;
  }

  imports() {
    return {
      createShipment: (key, request) =>
        this.call('create-shipment', key, request, () => {
          const shipmentId = derivedUuid('shipment', key);
          const trackingNumber = `1Z${shipmentId.replaceAll('-', '').slice(0, 16).toUpperCase()}`;
          this.shipments.set(shipmentId, { request, trackingNumber, status: 'booked' });
          return {
            shipmentId,
            orderId: request.orderId,
            carrier: request.carrier,
            trackingNumber,
            estimatedDelivery: this.clock.now() + 3n * 86_400_000n,
            createdAt: this.clock.now(),
          };
        }),
      cancelShipment: (key, request) =>
        this.call('cancel-shipment', key, request, () => {
          const parcel = this.shipments.get(request.shipmentId);
          if (!parcel) throw new ImportError(permanent(`unknown shipment ${request.shipmentId}`));
          if (parcel.status !== 'booked' && parcel.status !== 'cancelled') {
            throw new ImportError(permanent(`shipment already ${parcel.status}`));
          }
          parcel.status = 'cancelled';
          return { shipmentId: request.shipmentId, cancelledAt: this.clock.now() };
        }),
    };
  }
}

/** `customer-service`: an outbox of messages and a list of tickets. */
export class CustomerService extends Backend {
  constructor(clock) {
    super(clock);
    this.sent = [];
    this.tickets = [];
  }

  /** Messages of one kind sent about `orderId`. */
  sentAbout(orderId, notificationType) {
    return this.sent.filter((m) => m.request.orderId === orderId && m.notificationType === notificationType);
  }

  #send(notificationType, key, request) {
    return this.call(notificationType, key, request, () => {
      this.sent.push({ notificationType, key, request });
      return { customerId: request.customerId, notificationType, sentAt: this.clock.now() };
    });
  }

  imports() {
    return {
      sendOrderConfirmation: (key, request) => this.#send('order-confirmation', key, request),
      sendOrderCancellation: (key, request) => this.#send('order-cancellation', key, request),
      sendShippingUpdate: (key, request) => this.#send('shipping-update', key, request),
      createSupportTicket: (key, request) =>
        this.call('create-support-ticket', key, request, () => {
          const ticketId = `T-${this.tickets.length + 1}`;
          this.tickets.push({ ticketId, request });
          return { ticketId, orderId: request.orderId, createdAt: this.clock.now() };
        }),
    };
  }
}

/**
 * Everything the component imports from its host, with the simulations kept
 * at hand for assertions: `host.imports` goes to `instantiate`.
 */
export function createHost({ clock = new ManualClock(), stock = {} } = {}) {
  const host = {
    clock,
    store: new MemoryEventStore(clock),
    policy: new StorePolicy(),
    payment: new PaymentGateway(clock),
    inventory: new InventoryService(clock, stock),
    carrier: new ShippingCarrier(clock),
    customer: new CustomerService(clock),
  };
  // Keys without the `@0.1.0` version: that is how jco 1.35's generated code
  // looks them up (its .d.ts says otherwise, see jco#708). The types-only
  // interfaces (`types`, `events`) need no entry.
  host.imports = {
    'oms:order-management/event-store': host.store.imports(),
    'oms:order-management/policy': host.policy.imports(),
    'oms:order-management/payment-gateway': host.payment.imports(),
    'oms:order-management/inventory-service': host.inventory.imports(),
    'oms:order-management/shipping-carrier': host.carrier.imports(),
    'oms:order-management/customer-service': host.customer.imports(),
  };
  return host;
}
