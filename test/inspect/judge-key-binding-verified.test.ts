import { expect, it } from 'vitest';
import { Detection } from '../../src/inspect/detection.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

const S = `0x${'ab'.repeat(32)}`;

// Issue 14 row 5: a session binds to a key only after the router accepted a request on it.
it('an unverified request (refused by the router) never binds the session, so it locks nobody out', () => {
  const detection = new Detection({ store: new MemoryDetectionStore(), sessionScope: 'key' });
  const attacker = detection.begin({ requestId: 'evil', sessionId: S, keyFingerprint: 'key-mallory' });
  expect(attacker.checkRequest()).toEqual([]);
  attacker.onStatus(401);
  attacker.finish();

  const owner = detection.begin({ requestId: 'own-1', sessionId: S, keyFingerprint: 'key-alice' });
  expect(owner.checkRequest()).toEqual([]);
  owner.onStatus(200);
  owner.finish();

  const again = detection.begin({ requestId: 'own-2', sessionId: S.toUpperCase().replace('0X', '0x'), keyFingerprint: 'key-alice' });
  expect(again.checkRequest()).toEqual([]);
  const other = detection.begin({ requestId: 'other', sessionId: S, keyFingerprint: 'key-bob' });
  expect(other.checkRequest()).toEqual([
    { reason: 'session_key_conflict', evidence: { expected: 'key-alice', seen: 'key-bob', session: S } },
  ]);
});

it('pooled sessions (scope shared) never raise session_key_conflict', () => {
  const detection = new Detection({ store: new MemoryDetectionStore(), sessionScope: 'shared' });
  const a = detection.begin({ requestId: 'a', sessionId: S, keyFingerprint: 'k1' });
  a.onStatus(200);
  expect(detection.begin({ requestId: 'b', sessionId: S, keyFingerprint: 'k2' }).checkRequest()).toEqual([]);
});

it('the body read later gives the judge its shape and, when present, its model (first call wins)', () => {
  const detection = new Detection({ store: new MemoryDetectionStore() });
  const j = detection.begin({ requestId: 'late-body' });
  j.setRequestBody({ model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }, 1000);
  j.setRequestBody({ model: 'other', messages: [] }, 2000);
  expect(j.facts.shape).toEqual({
    promptChars: 2,
    messages: 1,
    maxTokens: 5,
    n: 1,
    toolsOffered: false,
    logprobsAsked: false,
    arrivedAt: 1000,
  });
  expect(j.facts.requestModel).toBe('llama-3.3-70b');
  expect(j.onChunk({ error: false, model: 'qwen3-235b' }).map((f) => f.reason)).toEqual(['model_mismatch']);
});
