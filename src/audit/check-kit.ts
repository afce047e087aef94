import type { ClientBase, QueryResultRow } from 'pg';
import type { CheckStatus, SampleRow, SchemaGeneration, Severity, SeverityCounts } from './result.js';
import type { ProviderMemory } from './provider-state.js';
import type { DetectedSchema, TableRequirement } from './schema-detect.js';

/** What every check may read besides the database: the window, the sample bound, thresholds, the schema. */
export interface CheckContext {
  windowSeconds: number;
  /** `24 hours`, for sentences. */
  windowDescription: string;
  /** `24h`, as typed, for the seed's `Sessions created (24h):` line. */
  windowLabel: string;
  sampleLimit: number;
  churnSessions: number;
  churnMinutes: number;
  /** Grace past `expires_at` for `sessions` (the 2025 gateway's reaper runs every 15 minutes). */
  sessionsGraceSeconds: number;
  /** Grace for `routed_sessions` expiry and terminal states (the newer gateway's reaper runs every 30 s). */
  routedGraceSeconds: number;
  schema: DetectedSchema;
  /** `--provider-state`: this database's providers as the previous run saw them; undefined without the flag. */
  providers?: ProviderMemory;
}

export interface CheckFinding {
  status: Exclude<CheckStatus, 'skipped' | 'error' | 'not_applicable'>;
  summary: string;
  notes?: string[];
  rowsFound: number;
  /** Offending rows by severity; defaults to all `rowsFound` under the status' severity. */
  findings?: SeverityCounts;
  sample?: SampleRow[];
  figures?: Record<string, number>;
  vacuous?: boolean;
}

export interface AuditCheck {
  id: string;
  title: string;
  proves: string;
  seedCheck?: number;
  /**
   * The schema generation the check is about: it applies when the database holds that generation's table
   * and is `not_applicable` otherwise. Omitted: it always applies (test checks).
   */
  generation?: SchemaGeneration;
  requires: TableRequirement[];
  /** Why the check does not apply to this run (an input it needs was not given); undefined when it does. */
  notApplicable?(ctx: CheckContext): string | undefined;
  sql: string;
  params(ctx: CheckContext): Array<string | number>;
  /** Runs inside the audit's read-only transaction (and a savepoint of its own); throws on a driver error. */
  run(client: ClientBase, ctx: CheckContext): Promise<CheckFinding>;
}

interface QueryCheckDefinition<Row extends QueryResultRow> extends Omit<AuditCheck, 'run' | 'params'> {
  params?(ctx: CheckContext): Array<string | number>;
  evaluate(rows: Row[], ctx: CheckContext): CheckFinding;
}

/** A check that is one parameterised query plus a pure judgement of its (bounded) rows. */
export function defineQueryCheck<Row extends QueryResultRow>(definition: QueryCheckDefinition<Row>): AuditCheck {
  const params = definition.params ?? (() => []);
  return {
    id: definition.id,
    title: definition.title,
    proves: definition.proves,
    ...(definition.seedCheck === undefined ? {} : { seedCheck: definition.seedCheck }),
    ...(definition.generation === undefined ? {} : { generation: definition.generation }),
    requires: definition.requires,
    sql: definition.sql,
    params,
    async run(client, ctx) {
      const { rows } = await client.query<Row>(definition.sql, params(ctx));
      return definition.evaluate(rows, ctx);
    },
  };
}

/** `count(*)` arrives as a string (bigint); every count the checks return goes through here. */
export function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Total offending rows: each sampled row carries the count of the whole, unlimited result.
 *
 * Every sampling check has the same shape: `WITH offending AS MATERIALIZED (…) SELECT …, (SELECT count(*)
 * FROM offending) AS total FROM offending ORDER BY … LIMIT $n`. MATERIALIZED (PostgreSQL 12+) plans the
 * search for its whole result; without the fence the planner sees ORDER BY id LIMIT 20 and walks the primary
 * key hoping to stop early, which on a clean table means a million index probes (measured: 1.0 s instead of
 * 0.25 s for owner_mismatch on 1,000,000 sessions, bench/audit-bench.ts). The client still gets at most
 * LIMIT rows; the server keeps any large intermediate result within work_mem, spilling to disk.
 */
export function totalOf(rows: Array<{ total: unknown }>): number {
  return count(rows[0]?.total);
}

/**
 * The judgement of a check whose every offending row has one severity: no offending row passes; otherwise
 * that severity, counting every offending row (`total`, computed in SQL over all of them) with the bounded
 * sample the query returned.
 */
export function judgeOffending<Row extends { total: unknown }>(
  severity: Severity,
  pass: string,
  found: (total: number) => string,
  sample: (row: Row) => SampleRow,
): (rows: Row[]) => CheckFinding {
  return (rows) => {
    const total = totalOf(rows);
    if (total === 0) return { status: 'pass', summary: pass, rowsFound: 0 };
    return {
      status: severity,
      summary: found(total),
      rowsFound: total,
      findings: severity === 'violation' ? { violation: total, warning: 0 } : { violation: 0, warning: total },
      sample: rows.map((r) => ({ ...sample(r), severity })),
    };
  };
}

/** A row of a graded check: the SQL says each row's severity and counts the violations among all of them. */
export interface GradedRow {
  severity: Severity;
  total: unknown;
  violations: unknown;
}

/**
 * The judgement of a check whose rows are graded in SQL (beyond the grace: violation; inside it: warning).
 * The status is the worst severity found; the sample lists violations first (`ORDER BY severity`).
 */
export function judgeGraded<Row extends GradedRow>(
  pass: string,
  found: (counts: SeverityCounts) => string,
  sample: (row: Row) => SampleRow,
): (rows: Row[]) => CheckFinding {
  return (rows) => {
    const total = totalOf(rows);
    if (total === 0) return { status: 'pass', summary: pass, rowsFound: 0 };
    const violation = count(rows[0]?.violations);
    const counts = { violation, warning: total - violation };
    return {
      status: violation > 0 ? 'violation' : 'warning',
      summary: found(counts),
      rowsFound: total,
      findings: counts,
      sample: rows.map((r) => ({ ...sample(r), severity: r.severity })),
    };
  };
}

/** `2 violations (beyond the grace) and 1 warning (inside it)`, leaving out a zero. */
export function gradedCounts(counts: SeverityCounts, violationWhy: string, warningWhy: string): string {
  const parts: string[] = [];
  if (counts.violation > 0) parts.push(`${plural(counts.violation, 'violation')} (${violationWhy})`);
  if (counts.warning > 0) parts.push(`${plural(counts.warning, 'warning')} (${warningWhy})`);
  return parts.join(' and ');
}

/** `15 minutes`, `30 seconds`, `90 seconds`: a grace in the words the report uses. */
export function describeSeconds(seconds: number): string {
  if (seconds >= 60 && seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds >= 60 && seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

const WINDOW = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_WORDS = {
  ms: ['millisecond', 'milliseconds'],
  s: ['second', 'seconds'],
  m: ['minute', 'minutes'],
  h: ['hour', 'hours'],
  d: ['day', 'days'],
} as const;

/**
 * `24h` → `24 hours`, `1d` → `1 day`: the words the report uses for the window the user typed (already
 * validated by the one duration grammar, src/config/values.ts).
 */
export function describeWindow(text: string): string {
  const match = WINDOW.exec(text.trim());
  if (!match) return text;
  const [one, many] = UNIT_WORDS[match[2] as keyof typeof UNIT_WORDS];
  return `${match[1]} ${Number(match[1]) === 1 ? one : many}`;
}

// The gateway stores naive UTC timestamps (CONTEXT.md: `created_at timestamp`); the audit transaction sets
// TimeZone to UTC, so `localtimestamp` is "now" in the columns' own terms and comparisons stay index-friendly
// for both timestamp and timestamptz columns.
export const WINDOW_START = 'localtimestamp - make_interval(secs => $1)';
