import net from 'node:net';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { onTestFinished } from 'vitest';
import { createLogger } from '../../src/telemetry/logger.js';
import { proxyConfigFor, type LogLevel, type ProxyConfig } from '../../src/proxy/options.js';
import { createProxyServer } from '../../src/proxy/server.js';
import type { Harness } from '../helpers/proxy-harness.js';
import { createTestTracing } from '../helpers/tracing.js';

/** Shared bits of the issue 14 fault tests: metric samples, event waits, a proxy at any log level, raw upstreams. */

export const MODES = ['flag', 'block'] as const;
export type Mode = (typeof MODES)[number];

/** The value of one exact Prometheus sample line (`name{labels}`), or undefined when the series is absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export async function scrape(adminUrl: string): Promise<string> {
  return (await request(`${adminUrl}/metrics`)).body.text();
}

/** Resolves when `emitter` emits `event` once (the test's own timeout bounds the wait). */
export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

/** A promise with its resolve function outside: for "the test has seen X" signals between upstream and test. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `check` on every macrotask until true (no timing assertion: the test timeout is the bound). */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setImmediate(r));
}

/** Like `startProxy`, with the logger at `level` (trace, to prove nothing leaks even there). */
export async function startProxyLogging(upstreamUrl: string, level: LogLevel, overrides: Partial<ProxyConfig> = {}): Promise<Harness> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const tracing = createTestTracing();
  const proxy = createProxyServer(proxyConfigFor(upstreamUrl, { fingerprintSecret: 'test-secret', logLevel: level, ...overrides }), {
    tracer: tracing.tracer,
    logger: createLogger(level, sink),
  });
  const { url, adminUrl } = await proxy.listen();
  onTestFinished(async () => {
    await proxy.close();
    await tracing.shutdown();
  });
  return { proxy, url, adminUrl, tracing, logs };
}

/** One upstream connection as the raw upstream saw it: every request head read on it, and whether it closed. */
export interface RawConnection {
  socket: net.Socket;
  heads: string[];
  closed: Promise<void>;
}

/**
 * A keep-alive raw upstream: `onHead` is called for every request head on every connection (bodies are not
 * expected: the tests send GET or small bodies that `onHead` may ignore). It writes whatever bytes it likes.
 */
export async function startKeepAliveUpstream(
  onHead: (conn: RawConnection, head: string, index: number) => void,
): Promise<{ url: string; connections: RawConnection[] }> {
  const connections: RawConnection[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    const closed = once<void>(socket, 'close');
    const conn: RawConnection = { socket, heads: [], closed };
    connections.push(conn);
    let buffered = '';
    socket.on('data', (c: Buffer) => {
      buffered += c.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        conn.heads.push(head);
        onHead(conn, head, conn.heads.length - 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, connections };
}

/** A header's value in a raw request head (first occurrence, case-insensitive name). */
export function headValue(head: string, name: string): string | undefined {
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** A complete HTTP/1.1 response with a content-length body. */
export function rawResponse(status: string, headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
