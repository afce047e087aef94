import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';

const S1 = `0x${'e'.repeat(64)}`;

describe('one session used by two API keys', () => {
  it('raises session_key_conflict at request start (scope key)', () => {
    const ctx = new InspectorContext();
    const first = new ResponseInspector(ctx, { requestId: 'r1', sessionId: S1, keyFingerprint: 'fp-a', stream: true });
    expect(first.checkRequest()).toBeUndefined();
    const raised: Finding[] = [];
    const second = new ResponseInspector(
      ctx,
      { requestId: 'r2', sessionId: S1, keyFingerprint: 'fp-b', stream: true },
      (f) => raised.push(f),
    );
    const finding = second.checkRequest();
    expect(finding).toEqual({
      reason: 'session_key_conflict',
      evidence: { expected: 'fp-a', seen: 'fp-b', session: S1 },
    });
    expect(raised).toEqual([finding]);
    // The conflicting key does not take the session over.
    expect(ctx.sessionKeys.get(S1)).toBe('fp-a');
  });

  it('accepts the same key on the same session, and any key with --session-scope shared', () => {
    const ctx = new InspectorContext();
    for (const key of ['fp-a', 'fp-a']) {
      const facts = { requestId: key, sessionId: S1, keyFingerprint: key, stream: true };
      expect(new ResponseInspector(ctx, facts).checkRequest()).toBeUndefined();
    }
    const shared = new InspectorContext({ sessionScope: 'shared' });
    for (const key of ['fp-a', 'fp-b']) {
      const facts = { requestId: key, sessionId: S1, keyFingerprint: key, stream: true };
      expect(new ResponseInspector(shared, facts).checkRequest()).toBeUndefined();
    }
  });

  it('counts other requests in flight with the same key and session', () => {
    const ctx = new InspectorContext();
    const a = new ResponseInspector(ctx, { requestId: 'a', sessionId: S1, keyFingerprint: 'fp-a', stream: true });
    const b = new ResponseInspector(ctx, { requestId: 'b', sessionId: S1, keyFingerprint: 'fp-a', stream: true });
    a.finish();
    const c = new ResponseInspector(ctx, { requestId: 'c', sessionId: S1.toUpperCase().replace('0X', '0x'), keyFingerprint: 'fp-a', stream: true });
    expect([a.inflight, b.inflight, c.finish().inflight]).toEqual([
      { apiKey: 0, session: 0 },
      { apiKey: 1, session: 1 },
      { apiKey: 1, session: 1 },
    ]);
  });
});
