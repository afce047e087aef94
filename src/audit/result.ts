/**
 * The audit's result types: what every renderer (text, JSON, Markdown, metrics) and the exit code are
 * computed from. Plain data only, so the JSON report is `JSON.stringify` of it.
 */

/**
 * - `pass`: the check could have found something and found nothing.
 * - `violation`: it found rows where an isolation breach is possible (exit 1).
 * - `warning`: it found only hygiene problems, or states the gateway passes through in normal operation
 *   (exit 0 unless `--strict`).
 * - `info`: a summary that cannot fail (the seed's CHECK 2 and CHECK 4).
 * - `skipped`: it applies to this schema but could not run: a table, column or SELECT privilege it needs is
 *   missing. `error`: it ran and failed (timeout, a write refused, lost connection). Either makes the
 *   database UNVERIFIED: nothing is called clean that was not checked.
 * - `not_applicable`: it belongs to the other schema generation (a `sessions` check on a `routed_sessions`
 *   database), or needs an input the run was not given; it is listed, with the reason, and not counted.
 */
export type CheckStatus = 'pass' | 'violation' | 'warning' | 'info' | 'skipped' | 'error' | 'not_applicable';

/** How bad one offending row is. */
export type Severity = 'violation' | 'warning';
export const SEVERITIES: readonly Severity[] = ['violation', 'warning'];

export interface SampleRow {
  /** The offending id (session id, API key id, index name). */
  id: string;
  /** Why it offends, in a few words. */
  detail?: string;
  severity?: Severity;
}

/** Offending rows by severity; `violation + warning` is the check's `rowsFound` for the checks that grade. */
export type SeverityCounts = Record<Severity, number>;

export interface CheckResult {
  id: string;
  title: string;
  /** What a `pass` of this check proves. */
  proves: string;
  /** 1..4 for the seed report's checks, in its numbering. */
  seedCheck?: number;
  status: CheckStatus;
  /** True when the check cannot fail on this schema (seed CHECK 1 with `sessions.id` as primary key). */
  vacuous?: boolean;
  /** One sentence on what was found. */
  summary: string;
  /** Extra sentences the report prints under the summary (why a pass is vacuous, where an index was found). */
  notes: string[];
  /** The SQL the check ran (or would have run, when skipped). */
  sql: string;
  params: Array<string | number>;
  /** Offending rows in total (violation checks) or rows summarised (info checks); never capped. */
  rowsFound: number;
  /** Offending rows by severity (0 and 0 for info, skipped, error and not-applicable checks). */
  findings: SeverityCounts;
  /** At most `sampleLimit` offending ids. */
  sample: SampleRow[];
  /** Named counts of summary checks (`total_rows`, `unique_api_keys`, …). */
  figures?: Record<string, number>;
  /** Why the check was skipped, failed or does not apply. */
  reason?: string;
  durationMs: number;
}

/** Which generation of the gateway's schema a database holds (../shared/CONTEXT.md, "Database"). */
export type SchemaGeneration = 'api_key_sessions' | 'routed_pool';

export interface TableReport {
  name: string;
  /** Schema the table was found in through `search_path`. */
  schema: string;
  columns: string[];
  /** Columns the audit's user may SELECT (table or column privilege). */
  selectableColumns: string[];
}

export interface SchemaReport {
  generations: SchemaGeneration[];
  tables: TableReport[];
  /** Tables the audit looked for and did not find. */
  missingTables: string[];
  /** How `sessions.id` is constrained: this decides whether seed CHECK 1 can ever fail. */
  sessionsId: 'primary_key' | 'unique_index' | 'not_unique' | 'absent';
}

/**
 * - `clean`: every check that applies to the detected schema ran and found nothing.
 * - `warning`: every such check ran; only warnings were found.
 * - `violation`: a violation was found (it wins over everything else: a confirmed finding is the headline).
 * - `unverified`: no violation, but a check that applies could not run (privilege, missing table or column,
 *   timeout, a refused statement): the report names each one and why.
 * - `error`: the audit could not run on this database at all (unreachable, refused, connection lost, no
 *   gateway table).
 */
export type DatabaseOutcome = 'clean' | 'warning' | 'violation' | 'unverified' | 'error';
export const DATABASE_OUTCOMES: readonly DatabaseOutcome[] = ['clean', 'warning', 'violation', 'unverified', 'error'];
export type ExitCode = 0 | 1 | 2 | 3;

export interface DatabaseReport {
  label: string;
  /** Masked: `postgres://user:***@host/db`. */
  url: string;
  outcome: DatabaseOutcome;
  exitCode: ExitCode;
  /** One line saying why the database could not be (fully) audited. */
  error?: string;
  serverVersion?: string;
  schema?: SchemaReport;
  checks: CheckResult[];
  durationMs: number;
}

export interface AuditReport {
  tool: string;
  version: string;
  startedAt: string;
  durationMs: number;
  /** The recent-activity window: as typed and in words. */
  window: { since: string; description: string; seconds: number };
  settings: {
    statementTimeoutMs: number;
    sampleLimit: number;
    churnSessions: number;
    churnMinutes: number;
    /** Grace past `expires_at` for the 2025 `sessions` table (its reaper's interval). */
    sessionsGraceSeconds: number;
    /** Grace for `routed_sessions` expiry and terminal states (its reaper's interval). */
    routedGraceSeconds: number;
    /** Warnings exit 1. */
    strict: boolean;
  };
  outcome: DatabaseOutcome;
  exitCode: ExitCode;
  databases: DatabaseReport[];
}

/** The exit code of an outcome; `--strict` turns warnings into exit 1. */
export const EXIT_CODE: Record<DatabaseOutcome, ExitCode> = { clean: 0, warning: 0, violation: 1, error: 2, unverified: 3 };

export function exitCodeOf(outcome: DatabaseOutcome, strict: boolean): ExitCode {
  return strict && outcome === 'warning' ? 1 : EXIT_CODE[outcome];
}

/** The run's outcome from its databases': violation, then could not run, then unverified, then warning. */
export function worstOutcome(outcomes: readonly DatabaseOutcome[]): DatabaseOutcome {
  for (const outcome of ['violation', 'error', 'unverified', 'warning'] as const) {
    if (outcomes.includes(outcome)) return outcome;
  }
  return 'clean';
}
