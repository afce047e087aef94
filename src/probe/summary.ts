/** Per-model and per-key tallies of a run (pure). Aborted requests are counted apart and nowhere else. */
import type { GroupStats, ProbeRequestResult, ProbeResult } from './result.js';

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function round(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.round(n);
}

export function groupStats(name: string, requests: readonly ProbeRequestResult[]): GroupStats {
  const counted = requests.filter((r) => r.outcome !== 'aborted');
  const answered = counted.filter((r) => r.outcome === 'ok' || r.outcome === 'empty');
  const ttfc = counted.flatMap((r) => (r.ttfcMs === undefined ? [] : [r.ttfcMs])).sort((a, b) => a - b);
  const total = answered.map((r) => r.totalMs).sort((a, b) => a - b);
  const stats: GroupStats = {
    name,
    requests: counted.length,
    ok: counted.filter((r) => r.outcome === 'ok').length,
    empty: counted.filter((r) => r.outcome === 'empty').length,
    failed: counted.filter((r) => r.outcome === 'failed').length,
    echo: {
      match: answered.filter((r) => r.echo === 'match').length,
      missing: answered.filter((r) => r.echo === 'missing').length,
      mismatch: answered.filter((r) => r.echo === 'mismatch').length,
    },
    crosstalk: counted.filter((r) => r.reasons.length > 0 || r.sidecarReasons.length > 0).length,
  };
  const p50 = round(percentile(ttfc, 50));
  const p95 = round(percentile(ttfc, 95));
  const t50 = round(percentile(total, 50));
  if (p50 !== undefined) stats.ttfcP50Ms = p50;
  if (p95 !== undefined) stats.ttfcP95Ms = p95;
  if (t50 !== undefined) stats.totalP50Ms = t50;
  return stats;
}

function groupBy(requests: readonly ProbeRequestResult[], key: (r: ProbeRequestResult) => string, order: readonly string[]): GroupStats[] {
  const groups = new Map<string, ProbeRequestResult[]>(order.map((name) => [name, []]));
  for (const r of requests) {
    const k = key(r);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [r]);
    else list.push(r);
  }
  return [...groups.entries()].map(([name, list]) => groupStats(name, list));
}

export function summarize(
  requests: readonly ProbeRequestResult[],
  models: readonly string[],
  lanes: readonly string[],
): Pick<ProbeResult, 'totals' | 'byModel' | 'byLane'> {
  const { name: _name, ...all } = groupStats('all', requests);
  const findings: Record<string, number> = {};
  for (const r of requests) {
    for (const reason of r.reasons) findings[reason] = (findings[reason] ?? 0) + 1;
    for (const reason of r.sidecarReasons) findings[`sidecar:${reason}`] = (findings[`sidecar:${reason}`] ?? 0) + 1;
  }
  return {
    totals: { ...all, aborted: requests.filter((r) => r.outcome === 'aborted').length, findings },
    byModel: groupBy(requests, (r) => r.model, models),
    byLane: groupBy(requests, (r) => r.lane, lanes),
  };
}
