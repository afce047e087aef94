import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { HEADER_EXCHANGE_TOKEN, type UpstreamPool } from '../../src/proxy/upstream-pool.js';
import { poolWithUpstream } from '../helpers/pool-upstream.js';

/**
 * An exchange the pool has let go of must not keep its request reachable. Deleting it from the pool's map is not
 * enough: a hash table the map outgrew stays in the old generation, still pointing at the entry, until the next
 * full GC, and every scavenge before then treats it as a root, so each request's whole object graph (handler,
 * reply, response) was promoted (`--trace-gc-nvp` in the gateway-15tok bench: ~2.2 MB per scavenge, scavenges of
 * 12-14 ms against 3-4 ms; src/proxy/in-flight-index.ts). The test holds what the pool's index stored as such a
 * table would, and asks whether the request's handler can still be collected.
 */
function upstream(): Promise<UpstreamPool> {
  return poolWithUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
}

/** What the pool's index keeps for `token`, held strongly from outside (what an outgrown table does). */
function holdRecord(pool: UpstreamPool, token: string): object {
  const index = (pool as unknown as { exchanges: { entries: Map<string, object> } }).exchanges;
  const record = index.entries.get(token);
  if (record === undefined) throw new Error(`no exchange for ${token}`);
  return record;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (vitest.config.ts execArgv)');
  collect();
  collect();
}

/** One request whose handler carries a marker; resolves, once the response ended, with a weak ref to the marker. */
function exchange(pool: UpstreamPool, token: string, api: 'callback' | 'controller'): Promise<WeakRef<object>> {
  return new Promise((resolve, reject) => {
    const marker = { bytes: Buffer.alloc(1024) };
    const ref = new WeakRef(marker);
    const headers = { [HEADER_EXCHANGE_TOKEN]: token, 'x-request-id': `req-${token}` };
    const handler: Dispatcher.DispatchHandler =
      api === 'controller'
        ? {
            onRequestStart: () => void marker,
            onResponseStart: () => undefined,
            onResponseData: () => undefined,
            onResponseEnd: () => setImmediate(() => resolve(ref)),
            onResponseError: (_c, err) => reject(err),
          }
        : {
            onConnect: () => void marker,
            onHeaders: () => true,
            onData: () => true,
            onComplete: () => setImmediate(() => resolve(ref)),
            onError: (err) => reject(err),
          };
    pool.dispatcher.dispatch({ origin: undefined as never, path: '/', method: 'GET', headers }, handler);
  });
}

describe('upstream pool: an exchange it let go of keeps nothing of its request', () => {
  for (const api of ['callback', 'controller'] as const) {
    for (const end of ['release', 'cancel'] as const) {
      it(`${api} API, ${end}: the request's handler is collectable while the record is still held`, async () => {
        const pool = await upstream();
        const token = pool.open();
        const record = holdRecord(pool, token);
        const marker = await exchange(pool, token, api);
        // The request's end, as request-hooks' finish does it (cancel after the response started is a no-op abort).
        if (end === 'cancel') pool.cancel(token);
        pool.release(token);
        expect(pool.openExchanges).toBe(0);
        gc();
        expect(record).toBeDefined();
        expect(marker.deref()).toBeUndefined();
      });
    }
  }
});
