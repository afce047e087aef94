import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { MODES, once, sample, scrape, signal, until } from './fault-kit.js';

/**
 * Issue 14 row 9: a request body trickled (1 byte per 5 s) held the caller's and the upstream's connections open
 * indefinitely. Must: an idle limit between request body bytes → 408, upstream released. The test sends part of a
 * body and then nothing; --request-idle-timeout is small so the test is short (nothing asserts how long it took).
 */

const IDLE_MS = 150;

/** Sends `head` + `firstBytes`, then stays silent; resolves with everything the proxy answered before closing. */
function trickle(url: string, head: string, firstBytes: string): { answer: Promise<string>; socket: net.Socket } {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(data)));
  socket.write(head + firstBytes);
  return { answer, socket };
}

describe('a request body that stops arriving (issue 14 row 9)', () => {
  it.each(MODES)('%s mode, small JSON body (read whole): 408, and the upstream is never called', async (mode) => {
    const upstream = await startUpstream((req, res) => res.end('{}'));
    const { url, adminUrl, tracing } = await startProxy(upstream.url, { onCrosstalk: mode, requestIdleTimeoutMs: IDLE_MS });
    const { answer } = trickle(
      url,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n',
      '{"mod',
    );
    const raw = await answer;
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw).toContain('"code":"CROSSTALK_ERR_REQUEST_BODY_TIMEOUT"');
    expect(upstream.requests).toHaveLength(0);
    const span = await waitForSpan(tracing, (n) => n.startsWith('chat'));
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('request_body_timeout');
    await until(async () => sample(await scrape(adminUrl), 'crosstalk_proxy_requests_in_flight') === 0);
  });

  it.each(MODES)('%s mode, streamed body (chunked, already forwarded): 408, and the upstream request is released', async (mode) => {
    const upstreamGotBytes = signal();
    let upstreamClosed: Promise<unknown> | undefined;
    const upstream = await startUpstream((req) => {
      upstreamClosed = once(req.socket, 'close');
      req.once('data', () => upstreamGotBytes.resolve());
      // Never answers: it waits for the rest of the body.
    });
    const { url, adminUrl, tracing } = await startProxy(upstream.url, { onCrosstalk: mode, requestIdleTimeoutMs: IDLE_MS });
    const { answer } = trickle(
      url,
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      '5\r\n{"mes\r\n',
    );
    await upstreamGotBytes.promise;
    const raw = await answer;
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    // The upstream's connection is closed by the proxy (released, not left waiting for the rest of the body).
    await upstreamClosed;
    const span = await waitForSpan(tracing, (n) => n.startsWith('chat'));
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('request_body_timeout');
    await until(async () => sample(await scrape(adminUrl), 'crosstalk_proxy_requests_in_flight') === 0);
  });

  it('a body that keeps arriving, slower than the limit in total but never idle that long, goes through', async () => {
    const upstream = await startUpstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(JSON.stringify({ n })));
    });
    const { url } = await startProxy(upstream.url, { requestIdleTimeoutMs: IDLE_MS * 4 });
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    const closed = once(socket, 'close');
    const body = '{"messages":[]}';
    socket.write(`POST /v1/other HTTP/1.1\r\nHost: x\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
    // One byte per macrotask burst: each arrives well inside the idle limit.
    for (const ch of body) {
      socket.write(ch);
      await new Promise((r) => setTimeout(r, 10));
    }
    await closed;
    expect(data).toMatch(/^HTTP\/1\.1 200 /);
    expect(data).toContain(`{"n":${body.length}}`);
  });
});
