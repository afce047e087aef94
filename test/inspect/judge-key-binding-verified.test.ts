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
