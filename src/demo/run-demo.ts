/**
 * `crosstalk demo`: the main job on embedded defaults, no services needed. A simulated Lumerin router runs
 * in-process, first with the historical provider bugs on, then off; a fresh sidecar sits in front of it each
 * time and the probe runs through both; then the audit runs against an embedded PostgreSQL holding the
 * gateway's schema with one injected violation. Exit 0 when every part showed what it should.
 */
import { randomBytes } from 'node:crypto';
import type { Tracer } from '@opentelemetry/api';
import { renderTextReport as renderAuditReport } from '../audit/report-text.js';
import type { ProbeResult } from '../probe/result.js';
import { table } from '../probe/report.js';
import {
  DEFAULT_MODEL_NAMES,
  makeSessions,
  startSimulatedRouter,
  type SimBug,
  type SimulatedRouter,
} from '../simulator/index.js';
import { startTelemetry } from '../telemetry/sdk.js';
import { runDemoAudit, type AuditRunResult } from './audit-run.js';
import { checkGateway, gatewayLines, runGatewayTraffic, type GatewayRunResult } from './gateway-run.js';
import { realServicesLines } from './real-services.js';
import { FlaggedSpans, exporterFor, flaggedSpanLines, type SpanMode } from './spans.js';
import { runTraffic, type TrafficRunResult } from './traffic-run.js';

/** Three keys of the gateway's shape; the secret halves are random per run and never printed. */
export const DEMO_KEY_PREFIXES = ['sk-DemoA1', 'sk-DemoB2', 'sk-DemoC3'] as const;
export const DEMO_REQUESTS = 120;
export const DEMO_SWAP_REQUESTS = 60;
/** High enough that every key's burst is in flight at once (3 keys × bursts of 8). */
export const DEMO_CONCURRENCY = 24;
/** 8 chunks 5 ms apart: each stream lasts ~40 ms, so concurrent streams overlap as they do in production. */
/** The traffic runs, in order: the historical bug, a second misrouting shape, then the fix. */
export const DEMO_PLAN: ReadonlyArray<{ bug: SimBug; requests: number }> = [
  { bug: 'shared-reply', requests: DEMO_REQUESTS },
  { bug: 'swap', requests: DEMO_SWAP_REQUESTS },
  { bug: 'none', requests: DEMO_REQUESTS },
];
const ROUTER_CHUNKS = 8;
const ROUTER_CHUNK_DELAY_MS = 5;
const LISTED = 3;

export interface DemoOptions {
  spans: SpanMode;
  print?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DemoOutcome {
  ok: boolean;
  /** What did not go as expected (empty when ok). */
  problems: string[];
  runs: TrafficRunResult[];
  /** The gateway-shaped traffic of each run (issue 13). */
  gatewayRuns: GatewayRunResult[];
  audit: AuditRunResult;
  durationMs: number;
}

const BUG_TITLES: Record<SimBug, string> = {
  'shared-reply': 'provider bug ON: shared-reply (one reply callback shared by concurrent requests, fixed by router PR #561)',
  swap: 'provider bug ON: swap (two overlapping streams trade bodies)',
  none: 'provider bug OFF (the fixed router)',
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function modelTable(probe: ProbeResult): string[] {
  const rows = probe.byModel.map((g) => [
    g.name,
    String(g.requests),
    String(g.ok),
    String(g.empty),
    String(g.failed),
    String(g.echo.match),
    String(g.crosstalk),
  ]);
  return table(['model', 'requests', 'ok', 'empty', 'failed', 'echo matched', 'crosstalk'], rows).map((l) => `    ${l}`);
}

function trafficLines(run: TrafficRunResult, spans: SpanMode, flagged: FlaggedSpans): string[] {
  const { probe, incidents } = run;
  const lines: string[] = [];
  lines.push(
    `  probe: ${probe.totals.requests} streaming requests, ${probe.settings.lanes.length} keys (${probe.settings.lanes.join(', ')}) ` +
      `× ${probe.settings.models.length} models, concurrency ${probe.settings.concurrency}, bursts of ${probe.settings.burst} per key, ` +
      `${(probe.durationMs / 1000).toFixed(1)} s`,
  );
  if (run.misdirected > 0) lines.push(`  router: ${plural(run.misdirected, 'stream')} written into another request's connection`);
  if (incidents.length === 0) {
    lines.push('  sidecar: flagged nothing');
  } else {
    const byReason = new Map<string, number>();
    for (const i of incidents) for (const r of i.reasons) byReason.set(r, (byReason.get(r) ?? 0) + 1);
    const reasons = [...byReason.entries()].map(([r, n]) => `${r} ×${n}`).join(', ');
    lines.push(
      `  sidecar: flagged ${plural(incidents.length, 'response')} (${reasons}) in /incidents, crosstalk_detected_total, ` +
        `span status and ${plural(run.warnLines.length, 'WARN log line')}:`,
    );
    for (const i of incidents.slice(0, LISTED)) {
      lines.push(
        `    ${i.requestId}  ${i.apiKeyPrefix ?? '-'}  ${i.reasons.join(', ')}  ` +
          `(in flight when it started: ${i.inflight.apiKey} on its key, ${i.inflight.session} on its session)`,
      );
    }
    if (incidents.length > LISTED) lines.push(`    … and ${incidents.length - LISTED} more`);
  }
  lines.push(...modelTable(probe));
  const v = probe.verdict;
  lines.push(`  probe verdict: ${v.verdict} (exit ${v.exitCode}): ${v.summary}`);
  for (const o of v.offending.slice(0, LISTED)) {
    const answers =
      o.answersOfTotal === 0
        ? ''
        : o.answersOfTotal <= 3
          ? `; holds the answer of ${o.answersOf.join(', ')}`
          : `; holds the answers of ${o.answersOfTotal} other requests (${o.answersOf.slice(0, 2).join(', ')}, …)`;
    lines.push(`    ${o.requestId}  ${o.lane}  asked ${o.model}: ${o.reasons.join(', ')}${answers}`);
  }
  if (v.offending.length > LISTED) lines.push(`    … and ${v.offending.length - LISTED} more`);
  for (const d of v.details) lines.push(`    ${d}`);
  const sc = probe.sidecar;
  if (sc !== undefined && sc.error === undefined && (sc.both.length > 0 || sc.probeOnly.length > 0)) {
    lines.push(
      `  joined with /incidents: ${plural(sc.both.length, 'request')} named by both the probe and the sidecar` +
        (sc.probeOnly.length > 0 ? `, ${sc.probeOnly.length} by the probe alone (e.g. a swap within one model: only the nonce shows it)` : '') +
        (sc.sidecarOnly.length > 0 ? `, ${sc.sidecarOnly.length} by the sidecar alone` : ''),
    );
  }
  const drained = flagged.drain();
  if (spans === 'flagged') {
    lines.push(`  spans: ${drained.ended} ended, ${drained.flagged.length} flagged (crosstalk.detected = true):`);
    lines.push(...(drained.flagged.length === 0 ? ['    none'] : flaggedSpanLines(drained.flagged, LISTED)));
  } else if (spans !== 'none') {
    lines.push(`  spans: ${drained.ended} ended (${drained.flagged.length} flagged), exported via ${spans}`);
  }
  return lines;
}

const AUDIT_APPENDIX = 'What We Checked';

/**
 * The audit's text report without its appendix (each check's full SQL, ~150 lines that would bury the demo's
 * result); `crosstalk audit` prints it whole. If the appendix heading is not found the report is kept whole.
 */
export function auditReportLines(report: string): string[] {
  const lines = report.trimEnd().split('\n');
  const at = lines.findIndex((l) => l.trim() === AUDIT_APPENDIX);
  if (at === -1) return lines;
  // The heading sits under a rule line; the exit-code line ends the report.
  const cut = /^=+$/.test(lines[at - 1]?.trim() ?? '') ? at - 1 : at;
  const exit = lines.findLast((l) => l.startsWith('Exit code:'));
  return [
    ...lines.slice(0, cut),
    `(${AUDIT_APPENDIX}, with each check's SQL, left out here: \`crosstalk audit\` prints it)`,
    ...(exit === undefined ? [] : ['', exit]),
  ];
}

/** What each run must show; returns the problems. */
export function checkTraffic(run: TrafficRunResult): string[] {
  const problems: string[] = [];
  const v = run.probe.verdict.verdict;
  if (run.bug === 'none') {
    if (v !== 'FIX VERIFIED') problems.push(`bug off: the probe said ${v}, expected FIX VERIFIED`);
    if (run.incidents.length > 0) problems.push(`bug off: the sidecar flagged ${run.incidents.length} responses, expected none`);
    return problems;
  }
  if (v !== 'CROSSTALK') problems.push(`bug ${run.bug}: the probe said ${v}, expected CROSSTALK`);
  if (run.incidents.length === 0) problems.push(`bug ${run.bug}: the sidecar flagged nothing`);
  if ((run.probe.sidecar?.both.length ?? 0) === 0) problems.push(`bug ${run.bug}: no request was named by both the probe and the sidecar`);
  return problems;
}

export function checkAudit(audit: AuditRunResult): string[] {
  const problems: string[] = [];
  if (audit.report.outcome !== 'violation') problems.push(`audit: outcome ${audit.report.outcome}, expected violation`);
  for (const e of audit.expected) if (!e.flagged) problems.push(`audit: check ${e.check} did not flag the injected violation`);
  return problems;
}

async function startRouter(): Promise<SimulatedRouter> {
  return startSimulatedRouter({
    chunks: ROUTER_CHUNKS,
    chunkDelayMs: ROUTER_CHUNK_DELAY_MS,
    // One session per key and model, as the gateway keeps one active session per API key.
    sessions: makeSessions(DEMO_KEY_PREFIXES.length),
  });
}

export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const printLine = options.print ?? ((line: string) => console.log(line));
  const print = (...lines: string[]): void => lines.forEach((line) => printLine(line));
  const started = performance.now();
  const flagged = new FlaggedSpans();
  const telemetry = startTelemetry({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'crosstalk-demo',
    exporter: exporterFor(options.spans),
    spanProcessors: [flagged],
  });
  const tracer: Tracer = telemetry.tracer;
  const keys = DEMO_KEY_PREFIXES.map((prefix) => `${prefix}.${randomBytes(32).toString('hex')}`);
  const models = [...DEFAULT_MODEL_NAMES];
  const runs: TrafficRunResult[] = [];
  const gatewayRuns: GatewayRunResult[] = [];
  const problems: string[] = [];
  let router: SimulatedRouter | undefined;
  try {
    print('crosstalk demo: a simulated Lumerin proxy-router, the sidecar in front of it, the probe through both,');
    print('then the audit of an embedded PostgreSQL. Everything runs in this process on 127.0.0.1.');
    print(
      options.spans === 'flagged'
        ? 'Spans: only the flagged ones, one line per trace (--spans console for all, or set OTEL_EXPORTER_OTLP_ENDPOINT).'
        : `Spans: ${options.spans}.`,
    );
    router = await startRouter();
    print(
      `Router ${router.url}: ${router.models.length} models, ${router.sessions.list().length} sessions (one per key and model), ` +
        `SSE chunks with usage and [DONE], X-Request-Id echo, Basic auth.`,
    );
    for (const [i, step] of DEMO_PLAN.entries()) {
      print('', `[${i + 1}/${DEMO_PLAN.length + 1}] ${BUG_TITLES[step.bug]}`);
      // What the sidecar sees behind the real gateway (its own sidecar; its flagged spans are listed with the run's).
      const gw = await runGatewayTraffic({ router, bug: step.bug, models, tracer });
      gatewayRuns.push(gw);
      const run = await runTraffic({
        router,
        bug: step.bug,
        keys,
        models,
        requests: step.requests,
        concurrency: DEMO_CONCURRENCY,
        tracer,
        ...(options.signal !== undefined && { signal: options.signal }),
      });
      runs.push(run);
      print(...trafficLines(run, options.spans, flagged), ...gatewayLines(gw));
      problems.push(...checkTraffic(run), ...checkGateway(step.bug, gw));
    }
  } finally {
    await router?.close();
  }

  print('', `[${DEMO_PLAN.length + 1}/${DEMO_PLAN.length + 1}] Audit of the gateway database (embedded PostgreSQL: PGlite behind its socket server, the audit's own pg code path)`);
  let audit: AuditRunResult;
  try {
    audit = await runDemoAudit(tracer);
  } finally {
    await telemetry.shutdown();
  }
  print(`  injected violation: ${audit.violation.description}`, '');
  print(...auditReportLines(renderAuditReport(audit.report)).map((line) => `  ${line}`));
  problems.push(...checkAudit(audit));

  const durationMs = Math.round(performance.now() - started);
  print('');
  if (problems.length === 0) {
    const [bugRun, swapRun] = runs;
    print(
      `Demo result: as expected (${(durationMs / 1000).toFixed(1)} s). Bug on: CROSSTALK, flagged by the sidecar ` +
        `(${bugRun?.incidents.length ?? 0} + ${swapRun?.incidents.length ?? 0} responses) and named by the probe; bug off: FIX VERIFIED; ` +
        'audit: the injected violation was found.',
    );
  } else {
    print(`Demo result: NOT as expected (${(durationMs / 1000).toFixed(1)} s):`);
    print(...problems.map((p) => `  - ${p}`));
  }
  print('', ...realServicesLines());
  return { ok: problems.length === 0, problems, runs, gatewayRuns, audit, durationMs };
}
