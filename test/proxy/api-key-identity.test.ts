import { describe, expect, it } from 'vitest';
import { ApiKeyIdentifier, extractApiKey, fingerprintKey, identifyApiKey } from '../../src/proxy/api-key.js';

const KEY = 'sk-AbC123.' + '0f'.repeat(32);

describe('API key identity', () => {
  it('keeps only the public prefix and a 16-hex HMAC fingerprint', () => {
    const id = identifyApiKey(KEY, 's1');
    expect(id).toEqual({ prefix: 'sk-AbC123', fingerprint: fingerprintKey(KEY, 's1') });
    expect(id.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(identifyApiKey(KEY, 's2').fingerprint).not.toBe(id.fingerprint);
    expect(identifyApiKey('not-a-gateway-key', 's1')).toEqual({ fingerprint: fingerprintKey('not-a-gateway-key', 's1') });
    expect(JSON.stringify(id)).not.toContain(KEY.slice(10));
  });

  it('finds the key in the configured header first, then in a Bearer sk- authorization, never in Basic', () => {
    expect(extractApiKey({ 'x-api-key': KEY }, 'x-api-key')).toBe(KEY);
    expect(extractApiKey({ 'x-api-key': `Bearer ${KEY}` }, 'x-api-key')).toBe(KEY);
    expect(extractApiKey({ authorization: `Bearer ${KEY}` }, 'x-api-key')).toBe(KEY);
    expect(extractApiKey({ authorization: 'Bearer eyJhbGciOi.x.y' }, 'x-api-key')).toBeUndefined();
    expect(extractApiKey({ authorization: 'Basic YWRtaW46cHc=' }, 'x-api-key')).toBeUndefined();
    expect(extractApiKey({ 'x-gw-key': KEY, authorization: 'Bearer sk-Other1.aa' }, 'x-gw-key')).toBe(KEY);
  });

  it('keeps no raw key: the identifier holds only its secret, whatever it has identified (issue 14 row 15)', () => {
    const identifier = new ApiKeyIdentifier('s1');
    const keys = Array.from({ length: 100 }, (_, i) => `sk-Key${String(i).padStart(3, '0')}.${'a'.repeat(64)}`);
    for (const key of keys) expect(identifier.identify(key)).toEqual(identifyApiKey(key, 's1'));
    // Everything reachable from the identifier, serialised: no key (nor its secret part) is in it.
    const held = JSON.stringify(identifier, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v));
    for (const key of keys) expect(held).not.toContain(key.slice(3));
    expect(Object.values(identifier)).toEqual(['s1']);
  });
});
