import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyMetrics, SpanExportCounts } from '../../src/telemetry/metrics.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { sample, startOtlpSink, type OtlpSink } from './otlp-sink.js';

// The SDK's batch processor drops a span without a trace when its queue is full. A collector that accepts a
// connection and does not answer keeps one batch in flight; what ends meanwhile fills the queue.
describe('the collector stalls while spans keep ending', () => {
  let sink: OtlpSink;
  let telemetry: Telemetry;
  const counts = new SpanExportCounts();
  const metrics = new ProxyMetrics({ spanCounts: counts });
  const scrape = () => metrics.registry.metrics();

  beforeAll(async () => {
    sink = await startOtlpSink();
    sink.hold();
    telemetry = startTelemetry({
      serviceName: 'crosstalk-queue-full',
      spanExporter: new OTLPTraceExporter({ url: sink.url, timeoutMillis: 20_000 }),
      spanCounts: counts,
      // Queue of 4, batches of 2: the first full batch goes out at once and stalls.
      env: { OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_BSP_SCHEDULE_DELAY: '10' },
    });
  });

  afterAll(async () => {
    sink.release();
    await telemetry.shutdown();
    await sink.close();
  });

  it('counts the spans refused at the full queue, then exports the rest once the collector answers', async () => {
    const end = (n: number) => {
      for (let i = 0; i < n; i++) telemetry.tracer.startSpan(`span-${i}`).end();
    };
    end(2); // one full batch: handed to the exporter, held by the collector
    await sink.waitForHeld(1);
    end(4); // fills the queue of 4 behind the stalled export
    end(3); // nowhere to go
    let text = await scrape();
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}')).toBe(3);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(0);
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(0);

    sink.release();
    const deadline = Date.now() + 10_000;
    while (counts.exported < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    text = await scrape();
    // Every span is accounted for exactly once: 6 delivered (the collector saw them), 3 dropped.
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(6);
    expect(sink.accepted()).toBe(6);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}')).toBe(3);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(0);
  });
});
