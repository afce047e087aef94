import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { signal } from './fault-kit.js';

/**
 * Issue 14 row 6: upstream headers at once, first body byte 3 s later — the caller got the headers only with the
 * body, in both modes. Must: the headers reach the caller as soon as the upstream sent them. Ordered by events:
 * the upstream withholds its body until the test has seen the response headers (a proxy that waits for the first
 * body byte deadlocks here, and the test times out).
 *
 * Block mode holds a non-streamed chat JSON answer until its verdict (its status can still become 502), so that one
 * case is flag mode only; an SSE stream is inspected event by event and its headers go at once in both modes.
 */

const CASES = [
  { mode: 'flag', route: '/v1/chat/completions', type: 'text/event-stream', body: 'data: {"id":"chatcmpl-h","choices":[]}\n\ndata: [DONE]\n\n' },
  { mode: 'block', route: '/v1/chat/completions', type: 'text/event-stream', body: 'data: {"id":"chatcmpl-h","choices":[]}\n\ndata: [DONE]\n\n' },
  { mode: 'flag', route: '/v1/chat/completions', type: 'application/json', body: '{"id":"chatcmpl-j","object":"chat.completion","choices":[]}' },
  { mode: 'flag', route: '/v1/models', type: 'application/json', body: '{"object":"list","data":[]}' },
  { mode: 'block', route: '/v1/models', type: 'application/json', body: '{"object":"list","data":[]}' },
  { mode: 'block', route: '/v1/embeddings', type: 'application/json', body: '{"object":"list","data":[]}' },
] as const;

describe('response headers before the first body byte (issue 14 row 6)', () => {
  it.each(CASES)('$mode mode, $route ($type): the caller has the headers while the upstream still withholds the body', async ({ mode, route, type, body }) => {
    const sawHeaders = signal();
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': type, 'x-upstream': 'yes' });
      res.flushHeaders();
      void sawHeaders.promise.then(() => res.end(body));
    });
    const { url } = await startProxy(upstream.url, { onCrosstalk: mode });
    const res = await request(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"stream":true}',
    });
    // undici resolved on the response head: the upstream has not sent one body byte yet.
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['content-type']).toBe(type);
    sawHeaders.resolve();
    expect(await res.body.text()).toBe(body);
  });
});
