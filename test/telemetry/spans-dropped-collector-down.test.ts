import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { startUpstream } from '../helpers/proxy-harness.js';
import { refusedPort, sample } from './otlp-sink.js';

// Issue 14 row 14: with the collector down, spans were dropped silently until shutdown. The sidecar as it runs
// (env-configured OTLP exporter, the ProxyMetrics the admin port serves) must count them on /metrics.
describe('the collector refuses connections', () => {
  let telemetry: Telemetry;
  let proxy: ProxyServer;
  let url: string;
  let adminUrl: string;
  const ended = new InMemorySpanExporter();

  beforeAll(async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `http://127.0.0.1:${await refusedPort()}/v1/traces`);
    // One attempt and no retry fits in this: the exporter gives up instead of backing off for 10 s.
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '300');
    vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp');
    // A second processor sees every span that ended, to compare the counters against.
    telemetry = startTelemetry({
      serviceName: 'crosstalk-collector-down',
      spanProcessors: [new SimpleSpanProcessor({ exporter: ended })],
      env: { ...process.env, OTEL_BSP_SCHEDULE_DELAY: '20' },
    });
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}'));
    });
    proxy = createProxyServer(proxyConfigFor(upstream.url, { fingerprintSecret: 'fp-secret' }), {
      tracer: telemetry.tracer,
      logger: createLogger('error'),
    });
    ({ url, adminUrl } = await proxy.listen());
  });

  afterAll(async () => {
    await proxy.close();
    await telemetry.shutdown();
    vi.unstubAllEnvs();
  });

  it('counts every lost span as export_failed on the admin /metrics, none as exported', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await request(`${url}/v1/models`);
      await res.body.text();
      expect(res.statusCode).toBe(200);
    }
    const scrape = async () => (await (await request(`${adminUrl}/metrics`)).body.text());
    const deadline = Date.now() + 15_000;
    let text = await scrape();
    // Polls until every ended span has been through a failed export (bounded).
    while (
      (ended.getFinishedSpans().length < 5 ||
        sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}') !== ended.getFinishedSpans().length) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
      text = await scrape();
    }
    const spans = ended.getFinishedSpans().length;
    expect(spans).toBeGreaterThanOrEqual(5);
    expect(text).toContain('# TYPE crosstalk_spans_dropped_total counter');
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(spans);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}')).toBe(0);
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(0);
  });
});
