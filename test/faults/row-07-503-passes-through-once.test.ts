import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { MODES } from './fault-kit.js';

/**
 * Issue 14 row 7: a GET answered 503 was retried ten times by reply-from, `Retry-After` read as milliseconds.
 * Must: one caller request, one upstream request; the 503 and its headers pass through. "No retry later" is shown
 * by order, not by waiting: a second, different request follows, and the upstream's log must read [503 path, next].
 */
describe('a GET answered 503 (issue 14 row 7)', () => {
  const cases = MODES.flatMap((mode) => (['GET', 'HEAD', 'DELETE'] as const).map((method) => [mode, method] as const));

  it.each(cases)('%s mode, %s: exactly one upstream request, the 503 with Retry-After and its body passed through', async (mode, method) => {
    const seen: string[] = [];
    const upstream = await startUpstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/v1/models') {
        res.writeHead(503, { 'retry-after': '120', 'content-type': 'application/json', 'x-router': 'busy' });
        res.end(method === 'HEAD' ? undefined : '{"error":"overloaded"}');
        return;
      }
      res.end('{}');
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: mode });
    const res = await request(`${url}/v1/models`, { method });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('120');
    expect(res.headers['x-router']).toBe('busy');
    expect(res.headers['content-type']).toBe('application/json');
    expect(await res.body.text()).toBe(method === 'HEAD' ? '' : '{"error":"overloaded"}');
    await (await request(`${url}/v1/next`)).body.text();
    expect(seen).toEqual([`${method} /v1/models`, 'GET /v1/next']);
  });

  it.each(MODES)('%s mode: a chat POST answered 503 is passed through once too', async (mode) => {
    let calls = 0;
    const upstream = await startUpstream((req, res) => {
      calls++;
      req.resume();
      res.writeHead(503, { 'retry-after': '5', 'content-type': 'text/plain' }).end('provider busy');
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: mode });
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(await res.body.text()).toBe('provider busy');
    expect(calls).toBe(1);
  });
});
