import type { AuditReport, CheckResult, DatabaseReport } from './result.js';
import {
  STATUS_ICON,
  VERDICT,
  checkHeading,
  checksRun,
  databaseLine,
  displayName,
  exitLine,
  joinNames,
  notRun,
  paramsLine,
  schemaLine,
  statusLabel,
} from './report-common.js';

/**
 * The text report mirrors ../shared/seed/DATABASE_CORRUPTION_CHECK.md: executive summary, one results
 * section per database with CHECK 1..4 in the seed's own lines and counts, then the checks that can fail,
 * a table of every check, and "What we checked" with each query.
 */

const RULE = '='.repeat(72);
// The seed aligns its figures after "Total active session rows: " (27 characters).
const FIGURE_WIDTH = 27;

function figure(label: string, value: number | undefined): string {
  return `${label.padEnd(FIGURE_WIDTH)}${value ?? 0}`;
}

function sampleLines(check: CheckResult): string[] {
  if (check.sample.length === 0) return [];
  const shown =
    check.sample.length < check.rowsFound && (check.status === 'violation' || check.status === 'warning')
      ? `   offending ids (first ${check.sample.length} of ${check.rowsFound}):`
      : '   offending ids:';
  // In a check that found violations, its warning rows say so (violations are listed first).
  const mark = (s: CheckResult['sample'][number]): string =>
    check.status === 'violation' && s.severity === 'warning' ? ' (warning)' : '';
  return [shown, ...check.sample.map((s) => `   - ${s.id}${s.detail ? `: ${s.detail}` : ''}${mark(s)}`)];
}

/** Lines for a check that did not run (could not, failed, does not apply), in the seed's style. */
function notRunLines(check: CheckResult): string[] | undefined {
  if (check.status === 'skipped') return [`${STATUS_ICON.skipped} NOT RUN: ${check.reason ?? ''}`];
  if (check.status === 'error') return [`${STATUS_ICON.error} ERROR: ${check.reason ?? ''}`];
  if (check.status === 'not_applicable') return [`${STATUS_ICON.not_applicable} NOT APPLICABLE: ${check.reason ?? ''}`];
  return undefined;
}

function noteLines(check: CheckResult): string[] {
  return check.notes.map((note) => `⚠️  ${note}`);
}

/** A seed check (1..4) in the seed's own words where the facts allow them. */
export function seedCheckLines(check: CheckResult, report: AuditReport): string[] {
  const windowTitle = report.window.description;
  const title =
    check.seedCheck === 4 ? `CHECK 4: ${check.title} (last ${windowTitle})` : `${checkHeading(check)}: ${check.title}`;
  const notRun = notRunLines(check);
  if (notRun) return [title, ...notRun];
  const f = check.figures ?? {};
  switch (check.seedCheck) {
    case 1:
      return [title, `${STATUS_ICON[check.status]} ${check.summary}`, ...noteLines(check), ...sampleLines(check)];
    case 2:
      return [
        title,
        figure('Total active session rows:', f.total_rows),
        figure('Unique API keys:', f.unique_api_keys),
        figure('Unique session IDs:', f.unique_session_ids),
        figure('Unique users:', f.unique_users),
        check.status === 'violation'
          ? `${STATUS_ICON.violation} ${check.summary}`
          : '✅ Each session_id has exactly one row (correct)',
        ...sampleLines(check),
      ];
    case 3:
      return check.status === 'pass'
        ? [title, '✅ Each API key has at most 1 active session (expected)']
        : [title, `${STATUS_ICON[check.status]} ${check.summary}`, ...sampleLines(check)];
    case 4:
      return [
        title,
        figure(`Sessions created (${report.window.since}):`, f.sessions_created),
        figure('Unique API keys:', f.unique_api_keys),
        figure('Unique users:', f.unique_users),
      ];
    default:
      return checkLines(check);
  }
}

/** Any other check: heading, verdict line, notes, offending ids. */
export function checkLines(check: CheckResult): string[] {
  const title = `${checkHeading(check)}: ${check.title}`;
  const notRun = notRunLines(check);
  if (notRun) return [title, ...notRun];
  return [title, `${STATUS_ICON[check.status]} ${check.summary}`, ...noteLines(check), ...sampleLines(check)];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function checksTable(checks: CheckResult[]): string[] {
  const rows = [
    ['CHECK', 'STATUS', 'ROWS', 'RESULT'],
    ...checks.map((c) => [
      c.seedCheck === undefined ? c.id : `${c.seedCheck} ${c.id}`,
      statusLabel(c),
      notRun(c) ? '-' : String(c.rowsFound),
      notRun(c) ? (c.reason ?? '') : c.summary,
    ]),
  ];
  return table(rows).map((line) => `  ${line}`);
}

function databaseSection(database: DatabaseReport, report: AuditReport): string[] {
  const lines = [RULE, `${displayName(database)} Database Results`, database.url, RULE];
  lines.push(VERDICT[database.outcome]);
  if (database.error !== undefined) lines.push(`Problem: ${database.error}`);
  if (database.schema) lines.push(`Schema: ${schemaLine(database.schema)}`);
  if (database.checks.length === 0) return [...lines, '', 'No checks ran.'];

  const seed = database.checks.filter((c) => c.seedCheck !== undefined);
  const further = database.checks.filter((c) => c.seedCheck === undefined);
  for (const check of seed) lines.push('', ...seedCheckLines(check, report));
  for (const check of further) lines.push('', ...checkLines(check));
  lines.push('', 'All checks', ...checksTable(database.checks));
  return lines;
}

function whatWeChecked(report: AuditReport): string[] {
  const lines = ['What We Checked'];
  for (const check of checksRun(report)) {
    lines.push(
      '',
      `${checkHeading(check)}${check.seedCheck === undefined ? '' : ` (${check.id})`}: ${check.title}`,
      `  Proves: ${check.proves}`,
      ...(check.params.length > 0 ? [`  Parameters: ${paramsLine(check)}`] : []),
      '  Query:',
      ...check.sql.split('\n').map((line) => `    ${line}`),
    );
  }
  lines.push(
    '',
    'Every check ran inside BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY (one snapshot per database) with',
    `statement_timeout ${report.settings.statementTimeoutMs} ms, in a savepoint of its own; nothing was written.`,
  );
  return lines;
}

export function renderTextReport(report: AuditReport): string {
  const names = report.databases.map(displayName);
  const width = Math.max(...names.map((n) => n.length));
  const lines = [
    'Session-Isolation Audit - Results',
    '',
    `Date: ${report.startedAt}`,
    `Databases Checked: ${joinNames(names)}`,
    `Window: last ${report.window.description}`,
    `Tool: ${report.tool} ${report.version}`,
    '',
    'Executive Summary',
    VERDICT[report.outcome],
    ...report.databases.map((d) => `  ${displayName(d).padEnd(width)}  ${databaseLine(d)}`),
  ];
  for (const database of report.databases) lines.push('', ...databaseSection(database, report));
  const exit = exitLine(report);
  lines.push('', RULE, ...whatWeChecked(report), '', exit);
  return `${lines.join('\n')}\n`;
}
