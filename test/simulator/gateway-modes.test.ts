import { expect, it, onTestFinished } from 'vitest';
import { SimulatedGateway, startSimulatedRouter } from '../../src/simulator/index.js';

it('both gateway modes send gateway-shaped requests: session headers, Basic auth, no model, no key, no model_id', async () => {
  const router = await startSimulatedRouter({ seed: 11, chunks: 2 });
  onTestFinished(() => router.close());
  const old = new SimulatedGateway({ baseUrl: router.url, mode: 'session-per-key', auth: router.auth });
  const seen: Array<{ path: string; headers: Record<string, unknown> }> = [];
  router.onRequest((r) => seen.push({ path: r.path, headers: r.headers }));

  const a = await old.chat({ apiKey: 'sk-aaaaaa.' + '1'.repeat(64), model: 'llama-3.3-70b', body: { model: 'x', max_tokens: 9 } });
  expect(a.status).toBe(200);
  expect(a.models).toEqual(['llama-3.3-70b', 'llama-3.3-70b', 'llama-3.3-70b']);
  const chat = seen.find((s) => s.path === '/v1/chat/completions');
  expect(chat?.headers['session_id']).toBe(a.sessionId);
  expect(chat?.headers['x-session-id']).toBe(a.sessionId);
  expect(chat?.headers['authorization']).toMatch(/^Basic /);
  expect(chat?.headers['model_id']).toBeUndefined();
  expect(Object.keys(chat?.headers ?? {}).some((h) => /key/i.test(h))).toBe(false);
});

it('session-per-key: a model switch closes the key\'s session and opens a new one; the same model reuses it', async () => {
  const router = await startSimulatedRouter({ seed: 12, chunks: 1 });
  onTestFinished(() => router.close());
  const gw = new SimulatedGateway({ baseUrl: router.url, mode: 'session-per-key', auth: router.auth });
  const key = 'sk-bbbbbb.' + '2'.repeat(64);
  const first = await gw.chat({ apiKey: key, model: 'llama-3.3-70b' });
  const again = await gw.chat({ apiKey: key, model: 'llama-3.3-70b' });
  const switched = await gw.chat({ apiKey: key, model: 'qwen3-235b' });
  expect(again.sessionId).toBe(first.sessionId);
  expect(switched.sessionId).not.toBe(first.sessionId);
  expect(switched.models[0]).toBe('qwen3-235b');
  expect(gw.controlLog).toEqual([
    `open ${router.models[0]?.id} -> ${first.sessionId}`,
    `close ${first.sessionId}`,
    `open ${router.models[1]?.id} -> ${switched.sessionId}`,
  ]);
  expect(router.sessions.state(router.sessions.get(first.sessionId)!)).toBe('closed');
});

it('pooled: concurrent requests of one model get distinct sessions; a freed session is reused by another user', async () => {
  const router = await startSimulatedRouter({ seed: 13, chunks: 3, chunkDelayMs: 5 });
  onTestFinished(() => router.close());
  const gw = new SimulatedGateway({ baseUrl: router.url, mode: 'pooled', auth: router.auth });
  const [x, y] = await Promise.all([
    gw.chat({ apiKey: 'sk-cccccc.' + '3'.repeat(64), model: 'mistral-31-24b' }),
    gw.chat({ apiKey: 'sk-dddddd.' + '4'.repeat(64), model: 'mistral-31-24b' }),
  ]);
  expect(x.sessionId).not.toBe(y.sessionId);
  const later = await gw.chat({ apiKey: 'sk-eeeeee.' + '5'.repeat(64), model: 'mistral-31-24b' });
  expect([x.sessionId, y.sessionId]).toContain(later.sessionId);
  expect(gw.controlLog.filter((l) => l.startsWith('open'))).toHaveLength(2);
});
