import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { upstreamErrorResponse } from '../../src/proxy/upstream-error.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';

/** A port nothing listens on: bind, read the port, close. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('upstream failures', () => {
  it('connection refused → 502 with the JSON error body', async () => {
    const { url } = await startProxy(`http://127.0.0.1:${await deadPort()}`);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(await res.body.json()).toEqual({
      statusCode: 502,
      code: 'CROSSTALK_ERR_UPSTREAM_UNAVAILABLE',
      error: 'Bad Gateway',
      message: 'Upstream unavailable: connection refused',
    });
  });

  it('unresolvable host → 502', async () => {
    const { url } = await startProxy('http://crosstalk-upstream.invalid:8082');
    const started = Date.now();
    const res = await request(`${url}/v1/models`);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual({
      statusCode: 502,
      code: 'CROSSTALK_ERR_UPSTREAM_UNAVAILABLE',
      error: 'Bad Gateway',
      message: 'Upstream unavailable: host could not be resolved',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('no response headers within --upstream-timeout → 504 within the bound', async () => {
    const upstream = await startUpstream(() => {
      /* never answers */
    });
    const { url, tracing } = await startProxy(upstream.url, { upstreamTimeoutMs: 300 });
    const started = Date.now();
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toEqual({
      statusCode: 504,
      code: 'CROSSTALK_ERR_UPSTREAM_TIMEOUT',
      error: 'Gateway Timeout',
      message: 'Upstream timed out: no response headers in time',
    });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.status.code).toBe(2);
    expect(span.attributes['error.type']).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('reset before headers → 502', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/models`);
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { code: string }).code).toBe('CROSSTALK_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('reset mid-stream → the caller sees the stream end with an error promptly, the span says why', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"chatcmpl-1"}\n\n');
      setTimeout(() => req.socket.destroy(), 50);
    });
    const { url, tracing } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    const started = Date.now();
    const chunks: string[] = [];
    await expect(
      (async () => {
        for await (const c of res.body) chunks.push((c as Buffer).toString());
      })(),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(chunks.join('')).toBe('data: {"id":"chatcmpl-1"}\n\n');
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('upstream_reset');
    expect(span.status.code).toBe(2);
  });

  it('stall mid-stream past --idle-timeout → the stream is ended and the span says why', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"chatcmpl-1"}\n\n');
      /* then silence */
    });
    const { url, tracing } = await startProxy(upstream.url, { idleTimeoutMs: 300 });
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const started = Date.now();
    await expect(res.body.text()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('upstream_idle_timeout');
  });

  it('maps error codes along the cause chain', () => {
    const wrap = (code: string) => ({ name: 'FastifyError', cause: Object.assign(new Error('x'), { code }) });
    expect(upstreamErrorResponse(wrap('ECONNREFUSED')).statusCode).toBe(502);
    expect(upstreamErrorResponse(wrap('ECONNRESET')).statusCode).toBe(502);
    expect(upstreamErrorResponse(wrap('ENOTFOUND')).statusCode).toBe(502);
    expect(upstreamErrorResponse(wrap('UND_ERR_HEADERS_TIMEOUT')).statusCode).toBe(504);
    expect(upstreamErrorResponse(wrap('UND_ERR_CONNECT_TIMEOUT')).statusCode).toBe(504);
    expect(upstreamErrorResponse(wrap('HPE_INVALID_STATUS'))).toMatchObject({ statusCode: 502, code: 'CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE' });
    expect(upstreamErrorResponse(new Error('boom'))).toMatchObject({ statusCode: 502, errorType: 'Error' });
    const parser = Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { name: 'HTTPParserError' });
    expect(upstreamErrorResponse({ cause: parser })).toMatchObject({ statusCode: 502, code: 'CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE', errorType: 'HTTPParserError' });
  });
});
