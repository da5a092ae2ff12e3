// The order-management component as a Cloudflare Worker. The Worker routes
// the order API's main routes to one Durable Object, `OrderStore`, which
// holds the event store in its SQLite storage, creates a fresh instance of
// the component for every request (the component keeps nothing between
// calls), and drives the fulfilment sagas on its alarm. The external
// contexts are `fetch` calls to the HTTP backend contract (backends.js).

import { DurableObject } from 'cloudflare:workers';

import { cli, clocks, io } from './wasi.js';
import { instantiate } from './gen/order-core.js';
import cores from './cores.js';
import { DurableEventStore, ImportError } from './store.js';
import { httpBackends } from './backends.js';
import { FieldError, apiTimes, fromApi, toApi, toWire } from './values.js';

const WASI = {
  'wasi:cli/environment': cli.environment,
  'wasi:cli/exit': cli.exit,
  'wasi:cli/stdin': cli.stdin,
  'wasi:cli/stdout': cli.stdout,
  'wasi:cli/stderr': cli.stderr,
  'wasi:cli/terminal-input': cli.terminalInput,
  'wasi:cli/terminal-output': cli.terminalOutput,
  'wasi:cli/terminal-stdin': cli.terminalStdin,
  'wasi:cli/terminal-stdout': cli.terminalStdout,
  'wasi:cli/terminal-stderr': cli.terminalStderr,
  'wasi:clocks/wall-clock': clocks.wallClock,
  'wasi:clocks/monotonic-clock': clocks.monotonicClock,
  'wasi:io/error': io.error,
  'wasi:io/poll': io.poll,
  'wasi:io/streams': io.streams,
};

/** Sagas one alarm advances at most; the rest wait for the next alarm. */
const SAGAS_PER_ALARM = 16;

/** The store policy: `POLICY` (JSON, snake_case) overrides these. */
const DEFAULT_POLICY = {
  return_window_days: 30,
  default_carrier: 'ups',
  retry: { max_attempts: 3, base_delay_ms: 1000, max_delay_ms: 60_000, jitter_permille: 100 },
  notification_retry: { max_attempts: 5, base_delay_ms: 1000, max_delay_ms: 60_000, jitter_permille: 100 },
  call_lease_ms: 30_000,
};

function policyImports(env) {
  const policy = { ...DEFAULT_POLICY, ...(env.POLICY ? JSON.parse(env.POLICY) : {}) };
  const value = {
    returnWindowDays: policy.return_window_days,
    defaultCarrier: policy.default_carrier,
    retry: retryPolicy(policy.retry),
    notificationRetry: retryPolicy(policy.notification_retry),
    callLeaseMs: BigInt(policy.call_lease_ms),
  };
  return {
    getPolicy: () => structuredClone(value),
    // No tax and no shipping charge: a real deployment quotes here.
    quote: (_items, subtotal) => ({
      tax: { amount: 0n, currency: subtotal.currency },
      shippingCost: { amount: 0n, currency: subtotal.currency },
    }),
  };
}

function retryPolicy(r) {
  return {
    maxAttempts: r.max_attempts,
    baseDelayMs: BigInt(r.base_delay_ms),
    maxDelayMs: BigInt(r.max_delay_ms),
    jitterPermille: r.jitter_permille,
  };
}

// ----- HTTP answers -------------------------------------------------------

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function problem(status, type, title, detail, extra = {}) {
  return new Response(
    JSON.stringify({ type: `urn:order-host:problem:${type}`, title, status, detail, ...extra }),
    { status, headers: { 'content-type': 'application/problem+json' } },
  );
}

/** A `command-error` (the payload of jco's `ComponentError`) as problem+json, as docs/http-api.md maps it. */
function commandProblem(error) {
  const { tag, val } = error;
  switch (tag) {
    case 'validation':
      return problem(400, 'validation', 'Invalid request', `invalid ${val.field}: ${val.reason}`, { field: val.field });
    case 'invalid-transition':
      return problem(409, 'invalid-transition', 'Not allowed in this state',
        `${val.command} is not allowed while the ${val.entity} is ${val.state}`,
        { state: val.state, command: val.command, entity: val.entity });
    case 'not-found':
      return problem(404, 'not-found', 'Not found', `no ${val.entity} ${val.id}`, { entity: val.entity });
    case 'conflict':
      return problem(409, 'conflict', 'Conflict', val);
    case 'rule-violated':
      return problem(422, 'rule-violated', 'Rule violated', val.reason ?? JSON.stringify(toWire(val)), toWire(val));
    case 'external':
      return val.tag === 'permanent'
        ? problem(502, 'external-permanent', 'External refusal', val.val)
        : problem(503, 'external-transient', 'External context unavailable', val.val);
    case 'storage':
      return problem(503, 'storage', 'Storage unavailable', val);
    default:
      return problem(500, 'internal', 'Internal error', `unexpected error ${tag}`);
  }
}

/** Runs one call of the component, mapping its typed errors and bad input to answers. */
async function answer(run, ok) {
  try {
    return ok(await run());
  } catch (e) {
    if (e instanceof FieldError) return problem(400, 'validation', 'Invalid request', e.message, { field: e.field });
    if (e?.payload?.tag) return commandProblem(e.payload);
    // jco refuses a value that does not fit the WIT type before calling in.
    if (e instanceof TypeError || e instanceof RangeError) {
      return problem(400, 'validation', 'Invalid request', `the body does not fit the command: ${e.message}`, { field: 'body' });
    }
    console.error('component call failed', e);
    return problem(500, 'internal', 'Internal error', 'the component failed; see the log');
  }
}

async function readJson(request) {
  if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
    throw new HttpError(problem(415, 'unsupported-media-type', 'Unsupported media type', 'send application/json'));
  }
  const text = await request.text();
  try {
    const body = JSON.parse(text);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return { body, text };
  } catch (e) {
    throw new HttpError(problem(400, 'validation', 'Invalid request', `the body is not a JSON object: ${e.message}`, { field: 'body' }));
  }
}

class HttpError extends Error {
  constructor(response) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}

/**
 * A saga report in the HTTP API's shape: the outcome's case is `kind`,
 * beside its fields (`{"kind": "compensated", "failed_step", "reason"}`).
 */
function sagaJson(report) {
  const wire = toApi(report);
  const outcome = report.outcome;
  if (outcome) {
    wire.outcome = outcome.tag === 'completed'
      ? { kind: 'completed', output: toApi(outcome.val) }
      : { kind: outcome.tag, ...toApi(outcome.val) };
  }
  return wire;
}

// ----- webhook signatures (docs/http-api.md#signing) ----------------------

async function verifySignature(secret, header, raw, nowMs) {
  const parts = Object.groupBy((header ?? '').split(',').map((p) => p.trim().split('=')), ([k]) => k);
  const t = Number(parts.t?.[0]?.[1]);
  const signatures = (parts.v1 ?? []).map(([, v]) => v).filter((v) => /^[0-9a-f]{64}$/.test(v));
  if (!Number.isSafeInteger(t) || signatures.length === 0) return false;
  if (Math.abs(nowMs / 1000 - t) > 300) return false;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const data = new TextEncoder().encode(`${t}.${raw}`);
  for (const hex of signatures) {
    const bytes = new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
    if (await crypto.subtle.verify('HMAC', key, bytes, data)) return true;
  }
  return false;
}

/** Carrier event types and the `inbound` export each goes to. */
const CARRIER_EVENTS = {
  'shipment-created-by-carrier': 'onShipmentCreatedByCarrier',
  'shipment-picked-up': 'onShipmentPickedUp',
  'shipment-in-transit': 'onShipmentInTransit',
  'shipment-out-for-delivery': 'onShipmentOutForDelivery',
  'shipment-delivered-by-carrier': 'onShipmentDeliveredByCarrier',
  'shipment-delivery-failed': 'onShipmentDeliveryFailed',
  'shipment-cancelled': 'onShipmentCancelled',
};

// ----- the Durable Object -------------------------------------------------

export class OrderStore extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.store = new DurableEventStore(ctx.storage, () => BigInt(Date.now()));
    this.imports = {
      ...WASI,
      'oms:order-management/event-store': this.store.imports(),
      'oms:order-management/policy': policyImports(env),
      ...httpBackends({ baseUrl: env.BACKEND_URL, timeoutMs: Number(env.BACKEND_TIMEOUT_MS ?? 10_000) }),
    };
  }

  /** A fresh instance of the component. */
  async component() {
    return instantiate((name) => cores[name], this.imports);
  }

  async fetch(request) {
    try {
      const response = await this.route(request);
      await this.schedule();
      return response;
    } catch (e) {
      if (e instanceof HttpError) return e.response;
      throw e;
    }
  }

  async route(request) {
    const url = new URL(request.url);
    const path = url.pathname.split('/').filter(Boolean);
    const method = request.method;
    const oms = () => this.component();
    if (method === 'POST' && path.length === 1 && path[0] === 'orders') {
      const { body } = await readJson(request);
      return answer(async () => (await oms()).orders.placeOrder(fromApi(body)), (order) =>
        json(201, toApi(order), { location: `/orders/${order.orderId}` }));
    }
    if (path[0] === 'orders' && path.length >= 2) {
      const orderId = decodeURIComponent(path[1]);
      if (method === 'GET' && path.length === 2) {
        return answer(async () => (await oms()).queries.getOrder(orderId), (o) => json(200, toApi(o)));
      }
      if (method === 'GET' && path.length === 3 && path[2] === 'saga') {
        return answer(async () => (await oms()).fulfillmentSaga.status(orderId), (r) => json(200, sagaJson(r)));
      }
      if (method === 'POST' && path.length === 4 && path[2] === 'saga' && path[3] === 'retry') {
        // "Retry now": forgets this object's hold-back of the saga and calls
        // `retry-now`, which ends the saga's own back-off and advances it.
        const { body } = await readJson(request);
        this.store.release(orderId);
        return answer(
          async () => (await oms()).fulfillmentSaga.retryNow(orderId, String(body.requested_by ?? '')),
          (r) => json(200, sagaJson(r)),
        );
      }
      if (method === 'GET' && path.length === 3 && path[2] === 'events') {
        return answer(async () => (await oms()).queries.orderHistory(orderId), (h) =>
          json(200, h.map((e) => ({ ...toApi(e), payload: apiTimes(JSON.parse(e.payload)) }))));
      }
      if (method === 'GET' && path.length === 3 && path[2] === 'shipments') {
        return answer(async () => (await oms()).queries.shipmentsOfOrder(orderId), (s) => json(200, toApi(s)));
      }
      if (method === 'POST' && path.length === 3 && path[2] === 'cancel') {
        const { body } = await readJson(request);
        return answer(
          async () => (await oms()).orders.cancelOrder(fromApi({ ...body, order_id: orderId })),
          (o) => json(200, toApi(o)),
        );
      }
    }
    if (method === 'GET' && path[0] === 'shipments' && path.length === 2) {
      return answer(async () => (await oms()).queries.getShipment(decodeURIComponent(path[1])), (s) => json(200, toApi(s)));
    }
    if (method === 'POST' && path[0] === 'webhooks' && path[1] === 'carrier' && path.length === 2) {
      return this.carrierWebhook(request);
    }
    return problem(404, 'no-such-route', 'No such route', `${method} ${url.pathname}`);
  }

  async carrierWebhook(request) {
    if (!this.env.WEBHOOK_SECRET) {
      return problem(503, 'webhooks-disabled', 'Webhooks disabled', 'no webhook secret is configured');
    }
    const raw = await request.text();
    if (!(await verifySignature(this.env.WEBHOOK_SECRET, request.headers.get('order-signature'), raw, Date.now()))) {
      return problem(401, 'unauthorized', 'Unauthorized', 'the signature is missing, wrong or out of its time window');
    }
    let envelope;
    try {
      envelope = JSON.parse(raw);
    } catch {
      return problem(400, 'validation', 'Invalid request', 'the body is not JSON', { field: 'body' });
    }
    const { id, type, data } = envelope ?? {};
    if (typeof id !== 'string' || id.length < 1 || id.length > 200) {
      return problem(400, 'validation', 'Invalid request', 'invalid id: 1..=200 characters', { field: 'id' });
    }
    const exported = CARRIER_EVENTS[type];
    if (!exported) return problem(400, 'validation', 'Invalid request', `invalid type: not a carrier event: ${type}`, { field: 'type' });
    if (this.store.seenWebhook('carrier', id)) return json(200, { status: 'duplicate', id });
    return answer(
      async () => {
        const outcome = await (await this.component()).inbound[exported](fromApi(data ?? {}, 'data'));
        this.store.rememberWebhook('carrier', id);
        return outcome;
      },
      (outcome) => json(200, { status: outcome, id }),
    );
  }

  // ----- the saga driver --------------------------------------------------

  /** Sets the alarm to the earliest due timer (or the end of a hold). */
  async schedule() {
    const at = this.store.nextWake();
    if (at === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }

  /**
   * Advances every due saga (at most SAGAS_PER_ALARM per alarm). The stored
   * timer is the truth: after `advance` the component has moved or removed
   * it in its own write. A failing advance (a trap, storage unavailable)
   * holds that saga back, 1 s doubling to 5 min, so it cannot loop hot.
   */
  async alarm() {
    const now = Date.now();
    for (const sagaId of this.store.dueSagas(now, SAGAS_PER_ALARM)) {
      try {
        await (await this.component()).fulfillmentSaga.advance(sagaId);
        this.store.release(sagaId);
      } catch (e) {
        const delay = this.store.holdBack(sagaId, Date.now());
        console.error(`advance of saga ${sagaId} failed; held back ${delay} ms`, e?.payload ?? e);
      }
    }
    const at = this.store.nextWake();
    if (at !== undefined) await this.ctx.storage.setAlarm(Math.max(at, Date.now()));
  }
}

export default {
  /** Every route goes to the one `OrderStore` of this shop. */
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return json(200, { status: 'ok', version: '0.1.0' });
    const store = env.ORDER_STORE.get(env.ORDER_STORE.idFromName('orders'));
    return store.fetch(request);
  },
};
