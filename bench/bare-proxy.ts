/**
 * The baseline a user would otherwise pick: fastify + @fastify/http-proxy with no hooks, no tracing, no
 * inspection, logger off. The upstream pool matches the sidecar's (undici, `connections: null` = one socket per
 * concurrent request, no cap; pipelining 1), so a difference between the two is the sidecar's own work and not
 * a queue in front of http-proxy's default 128 sockets.
 *
 *   node --import tsx bench/bare-proxy.ts <upstream-url> [port]
 *
 * Prints `{ url, pid }` as one JSON line once it listens; exits on SIGTERM/SIGINT.
 */
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';

const upstream = process.argv[2];
if (upstream === undefined) {
  console.error('usage: bare-proxy.ts <upstream-url> [port]');
  process.exit(64);
}
const port = Number(process.argv[3] ?? '0');

const app = Fastify({ logger: false });
await app.register(httpProxy, {
  upstream,
  // Typed for the http1 agent in http-proxy's d.ts; these are undici Pool options, as the sidecar passes.
  undici: { connections: null, pipelining: 1 } as never,
});
const url = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void app.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
