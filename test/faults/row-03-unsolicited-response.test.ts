import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy } from '../helpers/proxy-harness.js';
import { MODES, headValue, rawResponse, scrape, sample, startKeepAliveUpstream } from './fault-kit.js';

/**
 * Issue 14 row 3: an upstream writes an unsolicited response on a kept-alive socket after the real one. Whatever
 * request is next on that socket reads it: its `x-request-id` names the request before. Must: that echo is a
 * finding on every route (blocked in block mode), and the connection that delivered it is destroyed, never reused.
 *
 * Ordered by events, not by ms: the raw upstream answers request 1 on connection 1, waits for the next request head
 * on the same connection (the proxy reused it), and only then writes the "late" response naming request 1 — the
 * interleaving the issue measured 16 times in 75, made certain.
 */

const ROUTES = [
  { name: 'chat', method: 'POST', path: '/v1/chat/completions', type: 'text/event-stream', body: 'data: {"id":"chatcmpl-late","choices":[]}\n\ndata: [DONE]\n\n' },
  { name: 'models', method: 'GET', path: '/v1/models', type: 'application/json', body: '{"object":"list","data":[]}' },
  { name: 'control plane', method: 'GET', path: '/blockchain/sessions/0x' + 'ab'.repeat(32), type: 'application/json', body: '{"session":{}}' },
] as const;

describe('an unsolicited response on a kept-alive upstream socket (issue 14 row 3)', () => {
  const cases = MODES.flatMap((mode) => ROUTES.map((route) => [mode, route.name, route] as const));

  it.each(cases)('%s mode, %s route: the foreign echo is a finding, and the connection is never reused', async (mode, _name, route) => {
    const upstream = await startKeepAliveUpstream((conn, head, index) => {
      const id = headValue(head, 'x-request-id') as string;
      if (conn === upstream.connections[0] && index === 0) {
        // The real answer to request 1.
        conn.socket.write(rawResponse('200 OK', { 'content-type': route.type, 'x-request-id': id }, route.body));
        return;
      }
      if (conn === upstream.connections[0] && index === 1) {
        // Request 2 arrived on the same socket: now the stale bytes, naming request 1.
        const first = headValue(conn.heads[0] as string, 'x-request-id') as string;
        conn.socket.write(rawResponse('200 OK', { 'content-type': route.type, 'x-request-id': first }, route.body));
        return;
      }
      // Any other connection answers correctly.
      conn.socket.write(rawResponse('200 OK', { 'content-type': route.type, 'x-request-id': id }, route.body));
    });
    const { url, adminUrl, proxy, tracing } = await startProxy(upstream.url, { onCrosstalk: mode });
    const send = (requestId: string) =>
      request(`${url}${route.path}`, {
        method: route.method,
        headers: { 'x-request-id': requestId, ...(route.method === 'POST' && { 'content-type': 'application/json' }) },
        ...(route.method === 'POST' && { body: '{"stream":true}' }),
      });

    const first = await send('req-one');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-crosstalk-request-id-echo']).toBe('match');
    await first.body.text();

    const second = await send('req-two');
    const secondBody = await second.body.text();
    expect(upstream.connections[0]?.heads).toHaveLength(2);
    if (mode === 'block') {
      // Not one byte of the foreign body reaches the caller.
      expect(second.statusCode).toBe(502);
      const answer = JSON.parse(secondBody) as { code: string; reasons: string[]; request_id: string };
      expect(answer).toMatchObject({ code: 'CROSSTALK_ERR_FOREIGN_RESPONSE', reasons: ['request_id_mismatch'], request_id: 'req-two' });
      expect(second.headers['x-request-id']).toBe('req-two');
    } else {
      expect(second.statusCode).toBe(200);
      expect(second.headers['x-crosstalk-request-id-echo']).toBe('mismatch');
      expect(second.headers['x-request-id']).toBe('req-two');
    }

    // The next request, sent at once (before any keep-alive timeout could close the socket), goes out on a fresh
    // connection and is answered correctly...
    const third = await send('req-three');
    expect(third.statusCode).toBe(200);
    expect(third.headers['x-crosstalk-request-id-echo']).toBe('match');
    await third.body.text();
    expect(upstream.connections[0]?.heads).toHaveLength(2);
    expect(upstream.connections).toHaveLength(2);
    expect(upstream.connections[1]?.heads.map((h) => headValue(h, 'x-request-id'))).toEqual(['req-three']);
    // ...and the connection that carried another request's bytes is destroyed.
    await upstream.connections[0]?.closed;

    // Recorded as crosstalk on this route: counter, span event, incident (with the route name, never the raw path).
    expect(sample(await scrape(adminUrl), 'crosstalk_detected_total{reason="request_id_mismatch"}')).toBe(1);
    const spans = tracing.exporter.getFinishedSpans().filter((s) => s.attributes['crosstalk.request_id'] === 'req-two');
    expect(spans).toHaveLength(1);
    expect(spans[0]?.events.map((e) => e.attributes?.['crosstalk.reason'])).toContain('request_id_mismatch');
    const incidents = proxy.incidents.list();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ requestId: 'req-two', reasons: ['request_id_mismatch'], blocked: mode === 'block' });
    expect(incidents[0]?.evidence).toContainEqual(expect.objectContaining({ reason: 'request_id_mismatch', seen: 'req-one', rule: 'issued_to_other' }));
  });
});

describe('stale bytes arriving while the kept-alive socket is idle (issue 14 row 3)', () => {
  it.each(MODES)('%s mode: the next request never reads them', async (mode) => {
    const upstream = await startKeepAliveUpstream((conn, head) => {
      const id = headValue(head, 'x-request-id') as string;
      const real = rawResponse('200 OK', { 'content-type': 'application/json', 'x-request-id': id }, `{"for":"${id}"}`);
      // On the first connection, the stale answer right behind the real one (same write: no request is pending).
      const stale = rawResponse('200 OK', { 'content-type': 'application/json', 'x-request-id': id }, `{"for":"${id}","stale":true}`);
      conn.socket.write(conn === upstream.connections[0] && conn.heads.length === 1 ? real + stale : real);
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: mode });
    const get = async (id: string) => {
      const res = await request(`${url}/v1/models`, { headers: { 'x-request-id': id } });
      return { status: res.statusCode, body: await res.body.text() };
    };
    expect(await get('idle-one')).toEqual({ status: 200, body: '{"for":"idle-one"}' });
    const second = await get('idle-two');
    expect(second).toEqual({ status: 200, body: '{"for":"idle-two"}' });
    expect(upstream.connections[0]?.heads).toHaveLength(1);
  });
});
