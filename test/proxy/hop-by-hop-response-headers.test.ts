import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { rawExchange } from '../helpers/raw-client.js';

describe('hop-by-hop response headers stay on the upstream hop', () => {
  it.each([
    ['a JSON answer', 'application/json', '{"a":1}'],
    ['an SSE stream', 'text/event-stream', 'data: {"id":"chatcmpl-1"}\n\ndata: [DONE]\n\n'],
  ])('%s: the caller asking for connection: close gets it closed, without the upstream connection headers', async (_name, type, body) => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': type, connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': '1', 'x-kept': '1' });
        res.end(body);
      });
    });
    const { url } = await startProxy(upstream.url);
    const payload = '{"model":"m"}';
    // Resolves only when the proxy closes the connection.
    const raw = await rawExchange(
      url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`,
    );
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toContain('connection: close');
    expect(head).not.toContain('keep-alive');
    expect(head).not.toContain('x-hop');
    expect(head).toContain('x-kept: 1');
    expect(raw).toContain(body.slice(0, 10));
  });
});
