/**
 * One probe run: `concurrency` workers take the plan's requests in order until the count or the duration is
 * reached, every answer is checked by the shared detector rules, the sidecar's incidents are joined if asked,
 * and the results become tables and a verdict.
 */
import { pairStarvedRequests } from './starvation-pass.js';
import { randomBytes } from 'node:crypto';
import type { Tracer } from '@opentelemetry/api';
import { Agent } from 'undici';
import { VERSION } from '../version.js';
import { buildProbeRequest, sendProbeRequest } from './client.js';
import { fetchSettledIncidents, incidentsUrl, joinIncidents } from './incidents.js';
import type { ProbeRequestResult, ProbeResult, SidecarJoin } from './result.js';
import type { ProbeConfig } from './options.js';
import { planSlot } from './plan.js';
import type { ProbeProgress } from './progress.js';
import { summarize } from './summary.js';
import { decideVerdict } from './verdict.js';
import { ProbeVerifier } from './verify.js';

export interface RunProbeOptions {
  /** Stops the run: no new request starts and in-flight ones are cut (and left out of the counts). */
  signal?: AbortSignal;
  onProgress?: (progress: ProbeProgress) => void;
  /** Each request gets a client span, and its trace continues in the sidecar. */
  tracer?: Tracer;
  /** Fixed in tests; random (6 hex) otherwise. */
  runId?: string;
  /** How long to wait for the sidecar's incidents to settle after the last answer. */
  incidentsTimeoutMs?: number;
}

/** With no answer at all after this many consecutive failures, the target is taken to be unreachable. */
export const GIVE_UP_AFTER_FAILURES = 20;
const DEFAULT_INCIDENTS_TIMEOUT_MS = 2_000;

function maskedTarget(config: ProbeConfig): string {
  // Credentials are refused in --target (options.ts); the query may still hold a token of some gateway.
  const url = new URL(config.target.href);
  if (url.search !== '') url.search = '?…';
  return url.href;
}

export async function runProbe(config: ProbeConfig, options: RunProbeOptions = {}): Promise<ProbeResult> {
  const runId = options.runId ?? randomBytes(3).toString('hex');
  const startedAt = new Date();
  const started = performance.now();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();

  const verifier = new ProbeVerifier({
    runId,
    expectEcho: config.expectEcho,
    modelAliases: config.modelAliases,
    mode: config.mode,
  });
  // One connection per concurrent request: nothing queues inside the client, keep-alive sockets are reused.
  const dispatcher = new Agent({ connections: config.concurrency, pipelining: 1 });
  const shape = { models: config.models, lanes: config.laneLabels.length, burst: config.burst };
  const results: ProbeRequestResult[] = [];
  const deadline = config.durationMs === undefined ? Infinity : started + config.durationMs;
  let next = 0;
  let answered = 0;
  let consecutiveFailures = 0;
  const progress: ProbeProgress = {
    done: 0,
    total: Number.isFinite(config.requests) ? config.requests : undefined,
    crosstalk: 0,
    failed: 0,
    echoMatch: 0,
    elapsedMs: 0,
    durationMs: config.durationMs,
  };

  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted && next < config.requests && performance.now() < deadline) {
      const index = next++;
      const req = buildProbeRequest(config, runId, planSlot(index, shape));
      const result = await sendProbeRequest(req, {
        config,
        verifier,
        dispatcher,
        signal: stop.signal,
        ...(options.tracer !== undefined && { tracer: options.tracer }),
      });
      results.push(result);
      if (result.outcome === 'aborted') continue;
      if (result.outcome === 'failed') consecutiveFailures++;
      else {
        answered++;
        consecutiveFailures = 0;
      }
      if (answered === 0 && consecutiveFailures >= Math.max(GIVE_UP_AFTER_FAILURES, config.concurrency)) stop.abort();
      progress.done++;
      if (result.reasons.length > 0) progress.crosstalk++;
      if (result.outcome === 'failed') progress.failed++;
      if (result.echo === 'match') progress.echoMatch++;
      progress.elapsedMs = performance.now() - started;
      options.onProgress?.({ ...progress });
    }
  };

  try {
    await Promise.all(Array.from({ length: config.concurrency }, () => worker()));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await dispatcher.close().catch(() => undefined);
  }
  results.sort((a, b) => a.index - b.index);
  // The sidecar's starvation rule over the whole run: empty answers beside one that carried several completions.
  pairStarvedRequests(results, config.chatUrl);

  let sidecar: SidecarJoin | undefined;
  if (config.sidecarAdmin !== undefined) {
    const url = incidentsUrl(config.sidecarAdmin);
    try {
      const page = await fetchSettledIncidents(config.sidecarAdmin, options.incidentsTimeoutMs ?? DEFAULT_INCIDENTS_TIMEOUT_MS);
      sidecar = joinIncidents(results, page, url);
    } catch (err) {
      sidecar = {
        url,
        error: err instanceof Error ? err.message : String(err),
        total: 0,
        onThisRun: 0,
        truncated: false,
        joinedBy: { request_id: 0, completion_id: 0, session_time: 0 },
        ambiguous: 0,
        both: [],
        sidecarOnly: [],
        probeOnly: [],
      };
    }
  }

  const warnings = [...config.warnings];
  if (sidecar?.error !== undefined) warnings.push(`could not read the sidecar's incidents (${sidecar.error}): the verdict rests on the probe's own checks`);
  if (sidecar?.truncated === true) warnings.push('the sidecar has dropped older incidents (--incidents-limit): some of this run may be missing from the join');
  if (results.some((r) => r.echoSource === 'sidecar')) {
    warnings.push('echo as reported by the sidecar (x-crosstalk-request-id-echo): the upstream\'s own echo, not the sidecar\'s');
  }

  return {
    tool: 'crosstalk probe',
    version: VERSION,
    runId,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    target: { url: maskedTarget(config), chatUrl: config.chatUrl.replace(/\?.*$/, ''), mode: config.mode },
    settings: {
      requests: Number.isFinite(config.requests) ? config.requests : null,
      concurrency: config.concurrency,
      durationMs: config.durationMs ?? null,
      burst: config.burst,
      expectEcho: config.expectEcho,
      models: [...config.models],
      lanes: [...config.laneLabels],
    },
    requests: results,
    ...summarize(results, config.models, config.laneLabels),
    ...(sidecar !== undefined && { sidecar }),
    verdict: decideVerdict(results),
    warnings,
  };
}
