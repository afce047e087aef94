import { describe, expect, it } from 'vitest';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

const S_A = `0x${'a'.repeat(64)}`;
const S_B = `0x${'b'.repeat(64)}`;

describe('what the probe sends', () => {
  it('to a gateway: Bearer key, the model in the body, a unique x-request-id and nonce per request', async () => {
    const upstream = await startFakeUpstream();
    const config = resolveProbeConfig(
      { target: `${upstream.url}/api/v1`, apiKey: TEST_KEYS.slice(0, 2), model: ['a', 'b'], requests: '8', concurrency: '4', progress: false },
      {},
    );
    const result = await runProbe(config, { runId: 'shape1' });
    expect(result.verdict.verdict).toBe('FIX VERIFIED');
    expect(upstream.received).toHaveLength(8);
    const byId = new Map(upstream.received.map((r) => [r.headers['x-request-id'], r]));
    expect([...byId.keys()].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `probe-shape1-${i + 1}`).sort());
    for (const r of result.requests) {
      const got = byId.get(r.requestId);
      const key = TEST_KEYS[r.lane === 'sk-ProbeA' ? 0 : 1];
      expect(got?.headers['authorization']).toBe(`Bearer ${key}`);
      expect(got?.headers['session_id']).toBeUndefined();
      expect(got?.headers['x-api-key']).toBeUndefined();
      expect(got?.headers['accept']).toBe('text/event-stream');
      expect(got?.body).toEqual({
        model: r.model,
        stream: true,
        max_tokens: 32,
        temperature: 0,
        messages: [{ role: 'user', content: `This is a crosstalk probe. Reply with this token exactly and nothing else: nonce:xt-shape1-${r.index + 1}` }],
      });
    }
    // Bursts of 2 per key (concurrency 4 / 2 keys), switching model on every request.
    expect(result.requests.map((r) => `${r.lane}:${r.model}`)).toEqual([
      'sk-ProbeA:a', 'sk-ProbeA:b', 'sk-ProbeB:b', 'sk-ProbeB:a',
      'sk-ProbeA:a', 'sk-ProbeA:b', 'sk-ProbeB:b', 'sk-ProbeB:a',
    ]);
  });

  it('to a router or sidecar: the session of the model in both session headers, Basic auth, the key in x-api-key', async () => {
    const upstream = await startFakeUpstream();
    const config = resolveProbeConfig(
      {
        target: upstream.url,
        model: ['a', 'b'],
        session: [S_A, S_B],
        basicAuth: 'admin:router-pw',
        apiKey: [TEST_KEYS[0] as string],
        requests: '4',
        concurrency: '2',
        progress: false,
      },
      {},
    );
    const result = await runProbe(config, { runId: 'shape2' });
    expect(result.verdict.verdict).toBe('FIX VERIFIED');
    for (const got of upstream.received) {
      const session = got.body.model === 'a' ? S_A : S_B;
      expect(got.headers['session_id']).toBe(session);
      expect(got.headers['x-session-id']).toBe(session);
      expect(got.headers['authorization']).toBe(`Basic ${Buffer.from('admin:router-pw').toString('base64')}`);
      expect(got.headers['x-api-key']).toBe(TEST_KEYS[0]);
    }
  });
});
