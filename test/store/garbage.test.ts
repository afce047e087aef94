import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, validateWrite } from '../../src/store/records.js';
import { REDIS_URL, describeRedis, replica, runStream, session, sync, uniquePrefix, type Replica } from './harness.js';

describe('remote records are validated field by field', () => {
  it('never throws on arbitrary values, and keeps only the known fields of a valid record', () => {
    const junk: unknown[] = [null, 1, 'x', [], {}, { op: 'nope' }, { op: 'delivered', ids: 'a' }, { op: 'delivered', ids: [1], owner: {} },
      { op: 'session', session: 's', binding: { source: 'evil' } }, { op: 'id_habit', upstream: 'u', observation: { drifted: 'yes' } },
      { op: 'live', ids: ['x'.repeat(10_000)], owner: { requestId: 'r' } }, { op: 'name_vote', modelId: 'm', name: 'n', vote: null },
      { op: 'bid', bidId: 'b', modelId: 7 }, { op: 'delivered', ids: new Array(5000).fill('i'), owner: { requestId: 'r' } },
      // A span reference that is not `<32 hex>-<16 hex>` (it would become a span link on the reading replica).
      { op: 'live', ids: ['c'], owner: { requestId: 'r', trace: 'x'.repeat(49) } }, { op: 'live', ids: ['c'], owner: { requestId: 'r', trace: 7 } },
      { op: 'live', ids: ['c'], owner: { requestId: 'r', trace: `${'a'.repeat(32)}-${'b'.repeat(16)}\n` } }];
    for (const j of junk) expect(validateWrite(j)).toBeUndefined();
    expect(validateWrite({ op: 'delivered', ids: ['c1'], owner: { requestId: 'r', key: 'k', __proto__x: 1, extra: 'x' } })).toEqual({
      op: 'delivered',
      ids: ['c1'],
      owner: { requestId: 'r', key: 'k' },
    });
    const trace = `${'0af7651916cd43dd8448eb211c80319c'}-${'b7ad6b7169203331'}`;
    expect(validateWrite({ op: 'live', ids: ['c1'], owner: { requestId: 'r', trace } })).toEqual({ op: 'live', ids: ['c1'], owner: { requestId: 'r', trace } });
    for (const fields of [null, 'x', ['v', '2', 'r', 'a', 'w', '[]'], ['v', '1', 'r', 'a', 'w', '{'], ['v', '1', 'r', 'a', 'w', '{}'], ['v', '1', 'w', '[]']]) {
      expect(decodeBatch(fields)).toEqual({ rejected: 1 });
    }
    const mixed = decodeBatch(encodeBatch({ replica: 'r2', writes: [{ op: 'bid', bidId: 'b', modelId: 'm' }, 5 as never] }));
    expect(mixed).toEqual({ batch: { replica: 'r2', writes: [{ op: 'bid', bidId: 'b', modelId: 'm' }] }, rejected: 1 });
  });
});

describeRedis('a Redis that answers garbage is never a crash', () => {
  let raw: Redis;
  let prefix: string;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    raw = new Redis(REDIS_URL as string);
    prefix = uniquePrefix();
    // Garbage left behind before the replicas start: read at bootstrap.
    await raw.set(`${prefix}s:${session(1)}`, '{not json');
    await raw.set(`${prefix}s:${session(2)}`, JSON.stringify({ modelId: 42 }));
    await raw.set(`${prefix}b:0xbid`, JSON.stringify({ op: 'bid', bidId: '0xbid', modelId: '0xmodel' }));
    a = replica('replica-a', prefix);
    b = replica('replica-b', prefix);
    await Promise.all([a.sync.whenUp(), b.sync.whenUp()]);
  });

  afterAll(async () => {
    await Promise.all([a?.sync.close(), b?.sync.close()]);
    raw?.disconnect();
  });

  it('garbage entries on the stream are counted and skipped; the valid records around them are applied', async () => {
    const key = `${prefix}writes`;
    await raw.xadd(key, '*', 'v', '1', 'r', 'intruder', 'w', '{"op":');
    await raw.xadd(key, '*', 'junk', 'only');
    await raw.xadd(key, '*', 'v', '9', 'r', 'intruder', 'w', '[]');
    await raw.xadd(key, '*', 'v', '1', 'r', 'intruder', 'w', JSON.stringify([{ op: 'delivered', ids: [null] }, { op: 'session', session: session(3), binding: { key: 'k' } }]));
    expect(runStream(a, { requestId: 'ok-a', session: session(4), key: 'k4', id: 'chatcmpl-ok-77aa' })).toEqual([]);
    await sync(a, b);
    // 4 bad stream records, and 2 bad session keys read at bootstrap (which runs before b's first read).
    expect(b.sync.stats().rejectedRecords).toBe(6);
    expect(b.store.session(session(3))).toEqual({ key: 'k' });
    expect(b.store.deliveredOwner('chatcmpl-ok-77aa')?.requestId).toBe('ok-a');
    // Bootstrap kept the valid bid and dropped the two bad session keys.
    expect(b.store.bid('0xbid')).toEqual({ modelId: '0xmodel' });
    expect(b.store.session(session(1))).toBeUndefined();
    expect(b.store.session(session(2))).toBeUndefined();
  });

  it('the stream key holding another type: writes and reads fail, are counted, detection goes on; sharing returns once it is fixed', async () => {
    const key = `${prefix}writes`;
    await raw.del(key);
    await raw.set(key, 'not a stream');
    const errorsBefore = a.sync.stats().errors;
    expect(runStream(a, { requestId: 'wt-a', session: session(5), key: 'k5', id: 'chatcmpl-wt-1b1b' })).toEqual([]);
    expect(await a.sync.flush()).toBeUndefined();
    expect(a.sync.stats().errors).toBeGreaterThan(errorsBefore);
    expect(a.sync.stats().queued).toBeGreaterThan(0);
    await raw.del(key);
    await sync(a, b);
    expect(b.store.deliveredOwner('chatcmpl-wt-1b1b')?.requestId).toBe('wt-a');
  });
});
