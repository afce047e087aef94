import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeSessions, startSimulatedRouter, SIM_HEADER_FAULT, SIM_HEADER_CHUNK_DELAY_MS } from '../../src/simulator/index.js';
import { EVENT_CROSSTALK_DETECTED } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { streamChat } from '../helpers/chat.js';
import type { Incident } from '../../src/proxy/incidents.js';

const KEY_A = 'sk-KeyAaa.' + 'a1'.repeat(32);
const KEY_B = 'sk-KeyBbb.' + 'b2'.repeat(32);

async function incidents(adminUrl: string): Promise<{ total: number; incidents: Incident[] }> {
  return (await (await request(`${adminUrl}/incidents`)).body.json()) as { total: number; incidents: Incident[] };
}

async function setup(options: Parameters<typeof startSimulatedRouter>[0] = {}) {
  const router = await startSimulatedRouter({ seed: 1, chunks: 8, ...options });
  onTestFinished(() => router.close());
  const harness = await startProxy(router.url);
  const session = (model: string, i = 0) => router.sessions.forModel(model)[i]?.id as string;
  return { router, ...harness, session };
}

describe('each reason code, from a scenario that reproduces its real cause', () => {
  it('completion_id_interleave: the provider bug writes a newer request into an older connection', async () => {
    const { router, url, adminUrl, tracing, logs, session } = await setup({ bug: 'shared-reply', chunkDelayMs: 10 });
    const sLlama = session('llama-3.3-70b');
    const sQwen = session('qwen3-235b');
    const older = streamChat(url, { ...router.chatHeaders(sLlama), 'x-api-key': KEY_A, 'x-request-id': 'older-1' });
    await new Promise((r) => setTimeout(r, 25));
    const newer = streamChat(url, { ...router.chatHeaders(sQwen), 'x-api-key': KEY_B, 'x-request-id': 'newer-1' });
    const [o, n] = await Promise.all([older, newer]);
    // The older stream got two interleaved ids; the newer got no content at all.
    expect(new Set(o.ids).size).toBe(2);
    expect(n.ids).toHaveLength(0);
    const { incidents: list } = await incidents(adminUrl);
    const olderIncident = list.find((i) => i.requestId === 'older-1');
    expect(olderIncident?.reasons).toContain('completion_id_interleave');
    expect(olderIncident).toMatchObject({ session: sLlama, apiKeyPrefix: 'sk-KeyAaa', blocked: false });
    const span = tracing.exporter.getFinishedSpans().find((s) => s.attributes['crosstalk.request_id'] === 'older-1');
    expect(span?.attributes['crosstalk.detected']).toBe(true);
    expect(span?.attributes['crosstalk.reasons']).toContain('completion_id_interleave');
    expect(span?.status.code).toBe(2);
    expect(span?.events.find((e) => e.name === EVENT_CROSSTALK_DETECTED)?.attributes?.['crosstalk.reason']).toBeDefined();
    const warn = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'crosstalk detected' && l.requestId === 'older-1');
    expect(warn).toMatchObject({ level: 40, reasons: expect.arrayContaining(['completion_id_interleave']) });
    expect(typeof warn?.traceId).toBe('string');
  });

  it('model_mismatch: two concurrent streams whose bodies are swapped', async () => {
    const { router, url, adminUrl, session } = await setup({ bug: 'swap', swapPairWaitMs: 200 });
    const a = streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'swap-a' }, { model: 'llama-3.3-70b' });
    const b = streamChat(url, { ...router.chatHeaders(session('qwen3-235b')), 'x-request-id': 'swap-b' }, { model: 'qwen3-235b' });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.models[0]).toBe('qwen3-235b');
    expect(rb.models[0]).toBe('llama-3.3-70b');
    const { incidents: list } = await incidents(adminUrl);
    expect(list.find((i) => i.requestId === 'swap-a')?.reasons).toEqual(['model_mismatch']);
    expect(list.find((i) => i.requestId === 'swap-b')?.reasons).toEqual(['model_mismatch']);
    expect(list.find((i) => i.requestId === 'swap-a')?.evidence[0]).toMatchObject({ reason: 'model_mismatch', expected: 'llama-3.3-70b', seen: 'qwen3-235b' });
  });

  it('model_mismatch: a session whose model changes (no model in the body, as the gateway sends it)', async () => {
    // Sessions the sidecar never saw opened: each is looked up once (its on-chain model); the names each model
    // answers with are learned by quorum over two sessions, never from one answer.
    const { router, url, adminUrl } = await setup({ sessions: makeSessions(2) });
    const on = (model: string, i: number) => router.sessions.forModel(model)[i]?.id as string;
    for (const model of ['mistral-31-24b', 'qwen3-235b']) {
      for (const i of [0, 1]) await streamChat(url, { ...router.chatHeaders(on(model, i)), 'x-request-id': `learn-${model}-${i}` });
    }
    await streamChat(url, { ...router.chatHeaders(on('mistral-31-24b', 0)), 'x-request-id': 'changed', [SIM_HEADER_FAULT]: 'model:qwen3-235b' });
    const { total, incidents: list } = await incidents(adminUrl);
    expect(total).toBe(1);
    expect(list[0]).toMatchObject({ requestId: 'changed', reasons: ['model_mismatch'] });
  });

  it('request_id_mismatch: the router echoes another request id', async () => {
    const { router, url, adminUrl, tracing, session } = await setup();
    // An id the sidecar issued to another request (one it never issued is a hop's rewrite: e2e-echo-rewritten-by-hop).
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'other-1' });
    const r = await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'mine-1', [SIM_HEADER_FAULT]: 'wrong-request-id:other-1' });
    expect(r.requestId).toBe('mine-1');
    const { incidents: list } = await incidents(adminUrl);
    expect(list[0]).toMatchObject({ requestId: 'mine-1', reasons: ['request_id_mismatch'] });
    expect(list[0]?.evidence[0]).toMatchObject({ expected: 'mine-1', seen: 'other-1' });
    const span = tracing.exporter.getFinishedSpans().find((s) => s.attributes['crosstalk.request_id'] === 'mine-1');
    expect(span?.attributes['crosstalk.request_id_echo']).toBe('mismatch');
  });

  it('request_id_mismatch: a request_id field inside the chunks names another request', async () => {
    const { router, url, adminUrl, session } = await setup();
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'other-2' });
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'mine-2', [SIM_HEADER_FAULT]: 'chunk-request-id:other-2' });
    expect((await incidents(adminUrl)).incidents[0]).toMatchObject({ requestId: 'mine-2', reasons: ['request_id_mismatch'] });
  });

  it('session_mismatch: the router echoes another session', async () => {
    const { router, url, adminUrl, session } = await setup({ echoSession: true });
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'ok-session' });
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'bad-session', [SIM_HEADER_FAULT]: 'wrong-session' });
    const { total, incidents: list } = await incidents(adminUrl);
    expect(total).toBe(1);
    expect(list[0]).toMatchObject({ requestId: 'bad-session', reasons: ['session_mismatch'] });
  });

  it('session_key_conflict: one session used by two API keys', async () => {
    const { router, url, adminUrl, session } = await setup();
    const s = session('llama-3.3-70b');
    await streamChat(url, { ...router.chatHeaders(s), 'x-api-key': KEY_A, 'x-request-id': 'key-a' });
    await streamChat(url, { ...router.chatHeaders(s), 'x-api-key': KEY_A, 'x-request-id': 'key-a-again' });
    await streamChat(url, { ...router.chatHeaders(s), authorization: `Bearer ${KEY_B}`, 'x-request-id': 'key-b' });
    const { total, incidents: list } = await incidents(adminUrl);
    expect(total).toBe(1);
    expect(list[0]).toMatchObject({ requestId: 'key-b', reasons: ['session_key_conflict'], apiKeyPrefix: 'sk-KeyBbb' });
    expect(JSON.stringify(list)).not.toContain(KEY_A);
    expect(JSON.stringify(list)).not.toContain(KEY_B);
  });

  it('session_key_conflict is off with --session-scope shared (pooled sessions)', async () => {
    const router = await startSimulatedRouter({ seed: 1, chunks: 4 });
    onTestFinished(() => router.close());
    const { url, adminUrl } = await startProxy(router.url, { sessionScope: 'shared' });
    const s = router.sessions.forModel('llama-3.3-70b')[0]?.id as string;
    await streamChat(url, { ...router.chatHeaders(s), 'x-api-key': KEY_A });
    await streamChat(url, { ...router.chatHeaders(s), 'x-api-key': KEY_B });
    expect((await incidents(adminUrl)).total).toBe(0);
  });

  it('completion_id_collision: one provider reply delivered to two connections', async () => {
    // "some connections receiving multiple responses": the second caller gets a copy of the first's answer. The
    // provider's ids are unique per answer (learned from five clean answers first), so a repeat is meaningful.
    let n = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      const id = ++n <= 5 ? `chatcmpl-own${n}x` : 'chatcmpl-dup';
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': String(req.headers['x-request-id']) });
      res.end(`data: {"id":"${id}","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n`);
    });
    const { url, adminUrl } = await startProxy(upstream.url);
    for (let i = 0; i < 5; i++) await streamChat(url, { 'x-request-id': `warm-${i}` });
    await streamChat(url, { 'x-request-id': 'first' });
    await streamChat(url, { 'x-request-id': 'second' });
    const { total, incidents: list } = await incidents(adminUrl);
    expect(total).toBe(1);
    expect(list[0]).toMatchObject({ requestId: 'second', reasons: ['completion_id_collision'], relatedRequestIds: ['first'] });
    expect(list[0]?.evidence[0]).toMatchObject({ seen: 'chatcmpl-dup' });
  });

  it('counts detections in crosstalk_detected_total by reason', async () => {
    const { router, url, adminUrl, session } = await setup();
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), 'x-request-id': 'issued-1' });
    await streamChat(url, { ...router.chatHeaders(session('llama-3.3-70b')), [SIM_HEADER_FAULT]: 'wrong-request-id:issued-1', [SIM_HEADER_CHUNK_DELAY_MS]: '0' });
    const text = await (await request(`${adminUrl}/metrics`)).body.text();
    expect(text).toContain('crosstalk_detected_total{reason="request_id_mismatch"} 1');
    expect(text).toContain('crosstalk_detected_total{reason="completion_id_collision"} 0');
  });
});
