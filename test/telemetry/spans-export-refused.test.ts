import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyMetrics, SpanExportCounts } from '../../src/telemetry/metrics.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { sample, startOtlpSink, type OtlpSink } from './otlp-sink.js';

// A collector that is up but refuses the data (400: not retried by the exporter), then recovers.
describe('the collector answers 400, then a healthy one takes over', () => {
  let refusing: OtlpSink;
  let healthy: OtlpSink;
  let telemetry: Telemetry;
  const counts = new SpanExportCounts();
  const metrics = new ProxyMetrics({ spanCounts: counts });
  let target = '';

  beforeAll(async () => {
    refusing = await startOtlpSink({ status: 400 });
    healthy = await startOtlpSink();
    target = refusing.url;
    const refusingExporter = new OTLPTraceExporter({ url: refusing.url, timeoutMillis: 5_000 });
    const healthyExporter = new OTLPTraceExporter({ url: healthy.url, timeoutMillis: 5_000 });
    telemetry = startTelemetry({
      serviceName: 'crosstalk-export-refused',
      // Routes each batch by the current target, so one processor sees both collectors.
      spanExporter: {
        export: (spans, done) => (target === refusing.url ? refusingExporter : healthyExporter).export(spans, done),
        shutdown: async () => {
          await refusingExporter.shutdown();
          await healthyExporter.shutdown();
        },
      },
      spanCounts: counts,
      env: { OTEL_BSP_SCHEDULE_DELAY: '10' },
    });
  });

  afterAll(async () => {
    await telemetry.shutdown();
    await refusing.close();
    await healthy.close();
  });

  const settle = async (total: number) => {
    const deadline = Date.now() + 10_000;
    while (counts.exported + counts.droppedExportFailed < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('counts refused batches as export_failed and delivered ones as exported', async () => {
    for (let i = 0; i < 3; i++) telemetry.tracer.startSpan(`refused-${i}`).end();
    await settle(3);
    let text = await metrics.registry.metrics();
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(3);
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(0);

    target = healthy.url;
    for (let i = 0; i < 4; i++) telemetry.tracer.startSpan(`delivered-${i}`).end();
    await settle(7);
    text = await metrics.registry.metrics();
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(4);
    expect(healthy.accepted()).toBe(4);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(3);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}')).toBe(0);
  });
});
