/**
 * `crosstalk proxy --workers N` (issue 17 item 4): N worker processes (node:cluster) serve the one gateway-facing
 * port and share detection through `--store`; the primary serves the admin port alone: `/metrics` is the sum of
 * every worker's registry (prom-client's AggregatorRegistry) and `/incidents` every worker's incidents (each
 * worker sends its incidents and their amendments to the primary as they are recorded).
 *
 * A worker that dies is replaced (logged); on SIGTERM/SIGINT the primary asks every worker to drain, then exits.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { ConfigError } from '../errors.js';
import { defineOption } from '../config/option.js';
import { parsePositiveInt } from '../config/values.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import { buildAdminServer } from './admin-server.js';
import { IncidentLog, type Incident, type RelatedRequest } from './incidents.js';
import type { ProxyConfig } from './options.js';
import type { ProxyServer } from './server.js';

export const WORKERS_OPTION = defineOption(
  '--workers <n>',
  'CROSSTALK_WORKERS',
  'worker processes serving the one port (more than 1 needs --store redis://…: the workers share detection through it)',
  { parse: parsePositiveInt, fallback: 1, defaultText: '1' },
);

/** IPC message a worker sends for each incident it records or amends. */
type IncidentMessage =
  | { type: 'crosstalk:incident'; op: 'add'; incident: Incident }
  | { type: 'crosstalk:incident'; op: 'amend'; requestId: string; reason: string; evidence: Record<string, unknown>; related: RelatedRequest[] };

/** IPC message the primary sends each worker to drain and exit. */
const SHUTDOWN_MESSAGE = 'crosstalk:shutdown';

/** In a worker: `fn` when the primary asks it to drain and exit. */
export function onPrimaryShutdown(fn: () => void): void {
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === SHUTDOWN_MESSAGE) fn();
  });
}

function isIncidentMessage(m: unknown): m is IncidentMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'crosstalk:incident';
}

/** This process is a worker forked by {@link runPrimary}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** N > 1 without a shared store would split detection N ways: refused. */
export function checkWorkers(workers: number, config: ProxyConfig): void {
  if (workers > 1 && config.store.kind !== 'redis') {
    throw new ConfigError(`--workers ${workers} needs --store redis://…: without a shared store each worker would see only its own traffic`);
  }
}

/** A worker's config: the shared gateway port; its own admin port on loopback, unused (the primary's serves). */
export function workerConfig(config: ProxyConfig): ProxyConfig {
  return { ...config, adminPort: 0, adminHost: '127.0.0.1' };
}

/** In a worker: report the proxy's metrics registry to the primary's aggregation, and its incidents. */
export function attachWorker(proxy: ProxyServer, metrics: ProxyMetrics): void {
  // Constructing one installs prom-client's worker-side listener that answers the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  const log = proxy.incidents;
  const send = (m: IncidentMessage) => {
    if (process.connected) process.send?.(m);
  };
  const add = log.add.bind(log);
  const amend = log.amend.bind(log);
  log.add = (incident) => {
    add(incident);
    send({ type: 'crosstalk:incident', op: 'add', incident });
  };
  log.amend = (requestId, reason, evidence, related) => {
    const held = amend(requestId, reason, evidence, related);
    if (held) send({ type: 'crosstalk:incident', op: 'amend', requestId, reason, evidence, related: related.map((r) => ({ ...r })) });
    return held;
  };
}

export interface Primary {
  adminUrl: string;
  /** Workers currently alive. */
  readonly workers: number;
  /** Asks every worker to drain and exit, waits for them, closes the admin port. */
  close(): Promise<void>;
}

/** In the primary: forks `n` workers (they re-run this command), serves the admin port with the merged views. */
export async function runPrimary(config: ProxyConfig, n: number, logger: Logger): Promise<Primary> {
  const aggregator = new AggregatorRegistry();
  const incidents = new IncidentLog(config.incidentsLimit);
  let closing = false;
  const alive = new Set<Worker>();

  const fork = (index: number): void => {
    const worker = cluster.fork({ CROSSTALK_WORKER_INDEX: String(index) });
    alive.add(worker);
    worker.on('message', (m: unknown) => {
      if (!isIncidentMessage(m)) return;
      if (m.op === 'add') incidents.add(m.incident);
      else if (!incidents.amend(m.requestId, m.reason, m.evidence, m.related)) logger.debug({ requestId: m.requestId }, 'amendment for an incident the primary no longer holds');
    });
    worker.on('exit', (code, signal) => {
      alive.delete(worker);
      if (closing) return;
      logger.error({ worker: index, code, signal }, 'proxy worker exited: starting a new one');
      fork(index);
    });
  };
  for (let i = 0; i < n; i++) fork(i);

  // The admin server reads `registry.metrics()` and `registry.contentType`: the cluster's sum stands in.
  const summed = { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() };
  const metrics = { registry: summed } as unknown as ProxyMetrics;
  const admin = buildAdminServer({ config, metrics, incidents, logger });
  const adminUrl = await admin.listen({ port: config.adminPort, host: config.adminHost });

  return {
    adminUrl,
    get workers() {
      return alive.size;
    },
    async close() {
      closing = true;
      await Promise.all(
        [...alive].map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              // Over IPC, not a signal: after a terminal's Ctrl-C the workers already have SIGINT (a second signal
              // would cut their streams); a worker whose channel is gone gets SIGTERM.
              if (w.isConnected()) w.send({ type: SHUTDOWN_MESSAGE });
              else w.process.kill('SIGTERM');
            }),
        ),
      );
      await admin.close();
    },
  };
}
