import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { HEADER_EXCHANGE_TOKEN, type UpstreamPool } from '../../src/proxy/upstream-pool.js';
import { poolWithUpstream } from '../helpers/pool-upstream.js';

/**
 * The upstream pool's bookkeeping (upstream-pool.ts) under both handler APIs undici may hand it: the callback API
 * (what undici's request(), and so reply-from, uses) and the controller API. A response whose `x-request-id` names
 * another request retires its connection (undici's `reset` flag on the socket: the next request opens a new one);
 * the internal exchange token never leaves the process; a token whose caller already left is never sent.
 */
async function upstream() {
  const seen: { token: string | undefined; socket: number }[] = [];
  const sockets = new Map<unknown, number>();
  const pool = await poolWithUpstream((req, res) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size);
    seen.push({ token: req.headers[HEADER_EXCHANGE_TOKEN] as string | undefined, socket: sockets.get(req.socket) as number });
    // Echo what was sent, except for a request that asks for a foreign echo.
    const sent = req.headers['x-request-id'] as string;
    res.writeHead(200, { 'x-request-id': sent.startsWith('foreign') ? 'someone-else' : sent, 'content-type': 'text/plain' });
    res.end('ok');
  });
  return { pool, seen };
}

/** One request through the controller API; resolves with its status, or rejects with its error. */
function viaController(pool: UpstreamPool, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseStart: (_c, statusCode) => {
        status = statusCode;
      },
      onResponseData: () => undefined,
      onResponseEnd: () => resolve(status),
      onResponseError: (_c, err) => reject(err),
    };
    pool.dispatcher.dispatch({ origin: undefined as never, path: '/', method: 'GET', headers }, handler);
  });
}

async function viaCallbacks(pool: UpstreamPool, headers: Record<string, string>): Promise<number> {
  const res = await pool.dispatcher.request({ path: '/', method: 'GET', headers });
  await res.body.text();
  return res.statusCode;
}

describe('upstream pool: retire, token, stale exchange — both handler APIs', () => {
  for (const [api, send] of [
    ['callback', viaCallbacks],
    ['controller', viaController],
  ] as const) {
    it(`${api} API: a foreign echo retires the connection; the token never reaches the upstream`, async () => {
      const { pool, seen } = await upstream();
      expect(await send(pool, { 'x-request-id': 'mine-1', [HEADER_EXCHANGE_TOKEN]: pool.open() })).toBe(200);
      expect(await send(pool, { 'x-request-id': 'mine-2', [HEADER_EXCHANGE_TOKEN]: pool.open() })).toBe(200);
      expect(pool.retiredConnections).toBe(0);
      expect(await send(pool, { 'x-request-id': 'foreign-3', [HEADER_EXCHANGE_TOKEN]: pool.open() })).toBe(200);
      expect(pool.retiredConnections).toBe(1);
      for (let n = 4; n < 10; n++) expect(await send(pool, { 'x-request-id': `mine-${n}`, [HEADER_EXCHANGE_TOKEN]: pool.open() })).toBe(200);
      // The connection that carried the foreign echo carried nothing after it; the others are kept alive and reused.
      const retired = (seen[2] as { socket: number }).socket;
      expect(seen.slice(3).map((s) => s.socket)).not.toContain(retired);
      expect(new Set(seen.slice(3).map((s) => s.socket)).size).toBeLessThan(7);
      expect(seen.every((s) => s.token === undefined)).toBe(true);
    });

    it(`${api} API: an exchange whose caller already left is never sent upstream`, async () => {
      const { pool, seen } = await upstream();
      const token = pool.open();
      pool.cancel(token);
      await expect(send(pool, { 'x-request-id': 'late', [HEADER_EXCHANGE_TOKEN]: token })).rejects.toThrow();
      expect(seen).toEqual([]);
      expect(pool.openExchanges).toBe(0);
    });
  }
});
