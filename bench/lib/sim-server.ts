/**
 * The upstream for every configuration: the simulated Lumerin router in its own process (`node --import tsx`).
 * Prints one JSON line `{ url, pid, headerSets }` once it listens, then serves until SIGTERM/SIGINT.
 * Each header set is what the gateway sends for one session (Basic auth, `session_id`, `X-Session-ID`) plus an
 * `x-api-key` in the gateway's `sk-XXXXXX.<64 hex>` shape, one key per session, so the sidecar's identity and
 * session-binding paths run without ever seeing a session shared between keys (which it would flag).
 */
import { createHash } from 'node:crypto';
import { startSimulatedRouter } from '../../src/simulator/index.js';

export interface SimServerReady {
  url: string;
  pid: number;
  headerSets: Record<string, string>[];
  /** The same sessions as the real gateway sends them: Basic auth and both session headers, no key (issue 13). */
  gatewayHeaderSets: Record<string, string>[];
}

function apiKeyFor(index: number): string {
  const secret = createHash('sha256').update(`crosstalk-bench/key/${index}`).digest('hex');
  return `sk-bench${index}.${secret}`;
}

const port = Number(process.argv[2] ?? '0');
const router = await startSimulatedRouter({
  port,
  seed: 'crosstalk-bench',
  // The router keeps no request log in production; a bench must not pay for one.
  recordLimit: 0,
});
const headerSets = router.sessions.list().map((session, i) => ({
  ...router.chatHeaders(session.id),
  'x-api-key': apiKeyFor(i),
}));
const gatewayHeaderSets = router.sessions.list().map((session) => router.chatHeaders(session.id));
const ready: SimServerReady = { url: router.url, pid: process.pid, headerSets, gatewayHeaderSets };
process.stdout.write(`${JSON.stringify(ready)}\n`);

const stop = (): void => {
  void router.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
