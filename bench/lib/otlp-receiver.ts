/**
 * A stand-in OpenTelemetry collector for the bench: accepts OTLP/HTTP `POST /v1/traces` (JSON or protobuf),
 * counts requests, bytes and (for JSON) spans, and discards the payload. `GET /stats` returns the counters.
 * Runs in its own process; prints `{ url, pid }` as one JSON line once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpReceiverStats {
  exports: number;
  bytes: number;
  /** Spans in JSON payloads (`"spanId"` keys; parent ids are spelled `parentSpanId`). */
  spans: number;
}

const SPAN_ID_KEY = Buffer.from('"spanId"');
const stats: OtlpReceiverStats = { exports: 0, bytes: 0, spans: 0 };

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats));
    return;
  }
  const json = (req.headers['content-type'] ?? '').includes('json');
  let tail: Buffer = Buffer.alloc(0);
  req.on('data', (chunk: Buffer) => {
    stats.bytes += chunk.length;
    if (!json) return;
    // Keep a few bytes of the previous read so a key split across two reads is still counted once.
    const data = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    let at = data.indexOf(SPAN_ID_KEY);
    while (at !== -1) {
      stats.spans++;
      at = data.indexOf(SPAN_ID_KEY, at + SPAN_ID_KEY.length);
    }
    tail = data.subarray(Math.max(0, data.length - (SPAN_ID_KEY.length - 1)));
  });
  req.on('end', () => {
    stats.exports++;
    // An empty ExportTraceServiceResponse: everything accepted.
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : '');
  });
});

server.listen(Number(process.argv[2] ?? '0'), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
