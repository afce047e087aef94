/**
 * Issue 17's bench scenario: what sharing detection through Redis costs.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/two-replicas.ts [--duration 10] [--concurrency 32] [--cli dist/cli.js] [--only one,w2-redis]
 *
 * Against the simulated router (its own process), each configuration runs fresh for one timed window:
 *   one       one sidecar, in-memory store (the reference)
 *   two-mem   two sidecars, in-memory stores, load split between them (what a gateway with two replicas runs today)
 *   two-redis two sidecars sharing detection through --store redis://… (needs REDIS_URL; else skipped)
 *   w1-redis  one sidecar process with --store, CPU-bound (chunks not paced)
 *   w2-redis  --workers 2 --store redis://…, CPU-bound: its throughput against w1-redis
 * Reported per configuration: requests/s, p50/p99 latency to the end of the stream, and the proxies' CPU (all their
 * processes, from /proc) per request. `npm run bench` runs it as its replicas section (bench/lib/replicas-section.ts,
 * `--only replicas`); alone it writes bench/results/two-replicas-<time>.json (or `--out <file>`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { childPids, cpuSeconds } from './lib/proc-stats.js';
import { freePort, httpOk, readyLine, spawnChild, tcpOpen, waitUntil, type Child } from './lib/processes.js';
import type { SimServerReady } from './lib/sim-server.js';
import { SIM_HEADER_CHUNKS, SIM_HEADER_CHUNK_DELAY_MS } from '../src/simulator/faults.js';
import { percentile } from './lib/stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    cli: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const durationMs = Number(flags.duration) * 1000;
const concurrency = Number(flags.concurrency);
const redisUrl = process.env.REDIS_URL;
// The sources by default (a stale dist/ may predate --store); `--cli dist/cli.js` after `npm run build`.
const cli = flags.cli;
const cliArgs = cli === undefined ? ['--import', 'tsx', 'src/cli.ts'] : [cli];

interface Proxy {
  child: Child;
  origin: string;
}

async function startSidecar(upstream: string, extra: string[]): Promise<Proxy> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawnChild('sidecar', process.execPath, [...cliArgs, 'proxy', '--upstream', upstream, '--port', String(port), '--admin-port', String(adminPort), '--fingerprint-secret', 'crosstalk-bench', '--log-level', 'warn', ...extra], {
    cwd: ROOT,
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
  });
  await waitUntil(child, 'readyz', () => httpOk(`http://127.0.0.1:${adminPort}/readyz`));
  await waitUntil(child, 'proxy port', () => tcpOpen(port));
  return { child, origin: `http://127.0.0.1:${port}` };
}

/** CPU seconds of every process of these proxies (a --workers primary and its workers). */
function cpuOf(proxies: readonly Proxy[]): number {
  let total = 0;
  for (const p of proxies) for (const pid of [p.child.pid, ...childPids(p.child.pid)]) total += cpuSeconds(pid);
  return total;
}

/** `concurrency` loops for `durationMs`, each request to the next origin in turn; latencies in ms. */
async function drive(
  origins: readonly string[],
  headerSets: readonly Record<string, string>[],
  delayMs: number,
): Promise<{ latencies: number[]; errors: number }> {
  const pools = origins.map((o) => new Pool(o, { connections: concurrency }));
  const latencies: number[] = [];
  let errors = 0;
  let n = 0;
  const end = Date.now() + durationMs;
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], stream: true, max_tokens: 15 });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = n++;
        const pool = pools[i % pools.length] as Pool;
        const headers = { ...headerSets[i % headerSets.length], 'content-type': 'application/json', accept: 'text/event-stream', [SIM_HEADER_CHUNKS]: '15', [SIM_HEADER_CHUNK_DELAY_MS]: String(delayMs), 'x-request-id': `bench-${i}` };
        const t0 = performance.now();
        try {
          const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
          await res.body.text();
          if (res.statusCode !== 200) errors++;
          else latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  await Promise.all(pools.map((p) => p.close()));
  return { latencies, errors };
}

const router = spawnChild('router', process.execPath, ['--import', 'tsx', 'bench/lib/sim-server.ts', '0'], { cwd: ROOT });
const sim = await readyLine<SimServerReady>(router);
const store = redisUrl === undefined ? [] : ['--store', redisUrl];
const scenarios: { id: string; replicas: string[][]; delayMs: number; needsRedis: boolean }[] = [
  { id: 'one', replicas: [[]], delayMs: 5, needsRedis: false },
  { id: 'two-mem', replicas: [[], []], delayMs: 5, needsRedis: false },
  { id: 'two-redis', replicas: [store, store], delayMs: 5, needsRedis: true },
  { id: 'w1-redis', replicas: [store], delayMs: 0, needsRedis: true },
  { id: 'w2-redis', replicas: [[...store, '--workers', '2']], delayMs: 0, needsRedis: true },
];
const results: Record<string, unknown>[] = [];
for (const s of scenarios) {
  if (flags.only !== undefined && !flags.only.split(',').includes(s.id)) continue;
  if (s.needsRedis && redisUrl === undefined) {
    console.error(`${s.id}: skipped (REDIS_URL not set)`);
    continue;
  }
  const proxies = await Promise.all(s.replicas.map((extra) => startSidecar(sim.url, extra)));
  // A short warm-up (JIT, pools, habits), then the timed window.
  await drive(proxies.map((p) => p.origin), sim.headerSets, s.delayMs).catch(() => undefined);
  const cpu0 = cpuOf(proxies);
  const t0 = performance.now();
  const { latencies, errors } = await drive(proxies.map((p) => p.origin), sim.headerSets, s.delayMs);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuOf(proxies) - cpu0;
  latencies.sort((a, b) => a - b);
  const row = {
    id: s.id,
    requests: latencies.length,
    errors,
    rps: Math.round(latencies.length / seconds),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    cpuMsPerRequest: Number(((cpu * 1000) / Math.max(1, latencies.length)).toFixed(3)),
  };
  results.push(row);
  console.log(JSON.stringify(row));
  await Promise.all(proxies.map((p) => p.child.stop()));
}
await router.stop();
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const out = flags.out ?? join(ROOT, 'bench/results', `two-replicas-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify({ durationMs, concurrency, cli: cliArgs.join(' '), results }, null, 2)}\n`);
console.error(`written ${out}`);
