import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { rawExchange, untilJsonBody } from '../helpers/raw-client.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';
import { MODES, headValue, rawResponse, sample, scrape } from './fault-kit.js';

/**
 * Issue 14 row 13: `Content-Type: Text/Event-Stream` went uninspected; an echo header the upstream named in its
 * `Connection` was stripped before it was read; a query with a bad `%` escape got a 500. Must: media types compared
 * case-insensitively; echo read before hop-by-hop stripping; the raw query forwarded as received.
 */

/** Issues request id `id` to an earlier request (any route), so an echo of it on another request is foreign. */
async function issue(url: string, id: string): Promise<void> {
  await (await request(`${url}/v1/models`, { headers: { 'x-request-id': id } })).body.text();
}

describe('protocol edges (issue 14 row 13)', () => {
  it.each(MODES)('%s mode: a `Text/Event-Stream; Charset=UTF-8` answer is inspected like any SSE stream', async (mode) => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === '/v1/models') return void res.end('{}');
      res.writeHead(200, { 'content-type': 'Text/Event-Stream; Charset=UTF-8' });
      res.write('data: {"id":"chatcmpl-c1","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
      res.write('data: {"id":"chatcmpl-c1","model":"m","request_id":"victim-13a","choices":[{"index":0,"delta":{"content":"STOLEN-BYTES"}}]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const { url, adminUrl } = await startProxy(upstream.url, { onCrosstalk: mode });
    await issue(url, 'victim-13a');
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m","stream":true}',
    });
    const body = await res.body.text();
    const metrics = await scrape(adminUrl);
    expect(sample(metrics, 'crosstalk_detected_total{reason="request_id_mismatch"}')).toBe(1);
    expect(sample(metrics, 'crosstalk_responses_inspected_total{result="inspected"}')).toBe(1);
    if (mode === 'block') expect(body).not.toContain('STOLEN-BYTES');
    else expect(body).toContain('STOLEN-BYTES');
  });

  it.each(MODES)('%s mode: an `x-request-id` the upstream named in `Connection` is still read (and still stripped)', async (mode) => {
    const upstream = await startRawUpstream((socket, head) => {
      const isChat = head.startsWith('POST');
      const id = headValue(head, 'x-request-id') as string;
      socket.end(
        rawResponse(
          '200 OK',
          isChat
            ? { 'content-type': 'application/json', connection: 'close, X-Request-Id', 'x-request-id': 'victim-13b' }
            : { 'content-type': 'application/json', connection: 'close', 'x-request-id': id },
          isChat ? '{"id":"chatcmpl-c2","object":"chat.completion","choices":[]}' : '{}',
        ),
      );
    });
    const { url, adminUrl } = await startProxy(upstream.url, { onCrosstalk: mode });
    await issue(url, 'victim-13b');
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'own-13b' },
      body: '{"model":"m"}',
    });
    await res.body.text();
    expect(res.statusCode).toBe(mode === 'block' ? 502 : 200);
    // The caller sees the sidecar's own id, never the upstream's hop-by-hop copy.
    expect(res.headers['x-request-id']).toBe('own-13b');
    if (mode === 'flag') expect(res.headers['x-crosstalk-request-id-echo']).toBe('mismatch');
    expect(sample(await scrape(adminUrl), 'crosstalk_detected_total{reason="request_id_mismatch"}')).toBe(1);
  });

  it.each([
    ['a lone %', '/v1/models?q=%&x=1'],
    ['a bad escape', '/v1/models?q=%zz'],
    ['a truncated UTF-8 escape', '/v1/models?name=%E0%A4%A&b=%'],
    ['an encoded NUL and plus signs', '/v1/models?a=%00&b=a+b%2B'],
    ['a bad escape on an unknown route', '/v1/whatever?x=%G0&y=%%'],
  ])('a query with %s is forwarded as received, not a 500', async (_label, target) => {
    const upstream = await startUpstream((req, res) => res.end(JSON.stringify({ url: req.url })));
    const { url } = await startProxy(upstream.url);
    const raw = await rawExchange(url, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, untilJsonBody);
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toContain(JSON.stringify({ url: target }));
  });
});
