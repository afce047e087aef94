import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startProxy, waitForSpan } from '../helpers/proxy-harness.js';
import { MODES, sample, scrape, signal, startKeepAliveUpstream, until } from './fault-kit.js';

/**
 * Issue 14 row 4: a caller aborting before the upstream sent its headers. It used to cancel the upstream only when
 * the headers came (up to --upstream-timeout) with the in-flight gauge already 0. Must: the upstream request is
 * cancelled at once and the gauges are true. Measured by events: the upstream socket's `close` (the upstream
 * timeout is left at its 60 s default, so only a cancel can close it within the test), not by milliseconds.
 */

const REQUESTS = [
  { name: 'chat', head: 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"stream":true}' },
  { name: 'models', head: 'GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n' },
] as const;

describe('a caller who leaves before the upstream answered (issue 14 row 4)', () => {
  const cases = MODES.flatMap((mode) => REQUESTS.map((r) => [mode, r.name, r.head] as const));

  it.each(cases)('%s mode, %s: the upstream request is cancelled at once, gauges true', async (mode, name, head) => {
    const arrived = signal();
    // Reads the request and never answers.
    const upstream = await startKeepAliveUpstream(() => arrived.resolve());
    const { url, adminUrl, proxy, tracing } = await startProxy(upstream.url, { onCrosstalk: mode });
    const caller = net.connect(Number(new URL(url).port), '127.0.0.1');
    caller.on('error', () => undefined);
    caller.write(head);
    await arrived.promise;
    const metrics = await scrape(adminUrl);
    const route = name === 'chat' ? '/v1/chat/completions' : '/v1/models';
    expect(sample(metrics, 'crosstalk_proxy_requests_in_flight')).toBe(1);
    expect(sample(metrics, `crosstalk_proxy_requests_in_flight_by_route{route="${route}"}`)).toBe(1);
    expect(proxy.pool.openExchanges).toBe(1);

    caller.destroy();
    // The upstream sees its request cancelled: the proxy closes that connection.
    await upstream.connections[0]?.closed;
    const span = await waitForSpan(tracing, (n) => (name === 'chat' ? n.startsWith('chat') : n === 'GET /v1/models'));
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('client_aborted');
    expect(span.status.code).not.toBe(2);
    // The request has ended: the gauge says so, and no exchange is left registered.
    await until(async () => sample(await scrape(adminUrl), 'crosstalk_proxy_requests_in_flight') === 0);
    expect(sample(await scrape(adminUrl), `crosstalk_proxy_requests_in_flight_by_route{route="${route}"}`)).toBe(0);
    expect(proxy.pool.openExchanges).toBe(0);
    expect(proxy.activeRequests).toBe(0);
    // Cancelled, not retried: the upstream saw that one request only.
    expect(upstream.connections.flatMap((c) => c.heads)).toHaveLength(1);
  });

  it.each(MODES)('%s mode: a caller who leaves while a JSON chat answer is still arriving cancels the upstream too', async (mode) => {
    const sent = signal();
    // Headers and part of a JSON body, then nothing: block mode holds it for its verdict, flag mode forwards it.
    const upstream = await startKeepAliveUpstream((conn) => {
      conn.socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"id":"chatcmpl-4","choices":[');
      sent.resolve();
    });
    const { url, adminUrl, proxy } = await startProxy(upstream.url, { onCrosstalk: mode });
    const caller = net.connect(Number(new URL(url).port), '127.0.0.1');
    caller.on('error', () => undefined);
    caller.write(REQUESTS[0].head);
    await sent.promise;
    // Block mode has sent the caller nothing yet; flag mode has sent the head and the first bytes.
    await until(() => upstream.connections[0] !== undefined);
    caller.destroy();
    await upstream.connections[0]?.closed;
    await until(async () => sample(await scrape(adminUrl), 'crosstalk_proxy_requests_in_flight') === 0);
    expect(proxy.activeRequests).toBe(0);
  });

  it.each(MODES)('%s mode: a caller who leaves during a session look-up is never forwarded upstream', async (mode) => {
    const lookupArrived = signal();
    const releaseLookup = signal();
    const seen: string[] = [];
    const upstream = await startKeepAliveUpstream((conn, head) => {
      const line = head.split('\r\n')[0] as string;
      seen.push(line);
      if (line.includes('/blockchain/sessions/')) {
        lookupArrived.resolve();
        void releaseLookup.promise.then(() => conn.socket.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
        return;
      }
      conn.socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
    });
    const { url, adminUrl } = await startProxy(upstream.url, { onCrosstalk: mode, sessionLookup: true });
    const body = '{"stream":true}';
    const caller = net.connect(Number(new URL(url).port), '127.0.0.1');
    caller.on('error', () => undefined);
    caller.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
        `session_id: 0x${'7a'.repeat(32)}\r\nauthorization: Basic YTpi\r\n\r\n${body}`,
    );
    await lookupArrived.promise;
    caller.destroy();
    await until(async () => sample(await scrape(adminUrl), 'crosstalk_proxy_requests_in_flight') === 0);
    releaseLookup.resolve();
    // A request sent after, on its own: the upstream's log shows it right after the look-up, nothing between.
    await (await request(`${url}/v1/models`)).body.text();
    expect(seen.filter((l) => !l.includes('/blockchain/sessions/'))).toEqual(['GET /v1/models HTTP/1.1']);
  });
});
