// WIT values as jco gives them to JavaScript (camelCase fields, u64 as
// BigInt, absent options as undefined) and their JSON form on the wire
// (snake_case fields, integers, null), as docs/http-api.md and
// docs/backends.md specify. The WIT types of this package carry u64 only in
// money amounts, timestamps (`*-at`, `estimated-delivery`) and versions, so
// the field name says which JSON numbers become BigInt.

const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key) => key.replace(/_([a-z0-9])/g, (_m, c) => c.toUpperCase());

/** Field names (snake_case) whose values are WIT u64. */
export function isU64Field(key) {
  return (
    key === 'amount' ||
    key.endsWith('_at') ||
    key === 'estimated_delivery' ||
    key === 'version' ||
    key === 'expected' ||
    key === 'actual'
  );
}

/** A WIT value as JSON-ready data: snake_case keys, numbers, null. */
export function toWire(value) {
  if (typeof value === 'bigint') return Number(value);
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[snake(k)] = toWire(v);
    return out;
  }
  return value;
}

/**
 * JSON data as a WIT value: camelCase keys, BigInt for u64 fields, undefined
 * for null. A u64 field that is not a non-negative integer is an error
 * naming the field.
 */
export function fromWire(value, path = '') {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map((v, i) => fromWire(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const here = path ? `${path}.${k}` : k;
      if (isU64Field(k) && v !== null && v !== undefined) {
        if (!Number.isSafeInteger(v) || v < 0) throw new FieldError(here, 'must be a non-negative integer');
        out[camel(k)] = BigInt(v);
      } else {
        out[camel(k)] = fromWire(v, here);
      }
    }
    return out;
  }
  return value;
}

/** Field names (snake_case) whose values are WIT timestamps. */
export function isTimeField(key) {
  return key.endsWith('_at') || key === 'estimated_delivery' || key === 'timestamp';
}

/** RFC 3339 with a `Z` or an offset (what the order API accepts). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** `data` (JSON) with the times in milliseconds written as RFC 3339 in UTC with milliseconds. */
export function apiTimes(data) {
  if (Array.isArray(data)) return data.map(apiTimes);
  if (data !== null && typeof data === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(data)) {
      out[k] = isTimeField(k) && Number.isSafeInteger(v) && v >= 0 ? new Date(v).toISOString() : apiTimes(v);
    }
    return out;
  }
  return data;
}

/** A WIT value as the order API writes it: `toWire`, with RFC 3339 times. */
export function toApi(value) {
  return apiTimes(toWire(value));
}

/** Request JSON of the order API with its RFC 3339 times as milliseconds (for `fromWire`). */
function apiMillis(data, path) {
  if (Array.isArray(data)) return data.map((v, i) => apiMillis(v, `${path}[${i}]`));
  if (data !== null && typeof data === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(data)) {
      const here = path ? `${path}.${k}` : k;
      if (isTimeField(k) && v !== null && v !== undefined) {
        const ms = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : NaN;
        if (!Number.isSafeInteger(ms) || ms < 0) {
          throw new FieldError(here, 'must be an RFC 3339 time from 1970 on, such as 2026-12-01T14:52:00Z');
        }
        out[k] = ms;
      } else {
        out[k] = apiMillis(v, here);
      }
    }
    return out;
  }
  return data;
}

/** Request JSON of the order API as a WIT value (`fromWire` after its times are read). */
export function fromApi(value, path = '') {
  return fromWire(apiMillis(value, path), path);
}

/** A request field that cannot be read. */
export class FieldError extends Error {
  constructor(field, reason) {
    super(`invalid ${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

/** JSON text of a WIT value (snake_case, integers). */
export function wireJson(value) {
  return JSON.stringify(toWire(value));
}
