/**
 * The audit's result model: what every renderer (text, JSON, Markdown) and the exit code are computed from.
 * Plain data only, so the JSON report is `JSON.stringify` of it.
 */

/**
 * `pass`: the check could have found something and found nothing. `violation`: it found offending rows.
 * `info`: a summary that cannot fail (the seed's CHECK 2 and CHECK 4). `skipped`: a table, column or
 * privilege it needs is missing. `error`: it ran and failed (timeout, lost connection, a write refused).
 */
export type CheckStatus = 'pass' | 'violation' | 'skipped' | 'error' | 'info';

export interface SampleRow {
  /** The offending id (session id, API key id, index name). */
  id: string;
  /** Why it offends, in a few words. */
  detail?: string;
}

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
  /** At most `sampleLimit` offending ids. */
  sample: SampleRow[];
  /** Named counts of summary checks (`total_rows`, `unique_api_keys`, …). */
  figures?: Record<string, number>;
  /** Why the check was skipped or failed. */
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

/** `violation` wins over `error`: a confirmed finding is the headline even if another check failed. */
export type DatabaseOutcome = 'clean' | 'violation' | 'error';
export type ExitCode = 0 | 1 | 2;

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
  };
  outcome: DatabaseOutcome;
  exitCode: ExitCode;
  databases: DatabaseReport[];
}

export const EXIT_CODE: Record<DatabaseOutcome, ExitCode> = { clean: 0, violation: 1, error: 2 };
