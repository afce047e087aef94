/**
 * Checks that can fail on the 2025 gateway's `sessions` table (one active session per API key), beyond the
 * seed's four. Severity follows what the gateway itself does in normal operation (../shared/CONTEXT.md,
 * "Its reapers"): its reaper marks expired sessions inactive every 15 minutes, and deactivating a key leaves
 * its active session row active (the key is refused at authentication). Those states are warnings; what
 * no normal operation produces is a violation.
 */
import {
  count,
  defineQueryCheck,
  describeSeconds,
  gradedCounts,
  judgeGraded,
  judgeOffending,
  plural,
  totalOf,
  WINDOW_START,
  type GradedRow,
} from './check-kit.js';

interface OwnerRow {
  id: string;
  user_id: number | null;
  api_key_id: number;
  key_owner: number | null;
  total: string;
}

export const ownerMismatch = defineQueryCheck<OwnerRow>({
  id: 'owner_mismatch',
  generation: 'api_key_sessions',
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
    'violation',
    "every session's user owns its API key",
    (total) => `${plural(total, 'session')} recorded under an API key another user owns`,
    (r) => ({
      id: r.id,
      detail: `user ${r.user_id ?? 'NULL'}, api key ${r.api_key_id} owned by user ${r.key_owner ?? 'NULL'}`,
    }),
  ),
});

interface WithoutKeyRow extends GradedRow {
  id: string;
  problem: string;
}

export const activeWithoutKey = defineQueryCheck<WithoutKeyRow>({
  id: 'active_without_key',
  generation: 'api_key_sessions',
  title: 'Active sessions without a live API key',
  proves:
    'Every active session points at an existing API key: a NULL key escapes the partial unique index (NULLs ' +
    'are distinct) and a missing key means nobody owns the session (violations). An active session of a ' +
    'deactivated key is a warning: the gateway leaves that row active and refuses the key at authentication.',
  requires: [
    { table: 'sessions', columns: ['id', 'api_key_id', 'is_active'] },
    { table: 'api_keys', columns: ['id', 'is_active'] },
  ],
  sql: `WITH offending AS MATERIALIZED (
  SELECT s.id,
         CASE WHEN s.api_key_id IS NULL THEN 'api_key_id is NULL'
              WHEN k.id IS NULL THEN 'api key ' || s.api_key_id || ' does not exist'
              ELSE 'api key ' || s.api_key_id || ' is deactivated' END AS problem,
         CASE WHEN s.api_key_id IS NULL OR k.id IS NULL THEN 'violation' ELSE 'warning' END AS severity
  FROM sessions s
  LEFT JOIN api_keys k ON k.id = s.api_key_id
  WHERE s.is_active = TRUE
    AND (s.api_key_id IS NULL OR k.id IS NULL OR k.is_active IS NOT TRUE)
)
SELECT id, problem, severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeGraded(
    'every active session has an active API key',
    (counts) =>
      `${plural(counts.violation + counts.warning, 'active session')} without an active API key: ` +
      gradedCounts(counts, 'NULL or missing key', 'deactivated key, refused at authentication'),
    (r) => ({ id: r.id, detail: r.problem }),
  ),
});

interface StaleRow extends GradedRow {
  id: string;
  api_key_id: number | null;
  expired_at: string;
}

export const staleActive = defineQueryCheck<StaleRow>({
  id: 'stale_active',
  generation: 'api_key_sessions',
  title: 'Active sessions past expires_at',
  proves:
    'No session stays active longer than --sessions-grace after it expired (the gateway’s reaper runs every ' +
    '15 minutes, so inside the grace it is a warning). Beyond it the stale row still holds its key’s only ' +
    'active slot, and requests routed to it get "session expired" and a new session mid-flight.',
  requires: [{ table: 'sessions', columns: ['id', 'api_key_id', 'is_active', 'expires_at'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id, api_key_id, expires_at,
         CASE WHEN expires_at < localtimestamp - make_interval(secs => $1) THEN 'violation'
              ELSE 'warning' END AS severity
  FROM sessions
  WHERE is_active = TRUE AND expires_at < localtimestamp
)
SELECT id, api_key_id, to_char(expires_at, 'YYYY-MM-DD HH24:MI:SS') AS expired_at, severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, expires_at, id
LIMIT $2`,
  params: (ctx) => [ctx.sessionsGraceSeconds, ctx.sampleLimit],
  evaluate: (rows, ctx) =>
    judgeGraded<StaleRow>(
      'no active session is past its expires_at',
      (counts) =>
        `${plural(counts.violation + counts.warning, 'active session')} past expires_at: ` +
        gradedCounts(
          counts,
          `expired more than ${describeSeconds(ctx.sessionsGraceSeconds)} ago`,
          `inside the ${describeSeconds(ctx.sessionsGraceSeconds)} reaper grace`,
        ),
      (r) => ({ id: r.id, detail: `expired ${r.expired_at} UTC (api key ${r.api_key_id ?? 'NULL'})` }),
    )(rows),
});

interface ChurnRow {
  api_key_id: number;
  peak_sessions: string;
  peak_at: string;
  total: string;
}

export const sessionChurn = defineQueryCheck<ChurnRow>({
  id: 'session_churn',
  generation: 'api_key_sessions',
  title: 'API keys churning sessions',
  proves:
    'Where crosstalk could happen, not that it did (a warning): no API key opened more than --churn-sessions ' +
    'sessions within --churn-minutes minutes in the window. Each model switch closes a session and opens ' +
    'another while requests may still be in flight: the race the seed named as the likely cause.',
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
      status: 'warning',
      summary: `${plural(total, 'API key')} opened ${threshold} in the last ${ctx.windowDescription}`,
      rowsFound: total,
      findings: { violation: 0, warning: total },
      sample: rows.map((r) => ({
        id: String(r.api_key_id),
        detail:
          `api key opened ${count(r.peak_sessions)} sessions within ${ctx.churnMinutes} min ` +
          `up to ${r.peak_at} UTC`,
        severity: 'warning' as const,
      })),
    };
  },
});
