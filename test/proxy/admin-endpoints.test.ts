import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startProxy, startUpstream } from '../helpers/proxy-harness.js';

describe('admin server', () => {
  it('serves /healthz, /readyz, /metrics and /incidents on its own port, never proxied', async () => {
    const upstream = await startUpstream((_req, res) => res.end('upstream'));
    const { url, adminUrl } = await startProxy(upstream.url);
    expect(adminUrl).not.toBe(url);

    const health = await request(`${adminUrl}/healthz`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });

    const ready = await request(`${adminUrl}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({ status: 'ready', upstream: 'reachable' });

    // Proxy some traffic so the counters move.
    await (await request(`${url}/v1/models`)).body.text();
    await (await request(`${url}/blockchain/sessions/0x${'ab'.repeat(32)}`)).body.text();

    const metrics = await request(`${adminUrl}/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.body.text();
    expect(text).toContain('crosstalk_proxy_requests_total{method="GET",route="/v1/models",status_class="2xx"} 1');
    expect(text).toContain('crosstalk_proxy_requests_total{method="GET",route="/blockchain/sessions/{id}",status_class="2xx"} 1');
    expect(text).toMatch(/crosstalk_proxy_requests_in_flight 0/);
    expect(text).toContain('# TYPE crosstalk_proxy_request_duration_seconds histogram');
    expect(text).toContain('# TYPE crosstalk_proxy_upstream_errors_total counter');
    // Session ids never become label values.
    expect(text).not.toContain('0xabab');

    const incidents = await request(`${adminUrl}/incidents`);
    expect(await incidents.body.json()).toEqual({ total: 0, incidents: [] });

    // The proxy port forwards /healthz like any other path: the admin routes are not reachable through it.
    const proxied = await request(`${url}/healthz`);
    expect(await proxied.body.text()).toBe('upstream');
  });

  it('/readyz answers 503 when the upstream is unreachable', async () => {
    const upstream = await startUpstream((_req, res) => res.end());
    const { adminUrl } = await startProxy(upstream.url);
    await upstream.close();
    const ready = await request(`${adminUrl}/readyz`);
    expect(ready.statusCode).toBe(503);
    expect(await ready.body.json()).toEqual({ status: 'not_ready', upstream: 'unreachable', reason: 'ECONNREFUSED' });
  });

  it('counts upstream errors by type', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const { url, adminUrl } = await startProxy(upstream.url);
    await (await request(`${url}/v1/models`)).body.text();
    const text = await (await request(`${adminUrl}/metrics`)).body.text();
    expect(text).toMatch(/crosstalk_proxy_upstream_errors_total\{error_type="[A-Z_]+",phase="headers"\} 1/);
    expect(text).toContain('crosstalk_proxy_requests_total{method="GET",route="/v1/models",status_class="5xx"} 1');
  });
});
