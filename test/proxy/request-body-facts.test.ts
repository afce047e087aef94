import { createHash } from 'node:crypto';
import net from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { ATTR_GEN_AI_REQUEST_MODEL } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';
import { rawExchange } from '../helpers/raw-client.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An upstream that answers with what it received: body hash and length, content-type, content-length, framing. */
async function echoUpstream() {
  let arrivals = 0;
  const upstream = await startUpstream((req, res) => {
    arrivals++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          sha: sha256(body),
          n: body.length,
          contentType: req.headers['content-type'],
          contentLength: req.headers['content-length'],
          chunked: req.headers['transfer-encoding'] === 'chunked',
        }),
      );
    });
  });
  return { ...upstream, arrivals: () => arrivals };
}

describe('request bodies: facts for the span and the inspector, bytes unchanged upstream', () => {
  it('reads a small JSON body whole: same bytes, content-type value and length upstream; its model names the span', async () => {
    const upstream = await echoUpstream();
    const { url, tracing } = await startProxy(upstream.url);
    const body = Buffer.from('{ "model" : "qwen3-235b", "stream": true,\n "messages":[{"role":"user","content":"\\u00e9t\u00e9"}] }');
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; charset=UTF-8', 'content-length': String(body.length) },
      body,
    });
    expect(await res.body.json()).toEqual({
      sha: sha256(body),
      n: body.length,
      contentType: 'Application/JSON; charset=UTF-8',
      contentLength: String(body.length),
      chunked: false,
    });
    const span = await waitForSpan(tracing, (name) => name.startsWith('chat'));
    expect(span.name).toBe('chat qwen3-235b');
    expect(span.attributes[ATTR_GEN_AI_REQUEST_MODEL]).toBe('qwen3-235b');
  });

  it('still streams a JSON body sent without a content-length (chunked), and still learns its model', async () => {
    const upstream = await echoUpstream();
    const { url, tracing } = await startProxy(upstream.url);
    const parts = ['{"model":"llama-3.3-70b",', '"messages":[]}'];
    const framed = parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n';
    const raw = await rawExchange(
      url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${framed}`,
      (received) => received.endsWith('0\r\n\r\n'),
    );
    expect(raw).toContain(sha256(Buffer.from(parts.join(''))));
    const span = await waitForSpan(tracing, (name) => name.startsWith('chat'));
    expect(span.attributes[ATTR_GEN_AI_REQUEST_MODEL]).toBe('llama-3.3-70b');
  });

  it('streams a JSON body over the whole-read size with its content-length, byte for byte', async () => {
    const upstream = await echoUpstream();
    const { url } = await startProxy(upstream.url);
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(200 * 1024) }] }));
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await res.body.json()).toMatchObject({ sha: sha256(body), n: body.length, contentLength: String(body.length) });
  });

  it('never calls the upstream for a small body the client abandons half-way, and stays healthy', async () => {
    const upstream = await echoUpstream();
    const { url, proxy } = await startProxy(upstream.url);
    const { port } = new URL(url);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.arrivals()).toBe(0);
    expect((await proxy.metrics.inFlight.get()).values[0]?.value).toBe(0);
    const body = Buffer.from('{"model":"m"}');
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await res.body.json()).toMatchObject({ sha: sha256(body) });
    expect(upstream.arrivals()).toBe(1);
  });
});
