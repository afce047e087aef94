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
import { seedCheckLines } from './report-text.js';

/**
 * A file a team pastes into an incident ticket: GitHub-flavoured Markdown (tables, fenced code), the
 * seed-shaped CHECK 1..4 block verbatim in a code fence, offending ids as lists, each query in full.
 */

/** Table cells: a pipe would end the cell, a newline the row. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Inline code that survives backticks inside (CommonMark §6.1: a longer fence). */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence.length > 1 ? ' ' : ''}${text}${fence.length > 1 ? ' ' : ''}${fence}`;
}

function checksTable(checks: CheckResult[]): string[] {
  return [
    '| Check | Status | Rows | Result |',
    '|---|---|---:|---|',
    ...checks.map((c) => {
      const rows = notRun(c) ? '–' : String(c.rowsFound);
      const result = cell(notRun(c) ? (c.reason ?? '') : c.summary);
      return `| ${code(c.id)} ${cell(c.title)} | ${STATUS_ICON[c.status]} ${statusLabel(c)} | ${rows} | ${result} |`;
    }),
  ];
}

function offending(check: CheckResult): string[] {
  if (check.sample.length === 0 || (check.status !== 'violation' && check.status !== 'warning')) return [];
  const shown =
    check.sample.length < check.rowsFound ? ` (first ${check.sample.length} of ${check.rowsFound})` : '';
  return [
    '',
    `#### ${STATUS_ICON[check.status]} ${code(check.id)}: ${check.summary}${shown}`,
    '',
    ...check.sample.map(
      (s) =>
        `- ${code(s.id)}${s.detail ? ` — ${s.detail}` : ''}` +
        (check.status === 'violation' && s.severity === 'warning' ? ' (warning)' : ''),
    ),
  ];
}

function databaseSection(database: DatabaseReport, report: AuditReport): string[] {
  const lines = [
    `## ${displayName(database)}: ${VERDICT[database.outcome]}`,
    '',
    `- Database: ${code(database.url)}`,
    ...(database.serverVersion ? [`- Server: PostgreSQL ${database.serverVersion}`] : []),
    ...(database.schema ? [`- Schema: ${schemaLine(database.schema)}`] : []),
    ...(database.error !== undefined ? [`- **Problem:** ${database.error}`] : []),
  ];
  if (database.checks.length === 0) return [...lines, '', 'No checks ran.'];

  const seed = database.checks.filter((c) => c.seedCheck !== undefined);
  if (seed.length > 0) {
    lines.push(
      '',
      '### Seed report checks (DATABASE_CORRUPTION_CHECK.md)',
      '',
      '```text',
      ...seed.flatMap((c, i) => [...(i > 0 ? [''] : []), ...seedCheckLines(c, report)]),
      '```',
    );
  }
  lines.push('', '### All checks', '', ...checksTable(database.checks));
  for (const check of database.checks) lines.push(...offending(check));
  const notes = database.checks.flatMap((c) => c.notes.map((n) => `- ${code(c.id)}: ${n}`));
  if (notes.length > 0) lines.push('', '### Notes', '', ...notes);
  return lines;
}

function whatWeChecked(report: AuditReport): string[] {
  const lines = ['## What we checked'];
  for (const check of checksRun(report)) {
    lines.push(
      '',
      `### ${check.seedCheck === undefined ? code(check.id) : `${checkHeading(check)} (${code(check.id)})`} — ` +
        check.title,
      '',
      check.proves,
      '',
      ...(check.params.length > 0 ? [`Parameters: ${code(paramsLine(check))}`, ''] : []),
      '```sql',
      check.sql,
      '```',
    );
  }
  lines.push(
    '',
    `Every check ran inside ${code('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')} (one snapshot per database) ` +
      `with ${code(`statement_timeout = ${report.settings.statementTimeoutMs}`)} ms, each in a savepoint of its own; ` +
      'nothing was written.',
  );
  return lines;
}

export function renderMarkdownReport(report: AuditReport): string {
  const names = report.databases.map(displayName);
  const lines = [
    `# Session-isolation audit: ${VERDICT[report.outcome]}`,
    '',
    '| | |',
    '|---|---|',
    `| Date | ${report.startedAt} |`,
    `| Databases checked | ${cell(joinNames(names))} |`,
    `| Window | last ${report.window.description} |`,
    `| Tool | ${report.tool} ${report.version} |`,
    `| Exit code | ${exitLine(report).replace(/^Exit code: /, '')} |`,
    '',
    '## Executive summary',
    '',
    '| Database | Verdict |',
    '|---|---|',
    ...report.databases.map((d) => `| ${displayName(d)} | ${cell(databaseLine(d))} |`),
  ];
  for (const database of report.databases) lines.push('', ...databaseSection(database, report));
  lines.push('', ...whatWeChecked(report));
  return `${lines.join('\n')}\n`;
}
