// Runs the embedders' conformance kit (conformance/scenarios.json) against
// the component in Node.js: the imports answer by the kit's rules (below),
// the saga is driven the way the kit says a host must drive it, and every
// expectation of a scenario is checked. Any embedding can run the same file
// with its own runner; this one and tests/tests/conformance.rs are the
// project's two.
//
// The kit's rules for the imports (docs/embedding.md#the-conformance-kit):
// - every call is recorded as `{ operation, key, request }` (snake_case);
// - a key already answered with a success or a permanent error answers the
//   same again, with no effect; a transient answer is not remembered;
// - a scenario's `faults` answer the next calls of an operation instead of
//   the rules, oldest first;
// - process-payment answers transaction `txn-<order-id>`; refund-payment
//   refunds a transaction it issued, at most what is left of it, and refuses
//   any other permanently; allocate-stock allocates everything; create-shipment
//   answers the kit's shipment id and tracking number; messages succeed;
//   tickets are `T-<n>`. Every timestamp is the clock's now.

import { readFileSync } from 'node:fs';

import { ImportError, ManualClock, MemoryEventStore, outcomeOf } from './host.js';
import { instantiateComponent } from './component.js';

export const KIT = new URL('../../../conformance/scenarios.json', import.meta.url);

const snake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k) => k.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase());
const isU64 = (k) => k === 'amount' || k.endsWith('_at') || k === 'estimated_delivery' || k === 'version';

/** A WIT value (jco's form) as the kit's JSON: snake_case, numbers, null. */
export function toWire(v) {
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), toWire(x)]));
  return v;
}

/** The kit's JSON as a WIT value; `$now` is the clock's time. */
export function fromWire(v, now) {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => fromWire(x, now));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [camel(k), isU64(k) && x !== null ? BigInt(x === '$now' ? now : x) : fromWire(x, now)]),
    );
  }
  return v;
}

/** The kit's error notation (`{"transient": "..."}`) as a WIT `external-error`. */
function externalError(e) {
  const [tag, val] = Object.entries(e)[0];
  return { tag, val };
}

class ScriptedBackends {
  constructor(kit, scenario, clock) {
    this.kit = kit;
    this.clock = clock;
    this.calls = [];
    this.outcomes = new Map();
    this.faults = (scenario.faults ?? []).flatMap((f) => Array(f.times ?? 1).fill(f));
    this.charges = new Map();
    this.tickets = 0;
  }

  /** The error of the first scripted fault of `operation`, taken from the script (none: undefined). */
  #takeFault(operation) {
    const i = this.faults.findIndex((f) => f.operation === operation);
    if (i < 0) return undefined;
    const [fault] = this.faults.splice(i, 1);
    const err = externalError(fault.error);
    return operation === 'allocate-stock' ? { tag: 'failed', val: err } : err;
  }

  call(operation, key, request, perform) {
    this.calls.push({ operation, key, request: toWire(request) });
    const stored = this.outcomes.get(key);
    if (stored) {
      if ('err' in stored) throw new ImportError(stored.err);
      return stored.ok;
    }
    const outcome = outcomeOf(this.#takeFault(operation), perform);
    const transient = 'err' in outcome && (outcome.err.tag === 'transient' || outcome.err.val?.tag === 'transient');
    if (!transient) this.outcomes.set(key, outcome);
    if ('err' in outcome) throw new ImportError(outcome.err);
    return outcome.ok;
  }

  imports() {
    const now = () => this.clock.now();
    const b = this.kit.backend;
    const sent = (type) => (key, r) => this.call(type, key, r, () => ({ customerId: r.customerId, notificationType: type.replace(/^send-/, ''), sentAt: now() }));
    return {
      'oms:order-management/payment-gateway': {
        processPayment: (key, r) =>
          this.call('process-payment', key, r, () => {
            const transactionId = b.transaction_id.replace('{order_id}', r.orderId);
            this.charges.set(transactionId, { amount: r.paymentAmount.amount, refunded: 0n });
            return { transactionId, orderId: r.orderId, paymentAmount: r.paymentAmount, processedAt: now() };
          }),
        refundPayment: (key, r) =>
          this.call('refund-payment', key, r, () => {
            const charge = this.charges.get(r.transactionId);
            if (!charge) throw new ImportError({ tag: 'permanent', val: `unknown transaction ${r.transactionId}` });
            if (r.refundAmount.amount > charge.amount - charge.refunded) {
              throw new ImportError({ tag: 'permanent', val: 'refund exceeds what is left of the charge' });
            }
            charge.refunded += r.refundAmount.amount;
            return { transactionId: r.transactionId, refundAmount: r.refundAmount, refundedAt: now() };
          }),
      },
      'oms:order-management/inventory-service': {
        allocateStock: (key, r) => this.call('allocate-stock', key, r, () => ({ orderId: r.orderId, allItemsAllocated: true, allocatedAt: now() })),
        releaseStock: (key, r) => this.call('release-stock', key, r, () => ({ orderId: r.orderId, releasedAt: now() })),
        restockItems: (key, r) => this.call('restock-items', key, r, () => ({ returnId: r.returnId, restockedAt: now() })),
      },
      'oms:order-management/shipping-carrier': {
        createShipment: (key, r) =>
          this.call('create-shipment', key, r, () => ({
            shipmentId: b.shipment_id, orderId: r.orderId, carrier: r.carrier, trackingNumber: b.tracking_number,
            estimatedDelivery: undefined, createdAt: now(),
          })),
        cancelShipment: (key, r) => this.call('cancel-shipment', key, r, () => ({ shipmentId: r.shipmentId, cancelledAt: now() })),
      },
      'oms:order-management/customer-service': {
        sendOrderConfirmation: sent('send-order-confirmation'),
        sendOrderCancellation: sent('send-order-cancellation'),
        sendShippingUpdate: sent('send-shipping-update'),
        createSupportTicket: (key, r) =>
          this.call('create-support-ticket', key, r, () => {
            this.tickets += 1;
            return { ticketId: b.ticket_id.replace('{n}', String(this.tickets)), orderId: r.orderId, createdAt: now() };
          }),
      },
    };
  }
}

function policyImports(p) {
  const retry = (r) => ({ maxAttempts: r.max_attempts, baseDelayMs: BigInt(r.base_delay_ms), maxDelayMs: BigInt(r.max_delay_ms), jitterPermille: r.jitter_permille });
  return {
    getPolicy: () => ({
      returnWindowDays: p.return_window_days,
      defaultCarrier: p.default_carrier,
      retry: retry(p.retry),
      notificationRetry: retry(p.notification_retry),
      callLeaseMs: BigInt(p.call_lease_ms),
    }),
    quote: (_items, subtotal) => ({
      tax: { amount: BigInt(p.tax), currency: subtotal.currency },
      shippingCost: { amount: BigInt(p.shipping_cost), currency: subtotal.currency },
    }),
  };
}

/** True when `expected` (kit JSON) is contained in `actual`: objects by their listed members, arrays element by element. */
export function contains(actual, expected) {
  if (expected === null) return actual === null || actual === undefined;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => contains(actual[i], e));
  }
  if (typeof expected === 'object') {
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => contains(actual[k], v));
  }
  return actual === expected;
}

/** The kit's summary of a saga report: phase, outcome case, failed step. */
function sagaSummary(report) {
  return {
    phase: report.phase,
    outcome: report.outcome?.tag ?? null,
    failed_step: report.outcome?.val?.failedStep ?? null,
    next_wake_at: toWire(report.nextWakeAt),
  };
}

/** The kit's summary of a command error: its case and, where it has one, field, state. */
function errorSummary(e) {
  const payload = e?.payload;
  if (!payload?.tag) throw e;
  return { tag: payload.tag, ...(payload.val && typeof payload.val === 'object' ? toWire(payload.val) : { message: payload.val }) };
}

const INBOUND = {
  'payment-succeeded': 'onPaymentSucceeded', 'payment-failed': 'onPaymentFailed', 'refund-completed': 'onRefundCompleted',
  'stock-allocated': 'onStockAllocated', 'stock-allocation-failed': 'onStockAllocationFailed',
  'shipment-created-by-carrier': 'onShipmentCreatedByCarrier', 'shipment-picked-up': 'onShipmentPickedUp',
  'shipment-in-transit': 'onShipmentInTransit', 'shipment-out-for-delivery': 'onShipmentOutForDelivery',
  'shipment-delivered-by-carrier': 'onShipmentDeliveredByCarrier', 'shipment-delivery-failed': 'onShipmentDeliveryFailed',
  'shipment-cancelled': 'onShipmentCancelled',
};

/**
 * The driver's duty as the kit states it: while a saga timer exists, call
 * `advance` for every due one (due-at <= now, earliest first); when none is
 * due, move the clock to the earliest. The stored timer is the truth.
 * Bounded: at most `maxAdvances` calls.
 */
async function drive(oms, store, clock, maxAdvances = 50) {
  let last;
  for (let n = 0; n < maxAdvances; ) {
    const due = store.dueTimers(clock.now());
    if (due.length === 0) {
      if (store.timers.size === 0) return last;
      clock.advanceTo([...store.timers.values()].reduce((a, b) => (a < b ? a : b)));
      continue;
    }
    for (const { sagaId } of due) {
      last = oms.fulfillmentSaga.advance(sagaId);
      n += 1;
    }
  }
  throw new Error(`sagas still have timers after ${maxAdvances} advances`);
}

/** Runs one step; returns what the kit compares (`ok`, `error`, `saga`). */
async function step(oms, store, clock, s) {
  const input = s.input === undefined ? undefined : fromWire(s.input, clock.now());
  const attempt = (f) => {
    try {
      return { ok: toWire(f()) };
    } catch (e) {
      return { error: errorSummary(e) };
    }
  };
  switch (s.do) {
    case 'place-order': return attempt(() => oms.orders.placeOrder(input));
    case 'cancel-order': return attempt(() => oms.orders.cancelOrder(input));
    case 'get-order': return attempt(() => oms.queries.getOrder(input.orderId));
    case 'orders-of-customer': return attempt(() => oms.queries.ordersOfCustomer(input.customerId));
    case 'shipments-of-order': return attempt(() => oms.queries.shipmentsOfOrder(input.orderId));
    case 'inbound': {
      const exported = INBOUND[s.input.type];
      if (!exported) throw new Error(`unknown inbound type ${s.input.type}`);
      return attempt(() => oms.inbound[exported](fromWire(s.input.data, clock.now())));
    }
    case 'advance': {
      const report = oms.fulfillmentSaga.advance(input.orderId);
      const timer = store.timers.get(input.orderId);
      return { saga: sagaSummary(report), timer_after_now: timer !== undefined && timer > clock.now() };
    }
    case 'retry-saga-now': {
      let report;
      try {
        report = oms.fulfillmentSaga.retryNow(input.orderId, input.requestedBy);
      } catch (e) {
        return { error: errorSummary(e) };
      }
      const timer = store.timers.get(input.orderId);
      return { saga: sagaSummary(report), timer_after_now: timer !== undefined && timer > clock.now() };
    }
    case 'saga-status':
      return { saga: sagaSummary(oms.fulfillmentSaga.status(input.orderId)) };
    case 'drive': {
      const report = await drive(oms, store, clock);
      return { saga: report ? sagaSummary(report) : null };
    }
    case 'advance-clock':
      clock.advance(s.input.ms);
      return {};
    default:
      throw new Error(`unknown step ${s.do}`);
  }
}

/** Reads the kit. */
export function loadKit(url = KIT) {
  return JSON.parse(readFileSync(url, 'utf8'));
}

/**
 * Runs one scenario; returns a list of failures (empty when it passes), each
 * a sentence saying what differed.
 */
export async function runScenario(kit, scenario, { keepTag = () => true } = {}) {
  const clock = new ManualClock(kit.start_ms);
  const store = new MemoryEventStore(clock);
  const backends = new ScriptedBackends(kit, scenario, clock);
  const storeImports = store.imports();
  // `keepTag` lets a test play an embedding that indexes only some tags.
  const append = storeImports.append;
  storeImports.append = (batch) =>
    append({ ...batch, streams: batch.streams.map((s) => ({ ...s, tags: s.tags.filter(keepTag) })) });
  const host = {
    clock,
    imports: {
      'oms:order-management/event-store': storeImports,
      'oms:order-management/policy': policyImports(kit.policy),
      ...backends.imports(),
    },
  };
  const failures = [];
  for (const [i, s] of scenario.steps.entries()) {
    const oms = await instantiateComponent(host); // a fresh instance per call, as hosts may do
    const got = await step(oms, store, clock, s);
    if (s.expect && !contains(got, s.expect)) {
      failures.push(`step ${i} (${s.do}): expected ${JSON.stringify(s.expect)}, got ${JSON.stringify(got)}`);
    }
  }
  const calls = backends.calls;
  if (!contains(calls, scenario.calls)) {
    failures.push(`calls: expected ${JSON.stringify(scenario.calls)}, got ${JSON.stringify(calls.map(({ operation, key, request }) => ({ operation, key, request })))}`);
  }
  const f = scenario.final ?? {};
  if (f.timers) {
    const timers = Object.fromEntries([...store.timers].map(([k, v]) => [k, Number(v)]));
    if (!contains(timers, f.timers) || Object.keys(timers).length !== Object.keys(f.timers).length) {
      failures.push(`timers: expected ${JSON.stringify(f.timers)}, got ${JSON.stringify(timers)}`);
    }
  }
  for (const [tag, streams] of Object.entries(f.tags ?? {})) {
    const got = [...(store.tags.get(tag) ?? [])];
    if (!contains(got, streams)) failures.push(`tag ${tag}: expected ${JSON.stringify(streams)}, got ${JSON.stringify(got)}`);
  }
  if (f.streams !== undefined && store.streams.size !== f.streams) {
    failures.push(`streams: expected ${f.streams}, got ${store.streams.size} (${[...store.streams.keys()].join(', ')})`);
  }
  return failures;
}
