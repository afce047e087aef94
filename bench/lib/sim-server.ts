/**
 * The upstream for every configuration: the simulated Lumerin router in its own process (`node --import tsx`).
 * Prints one JSON line `{ url, pid, headerSets }` once it listens, then serves until SIGTERM/SIGINT.
 * Each header set is what the real gateway sends for one session (issue 13 item 1): Basic auth, `session_id` and
 * `X-Session-ID`; no API key header (the gateway forwards none) and, from the driver, no `model` in the body.
 */
import { startSimulatedRouter } from '../../src/simulator/index.js';

export interface SimServerReady {
  url: string;
  pid: number;
  headerSets: Record<string, string>[];
}

const port = Number(process.argv[2] ?? '0');
const router = await startSimulatedRouter({
  port,
  seed: 'crosstalk-bench',
  // The router keeps no request log in production; a bench must not pay for one.
  recordLimit: 0,
});
const headerSets = router.sessions.list().map((session) => router.chatHeaders(session.id));
const ready: SimServerReady = { url: router.url, pid: process.pid, headerSets };
process.stdout.write(`${JSON.stringify(ready)}\n`);

const stop = (): void => {
  void router.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
