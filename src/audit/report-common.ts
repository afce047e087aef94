import { plural } from './check-kit.js';
import type { AuditReport, CheckResult, CheckStatus, DatabaseOutcome, DatabaseReport, SchemaReport } from './result.js';
import { checkRan } from './run-check.js';

/** Wording shared by the text and Markdown reports, so both say the same thing the same way. */

export const VERDICT: Record<DatabaseOutcome, string> = {
  clean: '✅ NO ISOLATION VIOLATION FOUND',
  warning: '⚠️ NO ISOLATION VIOLATION FOUND, WARNINGS ONLY',
  violation: '❌ ISOLATION VIOLATION FOUND',
  unverified: '❔ UNVERIFIED: NOT EVERY CHECK COULD RUN',
  error: '❗ AUDIT COULD NOT RUN',
};

export const STATUS_ICON: Record<CheckStatus, string> = {
  pass: '✅',
  violation: '❌',
  warning: '⚠️',
  info: 'ℹ️',
  skipped: '❔',
  error: '❗',
  not_applicable: '➖',
};

/** What the run's exit code means, from its outcome (warnings exit 0, or 1 with --strict). */
export function exitMeaning(report: AuditReport): string {
  switch (report.outcome) {
    case 'clean':
      return 'all databases clean';
    case 'warning':
      return report.settings.strict ? 'warnings found, --strict' : 'no violation, warnings only';
    case 'violation':
      return 'an isolation violation was found';
    case 'error':
      return 'the audit could not run on a database';
    case 'unverified':
      return 'unverified: a check that applies could not run';
  }
}

/** `Exit code: 0 (all databases clean)`. */
export function exitLine(report: AuditReport): string {
  return `Exit code: ${report.exitCode} (${exitMeaning(report)})`;
}

/** True for checks that did not produce a result: `-` in the ROWS column, the reason as the result. */
export function notRun(check: CheckResult): boolean {
  return !checkRan(check.status);
}

/** `DEV`: the seed report names databases in capitals. */
export function displayName(database: DatabaseReport): string {
  return database.label.toUpperCase();
}

/** `DEV`, `DEV and PROD`, `DEV, STAGE and PROD`. */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

export function statusLabel(check: CheckResult): string {
  const status = check.status.replace('_', ' ');
  return check.vacuous ? `${status} (vacuous)` : status;
}

/** `6 pass, 2 info, 2 not applicable`. */
export function tally(checks: CheckResult[]): string {
  const order: CheckStatus[] = ['violation', 'warning', 'error', 'skipped', 'pass', 'info', 'not_applicable'];
  return order
    .map((status) => [status, checks.filter((c) => c.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status.replace('_', ' ')}`)
    .join(', ');
}

/** The one-line verdict for a database in the executive summary. */
export function databaseLine(database: DatabaseReport): string {
  const rows = (c: CheckResult, severity: 'violation' | 'warning'): string =>
    `${c.id} (${plural(c.findings[severity], 'row')})`;
  const violations = database.checks.filter((c) => c.findings.violation > 0);
  const warnings = database.checks.filter((c) => c.findings.warning > 0);
  const parts: string[] = [];
  if (violations.length > 0) parts.push(`❌ violation: ${violations.map((c) => rows(c, 'violation')).join(', ')}`);
  if (database.outcome === 'clean') parts.push(`✅ clean (${tally(database.checks)})`);
  if (database.error !== undefined) {
    parts.push(`${database.outcome === 'error' ? STATUS_ICON.error : STATUS_ICON.skipped} ${database.error}`);
  }
  if (warnings.length > 0) parts.push(`⚠️ warning: ${warnings.map((c) => rows(c, 'warning')).join(', ')}`);
  return parts.join('; ');
}

const GENERATION_WORDS = {
  api_key_sessions: 'sessions (2025: one active session per API key)',
  routed_pool: 'routed_sessions (model-keyed pool)',
} as const;

const SESSIONS_ID_WORDS: Record<SchemaReport['sessionsId'], string> = {
  primary_key: 'sessions.id is the primary key',
  unique_index: 'sessions.id has a unique index',
  not_unique: 'sessions.id is NOT unique',
  absent: '',
};

/** `sessions with api_key_id (…) and routed_sessions (…); sessions.id is the primary key`. */
export function schemaLine(schema: SchemaReport): string {
  const generations =
    schema.generations.length === 0
      ? 'no gateway tables found'
      : joinNames(schema.generations.map((g) => GENERATION_WORDS[g]));
  const id = SESSIONS_ID_WORDS[schema.sessionsId];
  return id === '' ? generations : `${generations}; ${id}`;
}

/** Each check once, as first reported (same SQL in every database), for "What we checked". */
export function checksRun(report: AuditReport): CheckResult[] {
  const seen = new Map<string, CheckResult>();
  for (const database of report.databases) {
    for (const check of database.checks) if (!seen.has(check.id)) seen.set(check.id, check);
  }
  return [...seen.values()];
}

/** `CHECK 1` for the seed's checks, the id otherwise. */
export function checkHeading(check: CheckResult): string {
  return check.seedCheck === undefined ? `CHECK ${check.id}` : `CHECK ${check.seedCheck}`;
}

/** `$1 = 20, $2 = 10`. */
export function paramsLine(check: CheckResult): string {
  return check.params.map((p, i) => `$${i + 1} = ${p}`).join(', ');
}
