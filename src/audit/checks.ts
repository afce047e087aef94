import type { ClientBase, QueryResultRow } from 'pg';
import type { CheckStatus, SampleRow } from './model.js';
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
  schema: DetectedSchema;
}

export interface CheckFinding {
  status: Exclude<CheckStatus, 'skipped' | 'error'>;
  summary: string;
  notes?: string[];
  rowsFound: number;
  sample?: SampleRow[];
  figures?: Record<string, number>;
  vacuous?: boolean;
}

export interface AuditCheck {
  id: string;
  title: string;
  proves: string;
  seedCheck?: number;
  requires: TableRequirement[];
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
function count(value: unknown): number {
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
function totalOf(rows: Array<{ total: unknown }>): number {
  return count(rows[0]?.total);
}

/**
 * The judgement most checks share: no offending row passes; otherwise a violation counting every offending row
 * (`total`, computed in SQL over all of them) with the bounded sample the query returned.
 */
function judgeOffending<Row extends { total: unknown }>(
  pass: string,
  violation: (total: number) => string,
  sample: (row: Row) => SampleRow,
): (rows: Row[]) => CheckFinding {
  return (rows) => {
    const total = totalOf(rows);
    if (total === 0) return { status: 'pass', summary: pass, rowsFound: 0 };
    return { status: 'violation', summary: violation(total), rowsFound: total, sample: rows.map(sample) };
  };
}

// The gateway stores naive UTC timestamps (CONTEXT.md: `created_at timestamp`); the audit transaction sets
// TimeZone to UTC, so `localtimestamp` is "now" in the columns' own terms and comparisons stay index-friendly
// for both timestamp and timestamptz columns.
const WINDOW_START = 'localtimestamp - make_interval(secs => $1)';

export const ACTIVE_KEY_INDEX_NAME = 'sessions_active_api_key_unique';

// --- The seed's four checks (../shared/seed/DATABASE_CORRUPTION_CHECK.md), its query semantics kept ---

interface SharedRow {
  id: string;
  key_count: string;
  api_keys: Array<number | null>;
  total: string;
}

export const sharedAcrossKeys = defineQueryCheck<SharedRow>({
  id: 'shared_across_keys',
  seedCheck: 1,
  title: 'Sessions shared across multiple API keys',
  proves:
    'No active session id is recorded under two API keys. Only meaningful when sessions.id is not unique: ' +
    'with id as the primary key each group holds one row, so this check cannot fail.',
  requires: [{ table: 'sessions', columns: ['id', 'api_key_id', 'is_active'] }],
  // The seed's query verbatim inside; the wrapper only bounds the rows returned and counts them all.
  sql: `WITH seed_check_1 AS MATERIALIZED (
  SELECT id,
         COUNT(DISTINCT api_key_id) as key_count,
         array_agg(DISTINCT api_key_id) as api_keys
  FROM sessions
  WHERE is_active = TRUE
  GROUP BY id
  HAVING COUNT(DISTINCT api_key_id) > 1
)
SELECT id, key_count, api_keys, (SELECT count(*) FROM seed_check_1) AS total
FROM seed_check_1
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate(rows, ctx) {
    const total = totalOf(rows);
    if (total > 0) {
      return {
        status: 'violation',
        summary: `${plural(total, 'active session id')} carried by more than one API key`,
        rowsFound: total,
        sample: rows.map((r) => ({ id: r.id, detail: `api keys ${r.api_keys.join(', ')}` })),
      };
    }
    const idUnique = ctx.schema.sessionsId === 'primary_key' || ctx.schema.sessionsId === 'unique_index';
    const constraint = ctx.schema.sessionsId === 'primary_key' ? 'the primary key' : 'unique';
    return {
      status: 'pass',
      summary: '0 rows: no active session id carries more than one API key',
      rowsFound: 0,
      ...(idUnique
        ? {
            vacuous: true,
            notes: [
              `VACUOUS: sessions.id is ${constraint}, so GROUP BY id puts every row in a group of its own and ` +
                'COUNT(DISTINCT api_key_id) can never exceed 1. This check cannot fail and proves nothing; ' +
                'active_key_index, owner_mismatch, active_without_key and session_churn are the checks that can.',
            ],
          }
        : {}),
    };
  },
});

interface SummaryRow {
  total_rows: string;
  unique_api_keys: string;
  unique_session_ids: string;
  unique_users: string;
  duplicated_total: string;
  duplicated_ids: string[];
}

export const activeSummary = defineQueryCheck<SummaryRow>({
  id: 'active_summary',
  seedCheck: 2,
  title: 'Active sessions summary',
  proves:
    'Counts the active sessions (rows found = active rows); a violation only if a session id has more than one ' +
    'active row (rows found = such ids).',
  requires: [{ table: 'sessions', columns: ['id', 'api_key_id', 'user_id', 'is_active'] }],
  sql: `WITH active AS MATERIALIZED (
  SELECT id, api_key_id, user_id FROM sessions WHERE is_active = TRUE
), duplicated AS MATERIALIZED (
  SELECT id FROM active GROUP BY id HAVING count(*) > 1
)
SELECT count(*) AS total_rows,
       count(DISTINCT api_key_id) AS unique_api_keys,
       count(DISTINCT id) AS unique_session_ids,
       count(DISTINCT user_id) AS unique_users,
       (SELECT count(*) FROM duplicated) AS duplicated_total,
       ARRAY(SELECT id FROM duplicated ORDER BY id LIMIT $1) AS duplicated_ids
FROM active`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate(rows) {
    const row = rows[0];
    const figures = {
      total_rows: count(row?.total_rows),
      unique_api_keys: count(row?.unique_api_keys),
      unique_session_ids: count(row?.unique_session_ids),
      unique_users: count(row?.unique_users),
    };
    const duplicated = count(row?.duplicated_total);
    const counts =
      `${plural(figures.total_rows, 'active row')}, ${plural(figures.unique_api_keys, 'API key')}, ` +
      `${plural(figures.unique_session_ids, 'session id')}, ${plural(figures.unique_users, 'user')}`;
    if (duplicated > 0) {
      return {
        status: 'violation',
        summary: `${counts}; ${plural(duplicated, 'session id')} on more than one active row`,
        rowsFound: duplicated,
        figures,
        sample: (row?.duplicated_ids ?? []).map((id) => ({ id, detail: 'more than one active row' })),
      };
    }
    return {
      status: 'info',
      summary: `${counts}; each session id has exactly one row`,
      rowsFound: figures.total_rows,
      figures,
    };
  },
});

interface MultipleActiveRow {
  api_key_id: number;
  active_sessions: string;
  session_ids: string[];
  total: string;
}

export const multipleActivePerKey = defineQueryCheck<MultipleActiveRow>({
  id: 'multiple_active_per_key',
  seedCheck: 3,
  title: 'API keys with multiple active sessions',
  proves:
    'Each API key has at most one active session, the invariant sessions_active_api_key_unique is meant to ' +
    'enforce (sessions without a key are active_without_key’s concern).',
  requires: [{ table: 'sessions', columns: ['id', 'api_key_id', 'is_active'] }],
  sql: `WITH seed_check_3 AS MATERIALIZED (
  SELECT api_key_id,
         COUNT(*) AS active_sessions,
         (array_agg(id ORDER BY id))[1:5] AS session_ids
  FROM sessions
  WHERE is_active = TRUE AND api_key_id IS NOT NULL
  GROUP BY api_key_id
  HAVING COUNT(*) > 1
)
SELECT api_key_id, active_sessions, session_ids, (SELECT count(*) FROM seed_check_3) AS total
FROM seed_check_3
ORDER BY api_key_id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'each API key has at most 1 active session',
    (total) => `${plural(total, 'API key')} with more than one active session`,
    (r) => ({
      id: String(r.api_key_id),
      detail: `api key with ${count(r.active_sessions)} active sessions: ${r.session_ids.join(', ')}`,
    }),
  ),
});

interface RecentRow {
  sessions_created: string;
  unique_api_keys: string;
  unique_users: string;
}

export const recentSessions = defineQueryCheck<RecentRow>({
  id: 'recent_sessions',
  seedCheck: 4,
  title: 'Recent session creation',
  proves: 'Counts sessions created in the window (activity context, cannot fail).',
  requires: [{ table: 'sessions', columns: ['api_key_id', 'user_id', 'created_at'] }],
  sql: `SELECT count(*) AS sessions_created,
       count(DISTINCT api_key_id) AS unique_api_keys,
       count(DISTINCT user_id) AS unique_users
FROM sessions
WHERE created_at >= ${WINDOW_START}`,
  params: (ctx) => [ctx.windowSeconds],
  evaluate(rows, ctx) {
    const row = rows[0];
    const figures = {
      sessions_created: count(row?.sessions_created),
      unique_api_keys: count(row?.unique_api_keys),
      unique_users: count(row?.unique_users),
    };
    return {
      status: 'info',
      summary:
        `${plural(figures.sessions_created, 'session')} created in the last ${ctx.windowDescription} by ` +
        `${plural(figures.unique_api_keys, 'API key')} of ${plural(figures.unique_users, 'user')}`,
      rowsFound: figures.sessions_created,
      figures,
    };
  },
});

// --- Checks that can fail ---

interface IndexRow {
  index_name: string;
  is_unique: boolean;
  is_valid: boolean;
  is_ready: boolean;
  columns: string[];
  has_expressions: boolean;
  predicate: string | null;
}

/** `is_active IS TRUE`, `is_active = true` and bare `is_active` select the same rows (NULL excluded by all). */
const PROTECTIVE_PREDICATES = new Set(['is_activeistrue', 'is_active=true', 'is_active']);

function normalisePredicate(predicate: string | null): string {
  return (predicate ?? '').toLowerCase().replace(/[()\s]/g, '');
}

/** What is wrong with an index as the one-active-session-per-key guard; empty when it protects. */
export function indexProblems(index: IndexRow): string[] {
  const problems: string[] = [];
  if (!index.is_unique) problems.push('not unique');
  if (!index.is_valid || !index.is_ready) {
    // A failed CREATE INDEX CONCURRENTLY leaves it so (PostgreSQL docs, CREATE INDEX, "Building Indexes
    // Concurrently"): rows already in the table were never proven unique.
    problems.push('not valid (indisvalid = false)');
  }
  const columns = index.columns.join(', ');
  // Within `WHERE is_active IS TRUE`, (api_key_id) and (api_key_id, is_active) enforce the same thing.
  if (index.has_expressions || (columns !== 'api_key_id, is_active' && columns !== 'api_key_id')) {
    problems.push(`on (${index.has_expressions ? 'an expression' : columns}) instead of (api_key_id, is_active)`);
  }
  if (!PROTECTIVE_PREDICATES.has(normalisePredicate(index.predicate))) {
    problems.push(
      index.predicate === null ? 'has no predicate' : `predicate ${index.predicate} instead of is_active IS true`,
    );
  }
  return problems;
}

export const activeKeyIndex = defineQueryCheck<IndexRow>({
  id: 'active_key_index',
  title: `Partial unique index ${ACTIVE_KEY_INDEX_NAME}`,
  proves:
    `The database itself refuses a second active session for one API key: ${ACTIVE_KEY_INDEX_NAME} exists, ` +
    'is valid, unique, on (api_key_id, is_active) WHERE is_active IS true. The seed read this from code; ' +
    'this reads it from pg_index.',
  requires: [{ table: 'sessions', columns: ['api_key_id', 'is_active'], select: false }],
  sql: `SELECT c.relname AS index_name,
       i.indisunique AS is_unique,
       i.indisvalid AS is_valid,
       i.indisready AS is_ready,
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       i.indexprs IS NOT NULL AS has_expressions,
       pg_get_expr(i.indpred, i.indrelid) AS predicate
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = to_regclass($1)
ORDER BY c.relname
LIMIT 100`,
  params: () => ['sessions'],
  evaluate(rows) {
    const named = rows.find((r) => r.index_name === ACTIVE_KEY_INDEX_NAME);
    const describe = (r: IndexRow): string =>
      `unique on (${r.columns.join(', ')}) WHERE ${r.predicate ?? 'true'}, valid`;
    if (named) {
      const problems = indexProblems(named);
      if (problems.length === 0) {
        return { status: 'pass', summary: `${ACTIVE_KEY_INDEX_NAME} is ${describe(named)}`, rowsFound: 0 };
      }
      return {
        status: 'violation',
        summary: `${ACTIVE_KEY_INDEX_NAME} exists but is ${problems.join('; ')}`,
        rowsFound: 1,
        sample: [{ id: ACTIVE_KEY_INDEX_NAME, detail: problems.join('; ') }],
      };
    }
    const equivalent = rows.find((r) => indexProblems(r).length === 0);
    if (equivalent) {
      return {
        status: 'pass',
        summary: `the guard exists as ${equivalent.index_name}: ${describe(equivalent)}`,
        notes: [`${ACTIVE_KEY_INDEX_NAME} itself is absent; ${equivalent.index_name} enforces the same rule.`],
        rowsFound: 0,
      };
    }
    return {
      status: 'violation',
      summary:
        `${ACTIVE_KEY_INDEX_NAME} is missing: nothing in the database stops an API key from holding ` +
        'two active sessions',
      rowsFound: 1,
      sample: [{ id: ACTIVE_KEY_INDEX_NAME, detail: 'missing' }],
    };
  },
});

interface OwnerRow {
  id: string;
  user_id: number | null;
  api_key_id: number;
  key_owner: number | null;
  total: string;
}

export const ownerMismatch = defineQueryCheck<OwnerRow>({
  id: 'owner_mismatch',
  title: "Sessions whose user is not their API key's owner",
  proves:
    "Every session belongs to the user who owns its API key (sessions.user_id = api_keys.user_id); a session " +
    "billed to one user but served through another user's key is the cross-user mix-up, recorded.",
  requires: [
    { table: 'sessions', columns: ['id', 'user_id', 'api_key_id'] },
    { table: 'api_keys', columns: ['id', 'user_id'] },
  ],
  sql: `WITH offending AS MATERIALIZED (
  SELECT s.id, s.user_id, s.api_key_id, k.user_id AS key_owner
  FROM sessions s
  JOIN api_keys k ON k.id = s.api_key_id
  WHERE s.user_id IS DISTINCT FROM k.user_id
)
SELECT id, user_id, api_key_id, key_owner, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    "every session's user owns its API key",
    (total) => `${plural(total, 'session')} recorded under an API key another user owns`,
    (r) => ({
      id: r.id,
      detail: `user ${r.user_id ?? 'NULL'}, api key ${r.api_key_id} owned by user ${r.key_owner ?? 'NULL'}`,
    }),
  ),
});

interface WithoutKeyRow {
  id: string;
  problem: string;
  total: string;
}

export const activeWithoutKey = defineQueryCheck<WithoutKeyRow>({
  id: 'active_without_key',
  title: 'Active sessions without a live API key',
  proves:
    'Every active session points at an existing, active API key. NULL keys escape the partial unique index ' +
    '(NULLs are distinct), and a revoked key must not keep a session serving.',
  requires: [
    { table: 'sessions', columns: ['id', 'api_key_id', 'is_active'] },
    { table: 'api_keys', columns: ['id', 'is_active'] },
  ],
  sql: `WITH offending AS MATERIALIZED (
  SELECT s.id,
         CASE WHEN s.api_key_id IS NULL THEN 'api_key_id is NULL'
              WHEN k.id IS NULL THEN 'api key ' || s.api_key_id || ' does not exist'
              ELSE 'api key ' || s.api_key_id || ' is inactive' END AS problem
  FROM sessions s
  LEFT JOIN api_keys k ON k.id = s.api_key_id
  WHERE s.is_active = TRUE
    AND (s.api_key_id IS NULL OR k.id IS NULL OR k.is_active IS NOT TRUE)
)
SELECT id, problem, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'every active session has an active API key',
    (total) => `${plural(total, 'active session')} without an active API key`,
    (r) => ({ id: r.id, detail: r.problem }),
  ),
});

interface StaleRow {
  id: string;
  api_key_id: number | null;
  expired_at: string;
  total: string;
}

export const staleActive = defineQueryCheck<StaleRow>({
  id: 'stale_active',
  title: 'Active sessions past expires_at',
  proves:
    'No session stays active after it expired; a stale active row still holds its key’s only active slot, ' +
    'and requests routed to it get "session expired" and a new session mid-flight.',
  requires: [{ table: 'sessions', columns: ['id', 'api_key_id', 'is_active', 'expires_at'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id, api_key_id, expires_at
  FROM sessions
  WHERE is_active = TRUE AND expires_at < localtimestamp
)
SELECT id, api_key_id, to_char(expires_at, 'YYYY-MM-DD HH24:MI:SS') AS expired_at,
       (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY expires_at, id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'no active session is past its expires_at',
    (total) => `${plural(total, 'active session')} past expires_at`,
    (r) => ({
      id: r.id,
      detail: `expired ${r.expired_at} UTC (api key ${r.api_key_id ?? 'NULL'})`,
    }),
  ),
});

interface ChurnRow {
  api_key_id: number;
  peak_sessions: string;
  peak_at: string;
  total: string;
}

export const sessionChurn = defineQueryCheck<ChurnRow>({
  id: 'session_churn',
  title: 'API keys churning sessions',
  proves:
    'No API key opened more than --churn-sessions sessions within --churn-minutes minutes in the window. ' +
    'Each model switch closes a ' +
    'session and opens another while requests may still be in flight: the race the seed named as the likely ' +
    'cause. Keys listed here are where crosstalk could happen.',
  requires: [{ table: 'sessions', columns: ['api_key_id', 'created_at'] }],
  // One pass over the window's rows: a RANGE frame counts, per session, the key's sessions opened in the
  // M minutes up to it (PostgreSQL 11+ offset frames); DISTINCT ON keeps each key's busiest moment.
  sql: `WITH offending AS MATERIALIZED (
  SELECT DISTINCT ON (api_key_id) api_key_id, opened AS peak_sessions, created_at AS peak_at
  FROM (
    SELECT api_key_id, created_at,
           count(*) OVER (PARTITION BY api_key_id ORDER BY created_at
                          RANGE BETWEEN make_interval(mins => $2) PRECEDING AND CURRENT ROW) AS opened
    FROM sessions
    WHERE created_at >= ${WINDOW_START} AND api_key_id IS NOT NULL
  ) per_session
  WHERE opened > $3
  ORDER BY api_key_id, opened DESC, created_at
)
SELECT api_key_id, peak_sessions, to_char(peak_at, 'YYYY-MM-DD HH24:MI:SS') AS peak_at,
       (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY peak_sessions DESC, api_key_id
LIMIT $4`,
  params: (ctx) => [ctx.windowSeconds, ctx.churnMinutes, ctx.churnSessions, ctx.sampleLimit],
  evaluate(rows, ctx) {
    const total = totalOf(rows);
    const threshold = `more than ${plural(ctx.churnSessions, 'session')} within ${plural(ctx.churnMinutes, 'minute')}`;
    if (total === 0) {
      const summary = `no API key opened ${threshold} in the last ${ctx.windowDescription}`;
      return { status: 'pass', summary, rowsFound: 0 };
    }
    return {
      status: 'violation',
      summary: `${plural(total, 'API key')} opened ${threshold} in the last ${ctx.windowDescription}`,
      rowsFound: total,
      sample: rows.map((r) => ({
        id: String(r.api_key_id),
        detail:
          `api key opened ${count(r.peak_sessions)} sessions within ${ctx.churnMinutes} min ` +
          `up to ${r.peak_at} UTC`,
      })),
    };
  },
});

interface RoutedRow {
  id: string;
  problem: string;
  total: string;
}

export const routedPool = defineQueryCheck<RoutedRow>({
  id: 'routed_pool',
  title: 'routed_sessions pool consistency',
  proves:
    'In the model-keyed pool no session serves two requests at once (active_requests is 0 or 1), no OPEN ' +
    'session is past expires_at, and no CLOSED or FAILED session still counts requests.',
  requires: [{ table: 'routed_sessions', columns: ['id', 'state', 'active_requests', 'expires_at'] }],
  // state::text: the gateway may declare state as an enum type; the labels are the same.
  sql: `WITH offending AS MATERIALIZED (
  SELECT id::text AS id,
         CASE WHEN active_requests < 0 THEN 'active_requests ' || active_requests || ' < 0'
              WHEN active_requests > 1 THEN 'active_requests ' || active_requests || ' > 1'
              WHEN state::text = 'OPEN' AND expires_at < localtimestamp THEN 'OPEN past expires_at'
              ELSE state::text || ' with active_requests ' || active_requests END AS problem
  FROM routed_sessions
  WHERE active_requests < 0
     OR active_requests > 1
     OR (state::text = 'OPEN' AND expires_at < localtimestamp)
     OR (state::text IN ('CLOSED', 'FAILED') AND active_requests <> 0)
)
SELECT id, problem, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'every routed session is consistent',
    (total) => `${plural(total, 'routed session')} inconsistent`,
    (r) => ({ id: r.id, detail: r.problem }),
  ),
});

/** Every check, in report order: the seed's four first, in its numbering. */
export const AUDIT_CHECKS: readonly AuditCheck[] = [
  sharedAcrossKeys,
  activeSummary,
  multipleActivePerKey,
  recentSessions,
  activeKeyIndex,
  ownerMismatch,
  activeWithoutKey,
  staleActive,
  sessionChurn,
  routedPool,
];
