import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';

describe('upstream protocol faults', () => {
  it('an invalid status line → 502 CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const upstream = await startRawUpstream((socket) => socket.end('HTTP/1.1 abc Nope\r\ncontent-length: 0\r\n\r\n'));
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/models`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual({
      statusCode: 502,
      code: 'CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE',
      error: 'Bad Gateway',
      message: 'Upstream sent an invalid response: not a valid HTTP/1.1 response',
    });
  });

  it('garbage instead of HTTP → 502', async () => {
    const upstream = await startRawUpstream((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/models`);
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { code: string }).code).toBe('CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE');
  });

  it('a body shorter than its content-length → the caller sees a truncated, failed response (never a hang)', async () => {
    const upstream = await startRawUpstream((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id":"chatcmpl-1"');
      setTimeout(() => socket.destroy(), 50);
    });
    const { url, tracing } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('upstream_reset');
  });

  it('block mode: a held JSON chat answer shorter than its content-length → 502 to the caller, the process serves on', async () => {
    // The held body's stream used to be destroyed with no 'error' listener (an uncaught exception: the process
    // exited), and the caller, who had been sent nothing, would have waited forever.
    const upstream = await startRawUpstream((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id":"chatcmpl-1"');
    });
    const { url, adminUrl, tracing } = await startProxy(upstream.url, { onCrosstalk: 'block' });
    for (let i = 0; i < 2; i++) {
      const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m"}', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(502);
      expect(((await res.body.json()) as { code: string }).code).toBe('CROSSTALK_ERR_UPSTREAM_UNAVAILABLE');
    }
    const span = await waitForSpan(tracing, (n) => n.startsWith('chat'));
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('upstream_reset');
    expect((await request(`${adminUrl}/healthz`)).statusCode).toBe(200);
  });

  it('a body longer than its content-length → the caller gets exactly content-length bytes', async () => {
    const upstream = await startRawUpstream((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}EXTRA-BYTES-THAT-ARE-NOT-HTTP');
    });
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/models`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('{"ok":true}');
  });

  it('keep-alive sockets the upstream closes between requests are replaced transparently', async () => {
    let served = 0;
    const upstream = await startUpstream((req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.end(JSON.stringify({ n: served }));
      // Close the idle socket shortly after answering, as routers behind load balancers do.
      setTimeout(() => req.socket.destroy(), 20);
    });
    const { url } = await startProxy(upstream.url);
    for (let i = 1; i <= 5; i++) {
      const res = await request(`${url}/v1/models`);
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ n: i });
      await new Promise((r) => setTimeout(r, 60));
    }
  });

  it('gzip-encoded SSE passes through untouched (not decoded, not re-encoded)', async () => {
    const sse = Buffer.from('data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"m","choices":[]}\n\ndata: [DONE]\n\n');
    const gz = gzipSync(sse);
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(gz);
    });
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(gz).digest('hex'));
  });
});
