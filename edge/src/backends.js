// The four external contexts as `fetch` calls to the HTTP backend contract
// of docs/backends.md: one POST per operation, the WIT request record as
// snake_case JSON, the component's idempotency key in `Idempotency-Key`.
// These imports are async (JSPI suspends the component while they await).

import { ImportError } from './store.js';
import { fromWire, toWire } from './values.js';

const CONTEXTS = {
  payment: 'the payment gateway',
  inventory: 'the inventory service',
  carrier: 'the carrier',
  customer: 'customer service',
};

/**
 * One call. Resolves to the answer record (a WIT value), or throws an
 * `ImportError` whose payload is an `external-error`:
 * - `408`, `429`, `5xx`, and `409` (a call under the same key in progress): transient;
 * - any other non-2xx, a redirect, a 2xx that is not JSON: permanent;
 * - no answer at all (connection refused or lost, time-out): in doubt,
 *   since the request may have reached the server.
 */
async function call(settings, context, operation, path, key, request, { onConflict } = {}) {
  const who = CONTEXTS[context];
  const url = `${settings.baseUrl.replace(/\/$/, '')}${path}`;
  let response;
  let text;
  try {
    response = await settings.fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': key,
        'user-agent': 'order-core-edge/0.1.0',
      },
      body: JSON.stringify(toWire(request)),
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    text = await response.text();
  } catch (e) {
    throw new ImportError({ tag: 'in-doubt', val: `${who} did not answer ${operation} (POST ${url}): ${e.message}` });
  }
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const status = response.status;
  if (status >= 200 && status < 300) {
    if (body === undefined || typeof body !== 'object') {
      throw new ImportError({ tag: 'permanent', val: `${who} answered ${operation} with an unexpected body` });
    }
    return fromWire(body);
  }
  const message = errorMessage(body) ?? `${status} ${response.statusText}`;
  if (status === 409 && onConflict && body && Array.isArray(body.unavailable_items)) {
    throw new ImportError(onConflict(body));
  }
  const transient = status === 408 || status === 429 || status === 409 || status >= 500;
  if (transient) {
    throw new ImportError({ tag: 'transient', val: `${who} answered ${operation} with ${status}: ${message}` });
  }
  throw new ImportError({ tag: 'permanent', val: `${who} refused ${operation} with ${status}: ${message}` });
}

function errorMessage(body) {
  if (!body || typeof body !== 'object') return undefined;
  if (typeof body.error === 'string') return body.error;
  if (body.error && typeof body.error.message === 'string') return body.error.message;
  return body.detail ?? body.title;
}

/** `external-error` wrapped as `allocation-error.failed`, for `allocate-stock`. */
function asAllocationError(e) {
  if (e instanceof ImportError && e.payload.tag !== 'out-of-stock') {
    return new ImportError({ tag: 'failed', val: e.payload });
  }
  return e;
}

/**
 * The imports of the four contexts, all served by `baseUrl` (their paths
 * do not overlap). `fetch` is the Worker's outbound fetch.
 */
export function httpBackends({ baseUrl, fetch = (url, init) => globalThis.fetch(url, init), timeoutMs = 10_000 }) {
  const s = { baseUrl, fetch, timeoutMs };
  return {
    'oms:order-management/payment-gateway': {
      processPayment: (key, r) => call(s, 'payment', 'process-payment', '/payments', key, r),
      refundPayment: (key, r) => call(s, 'payment', 'refund-payment', '/refunds', key, r),
    },
    'oms:order-management/inventory-service': {
      allocateStock: (key, r) =>
        call(s, 'inventory', 'allocate-stock', '/allocations', key, r, {
          onConflict: (body) => ({
            tag: 'out-of-stock',
            val: fromWire({ order_id: body.order_id, unavailable_items: body.unavailable_items, failed_at: body.failed_at }),
          }),
        }).catch((e) => {
          throw asAllocationError(e);
        }),
      releaseStock: (key, r) => call(s, 'inventory', 'release-stock', '/releases', key, r),
      restockItems: (key, r) => call(s, 'inventory', 'restock-items', '/restocks', key, r),
    },
    'oms:order-management/shipping-carrier': {
      createShipment: (key, r) => call(s, 'carrier', 'create-shipment', '/shipments', key, r),
      cancelShipment: (key, r) =>
        call(s, 'carrier', 'cancel-shipment', `/shipments/${encodeURIComponent(r.shipmentId)}/cancel`, key, r),
    },
    'oms:order-management/customer-service': {
      sendOrderConfirmation: (key, r) =>
        call(s, 'customer', 'send-order-confirmation', '/notifications/order-confirmation', key, r),
      sendOrderCancellation: (key, r) =>
        call(s, 'customer', 'send-order-cancellation', '/notifications/order-cancellation', key, r),
      sendShippingUpdate: (key, r) =>
        call(s, 'customer', 'send-shipping-update', '/notifications/shipping-update', key, r),
      createSupportTicket: (key, r) => call(s, 'customer', 'create-support-ticket', '/tickets', key, r),
    },
  };
}
