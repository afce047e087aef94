import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTelemetry } from '../src/telemetry/sdk.js';

describe('telemetry shutdown', () => {
  it('does not hang a one-shot job when no collector is listening', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    const telemetry = startTelemetry({ flushTimeoutMs: 500 });
    telemetry.tracer.startSpan('audit test').end();
    const started = Date.now();
    await telemetry.shutdown();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('batch processor options', () => {
  it('default to small, frequent batches and honour the OTEL_BSP_* variables', async () => {
    const { batchOptionsFromEnv, DEFAULT_BSP } = await import('../src/telemetry/sdk.js');
    expect(batchOptionsFromEnv({})).toEqual({ ...DEFAULT_BSP });
    expect(batchOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: '5000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512', OTEL_BSP_MAX_QUEUE_SIZE: '2048', OTEL_BSP_EXPORT_TIMEOUT: '30000' })).toEqual({
      scheduledDelayMillis: 5000,
      maxExportBatchSize: 512,
      maxQueueSize: 2048,
      exportTimeoutMillis: 30000,
    });
    expect(batchOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '8' }).maxExportBatchSize).toBe(8);
    expect(() => batchOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow('OTEL_BSP_SCHEDULE_DELAY must be a whole number ≥ 0 (got "soon")');
  });
});
