import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter, SIM_HEADER_FAULT } from '../../src/simulator/index.js';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { streamChat } from '../helpers/chat.js';

/**
 * The simulator's injected clock, frozen at load: every body's `created` is the same whatever the machine's load
 * (the 'clean traffic' case compares bytes of two answers), and it is not earlier than the requests' arrival by more
 * than the test takes, so `created_before_request` has nothing to say about it.
 */
const FROZEN = Date.now();

describe('--on-crosstalk block', () => {
  it('a wrong request-id echo is known before the first byte: 502, and not one byte of the foreign body', async () => {
    const router = await startSimulatedRouter({ seed: 3, chunks: 6, clock: () => FROZEN });
    onTestFinished(() => router.close());
    const { url, adminUrl } = await startProxy(router.url, { onCrosstalk: 'block' });
    const s = router.sessions.forModel('llama-3.3-70b')[0]?.id as string;
    // The echo names an id the sidecar issued to another request (an id it never issued is a rewrite, not this).
    await streamChat(url, { ...router.chatHeaders(s), 'x-request-id': 'other-1' });
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...router.chatHeaders(s), 'x-request-id': 'blocked-1', [SIM_HEADER_FAULT]: 'wrong-request-id:other-1' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toBe('blocked-1');
    const body = await res.body.text();
    expect(JSON.parse(body)).toEqual({
      statusCode: 502,
      code: 'CROSSTALK_ERR_FOREIGN_RESPONSE',
      error: 'Bad Gateway',
      message: 'The upstream response belongs to another request (request_id_mismatch); it was blocked',
      reasons: ['request_id_mismatch'],
      request_id: 'blocked-1',
    });
    expect(body).not.toContain('chatcmpl');
    const incidents = (await (await request(`${adminUrl}/incidents`)).body.json()) as { incidents: Array<{ blocked: boolean }> };
    expect(incidents.incidents[0]?.blocked).toBe(true);
  });

  it('mid-stream: the caller gets exactly the chunks before the first foreign one, then one error event', async () => {
    const own = (n: number) => `data: {"id":"chatcmpl-own","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"own ${n}"}}]}\n\n`;
    const foreign = `data: {"id":"chatcmpl-own","object":"chat.completion.chunk","model":"qwen3-235b","choices":[{"index":0,"delta":{"content":"FOREIGN"}}]}\n\n`;
    // The foreign event arrives split across writes, glued to the tail of a good one: the block must cut
    // at the event boundary, not at a write boundary.
    const wire = own(1) + own(2) + own(3) + foreign + own(4) + 'data: [DONE]\n\n';
    const cut = wire.indexOf('FOREIGN') - 20;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': String(req.headers['x-request-id']) });
      res.write(wire.slice(0, 30));
      setTimeout(() => res.write(wire.slice(30, cut)), 10);
      setTimeout(() => res.end(wire.slice(cut)), 20);
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    const r = await streamChat(url, { 'x-request-id': 'mid-1' }, { model: 'llama-3.3-70b' });
    expect(r.status).toBe(200);
    const expectedError =
      'data: {"error":{"type":"crosstalk_detected","code":"CROSSTALK_ERR_FOREIGN_RESPONSE","message":"The upstream response belongs to another request (model_mismatch); it was blocked","reasons":["model_mismatch"],"request_id":"mid-1"}}\n\n';
    expect(r.body).toBe(own(1) + own(2) + own(3) + expectedError);
    expect(r.body).not.toContain('"content":"FOREIGN"');
  });

  it('the shared-reply bug in block mode: no chunk of the newer request reaches the older caller after it is recognised', async () => {
    // Ordered by events: the newer request starts once the router has the older one, which streams 40 chunks,
    // far longer than the hand-off.
    const router = await startSimulatedRouter({ seed: 5, chunks: 40, chunkDelayMs: 10, bug: 'shared-reply', clock: () => FROZEN });
    onTestFinished(() => router.close());
    const { url } = await startProxy(router.url, { onCrosstalk: 'block' });
    const olderArrived = new Promise<void>((resolve) => {
      const off = router.onRequest((r) => {
        if (r.headers['x-request-id'] === 'o') {
          off();
          resolve();
        }
      });
    });
    const older = streamChat(url, { ...router.chatHeaders(router.sessions.forModel('llama-3.3-70b')[0]?.id as string), 'x-request-id': 'o' }, { model: 'llama-3.3-70b' });
    await olderArrived;
    const newer = streamChat(url, { ...router.chatHeaders(router.sessions.forModel('qwen3-235b')[0]?.id as string), 'x-request-id': 'n' }, { model: 'qwen3-235b' });
    const [o] = await Promise.all([older, newer]);
    expect(o.models.every((m) => m === 'llama-3.3-70b')).toBe(true);
    expect(o.body).toContain('"type":"crosstalk_detected"');
    expect(o.body.trimEnd().endsWith('}}')).toBe(true);
  });

  it('a non-streamed JSON body from another model becomes a 502 before any byte is sent', async () => {
    const router = await startSimulatedRouter({ seed: 3, clock: () => FROZEN });
    onTestFinished(() => router.close());
    const { url } = await startProxy(router.url, { onCrosstalk: 'block' });
    const s = router.sessions.forModel('llama-3.3-70b')[0]?.id as string;
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...router.chatHeaders(s), 'x-request-id': 'json-1', [SIM_HEADER_FAULT]: 'model:qwen3-235b' },
      body: JSON.stringify({ model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(502);
    const body = (await res.body.json()) as { code: string; reasons: string[] };
    expect(body.code).toBe('CROSSTALK_ERR_FOREIGN_RESPONSE');
    expect(body.reasons).toEqual(['model_mismatch']);
  });

  it('clean traffic in block mode is delivered untouched', async () => {
    const router = await startSimulatedRouter({ seed: 3, chunks: 12, clock: () => FROZEN });
    onTestFinished(() => router.close());
    const direct = await streamChat(router.url, { ...router.chatHeaders(router.sessions.forModel('llama-3.3-70b')[0]?.id as string), 'x-request-id': 'same' });
    const { url } = await startProxy(router.url, { onCrosstalk: 'block' });
    const viaProxy = await streamChat(url, { ...router.chatHeaders(router.sessions.forModel('llama-3.3-70b')[0]?.id as string), 'x-request-id': 'same' });
    expect(viaProxy.status).toBe(200);
    // Same seed, same prompt: identical bytes except the completion id.
    expect(viaProxy.body.replace(/chatcmpl-[A-Za-z0-9]+/g, 'ID')).toBe(direct.body.replace(/chatcmpl-[A-Za-z0-9]+/g, 'ID'));
  });
});
