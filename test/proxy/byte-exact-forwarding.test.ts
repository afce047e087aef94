import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';
import { retainedBytes } from '../helpers/retained-memory.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A realistic SSE body with CRLF and LF events, a keep-alive comment and multi-byte UTF-8. */
function sseBody(events: number): Buffer {
  const parts: string[] = [': ping\n\n'];
  for (let i = 0; i < events; i++) {
    const eol = i % 3 === 0 ? '\r\n' : '\n';
    parts.push(
      `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"žluťoučký ${i} 🐎"}}]}${eol}${eol}`,
    );
  }
  parts.push('data: [DONE]\n\n');
  return Buffer.from(parts.join(''), 'utf8');
}

describe('byte-exact forwarding', () => {
  it.each([
    ['on', true],
    ['off', false],
  ])('streams SSE through chunk by chunk with the bytes the upstream sent, split at random boundaries (--inspection %s)', async (_mode, inspection) => {
    const body = sseBody(300);
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-upstream': 'yes' });
      let offset = 0;
      const tick = () => {
        if (offset >= body.length) return res.end();
        // Random boundaries, including inside multi-byte characters.
        const n = 1 + Math.floor(Math.random() * 97);
        res.write(body.subarray(offset, offset + n));
        offset += n;
        setImmediate(tick);
      };
      tick();
    });
    const { url } = await startProxy(upstream.url, { inspection });
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-upstream']).toBe('yes');
    const received = Buffer.from(await res.body.arrayBuffer());
    expect(sha256(received)).toBe(sha256(body));
  });

  it('delivers each SSE chunk before the upstream sends the next one (no buffering)', async () => {
    let release: (() => void) | undefined;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"a"}\n\n');
      release = () => res.end('data: [DONE]\n\n');
    });
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{"stream":true}', headers: { 'content-type': 'application/json' } });
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(Buffer.from(first.value as Buffer).toString()).toBe('data: {"id":"a"}\n\n');
    release?.();
    const rest: Buffer[] = [];
    for (let r = await reader.next(); !r.done; r = await reader.next()) rest.push(Buffer.from(r.value as Buffer));
    expect(Buffer.concat(rest).toString()).toBe('data: [DONE]\n\n');
  });

  it('forwards a JSON request body and response body byte for byte, with status, headers and query', async () => {
    const responseBody = Buffer.from(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', model: 'qwen3-235b', choices: [] }) + '\n');
    let seenBody = Buffer.alloc(0);
    let seenUrl = '';
    let seenAuth: string | undefined;
    const upstream = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seenBody = Buffer.concat(chunks);
        seenUrl = req.url ?? '';
        seenAuth = req.headers.authorization;
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': String(responseBody.length), 'x-custom': 'kept' });
        res.end(responseBody);
      });
    });
    const { url } = await startProxy(upstream.url);
    // Whitespace, key order and unicode escapes must survive: the proxy must not re-serialise JSON.
    const requestBody = Buffer.from('{ "model" : "qwen3-235b",\n  "messages":[{"role":"user","content":"\\u00e9t\u00e9"}], "stream":false }');
    const res = await request(`${url}/v1/chat/completions?session_id=0xabc&b=1&b=2&c=%20x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic YWRtaW46c2VjcmV0' },
      body: requestBody,
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-custom']).toBe('kept');
    expect(res.headers['content-length']).toBe(String(responseBody.length));
    expect(sha256(Buffer.from(await res.body.arrayBuffer()))).toBe(sha256(responseBody));
    expect(sha256(seenBody)).toBe(sha256(requestBody));
    expect(seenUrl).toBe('/v1/chat/completions?session_id=0xabc&b=1&b=2&c=%20x');
    expect(seenAuth).toBe('Basic YWRtaW46c2VjcmV0');
  });

  it.each(['GET', 'DELETE', 'PUT', 'PATCH'])('forwards %s on arbitrary routes unchanged', async (method) => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
    const { url } = await startProxy(upstream.url);
    const path = '/blockchain/sessions/0x' + 'ab'.repeat(32) + '/close';
    const res = await request(`${url}${path}`, { method: method as 'GET' });
    expect(await res.body.json()).toEqual({ method, url: path });
  });

  it('streams a 50 MB response byte for byte and retains none of it', async () => {
    const size = 50 * 1024 * 1024;
    const block = randomBytes(64 * 1024);
    const expected = createHash('sha256');
    for (let sent = 0; sent < size; sent += block.length) expected.update(block);
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += block.length;
          if (!res.write(block)) return res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const { url } = await startProxy(upstream.url);
    const before = retainedBytes();
    const res = await request(`${url}/v1/files/big`);
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
    expect(received).toBe(size);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(retainedBytes() - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('applies backpressure: a client that stops reading stalls the upstream instead of filling proxy memory', async () => {
    const block = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let stalled = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = () => {
        while (sent < 512 * 1024 * 1024) {
          sent += block.length;
          if (!res.write(block)) {
            stalled = true;
            return res.once('drain', pump);
          }
        }
        res.end();
      };
      pump();
    });
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    // Read nothing for a while: everything the upstream managed to send must fit in socket and stream buffers.
    await new Promise((r) => setTimeout(r, 500));
    expect(stalled).toBe(true);
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    res.body.destroy();
  });

  it('forwards a 10 MB request body streamed in, byte for byte', async () => {
    const body = randomBytes(10 * 1024 * 1024);
    const upstream = await startUpstream((req, res) => {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
    });
    const { url } = await startProxy(upstream.url);
    const res = await request(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
    expect(await res.body.json()).toEqual({ n: body.length, sha: sha256(body) });
  });
});
