import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { ProxyMetrics, SpanExportCounts } from '../../src/telemetry/metrics.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { startUpstream } from '../helpers/proxy-harness.js';
import { refusedPort } from '../telemetry/otlp-sink.js';
import { sample, scrape, until } from './fault-kit.js';

/**
 * Issue 14 row 14: with the collector down under load, spans were dropped silently until shutdown. Must: a counter
 * of spans dropped or failed on `/metrics`. 1,000 chat and model requests, 50 at a time, through a sidecar whose
 * OTLP endpoint refuses connections and whose export queue is small: every ended span is counted as dropped
 * (queue_full or export_failed: a refused connection fails fast, so mostly the latter), none as exported, on the admin port's /metrics.
 */
describe('the collector is down while the sidecar is under load (issue 14 row 14)', () => {
  let telemetry: Telemetry;
  let proxy: ProxyServer;
  let url: string;
  let adminUrl: string;
  const ended = new InMemorySpanExporter();
  const counts = new SpanExportCounts();

  beforeAll(async () => {
    telemetry = startTelemetry({
      serviceName: 'crosstalk-row-14',
      // The sidecar's OTLP/HTTP exporter, aimed at a port that refuses connections, giving up after 300 ms.
      spanExporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${await refusedPort()}/v1/traces`, timeoutMillis: 300 }),
      spanCounts: counts,
      spanProcessors: [new SimpleSpanProcessor({ exporter: ended })],
      env: {
        OTEL_BSP_SCHEDULE_DELAY: '10',
        OTEL_BSP_MAX_QUEUE_SIZE: '64',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '32',
      },
    });
    const upstream = await startUpstream((req, res) => {
      req.resume();
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"id":"chatcmpl-14","model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n');
    });
    proxy = createProxyServer(proxyConfigFor(upstream.url, { fingerprintSecret: 'fp' }), {
      tracer: telemetry.tracer,
      logger: createLogger('error'),
      metrics: new ProxyMetrics({ spanCounts: counts }),
    });
    ({ url, adminUrl } = await proxy.listen());
  });

  afterAll(async () => {
    await proxy.close();
    await telemetry.shutdown();
  });

  it('counts every lost span on /metrics (queue_full + export_failed), none exported', async () => {
    const client = new Agent({ connections: 50 });
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const chat = i % 2 === 0;
          const res = await request(`${url}${chat ? '/v1/chat/completions' : '/v1/models'}`, {
            method: chat ? 'POST' : 'GET',
            dispatcher: client,
            ...(chat && { body: '{"stream":true}', headers: { 'content-type': 'application/json' } }),
          });
          await res.body.text();
          expect(res.statusCode).toBe(200);
        }),
      );
    }
    await client.close();
    await until(() => ended.getFinishedSpans().length >= 1000);
    // Every ended span is eventually accounted for: refused at the queue, or in a batch whose export failed.
    const dropped = (text: string) =>
      (sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}') ?? 0) + (sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}') ?? 0);
    await until(async () => dropped(await scrape(adminUrl)) >= ended.getFinishedSpans().length);
    const text = await scrape(adminUrl);
    expect(dropped(text)).toBe(ended.getFinishedSpans().length);
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(0);
    // The sidecar kept serving throughout.
    expect(sample(text, 'crosstalk_proxy_requests_in_flight')).toBe(0);
  }, 120_000);
});
