import { expect, it } from 'vitest';
import { SessionResolver, type SessionLookup } from '../../src/inspect/session-lookup.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

const S = `0x${'cd'.repeat(32)}`;
const M = `0x${'ab'.repeat(32)}`;

it('looks a session up once for concurrent callers, caches it in the store, and keeps no credential', async () => {
  const store = new MemoryDetectionStore();
  const calls: Array<[string, string | undefined]> = [];
  let release: (v: unknown) => void = () => {};
  const lookup: SessionLookup = (session, authorization) => {
    calls.push([session, authorization]);
    return new Promise((resolve) => (release = resolve));
  };
  const resolver = new SessionResolver({ lookup, store });
  const a = resolver.resolve(S, 'Basic c2VjcmV0');
  const b = resolver.resolve(S, 'Basic c2VjcmV0');
  release({ session: { Id: S, ModelAgentId: M, Provider: `0x${'1'.repeat(40)}` } });
  expect(await a).toBe('resolved');
  expect(await b).toBe('resolved');
  expect(calls).toEqual([[S, 'Basic c2VjcmV0']]);
  expect(store.session(S)?.modelId).toBe(M);
  expect(await resolver.resolve(S, 'Basic other')).toBe('known');
  expect(JSON.stringify(store.drainWrites()) + JSON.stringify(resolver)).not.toContain('c2VjcmV0');
});

it('times out, does not retry a failure at once, and starts no more than maxInFlight look-ups', async () => {
  let now = 0;
  const store = new MemoryDetectionStore({ now: () => now });
  const lookup: SessionLookup = (_s, _a, signal) =>
    new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  const resolver = new SessionResolver({ lookup, store, timeoutMs: 5, maxInFlight: 1 });
  const first = resolver.resolve(S, undefined);
  expect(await resolver.resolve(`0x${'ee'.repeat(32)}`, undefined)).toBe('skipped');
  expect(await first).toBe('failed');
  expect(await resolver.resolve(S, undefined)).toBe('skipped');
  now += 61_000;
  const again = resolver.resolve(S, undefined);
  expect(await again).toBe('failed');
  expect(resolver.counts).toEqual({ known: 0, resolved: 0, failed: 2, skipped: 2 });
});
