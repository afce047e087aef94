/**
 * `crosstalk audit --metrics-file <path>`: the run's outcome as Prometheus text exposition format for
 * node_exporter's textfile collector, which reads every `*.prom` file of its directory on each scrape. The file
 * is written beside its final name and renamed over it (rename(2) is atomic within a filesystem), so a scrape
 * never reads half a file (node_exporter README, "Textfile Collector").
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DATABASE_OUTCOMES, SEVERITIES, type AuditReport } from './result.js';

export const METRIC_LAST_RUN = 'crosstalk_audit_last_run_timestamp_seconds';
export const METRIC_VERDICT = 'crosstalk_audit_verdict';
export const METRIC_FINDINGS = 'crosstalk_audit_findings';

/** A label value: backslash, double quote and newline escaped (exposition format, "Text format details"). */
function labelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/**
 * The three gauges, per database: when the run finished (unix seconds), its verdict (1 for the one it got,
 * 0 for the others, so an alert can match `verdict="violation"` without absent-series tricks), and its
 * offending rows by severity.
 */
export function renderAuditMetrics(report: AuditReport, finishedAtMs: number): string {
  const seconds = Math.floor(finishedAtMs / 1000);
  const lines = [
    `# HELP ${METRIC_LAST_RUN} When the last crosstalk audit of the database finished (unix seconds).`,
    `# TYPE ${METRIC_LAST_RUN} gauge`,
    ...report.databases.map((d) => `${METRIC_LAST_RUN}{database="${labelValue(d.label)}"} ${seconds}`),
    `# HELP ${METRIC_VERDICT} The last audit's verdict for the database: 1 for the verdict it got, 0 for the others.`,
    `# TYPE ${METRIC_VERDICT} gauge`,
    ...report.databases.flatMap((d) =>
      DATABASE_OUTCOMES.map(
        (v) => `${METRIC_VERDICT}{database="${labelValue(d.label)}",verdict="${v}"} ${d.outcome === v ? 1 : 0}`,
      ),
    ),
    `# HELP ${METRIC_FINDINGS} Offending rows the last audit found in the database, by severity.`,
    `# TYPE ${METRIC_FINDINGS} gauge`,
    ...report.databases.flatMap((d) =>
      SEVERITIES.map((severity) => {
        const rows = d.checks.reduce((sum, c) => sum + c.findings[severity], 0);
        return `${METRIC_FINDINGS}{database="${labelValue(d.label)}",severity="${severity}"} ${rows}`;
      }),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `text` to `path` atomically: a temporary file in the same directory (a dot name, which the textfile
 * collector ignores as it reads only `*.prom`), then rename over the target. The temporary file is removed if
 * anything fails.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
