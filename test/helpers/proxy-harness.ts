import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { proxyConfigFor, type ProxyConfig } from '../../src/proxy/options.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { createTestTracing, type TestTracing } from './tracing.js';

export interface Harness {
  proxy: ProxyServer;
  url: string;
  adminUrl: string;
  tracing: TestTracing;
  /** Every JSON log line the proxy wrote. */
  logs: string[];
}

/** Starts a proxy (port 0, in-memory spans, captured logs) in front of `upstreamUrl`; closed after the test. */
export async function startProxy(upstreamUrl: string, overrides: Partial<ProxyConfig> = {}): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const tracing = createTestTracing();
  const proxy = createProxyServer(
    proxyConfigFor(upstreamUrl, { fingerprintSecret: 'test-secret', logLevel: 'info', ...overrides }),
    { tracer: tracing.tracer, logger: createLogger('info', sink) },
  );
  const { url, adminUrl } = await proxy.listen();
  onTestFinished(async () => {
    await proxy.close();
    await tracing.shutdown();
  });
  return { proxy, url, adminUrl, tracing, logs };
}

/** Registers cleanup after the current test, or leaves it to the caller in beforeAll/afterAll code. */
function cleanupAfterTest(fn: () => Promise<void>): void {
  try {
    onTestFinished(fn);
  } catch {
    // Called from a beforeAll hook: the caller owns cleanup via the returned close().
  }
}

/** A plain node:http upstream for scenario tests; closed after the test (or by `close()`). */
export async function startUpstream(
  handler: http.RequestListener,
): Promise<{ url: string; server: http.Server; requests: http.IncomingMessage[]; close(): Promise<void> }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanupAfterTest(close);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, requests, close };
}

/** Waits until the span processor has seen a finished span named `name` (spans end on socket close). */
export async function waitForSpan(tracing: TestTracing, predicate: (name: string) => boolean, timeoutMs = 5_000) {
  const started = Date.now();
  for (;;) {
    const span = tracing.exporter.getFinishedSpans().find((s) => predicate(s.name));
    if (span) return span;
    if (Date.now() - started > timeoutMs) throw new Error('span did not finish in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
