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
