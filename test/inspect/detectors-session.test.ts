import { describe, expect, it } from 'vitest';
import { checkSessionEcho, checkSessionKey } from '../../src/inspect/detectors.js';

const S1 = `0x${'a'.repeat(64)}`;
const S2 = `0x${'b'.repeat(64)}`;

describe('session_mismatch rule', () => {
  it('accepts the same session in any hex case', () => {
    expect(checkSessionEcho(S1, S1.toUpperCase().replace('0X', '0x'))).toBeUndefined();
  });

  it('says nothing without an echo or without a request session', () => {
    expect(checkSessionEcho(S1, undefined)).toBeUndefined();
    expect(checkSessionEcho(S1, '')).toBeUndefined();
    expect(checkSessionEcho(undefined, S2)).toBeUndefined();
  });

  it('raises session_mismatch for another session', () => {
    expect(checkSessionEcho(S1, S2, 'chunk')).toEqual({
      reason: 'session_mismatch',
      evidence: { expected: S1, seen: S2, source: 'chunk' },
    });
  });
});

describe('session_key_conflict rule', () => {
  it('raises when a session bound to one key is used by another', () => {
    expect(checkSessionKey(S1, 'fp-a', 'fp-b', 'key')).toEqual({
      reason: 'session_key_conflict',
      evidence: { expected: 'fp-a', seen: 'fp-b', session: S1 },
    });
  });

  it('accepts the bound key, an unbound session, and requests without key or session', () => {
    expect(checkSessionKey(S1, 'fp-a', 'fp-a', 'key')).toBeUndefined();
    expect(checkSessionKey(S1, undefined, 'fp-b', 'key')).toBeUndefined();
    expect(checkSessionKey(S1, 'fp-a', undefined, 'key')).toBeUndefined();
    expect(checkSessionKey(undefined, 'fp-a', 'fp-b', 'key')).toBeUndefined();
  });

  it('is off with --session-scope shared (pooled routed_sessions)', () => {
    expect(checkSessionKey(S1, 'fp-a', 'fp-b', 'shared')).toBeUndefined();
  });
});
