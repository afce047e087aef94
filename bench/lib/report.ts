/** The fixed-width table printed to stdout; the same numbers go to bench/results/latest.json. */
import { CONFIG_LABELS } from './configs.js';
import type { GoalCheck } from './goals.js';
import type { RoundRatios } from './stats.js';
import { SIDECAR_ROUND_REFERENCES, type ColdStart, type Metric, type RoundReference, type ScenarioSummary } from './summary.js';

interface Column {
  label: string;
  metric: Metric;
  kind: 'rate' | 'ms' | 'mb' | 'cpu';
}

const COLUMNS: Column[] = [
  { label: 'req/s', metric: 'requestsPerSec', kind: 'rate' },
  { label: 'chunks/s', metric: 'chunksPerSec', kind: 'rate' },
  { label: 'TTFC p50', metric: 'ttfcP50', kind: 'ms' },
  { label: 'TTFC p99', metric: 'ttfcP99', kind: 'ms' },
  { label: 'total p50', metric: 'totalP50', kind: 'ms' },
  { label: 'total p99', metric: 'totalP99', kind: 'ms' },
  { label: 'peak RSS', metric: 'peakRssMb', kind: 'mb' },
  { label: 'RSS grow', metric: 'rssGrowthMb', kind: 'mb' },
  { label: 'CPU s/1k', metric: 'cpuSecPer1k', kind: 'cpu' },
];
/** A single big stream is judged per byte: MB/s instead of req/s, CPU s per GB instead of per 1k requests. */
const BIG_STREAM_COLUMNS: Column[] = [
  { label: 'MB/s', metric: 'mbPerSec', kind: 'rate' },
  ...COLUMNS.slice(1, -1),
  { label: 'CPU s/GB', metric: 'cpuSecPerGb', kind: 'cpu' },
];

const NAME_WIDTH = 17;
const CELL_WIDTH = 10;

function formatValue(value: number, kind: Column['kind']): string {
  if (!Number.isFinite(value)) return '-';
  switch (kind) {
    case 'rate':
      if (value >= 100_000) return `${(value / 1000).toFixed(0)}k`;
      if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
      return value >= 100 ? value.toFixed(0) : value.toFixed(1);
    case 'ms':
      return value >= 100 ? `${value.toFixed(0)}ms` : `${value.toFixed(value >= 10 ? 1 : 2)}ms`;
    case 'mb':
      return `${value.toFixed(1)}MB`;
    case 'cpu':
      return value.toFixed(3);
  }
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

function formatRounds(label: string, r: RoundRatios): string {
  const spread = r.rounds > 1 ? ` (${r.min.toFixed(2)}–${r.max.toFixed(2)}x over ${r.rounds} rounds)` : ' (1 round)';
  return `${label} ${formatRatio(r.median)}${spread}`;
}

function row(name: string, cells: string[]): string {
  return name.padEnd(NAME_WIDTH) + cells.map((c) => c.padStart(CELL_WIDTH)).join('');
}

export function scenarioTable(s: ScenarioSummary): string[] {
  const columns = s.scenario.requests === 1 ? BIG_STREAM_COLUMNS : COLUMNS;
  const rounds = Math.max(0, ...s.configs.map((c) => c.rounds));
  const lines = [`── ${s.id}: ${s.title} (median of ${rounds} round${rounds === 1 ? '' : 's'})`];
  lines.push(row('config', columns.map((c) => c.label)));
  const hasBare = s.configs.some((c) => c.config === 'bare');
  const hasDirect = s.configs.some((c) => c.config === 'direct');
  for (const c of s.configs) {
    const flags = c.errors + c.incomplete > 0 ? `  (${c.errors} errors, ${c.incomplete} incomplete)` : '';
    lines.push(row(CONFIG_LABELS[c.config], columns.map((col) => formatValue(c.median[col.metric], col.kind))) + flags);
    if (c.config !== 'direct' && hasDirect) {
      lines.push(row('  ÷ direct', columns.map((col) => formatRatio(c.vsDirect[col.metric]))));
    }
    if (c.config !== 'direct' && c.config !== 'bare' && hasBare) {
      lines.push(row('  ÷ bare', columns.map((col) => formatRatio(c.vsBare[col.metric]))));
    }
  }
  for (const c of s.configs) {
    // In the order summarise() fills them: bare first, then SIDECAR_ROUND_REFERENCES's order.
    const parts = (Object.entries(c.cpuByRound) as [RoundReference, RoundRatios][]).map(([key, r]) =>
      formatRounds(`÷ ${key === 'bare' ? 'bare' : CONFIG_LABELS[SIDECAR_ROUND_REFERENCES[key]]}`, r),
    );
    if (parts.length > 0) lines.push(`  CPU s/1k of ${CONFIG_LABELS[c.config]}, round by round: ${parts.join('; ')}`);
  }
  for (const c of s.configs) {
    const g = c.scavenges;
    if (g === undefined) continue;
    lines.push(
      `  scavenges of ${CONFIG_LABELS[c.config]} (--gc, median of rounds): ${g.pauseMsPer1k.toFixed(1)} ms per 1k requests, ` +
        `${g.promotedKbPerRequest.toFixed(2)} KB promoted and ${g.survivedKbPerRequest.toFixed(2)} KB surviving per request`,
    );
  }
  if (s.coldStart !== undefined) lines.push(coldStartLine(s.coldStart));
  if (s.tracing !== undefined) {
    const t = s.tracing;
    lines.push(`  tracing: ${t.spansReceived} spans exported for ${t.requestsSent} requests sent to crosstalk (${(t.exportBytes / 1024 ** 2).toFixed(1)} MB OTLP)`);
  }
  const incidents = s.configs.find((c) => c.config === 'sidecar')?.extras['incidents'];
  if (incidents !== undefined) lines.push(`  crosstalk incidents recorded: ${String(incidents)} (an honest upstream: expect 0)`);
  for (const note of s.skipped ?? []) lines.push(`  note: ${note}`);
  return lines;
}

/** The settling before round 1: each node proxy's CPU per request while fresh, and its ratio to bare's. */
export function coldStartLine(cold: ColdStart): string {
  const bare = cold.configs.find((c) => c.config === 'bare')?.cpuSecPer1k;
  const parts = cold.configs.map((c) => {
    const vsBare = c.config !== 'bare' && bare !== undefined ? ` (${(c.cpuSecPer1k / bare).toFixed(2)}x bare)` : '';
    const errors = c.errors > 0 ? `, ${c.errors} ERRORS` : '';
    return `${CONFIG_LABELS[c.config]} ${c.cpuSecPer1k.toFixed(3)} s/1k${vsBare}${errors}`;
  });
  return `  cold start (the first ${cold.requests} requests of a fresh process, concurrency ${cold.concurrency}; not in the medians): ${parts.join(', ')}`;
}

export function goalsTable(checks: readonly GoalCheck[]): string[] {
  const lines = ['── targets (crosstalk = sidecar with tracing + full inspection)'];
  for (const c of checks) {
    const measured = Number.isFinite(c.measured)
      ? `${c.measured.toFixed(c.unit === 'x' ? 2 : c.unit === '' ? 0 : 2)}${c.unit}`
      : 'n/a';
    const verdict = c.verdict.toUpperCase().padEnd(7);
    lines.push(`${verdict} ${c.id.padEnd(28)} ${measured.padStart(9)} ${c.comparison} ${c.limit}${c.unit}   ${c.measure}`);
  }
  return lines;
}
