import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startProxy, startUpstream, waitForSpan } from '../helpers/proxy-harness.js';

function slowStream(chunks: number, gapMs: number) {
  return startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const t = setInterval(() => {
      res.write(`data: {"id":"c","n":${i}}\n\n`);
      if (++i === chunks) {
        clearInterval(t);
        res.end('data: [DONE]\n\n');
      }
    }, gapMs);
  });
}

describe('graceful shutdown', () => {
  it('stops accepting new connections but lets an in-flight stream finish', async () => {
    const upstream = await slowStream(10, 30);
    const { proxy, url } = await startProxy(upstream.url, { shutdownTimeoutMs: 5_000 });
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const closing = proxy.close();
    const body = await res.body.text();
    expect(body.match(/^data: /gm)).toHaveLength(11);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    // The caller's keep-alive connection went idle after close() began: it must not hold close() until the timeout.
    const drained = Date.now();
    await closing;
    expect(Date.now() - drained).toBeLessThan(1_000);
    await expect(request(`${url}/v1/models`)).rejects.toThrow();
  });

  it('cuts streams still running at --shutdown-timeout and ends their spans', async () => {
    const upstream = await slowStream(1000, 50);
    const { proxy, url, tracing } = await startProxy(upstream.url, { shutdownTimeoutMs: 200 });
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const started = Date.now();
    await proxy.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(res.body.text()).rejects.toThrow();
    const span = await waitForSpan(tracing, (n) => n === 'chat');
    expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('shutdown');
  });
});
