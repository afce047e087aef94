import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { describe, expect, it, onTestFinished } from 'vitest';

/**
 * The contract of @fastify/http-proxy / @fastify/reply-from that src/proxy/response-path.ts relies on (issue 16
 * item 1): when `replyOptions.onResponse` is called, the upstream's status and its headers (after
 * `rewriteHeaders`) are already on the reply; on the undici path `res` is `{ statusCode, headers, stream }`; and a
 * hijacked reply lets the handler write status, headers and body to the raw response itself, with nothing
 * added by fastify. If an upgrade changes any of this, this test fails before the sidecar's responses do.
 */
describe('fastify reply-from contract (what the response path relies on)', () => {
  it('status and rewritten headers are on the reply at onResponse; res has statusCode, headers, stream; hijack then raw writes', async () => {
    const upstream = http.createServer((_req, res) => {
      res.writeHead(207, { 'content-type': 'text/event-stream', 'x-upstream': 'yes', connection: 'keep-alive' });
      res.write('data: one\n\n');
      setImmediate(() => res.end('data: two\n\n'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => upstream.close(() => r())));

    const seen: Record<string, unknown> = {};
    const app = Fastify();
    await app.register(httpProxy, {
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      replyOptions: {
        rewriteHeaders: (headers) => ({ ...headers, 'x-rewritten': '1' }),
        onResponse: (_request, reply, res) => {
          const r = res as unknown as { statusCode: number; headers: Record<string, string>; stream: NodeJS.ReadableStream };
          seen.statusOnReply = reply.statusCode;
          seen.headersOnReply = reply.getHeaders();
          seen.resStatus = r.statusCode;
          seen.resHeader = r.headers['x-upstream'];
          seen.hasStream = typeof r.stream?.pipe === 'function';
          reply.hijack();
          const raw = reply.raw as http.ServerResponse;
          raw.writeHead(reply.statusCode, reply.getHeaders() as http.OutgoingHttpHeaders);
          r.stream.on('data', (c: Buffer) => raw.write(c));
          r.stream.on('end', () => raw.end());
        },
      },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());

    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(207);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(res.headers.get('x-rewritten')).toBe('1');
    expect(await res.text()).toBe('data: one\n\ndata: two\n\n');
    expect(seen).toMatchObject({ statusOnReply: 207, resStatus: 207, resHeader: 'yes', hasStream: true });
    expect(seen.headersOnReply).toMatchObject({ 'x-upstream': 'yes', 'x-rewritten': '1', 'content-type': 'text/event-stream' });
  });
});
