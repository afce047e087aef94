import net from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { until } from './fault-kit.js';

/** An endless SSE upstream that records when each of its responses was closed. */
async function endlessStream() {
  const closedAt: number[] = [];
  let open = 0;
  const upstream = await startUpstream((req, res) => {
    open++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const t = setInterval(() => res.write('data: {"id":"chatcmpl-e","choices":[]}\n\n'), 5);
    res.on('close', () => {
      clearInterval(t);
      open--;
      closedAt.push(performance.now());
    });
    req.resume();
  });
  return { upstream, closedAt, open: () => open };
}

function connectionCount(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('client faults', () => {
  it('a client abort mid-stream cancels the upstream request and ends the span (not as an error)', async () => {
    const { upstream, closedAt } = await endlessStream();
    const { url, tracing } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    res.body.destroy();
    // By event, not by ms: the endless upstream response is closed only if the proxy cancels it (the idle and
    // upstream timeouts are minutes away; the test's own timeout bounds the wait).
    await until(() => closedAt.length > 0);
    expect(closedAt).toHaveLength(1);
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('client_aborted');
    expect(span.status.code).not.toBe(2);
  });

  it('1,000 aborted streams leave no upstream or client sockets and no requests in flight behind', async () => {
    const { upstream, open } = await endlessStream();
    const { url, adminUrl, proxy } = await startProxy(upstream.url);
    // Our own client pool, closed afterwards: its idle keep-alive connections are not left behind by the proxy
    // (they would stay for the server's keep-alive timeout).
    const client = new Agent();
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const controller = new AbortController();
          const res = await request(`${url}/v1/chat/completions`, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
            signal: controller.signal,
            dispatcher: client,
          });
          await res.body[Symbol.asyncIterator]().next();
          controller.abort();
          await res.body.text().catch(() => undefined);
        }),
      );
    }
    await client.close();
    const deadline = Date.now() + 5_000;
    while ((open() > 0 || (await connectionCount(proxy.app.server)) > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(open()).toBe(0);
    expect(await connectionCount(proxy.app.server)).toBe(0);
    const metrics = await (await request(`${adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/crosstalk_proxy_requests_in_flight 0\n/);
    expect(metrics).toContain('crosstalk_proxy_requests_total{method="POST",route="/v1/chat/completions",status_class="2xx"} 1000');
  }, 60_000);

  it('pipelined requests on one connection are answered in order', async () => {
    const upstream = await startUpstream((req, res) => {
      const delay = req.url === '/v1/slow' ? 50 : 0;
      setTimeout(() => res.end(JSON.stringify({ url: req.url })), delay);
    });
    const { url } = await startProxy(upstream.url);
    const { port } = new URL(url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (c) => {
        data += c.toString();
        if ((data.match(/HTTP\/1\.1 200/g) ?? []).length === 3 && data.endsWith('{"url":"/v1/c"}')) socket.end();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write('GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/b HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/c HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    const bodies = raw.match(/\{"url":"[^"]+"\}/g);
    expect(bodies).toEqual(['{"url":"/v1/slow"}', '{"url":"/v1/b"}', '{"url":"/v1/c"}']);
  });

  it('Expect: 100-continue gets its 100 and the body is forwarded whole', async () => {
    const upstream = await startUpstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(JSON.stringify({ n })));
    });
    const { url } = await startProxy(upstream.url);
    const { port } = new URL(url);
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let data = '';
      let sentBody = false;
      socket.on('data', (c) => {
        data += c.toString();
        if (!sentBody && data.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
          sentBody = true;
          socket.write(body);
        }
        if (data.includes('{"n":')) socket.end();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`,
      );
    });
    expect(raw.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK')).toBe(true);
    expect(raw).toContain(`{"n":${body.length}}`);
  });
});
