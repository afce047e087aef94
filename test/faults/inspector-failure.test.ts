import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResponseInspector } from '../../src/inspect/index.js';
import { CROSSTALK_INSPECTION_SKIPPED } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('an inspector bug never costs the caller a byte (flag mode)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the response keeps flowing uninspected, the span and log say why, the process keeps serving', async () => {
    vi.spyOn(ResponseInspector.prototype, 'onEvent').mockImplementation(() => {
      throw new TypeError('simulated inspector bug');
    });
    const body = Buffer.from(
      Array.from({ length: 50 }, (_, i) => `data: {"id":"chatcmpl-x","model":"m","choices":[{"delta":{"content":"${i}"}}]}\n\n`).join('') + 'data: [DONE]\n\n',
    );
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < body.length; i += 97) res.write(body.subarray(i, i + 97));
      res.end();
    });
    const { url, adminUrl, tracing, logs } = await startProxy(upstream.url);
    for (let round = 0; round < 2; round++) {
      const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"stream":true}' });
      expect(res.statusCode).toBe(200);
      expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(body));
    }
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_INSPECTION_SKIPPED]).toBe('inspector_error');
    expect(span.attributes['crosstalk.response.bytes']).toBe(body.length);
    const errors = logs.map((l) => JSON.parse(l) as { level: number; msg: string; error?: string }).filter((l) => l.level === 50);
    expect(errors[0]).toMatchObject({ msg: 'crosstalk inspector failed; forwarding this response uninspected', error: 'TypeError: simulated inspector bug' });
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });
});
