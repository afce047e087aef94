import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ApiKeyIdentifier, fingerprintKey } from '../../src/proxy/api-key.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { MODES } from './fault-kit.js';

/**
 * Issue 14 row 15: the key-fingerprint cache kept up to 4,096 raw API keys as map keys for the life of the process.
 * Must: no raw key retained after the request (cache by a keyed hash, or no cache). Shown without a heap snapshot:
 * after 300 requests with distinct keys (Bearer and the key header, chat and other routes), a walk of everything
 * reachable from the proxy object — maps' keys and values, sets, arrays, own and symbol properties, closures'
 * bound objects excluded — finds no string containing any key's secret part.
 */

/** Every string reachable from `root` (Map keys too); Buffers and typed arrays are skipped. */
function reachableStrings(root: unknown, limit = 3_000_000): { strings: Set<string>; visited: number } {
  const strings = new Set<string>();
  const seen = new WeakSet<object>();
  const stack: unknown[] = [root];
  let visited = 0;
  while (stack.length > 0 && visited < limit) {
    const v = stack.pop();
    if (typeof v === 'string') {
      strings.add(v);
      continue;
    }
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) continue;
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    visited++;
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) continue;
    if (o instanceof Map) {
      for (const [k, val] of o) stack.push(k, val);
    } else if (o instanceof Set) {
      for (const val of o) stack.push(val);
    }
    let names: (string | symbol)[];
    try {
      names = Reflect.ownKeys(o);
    } catch {
      continue;
    }
    for (const name of names) {
      if (typeof name === 'string') strings.add(name);
      const desc = Object.getOwnPropertyDescriptor(o, name);
      if (desc && 'value' in desc) stack.push(desc.value);
    }
    stack.push(Object.getPrototypeOf(o));
  }
  return { strings, visited };
}

describe('no raw API key is retained after its request (issue 14 row 15)', () => {
  it('ApiKeyIdentifier holds its secret and nothing else, however many keys it identified', () => {
    const identifier = new ApiKeyIdentifier('s');
    for (let i = 0; i < 5_000; i++) identifier.identify(`sk-Abc${String(i).padStart(3, '0').slice(-3)}.${i.toString(16).padStart(64, 'e')}`);
    const { strings } = reachableStrings(identifier);
    expect([...strings].filter((s) => s.includes('eeee'))).toEqual([]);
  });

  it.each(MODES)('%s mode: after 300 requests with distinct keys, nothing reachable from the proxy holds one', async (mode) => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === '/v1/chat/completions') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: {"id":"chatcmpl-${Math.random()}","model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n`);
      } else {
        res.end('{}');
      }
    });
    const { url, proxy } = await startProxy(upstream.url, { onCrosstalk: mode });
    const secrets: string[] = [];
    for (let i = 0; i < 300; i++) {
      const secret = `${i.toString(16).padStart(4, '0')}` + 'c0ffee'.repeat(10);
      secrets.push(secret);
      const key = `sk-K${String(i).padStart(5, '0')}.${secret}`;
      const chat = i % 3 !== 2;
      const res = await request(`${url}${chat ? '/v1/chat/completions' : '/v1/models'}`, {
        method: chat ? 'POST' : 'GET',
        headers: {
          ...(i % 2 === 0 ? { authorization: `Bearer ${key}` } : { 'x-api-key': key }),
          session_id: '0x' + i.toString(16).padStart(64, '0'),
          ...(chat && { 'content-type': 'application/json' }),
        },
        ...(chat && { body: '{"stream":true}' }),
      });
      await res.body.text();
    }
    // The walk reaches the detection's registries: the keys' fingerprints are there (the proxy works on them)...
    const { strings, visited } = reachableStrings(proxy);
    expect(visited).toBeGreaterThan(1_000);
    const firstKey = `sk-K00000.${secrets[0] as string}`;
    expect(strings.has(fingerprintKey(firstKey, 'test-secret'))).toBe(true);
    // ...and it would find a raw key kept anywhere in them (a planted one, as a map key, deep in the store).
    const planted = new Map([[`sk-Plant0.${'c0ffee'.repeat(10)}`, 1]]);
    (proxy.detection.store as unknown as Record<string, unknown>).__plantedForTheTest = { deeper: [planted] };
    expect([...reachableStrings(proxy).strings].some((x) => x.startsWith('sk-Plant0.'))).toBe(true);
    delete (proxy.detection.store as unknown as Record<string, unknown>).__plantedForTheTest;
    // The keys themselves: nowhere.
    const leaked = [...strings].filter((s) => s.includes('c0ffeec0ffee'));
    expect(leaked).toEqual([]);
    for (const secret of secrets.slice(0, 5)) expect([...strings].some((s) => s.includes(secret))).toBe(false);
  });
});
