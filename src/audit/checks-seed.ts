/**
 * The seed report's four checks (../shared/seed/DATABASE_CORRUPTION_CHECK.md), its query semantics kept, on
 * the 2025 `sessions` table.
 */
import { count, defineQueryCheck, judgeOffending, plural, totalOf, WINDOW_START } from './check-kit.js';

interface SharedRow {
  id: string;
  key_count: string;
  api_keys: Array<number | null>;
  total: string;
}

export const sharedAcrossKeys = defineQueryCheck<SharedRow>({
  id: 'shared_across_keys',
  seedCheck: 1,
  generation: 'api_key_sessions',
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
        findings: { violation: total, warning: 0 },
        sample: rows.map((r) => ({ id: r.id, detail: `api keys ${r.api_keys.join(', ')}`, severity: 'violation' })),
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
  generation: 'api_key_sessions',
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
        findings: { violation: duplicated, warning: 0 },
        figures,
        sample: (row?.duplicated_ids ?? []).map((id) => ({
          id,
          detail: 'more than one active row',
          severity: 'violation' as const,
        })),
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
  generation: 'api_key_sessions',
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
    'violation',
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
  generation: 'api_key_sessions',
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
