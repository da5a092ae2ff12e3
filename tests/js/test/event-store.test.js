// Proves that the JavaScript event store keeps the `event-store` contract the
// component relies on: a batch is checked whole before anything is written,
// so one stale expected version writes none of its streams, tags or timers;
// versions count from 1; tags list streams in first-tagged order.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ImportError, ManualClock, MemoryEventStore } from '../lib/host.js';

const event = (eventType) => ({ eventType, payload: '{}' });

test('a batch with one stale expected version writes nothing', () => {
  const store = new MemoryEventStore(new ManualClock());
  const es = store.imports();
  es.append({
    streams: [{ streamId: 'order-1', expectedVersion: 0n, tags: ['customer-a'], events: [event('order-placed')] }],
    timers: [{ sagaId: '1', dueAt: 5n }],
  });

  assert.throws(
    () =>
      es.append({
        streams: [
          { streamId: 'order-2', expectedVersion: 0n, tags: ['customer-a'], events: [event('order-placed')] },
          { streamId: 'order-1', expectedVersion: 0n, tags: [], events: [event('payment-confirmed')] },
        ],
        timers: [{ sagaId: '1', dueAt: undefined }],
      }),
    (e) =>
      e instanceof ImportError &&
      e.payload.tag === 'conflict' &&
      e.payload.val.streamId === 'order-1' &&
      e.payload.val.expected === 0n &&
      e.payload.val.actual === 1n,
  );
  assert.equal(es.streamVersion('order-2'), 0n, 'the first stream of the batch was not written');
  assert.deepEqual(es.findStreams('customer-a'), ['order-1'], 'its tag was not added');
  assert.equal(store.timers.get('1'), 5n, 'the timer was not cleared');
});

test('versions count from 1 and tags keep their first order', () => {
  const store = new MemoryEventStore(new ManualClock());
  const es = store.imports();
  es.append({
    streams: [{ streamId: 'order-2', expectedVersion: 0n, tags: ['customer-a'], events: [event('a'), event('b')] }],
    timers: [],
  });
  es.append({
    streams: [
      { streamId: 'order-1', expectedVersion: 0n, tags: ['customer-a'], events: [event('c')] },
      { streamId: 'order-2', expectedVersion: 2n, tags: ['customer-a'], events: [] },
    ],
    timers: [],
  });
  assert.deepEqual(es.load('order-2').map((e) => [e.version, e.eventType]), [[1n, 'a'], [2n, 'b']]);
  assert.deepEqual(es.findStreams('customer-a'), ['order-2', 'order-1']);
  assert.deepEqual(es.load('nothing'), []);
  assert.throws(() => es.load(''), (e) => e.payload?.tag === 'invalid');
});
