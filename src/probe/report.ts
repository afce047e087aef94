/**
 * The probe's report: text tables per model and per key (keys by public prefix only) and the verdict, or JSON
 * for CI. Neither holds a key, a password or any answer text: results carry none (see result.ts).
 */
import type { GroupStats, ProbeResult } from './result.js';

/** v2: in-band errors are failed requests; offending requests carry the gateway's upstreamRequestId; the join counts its methods. */
export const JSON_REPORT_FORMAT = 'crosstalk-probe-report/v2';
/** Offending requests listed in the text report (JSON lists up to `MAX_OFFENDING`). */
export const TEXT_OFFENDING_LIMIT = 10;

/** Columns whose cells are all numbers (or `a/b` figures) are right-aligned, the others left-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d/-]+$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const ms = (n: number | undefined): string => (n === undefined ? '-' : String(n));

function groupRows(groups: GroupStats[]): string[][] {
  return groups.map((g) => [
    g.name,
    String(g.requests),
    String(g.ok),
    String(g.empty),
    String(g.failed),
    `${g.echo.match}/${g.echo.missing}/${g.echo.mismatch}`,
    String(g.crosstalk),
    `${ms(g.ttfcP50Ms)}/${ms(g.ttfcP95Ms)}`,
    ms(g.totalP50Ms),
  ]);
}

function groupTable(first: string, groups: GroupStats[]): string[] {
  const header = [first, 'requests', 'ok', 'empty', 'failed', 'echo match/missing/mismatch', 'crosstalk', 'ttfc p50/p95 ms', 'total p50 ms'];
  return table(header, groupRows(groups)).map((l) => `  ${l}`);
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)} s`;
}

export function renderTextReport(result: ProbeResult): string {
  const s = result.settings;
  const out: string[] = [];
  const via = result.target.mode === 'gateway' ? 'gateway' : 'router/sidecar';
  out.push(`crosstalk probe ${result.version}: ${via} target ${result.target.chatUrl} (run ${result.runId})`);
  const byKey = result.target.mode === 'gateway' || s.lanes[0]?.startsWith('lane-') !== true;
  const lane = byKey ? 'key' : 'lane';
  out.push(
    `${result.totals.requests} requests in ${seconds(result.durationMs)}: ${plural(s.lanes.length, lane)} × ${plural(s.models.length, 'model')}, ` +
      `concurrency ${s.concurrency}, bursts of ${s.burst} per ${lane}${s.expectEcho ? ', nonce echo expected' : ''}` +
      (result.totals.aborted > 0 ? ` (${result.totals.aborted} aborted, not counted)` : ''),
  );
  for (const w of result.warnings) out.push(`warning: ${w}`);
  out.push('', 'By model', ...groupTable('model', result.byModel));
  out.push('', byKey ? 'By key (public prefix)' : 'By lane', ...groupTable(lane, result.byLane));
  const findings = Object.entries(result.totals.findings);
  if (findings.length > 0) {
    out.push('', 'Findings (requests per reason)');
    for (const [reason, n] of findings.sort((a, b) => b[1] - a[1])) out.push(`  ${reason.padEnd(28)} ${n}`);
  }
  const sc = result.sidecar;
  if (sc !== undefined) {
    out.push('', `Sidecar incidents (${sc.url.replace(/\?.*$/, '')})`);
    if (sc.error !== undefined) out.push(`  could not be read: ${sc.error}`);
    else {
      out.push(
        `  ${sc.onThisRun} on this run's requests (${sc.total} in total): flagged by both ${sc.both.length}, ` +
          `by the sidecar only ${sc.sidecarOnly.length}, by the probe only ${sc.probeOnly.length}`,
        `  joined by request id ${sc.joinedBy.request_id}, by completion id ${sc.joinedBy.completion_id}, ` +
          `by session and time ${sc.joinedBy.session_time}` +
          (sc.ambiguous > 0 ? `; ${plural(sc.ambiguous, 'incident')} matched several requests in time, left unjoined` : ''),
      );
      if (sc.both.length > 0) out.push(`  both: ${sc.both.slice(0, 5).join(', ')}${sc.both.length > 5 ? ', …' : ''}`);
      if (sc.sidecarOnly.length > 0) out.push(`  sidecar only: ${sc.sidecarOnly.slice(0, 5).join(', ')}${sc.sidecarOnly.length > 5 ? ', …' : ''}`);
    }
  }
  const v = result.verdict;
  out.push('', `Verdict: ${v.verdict} (exit ${v.exitCode}): ${v.summary}`);
  for (const d of v.details) out.push(`  ${d}`);
  if (v.offending.length > 0) {
    const joined = sc !== undefined && sc.error === undefined;
    const rows = v.offending.slice(0, TEXT_OFFENDING_LIMIT).map((o) => [
      o.requestId,
      o.lane,
      o.model,
      o.reasons.join(',') || '-',
      ...(joined ? [o.sidecarReasons.join(',') || '-'] : []),
      o.answersOf.length === 0 ? '' : `${o.answersOf.slice(0, 3).join(',')}${o.answersOfTotal > 3 ? `,… (${o.answersOfTotal})` : ''}`,
    ]);
    const header = ['request id', lane, 'model', 'probe found', ...(joined ? ['sidecar found'] : []), 'holds the answer of'];
    out.push(...table(header, rows).map((l) => `  ${l}`));
    const more = result.totals.crosstalk - rows.length;
    if (more > 0) out.push(`  … and ${more} more (--format json lists up to ${v.offending.length})`);
  }
  return `${out.join('\n')}\n`;
}

/** The JSON report: everything but the per-request list, which a long run would make huge. */
export function renderJsonReport(result: ProbeResult): string {
  const { requests: _requests, ...rest } = result;
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, ...rest }, null, 2)}\n`;
}
