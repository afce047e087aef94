import { describe, expect, it } from 'vitest';
import { proxyParts } from '../../bench/lib/proxy-parts.js';
import { endRequest, startRequest } from '../../src/proxy/request-context.js';

/**
 * ProxyInspection keeps each chat request in flight by its judge token (for a late finding from another replica).
 * Once the request ended, what it kept must not reach the request: a hash table that map outgrew stays in the old
 * generation, still pointing at its entries, until the next full GC, and the scavenger treats it as a root (see
 * upstream-exchange-released.test.ts for the measurement). The test holds the kept record as such a table would.
 */
function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (vitest.config.ts execArgv)');
  collect();
  collect();
}

describe('ProxyInspection: a chat request that ended is not kept reachable by the in-flight index', () => {
  it('the record held for its judge token lets go of the request context at the end', async () => {
    const { deps, inspection, metrics, logger } = proxyParts('http://127.0.0.1:8082', 'test');
    const judged = (inspection as unknown as { judged: { entries: Map<number, object>; size: number } }).judged;
    const run = (): { held: object; ref: WeakRef<object> } => {
      const session = `0x${'ab'.repeat(32)}`;
      const ctx = startRequest('POST', '/v1/chat/completions', { session_id: session, 'x-session-id': session }, deps);
      inspection.start(ctx);
      expect(ctx.judge).toBeDefined();
      const held = judged.entries.get((ctx.judge as { token: number }).token);
      if (held === undefined) throw new Error('the request is not in the in-flight index');
      const endDeps = { metrics, logger, finishInspection: (c: typeof ctx) => inspection.finish(c) };
      endRequest(ctx, { status: 200, completed: true, shuttingDown: false }, endDeps);
      expect(judged.size).toBe(0);
      return { held, ref: new WeakRef(ctx) };
    };
    const { held, ref } = run();
    // A WeakRef keeps its target for the rest of the job that made it: let that job end first.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(held).toBeDefined();
    expect(ref.deref()).toBeUndefined();
  });
});
