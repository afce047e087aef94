import type { AuditReport, CheckResult, CheckStatus, DatabaseOutcome, DatabaseReport, SchemaReport } from './model.js';
import { plural } from './checks.js';

/** Wording shared by the text and Markdown reports, so both say the same thing the same way. */

export const VERDICT: Record<DatabaseOutcome, string> = {
  clean: '✅ NO ISOLATION VIOLATION FOUND',
  violation: '❌ ISOLATION VIOLATION FOUND',
  error: '⚠️ AUDIT INCOMPLETE',
};

export const STATUS_ICON: Record<CheckStatus, string> = {
  pass: '✅',
  violation: '❌',
  info: 'ℹ️',
  skipped: '➖',
  error: '⚠️',
};

export const EXIT_MEANING: Record<0 | 1 | 2, string> = {
  0: 'all databases clean',
  1: 'an isolation violation was found',
  2: 'a database could not be (fully) audited',
};

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
  return check.vacuous ? `${check.status} (vacuous)` : check.status;
}

/** `6 pass, 2 info, 2 skipped`. */
export function tally(checks: CheckResult[]): string {
  const order: CheckStatus[] = ['violation', 'error', 'pass', 'info', 'skipped'];
  return order
    .map((status) => [status, checks.filter((c) => c.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

/** The one-line verdict for a database in the executive summary. */
export function databaseLine(database: DatabaseReport): string {
  const violations = database.checks.filter((c) => c.status === 'violation');
  const parts: string[] = [];
  if (violations.length > 0) {
    parts.push(`❌ violation: ${violations.map((c) => `${c.id} (${plural(c.rowsFound, 'row')})`).join(', ')}`);
  } else if (database.outcome === 'clean') {
    parts.push(`✅ clean (${tally(database.checks)})`);
  }
  if (database.error !== undefined) parts.push(`⚠️ ${database.error}`);
  return parts.join('; ');
}

const GENERATION_WORDS = {
  api_key_sessions: 'sessions with api_key_id (one active session per API key)',
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
