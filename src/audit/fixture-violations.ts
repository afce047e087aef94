/**
 * One injector per state the audit must judge, applied to a clean gateway (fixtures.ts): the isolation
 * violations it must flag (exit 1) and the normal-operation states of the gateway it must only warn about
 * (exit 0), each naming the checks that must flag it and the ids they must list.
 */
import type { ClientBase } from 'pg';
import { ACTIVE_KEY_INDEX_NAME } from './check-active-key-index.js';
import { hex, NOW } from './fixture-sql.js';
import type { SchemaGeneration, Severity } from './result.js';

export interface Violation {
  description: string;
  /** Which generation's tables it needs. */
  generation: SchemaGeneration;
  /**
   * What the audit must call it: `violation` (an isolation breach is possible: exit 1) or `warning` (normal
   * operation or hygiene: exit 0), as every flagged check's status.
   */
  severity: Severity;
  /** Applies it to a clean gateway; returns, per check that must flag it, the ids that check must name. */
  inject(client: ClientBase): Promise<Record<string, string[]>>;
}

async function ids(client: ClientBase, sql: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string | number }>(sql);
  return rows.map((r) => String(r.id));
}

async function recreateIndex(client: ClientBase, ddl: string): Promise<void> {
  await client.query(`DROP INDEX ${ACTIVE_KEY_INDEX_NAME}`);
  await client.query(ddl);
}

const INDEX_ID = [ACTIVE_KEY_INDEX_NAME];
const ACTIVE_OF_KEY = (key: number): string => `api_key_id = ${key} AND is_active IS TRUE`;

export const VIOLATIONS = {
  shared_session_id: {
    description: 'sessions.id is not unique and one active session id is recorded under two API keys',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      await client.query('ALTER TABLE sessions DROP CONSTRAINT sessions_pkey');
      // Key 2 gives up its own active slot, so the partial unique index stays satisfied.
      await client.query(`UPDATE sessions SET is_active = false WHERE ${ACTIVE_OF_KEY(2)}`);
      const shared = await ids(
        client,
        `INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
         SELECT id, 2, 2, model, type, created_at, expires_at, true FROM sessions WHERE ${ACTIVE_OF_KEY(1)}
         RETURNING id`,
      );
      return { shared_across_keys: shared, active_summary: shared };
    },
  },
  second_active_session: {
    description: 'the partial unique index is gone and API key 1 holds two active sessions',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      await client.query(`DROP INDEX ${ACTIVE_KEY_INDEX_NAME}`);
      await client.query(
        `INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
         VALUES ('0x' || repeat('b', 64), 1, 1, '0x' || repeat('c', 64), 'automated',
                 ${NOW} - interval '5 minutes', ${NOW} + interval '1 hour', true)`,
      );
      return { multiple_active_per_key: ['1'], active_key_index: INDEX_ID };
    },
  },
  index_missing: {
    description: `the partial unique index ${ACTIVE_KEY_INDEX_NAME} does not exist`,
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      await client.query(`DROP INDEX ${ACTIVE_KEY_INDEX_NAME}`);
      return { active_key_index: INDEX_ID };
    },
  },
  index_invalid: {
    description: 'the index was left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      // The real-world path: a concurrent build meets duplicates, fails and leaves an INVALID index behind;
      // the duplicates are cleaned up later, the index is never rebuilt.
      await client.query(`DROP INDEX ${ACTIVE_KEY_INDEX_NAME}`);
      await client.query(`INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
        VALUES ('0x' || repeat('d', 64), 1, 1, '0x' || repeat('c', 64), 'automated',
                ${NOW} - interval '5 minutes', ${NOW} + interval '1 hour', true)`);
      await client
        .query(
          `CREATE UNIQUE INDEX CONCURRENTLY ${ACTIVE_KEY_INDEX_NAME} ON sessions (api_key_id, is_active)
           WHERE is_active IS true`,
        )
        .then(
          () => {
            throw new Error('CREATE UNIQUE INDEX CONCURRENTLY unexpectedly succeeded over duplicates');
          },
          () => undefined,
        );
      await client.query(`DELETE FROM sessions WHERE id = '0x' || repeat('d', 64)`);
      return { active_key_index: INDEX_ID };
    },
  },
  index_not_unique: {
    description: 'the index exists but is not unique',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      await recreateIndex(
        client,
        `CREATE INDEX ${ACTIVE_KEY_INDEX_NAME} ON sessions (api_key_id, is_active) WHERE is_active IS true`,
      );
      return { active_key_index: INDEX_ID };
    },
  },
  index_wrong_predicate: {
    description: 'the index only covers manual sessions',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      await recreateIndex(
        client,
        `CREATE UNIQUE INDEX ${ACTIVE_KEY_INDEX_NAME} ON sessions (api_key_id, is_active)
         WHERE is_active IS true AND type = 'manual'`,
      );
      return { active_key_index: INDEX_ID };
    },
  },
  owner_mismatch: {
    description: "a session of Bob's is recorded under Alice's API key",
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      const mismatched = await ids(
        client,
        `INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
         VALUES ('0x' || repeat('e', 64), 2, 1, '0x' || repeat('c', 64), 'automated',
                 ${NOW} - interval '3 days', ${NOW} - interval '3 days' + interval '1 hour', false)
         RETURNING id`,
      );
      return { owner_mismatch: mismatched };
    },
  },
  active_null_key: {
    description: 'an active session has no API key (NULLs slip past the partial unique index)',
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      const orphan = await ids(
        client,
        `INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
         VALUES ('0x' || repeat('f', 64), 1, NULL, '0x' || repeat('c', 64), 'automated',
                 ${NOW} - interval '5 minutes', ${NOW} + interval '1 hour', true)
         RETURNING id`,
      );
      return { active_without_key: orphan };
    },
  },
  active_revoked_key: {
    description: 'API key 2 was deactivated and its session row is still active (the gateway leaves it so)',
    generation: 'api_key_sessions',
    severity: 'warning',
    async inject(client) {
      await client.query('UPDATE api_keys SET is_active = false WHERE id = 2');
      return { active_without_key: await ids(client, `SELECT id FROM sessions WHERE ${ACTIVE_OF_KEY(2)}`) };
    },
  },
  stale_active: {
    description: "API key 2's active session expired an hour ago",
    generation: 'api_key_sessions',
    severity: 'violation',
    async inject(client) {
      const stale = await ids(
        client,
        `UPDATE sessions SET created_at = ${NOW} - interval '5 hours', expires_at = ${NOW} - interval '1 hour'
         WHERE ${ACTIVE_OF_KEY(2)} RETURNING id`,
      );
      return { stale_active: stale };
    },
  },
  session_churn: {
    description: 'API key 1 opened 8 sessions within 6 minutes half an hour ago (rapid model switching)',
    generation: 'api_key_sessions',
    severity: 'warning',
    async inject(client) {
      await client.query(
        `INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
         SELECT ${hex("'churn-' || n")}, 1, 1, ${hex("'model-' || (n % 2)")}, 'automated',
                ${NOW} - interval '30 minutes' + make_interval(secs => 45 * n),
                ${NOW} - interval '30 minutes' + make_interval(secs => 45 * n + 40),
                false
         FROM generate_series(0, 7) AS n`,
      );
      return { session_churn: ['1'] };
    },
  },
  routed_negative: {
    description: 'an OPEN routed session has active_requests = -1 (a release without a claim)',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = -1 WHERE state = 'OPEN' AND active_requests = 0
                   RETURNING id`;
      return { routed_negative_requests: await ids(client, sql) };
    },
  },
  routed_shared: {
    description: 'an OPEN routed session serves two requests at once',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 2 WHERE state = 'OPEN' AND active_requests = 1
                   RETURNING id`;
      return { routed_concurrent_requests: await ids(client, sql) };
    },
  },
  routed_open_expired: {
    description: 'an OPEN routed session is past its expires_at',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      return {
        routed_open_expired: await ids(
          client,
          `UPDATE routed_sessions SET expires_at = ${NOW} - interval '5 minutes'
           WHERE state = 'OPEN' AND active_requests = 0 RETURNING id`,
        ),
      };
    },
  },
  routed_closed_busy: {
    description: 'a CLOSED routed session still counts a request 90 minutes after it closed',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 1 WHERE state = 'CLOSED' RETURNING id`;
      return { routed_terminal_busy: await ids(client, sql) };
    },
  },
  routed_expired_busy: {
    description: 'an EXPIRED routed session still counts a request hours after it expired',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 1 WHERE state = 'EXPIRED' RETURNING id`;
      return { routed_terminal_busy: await ids(client, sql) };
    },
  },
  routed_failed_busy: {
    description: 'a FAILED routed session still holds a request slot an hour after it failed',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 1 WHERE state = 'FAILED' RETURNING id`;
      return { routed_terminal_busy: await ids(client, sql) };
    },
  },
  routed_model_two_names: {
    description: 'one model_id is served under two model_names by live sessions',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      await client.query(`INSERT INTO routed_sessions (id, model_name, model_id, state, active_requests, created_at,
                            updated_at, expires_at, bid_id, provider_address)
        SELECT '0x' || repeat('7', 64), 'llama-3.3-70b-instruct', model_id, 'OPEN', 0, ${NOW}, ${NOW},
               ${NOW} + interval '1 hour', bid_id, provider_address
        FROM routed_sessions WHERE state = 'OPEN' AND active_requests = 0`);
      const sql = `SELECT DISTINCT 'model_id ' || model_id AS id FROM routed_sessions WHERE id = '0x' || repeat('7', 64)`;
      return { routed_model_identity: await ids(client, sql) };
    },
  },
  routed_name_two_models: {
    description: 'one model_name is claimed over two model_ids by live sessions (a request gets either model)',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      await client.query(`INSERT INTO routed_sessions (id, model_name, model_id, state, active_requests, created_at,
                            updated_at, expires_at, bid_id, provider_address)
        VALUES ('0x' || repeat('8', 64), 'llama-3.3-70b', '0x' || repeat('9', 64), 'OPEN', 0, ${NOW}, ${NOW},
                ${NOW} + interval '1 hour', '0x' || repeat('9', 64), '0x' || repeat('9', 40))`);
      return { routed_model_identity: ['model_name llama-3.3-70b'] };
    },
  },
  routed_bid_two_providers: {
    description: 'a live session on a bid records another provider than the bid’s other sessions',
    generation: 'routed_pool',
    severity: 'violation',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET provider_address = '0x' || repeat('e', 40)
                   WHERE state = 'OPEN' AND active_requests = 1 RETURNING 'bid ' || bid_id AS id`;
      return { routed_provider_identity: await ids(client, sql) };
    },
  },
  // --- Normal operation of the gateway: reported as warnings, exit 0 ---
  stale_within_reaper: {
    description: "API key 2's active session expired 5 minutes ago, inside the 15-minute reaper interval",
    generation: 'api_key_sessions',
    severity: 'warning',
    async inject(client) {
      const stale = await ids(
        client,
        `UPDATE sessions SET expires_at = ${NOW} - interval '5 minutes' WHERE ${ACTIVE_OF_KEY(2)} RETURNING id`,
      );
      return { stale_active: stale };
    },
  },
  routed_failed_holding_slot: {
    description: 'a session just marked FAILED while the failing request still holds its slot',
    generation: 'routed_pool',
    severity: 'warning',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 1, updated_at = ${NOW} - interval '5 seconds'
                   WHERE state = 'FAILED' RETURNING id`;
      return { routed_terminal_busy: await ids(client, sql) };
    },
  },
  routed_expired_holding_slot: {
    description: 'a session just marked EXPIRED while its last request finishes (the same rule as FAILED)',
    generation: 'routed_pool',
    severity: 'warning',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET active_requests = 1, updated_at = ${NOW} - interval '5 seconds'
                   WHERE state = 'EXPIRED' RETURNING id`;
      return { routed_terminal_busy: await ids(client, sql) };
    },
  },
  routed_open_just_expired: {
    description: 'an OPEN routed session expired 10 seconds ago, inside the 30-second reaper interval',
    generation: 'routed_pool',
    severity: 'warning',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET expires_at = ${NOW} - interval '10 seconds'
                   WHERE state = 'OPEN' AND active_requests = 0 RETURNING id`;
      return { routed_open_expired: await ids(client, sql) };
    },
  },
  routed_model_renamed_history: {
    description: 'a settled session recorded a model under an older name (history, no live session affected)',
    generation: 'routed_pool',
    severity: 'warning',
    async inject(client) {
      const sql = `UPDATE routed_sessions SET model_name = 'qwen2.5-72b-instruct' WHERE state = 'CLOSED'
                   RETURNING 'model_id ' || model_id AS id`;
      return { routed_model_identity: await ids(client, sql) };
    },
  },
} satisfies Record<string, Violation>;

export type ViolationName = keyof typeof VIOLATIONS;

/** Applies one named violation to a clean gateway (see {@link buildCleanGateway}). */
export function injectViolation(client: ClientBase, name: ViolationName): Promise<Record<string, string[]>> {
  return VIOLATIONS[name].inject(client);
}
