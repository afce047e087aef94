import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A controllable OTLP/HTTP trace receiver for the span-loss tests: it answers `status` to every export, or, while
 * `hold()` is in effect, keeps each export waiting until `release()`. Counts the spans of every export it answered
 * with 2xx.
 */
export interface OtlpSink {
  url: string;
  /** Spans in exports answered 2xx. */
  accepted(): number;
  /** Exports waiting for `release()`. */
  held(): number;
  /** Resolves when at least `n` exports are held. */
  waitForHeld(n: number, timeoutMs?: number): Promise<void>;
  hold(): void;
  /** Answers every held export and stops holding. */
  release(): void;
  close(): Promise<void>;
}

function spansIn(body: Buffer): number {
  const payload = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
  };
  let n = 0;
  for (const rs of payload.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

export async function startOtlpSink({ status = 200 }: { status?: number } = {}): Promise<OtlpSink> {
  let accepted = 0;
  let holding = false;
  const waiting: Array<() => void> = [];
  const heldWaiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        if (status >= 200 && status < 300) accepted += spansIn(Buffer.concat(chunks));
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      };
      if (holding) {
        waiting.push(answer);
        for (const w of heldWaiters) w();
      } else {
        answer();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    accepted: () => accepted,
    held: () => waiting.length,
    waitForHeld(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (waiting.length < n) return;
          heldWaiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          heldWaiters.delete(check);
          reject(new Error(`expected ${n} held exports, got ${waiting.length}`));
        }, timeoutMs);
        heldWaiters.add(check);
        check();
      });
    },
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const answer of waiting.splice(0)) answer();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then closed): connections to it are refused. */
export async function refusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The value of one sample in Prometheus text exposition (`name{labels} value`), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
