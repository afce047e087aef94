/**
 * One traffic run of the demo: the simulated router (with or without a provider bug) behind a fresh sidecar,
 * and the probe through the sidecar with several keys and models, joined to the sidecar's incidents.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Tracer } from '@opentelemetry/api';
import type { Incident } from '../proxy/incidents.js';
import { proxyConfigFor } from '../proxy/options.js';
import { createProxyServer } from '../proxy/server.js';
import type { ProbeResult } from '../probe/result.js';
import { resolveProbeConfig } from '../probe/options.js';
import { runProbe } from '../probe/run-probe.js';
import type { SimBug, SimulatedRouter } from '../simulator/index.js';
import { createLogger } from '../telemetry/logger.js';

export interface TrafficRunOptions {
  router: SimulatedRouter;
  bug: SimBug;
  /** Raw keys (the sidecar fingerprints them; nothing prints them). */
  keys: readonly string[];
  models: readonly string[];
  requests: number;
  concurrency: number;
  tracer: Tracer;
  signal?: AbortSignal;
}

export interface TrafficRunResult {
  bug: SimBug;
  probe: ProbeResult;
  /** The sidecar's incidents (this sidecar saw only this run), oldest first. */
  incidents: Incident[];
  /** The sidecar's WARN log lines (one per flagged response). */
  warnLines: string[];
  /** Streams the router wrote into another request's connection. */
  misdirected: number;
}

/** `--session model=0x…` for every model: key i uses the i-th session of each model (one session per key). */
function sessionFlags(router: SimulatedRouter, models: readonly string[]): string[] {
  return models.flatMap((model) => router.sessions.forModel(model).map((s) => `${model}=${s.id}`));
}

export async function runTraffic(options: TrafficRunOptions): Promise<TrafficRunResult> {
  const { router, bug } = options;
  router.setBug(bug);
  router.resetStats();
  const warnLines: string[] = [];
  const logSink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      warnLines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  // A fresh sidecar per run, so its registries and /incidents hold this run only.
  const sidecar = createProxyServer(
    proxyConfigFor(router.url, { fingerprintSecret: randomBytes(16).toString('hex'), logLevel: 'warn' }),
    { tracer: options.tracer, logger: createLogger('warn', logSink) },
  );
  const { url, adminUrl } = await sidecar.listen();
  try {
    const auth = router.auth;
    const config = resolveProbeConfig(
      {
        target: url,
        model: [...options.models],
        session: sessionFlags(router, options.models),
        apiKey: [...options.keys],
        ...(auth !== undefined && { basicAuth: `${auth.username}:${auth.password}` }),
        requests: String(options.requests),
        concurrency: String(options.concurrency),
        timeout: '15s',
        sidecarAdmin: adminUrl,
        progress: false,
      },
      {},
    );
    const probe = await runProbe(config, {
      tracer: options.tracer,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    return {
      bug,
      probe,
      incidents: sidecar.incidents.list().reverse(),
      warnLines,
      misdirected: router.stats.misdirectedStreams,
    };
  } finally {
    await sidecar.close();
  }
}
