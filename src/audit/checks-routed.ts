/**
 * Checks on today's gateway schema: the model-keyed `routed_sessions` pool, where a request claims an OPEN
 * session with `active_requests = 0` (`FOR UPDATE SKIP LOCKED`) and increments it, and routers serve one
 * request per session at a time (../shared/CONTEXT.md, "Database"). The gateway's reaper runs every 30 s, and
 * it marks a session FAILED while the failing request still holds its slot (released right after): inside
 * `--routed-grace` those states are warnings, the same rule for every terminal state.
 *
 * `state::text`: the migrations declare state as VARCHAR(20) (the app validates it), but a deployment may have
 * made it an enum; the labels are the same.
 */
import type { ClientBase } from 'pg';
import {
  defineQueryCheck,
  describeSeconds,
  gradedCounts,
  judgeGraded,
  judgeOffending,
  plural,
  type AuditCheck,
  type CheckContext,
  type CheckFinding,
  type GradedRow,
} from './check-kit.js';
import { MAX_REMEMBERED_SESSIONS } from './provider-state.js';

/** States a session does not leave; none of them may count a request once the reaper had its chance. */
export const TERMINAL_STATES = ['CLOSED', 'EXPIRED', 'FAILED'] as const;
/** States in which a session may still serve (CLOSING drains its in-flight request). */
export const LIVE_STATES = ['OPEN', 'CLOSING'] as const;

const TERMINAL_SQL = TERMINAL_STATES.map((s) => `'${s}'`).join(', ');
const LIVE_SQL = LIVE_STATES.map((s) => `'${s}'`).join(', ');

interface CountRow {
  id: string;
  state: string;
  active_requests: number;
  total: string;
}

export const routedConcurrentRequests = defineQueryCheck<CountRow>({
  id: 'routed_concurrent_requests',
  generation: 'routed_pool',
  title: 'Routed sessions serving more than one request',
  proves:
    'No pooled session counts two requests at once (active_requests > 1): a claim only takes a session at 0, ' +
    'and a router serves one request per session, so a second one shares the first one’s connection.',
  requires: [{ table: 'routed_sessions', columns: ['id', 'state', 'active_requests'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id::text AS id, state::text AS state, active_requests
  FROM routed_sessions
  WHERE active_requests > 1
)
SELECT id, state, active_requests, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'violation',
    'no routed session counts more than one request',
    (total) => `${plural(total, 'routed session')} with more than one request at once`,
    (r) => ({ id: r.id, detail: `${r.state} with active_requests ${r.active_requests}` }),
  ),
});

export const routedNegativeRequests = defineQueryCheck<CountRow>({
  id: 'routed_negative_requests',
  generation: 'routed_pool',
  title: 'Routed sessions with a negative request count',
  proves:
    'No pooled session has active_requests < 0 (a release without a claim): the next claim brings it back to ' +
    '0, where the pool hands the session, busy, to another request.',
  requires: [{ table: 'routed_sessions', columns: ['id', 'state', 'active_requests'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id::text AS id, state::text AS state, active_requests
  FROM routed_sessions
  WHERE active_requests < 0
)
SELECT id, state, active_requests, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeOffending(
    'violation',
    'no routed session has a negative request count',
    (total) => `${plural(total, 'routed session')} with active_requests below 0`,
    (r) => ({ id: r.id, detail: `${r.state} with active_requests ${r.active_requests}` }),
  ),
});

interface GracedRow extends GradedRow {
  id: string;
  state: string;
  active_requests: number;
  since: string;
}

const grace = (ctx: CheckContext): string => describeSeconds(ctx.routedGraceSeconds);

export const routedTerminalBusy = defineQueryCheck<GracedRow>({
  id: 'routed_terminal_busy',
  generation: 'routed_pool',
  title: 'Terminal routed sessions still counting requests',
  proves:
    `No ${TERMINAL_STATES.join(', ')} session counts a request longer than --routed-grace after it entered ` +
    'that state (updated_at; last_used_at or created_at where it is NULL). Inside the grace it is a warning: ' +
    'the gateway marks a session FAILED while the failing request still holds its slot. One rule for every ' +
    'terminal state.',
  requires: [
    { table: 'routed_sessions', columns: ['id', 'state', 'active_requests', 'updated_at', 'last_used_at', 'created_at'] },
  ],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id::text AS id, state::text AS state, active_requests,
         coalesce(updated_at, last_used_at, created_at) AS since,
         CASE WHEN coalesce(updated_at, last_used_at, created_at) >= localtimestamp - make_interval(secs => $1)
              THEN 'warning' ELSE 'violation' END AS severity
  FROM routed_sessions
  WHERE state::text IN (${TERMINAL_SQL}) AND active_requests > 0
)
SELECT id, state, active_requests, coalesce(to_char(since, 'YYYY-MM-DD HH24:MI:SS'), 'an unknown time') AS since,
       severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, id
LIMIT $2`,
  params: (ctx) => [ctx.routedGraceSeconds, ctx.sampleLimit],
  evaluate: (rows, ctx) =>
    judgeGraded<GracedRow>(
      'no closed, expired or failed routed session counts a request',
      (counts) =>
        `${plural(counts.violation + counts.warning, 'terminal routed session')} still counting requests: ` +
        gradedCounts(counts, `longer than ${grace(ctx)}`, `inside the ${grace(ctx)} grace`),
      (r) => ({ id: r.id, detail: `${r.state} since ${r.since} UTC with active_requests ${r.active_requests}` }),
    )(rows),
});

interface ExpiredRow extends GradedRow {
  id: string;
  active_requests: number;
  expired_at: string;
}

export const routedOpenExpired = defineQueryCheck<ExpiredRow>({
  id: 'routed_open_expired',
  generation: 'routed_pool',
  title: 'OPEN routed sessions past expires_at',
  proves:
    'No session stays OPEN, claimable, longer than --routed-grace after its expires_at (inside the grace it ' +
    'is a warning: the reaper runs every 30 s). Beyond it requests keep being routed to a session the chain ' +
    'has ended, and get "session expired" mid-flight.',
  requires: [{ table: 'routed_sessions', columns: ['id', 'state', 'active_requests', 'expires_at'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT id::text AS id, active_requests, expires_at,
         CASE WHEN expires_at < localtimestamp - make_interval(secs => $1) THEN 'violation'
              ELSE 'warning' END AS severity
  FROM routed_sessions
  WHERE state::text = 'OPEN' AND expires_at < localtimestamp
)
SELECT id, active_requests, to_char(expires_at, 'YYYY-MM-DD HH24:MI:SS') AS expired_at, severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, expires_at, id
LIMIT $2`,
  params: (ctx) => [ctx.routedGraceSeconds, ctx.sampleLimit],
  evaluate: (rows, ctx) =>
    judgeGraded<ExpiredRow>(
      'no OPEN routed session is past its expires_at',
      (counts) =>
        `${plural(counts.violation + counts.warning, 'OPEN routed session')} past expires_at: ` +
        gradedCounts(counts, `expired more than ${grace(ctx)} ago`, `inside the ${grace(ctx)} reaper grace`),
      (r) => ({ id: r.id, detail: `expired ${r.expired_at} UTC, active_requests ${r.active_requests}` }),
    )(rows),
});

interface IdentityRow extends GradedRow {
  id: string;
  problem: string;
}

export const routedModelIdentity = defineQueryCheck<IdentityRow>({
  id: 'routed_model_identity',
  generation: 'routed_pool',
  title: 'Model names and model ids that disagree',
  proves:
    'Each on-chain model_id appears under one model_name, and each model_name under one model_id. The pool is ' +
    'claimed by name, so a name over two live (OPEN or CLOSING) model ids serves a request from either model: ' +
    'the "model B answered" report (violation). A disagreement only among settled sessions is history ' +
    '(a rename, a re-registration): a warning.',
  requires: [{ table: 'routed_sessions', columns: ['model_name', 'model_id', 'state'] }],
  sql: `WITH offending AS MATERIALIZED (
  SELECT 'model_id ' || model_id AS id,
         'under model_name ' || array_to_string((array_agg(DISTINCT model_name ORDER BY model_name))[1:5], ', ') AS problem,
         CASE WHEN count(DISTINCT model_name) FILTER (WHERE state::text IN (${LIVE_SQL})) > 1
              THEN 'violation' ELSE 'warning' END AS severity
  FROM routed_sessions
  WHERE model_name IS NOT NULL
  GROUP BY model_id
  HAVING count(DISTINCT model_name) > 1
  UNION ALL
  SELECT 'model_name ' || model_name AS id,
         'with model_id ' || array_to_string((array_agg(DISTINCT model_id ORDER BY model_id))[1:5], ', ') AS problem,
         CASE WHEN count(DISTINCT model_id) FILTER (WHERE state::text IN (${LIVE_SQL})) > 1
              THEN 'violation' ELSE 'warning' END AS severity
  FROM routed_sessions
  WHERE model_name IS NOT NULL
  GROUP BY model_name
  HAVING count(DISTINCT model_id) > 1
)
SELECT id, problem, severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeGraded(
    'every model_id has one model_name and every model_name one model_id',
    (counts) =>
      `${plural(counts.violation + counts.warning, 'model')} under more than one identity: ` +
      gradedCounts(counts, 'among live sessions', 'among settled sessions only'),
    (r) => ({ id: r.id, detail: r.problem }),
  ),
});

interface ProviderRow extends GradedRow {
  id: string;
  problem: string;
}

export const routedProviderIdentity = defineQueryCheck<ProviderRow>({
  id: 'routed_provider_identity',
  generation: 'routed_pool',
  title: 'Bids recorded under more than one provider',
  proves:
    'A bid belongs to one provider on chain, so every session opened on a bid_id records one ' +
    'provider_address. Two addresses for one bid mean a session’s recorded provider is not the one serving ' +
    'it (live sessions: violation; settled only: warning). What one table cannot show: a single session id ' +
    'whose provider_address was overwritten, since the row keeps only the latest value; routed_provider_change ' +
    'compares runs for that.',
  requires: [
    { table: 'routed_sessions', columns: ['state'] },
    // Added by later gateway migrations (2026-07): on an older pool the check does not apply.
    { table: 'routed_sessions', columns: ['bid_id', 'provider_address'], optional: true },
  ],
  sql: `WITH offending AS MATERIALIZED (
  SELECT 'bid ' || bid_id AS id,
         'provider_address ' || array_to_string((array_agg(DISTINCT provider_address ORDER BY provider_address))[1:5], ', ') AS problem,
         CASE WHEN count(DISTINCT lower(provider_address)) FILTER (WHERE state::text IN (${LIVE_SQL})) > 1
              THEN 'violation' ELSE 'warning' END AS severity
  FROM routed_sessions
  WHERE bid_id IS NOT NULL AND provider_address IS NOT NULL
  GROUP BY bid_id
  HAVING count(DISTINCT lower(provider_address)) > 1
)
SELECT id, problem, severity,
       (SELECT count(*) FROM offending) AS total,
       (SELECT count(*) FROM offending WHERE severity = 'violation') AS violations
FROM offending
ORDER BY severity, id
LIMIT $1`,
  params: (ctx) => [ctx.sampleLimit],
  evaluate: judgeGraded(
    'every bid_id records one provider_address',
    (counts) =>
      `${plural(counts.violation + counts.warning, 'bid')} under more than one provider_address: ` +
      gradedCounts(counts, 'among live sessions', 'among settled sessions only'),
    (r) => ({ id: r.id, detail: r.problem }),
  ),
});

/** This run's live sessions and their providers, remembered for the next run's comparison. */
export const LIVE_PROVIDERS_SQL = `SELECT id::text AS id, provider_address
FROM routed_sessions
WHERE state::text IN (${LIVE_SQL}) AND provider_address IS NOT NULL
ORDER BY id
LIMIT ${MAX_REMEMBERED_SESSIONS}`;

interface ChangedRow {
  id: string;
  was: string;
  now: string;
  total: string;
}

const CHANGED_SQL = `WITH previous AS (
  SELECT * FROM unnest($1::text[], $2::text[]) AS p(id, provider_address)
), offending AS MATERIALIZED (
  SELECT r.id::text AS id, p.provider_address AS was, r.provider_address AS now
  FROM previous p
  JOIN routed_sessions r ON r.id = p.id
  WHERE r.provider_address IS NOT NULL AND lower(r.provider_address) <> lower(p.provider_address)
)
SELECT id, was, now, (SELECT count(*) FROM offending) AS total
FROM offending
ORDER BY id
LIMIT $3`;

export const routedProviderChange: AuditCheck = {
  id: 'routed_provider_change',
  generation: 'routed_pool',
  title: 'Routed sessions whose provider changed since the last run',
  proves:
    'No session id is served by another provider than the one --provider-state recorded for it on the ' +
    'previous run (a session is bound on chain to one provider: a new address under the same id means the ' +
    'row now describes another session than the one requests were routed to). One table keeps only the ' +
    'latest address, so this needs the previous run; without --provider-state it does not apply.',
  requires: [
    { table: 'routed_sessions', columns: ['id', 'state'] },
    { table: 'routed_sessions', columns: ['provider_address'], optional: true },
  ],
  notApplicable: (ctx) =>
    ctx.providers === undefined
      ? 'a change of provider_address shows only across runs: give --provider-state <file> to compare with the last run'
      : undefined,
  sql: CHANGED_SQL,
  params: (ctx) => {
    const n = ctx.providers?.previous?.size ?? 0;
    return [`${n} session ids of the previous run`, `their ${n} provider addresses`, ctx.sampleLimit];
  },
  async run(client: ClientBase, ctx: CheckContext): Promise<CheckFinding> {
    const memory = ctx.providers;
    const live = await client.query<{ id: string; provider_address: string }>(LIVE_PROVIDERS_SQL);
    const current = new Map(live.rows.map((r) => [r.id, r.provider_address]));
    memory?.record(current);
    const previous = memory?.previous;
    if (previous === undefined) {
      return {
        status: 'info',
        summary:
          `first run with --provider-state: recorded the providers of ${plural(current.size, 'live session')}; ` +
          'a change shows from the next run',
        rowsFound: current.size,
      };
    }
    const ids = [...previous.keys()];
    const { rows } = await client.query<ChangedRow>(CHANGED_SQL, [ids, ids.map((id) => previous.get(id) ?? ''), ctx.sampleLimit]);
    const since = memory?.previousAt === undefined ? 'the last run' : `the run of ${memory.previousAt}`;
    return judgeOffending<ChangedRow>(
      'violation',
      `no session's provider_address changed since ${since} (${plural(previous.size, 'session')} compared)`,
      (total) => `${plural(total, 'routed session')} now record another provider than at ${since}`,
      (r) => ({ id: r.id, detail: `provider_address ${r.was} then, ${r.now} now` }),
    )(rows);
  },
};
