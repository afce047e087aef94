import type { ClientBase } from 'pg';
import { ACTIVE_KEY_INDEX_NAME } from './check-active-key-index.js';
import type { SchemaGeneration, Severity } from './result.js';

/**
 * The gateway's PostgreSQL schema (../shared/CONTEXT.md, "Database") with clean data, and one injector per
 * isolation violation the audit must catch. Tests, the demo and docker-compose (deploy/postgres/*.sql, kept
 * byte-equal to these strings by test/audit/deploy-sql.test.ts) all build databases from this text.
 */

const HEADER = `-- Generated from src/audit/fixtures.ts; test/audit/deploy-sql.test.ts keeps this file equal to it.
`;

/** Accounts, in both gateway versions: users and their API keys (only the key's prefix is public). */
export const ACCOUNTS_SCHEMA_SQL = `CREATE TABLE users (
  id serial PRIMARY KEY,
  cognito_user_id text NOT NULL UNIQUE,
  email text UNIQUE,
  name text,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamp without time zone,
  updated_at timestamp without time zone
);

CREATE TABLE api_keys (
  id serial PRIMARY KEY,
  key_prefix text NOT NULL,
  hashed_key text NOT NULL,
  encrypted_key text,
  encryption_version integer,
  user_id integer NOT NULL REFERENCES users (id),
  name text,
  created_at timestamp without time zone,
  last_used_at timestamp without time zone,
  is_active boolean NOT NULL DEFAULT true,
  is_default boolean NOT NULL DEFAULT false
);
CREATE INDEX ix_api_keys_key_prefix ON api_keys (key_prefix);
`;

/**
 * 2025 generation: one active session per API key, guarded by a partial unique index. As the gateway's
 * consolidate_session_model migration (2025-04-28) creates it: String columns are varchar and `type`
 * ('automated' or 'manual') is validated by the application, not by a CHECK.
 */
export const SESSIONS_TABLE_SQL = `-- id is the on-chain session id (0x + 64 hex); model the on-chain model id.
CREATE TABLE sessions (
  id varchar NOT NULL,
  user_id integer,
  api_key_id integer,
  model varchar NOT NULL,
  type varchar NOT NULL,
  created_at timestamp without time zone,
  expires_at timestamp without time zone NOT NULL,
  is_active boolean,
  FOREIGN KEY (api_key_id) REFERENCES api_keys (id),
  FOREIGN KEY (user_id) REFERENCES users (id),
  PRIMARY KEY (id)
);
CREATE INDEX ix_sessions_api_key_id ON sessions (api_key_id);
CREATE INDEX ix_sessions_is_active ON sessions (is_active);
-- The guard the seed report relied on: one active session per API key.
CREATE UNIQUE INDEX ${ACTIVE_KEY_INDEX_NAME} ON sessions (api_key_id, is_active) WHERE is_active IS true;
`;

/** The accounts and the 2025 sessions table: a database of the 2025 gateway. */
export const API_KEY_SESSIONS_SCHEMA_SQL = `${ACCOUNTS_SCHEMA_SQL}
${SESSIONS_TABLE_SQL}`;

/**
 * 2026 generation: a model-keyed pool; a request claims an OPEN session with active_requests = 0. The DDL the
 * gateway's Alembic migrations produce (add_routed_sessions_table 2025-12-30, then add bid_id 2026-07-01,
 * provider_address 2026-07-14, stake/daylock 2026-08-05): SQLAlchemy String is varchar, DateTime is a naive
 * timestamp, and state is a VARCHAR(20) the application validates (no CHECK, no enum).
 */
export const ROUTED_SESSIONS_SCHEMA_SQL = `CREATE TABLE routed_sessions (
  id varchar NOT NULL,
  model_name varchar,
  model_id varchar NOT NULL,
  state varchar(20) DEFAULT 'OPEN' NOT NULL,
  active_requests integer DEFAULT '0' NOT NULL,
  created_at timestamp without time zone,
  updated_at timestamp without time zone,
  last_used_at timestamp without time zone,
  expires_at timestamp without time zone NOT NULL,
  endpoint varchar,
  error_reason varchar,
  bid_id varchar,
  provider_address varchar(42),
  stake_mor numeric(36, 18),
  daylock_mor numeric(36, 18),
  PRIMARY KEY (id)
);
CREATE INDEX idx_routed_sessions_model_name ON routed_sessions (model_name);
CREATE INDEX idx_routed_sessions_model_id ON routed_sessions (model_id);
CREATE INDEX idx_routed_sessions_state ON routed_sessions (state);
CREATE INDEX idx_routed_sessions_model_state ON routed_sessions (model_id, state);
CREATE INDEX idx_routed_sessions_state_active ON routed_sessions (state, active_requests);
CREATE INDEX idx_routed_sessions_expires ON routed_sessions (expires_at);
CREATE INDEX idx_routed_sessions_last_used ON routed_sessions (last_used_at);
CREATE INDEX ix_routed_sessions_bid_id ON routed_sessions (bid_id);
`;

/** Both generations, as a database mid-migration holds them: every check has something to read. */
export const GATEWAY_SCHEMA_SQL = `${HEADER}-- Gateway schema (../shared/CONTEXT.md, "Database"): sessions keyed by API key (2025) and the
-- model-keyed routed_sessions pool (2026), both present as during the migration between them.

${API_KEY_SESSIONS_SCHEMA_SQL}
${ROUTED_SESSIONS_SCHEMA_SQL}`;

// Timestamps are naive UTC, as the gateway writes them; seeding relative to now() keeps the data "recent".
const NOW = "(now() AT TIME ZONE 'UTC')";
const hex = (text: string): string => `'0x' || encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`;

/**
 * Shaped like the seed report's DEV database: 2 active sessions of 2 keys and 2 users, 20 sessions created
 * in the last 24 hours by 2 keys, plus older history (a revoked key, sessions from three days ago).
 */
export const ACCOUNTS_SEED_SQL = `INSERT INTO users (id, cognito_user_id, email, name, is_active, created_at, updated_at) VALUES
  (1, 'cognito-alice', 'alice@example.com', 'Alice', true, ${NOW} - interval '90 days', ${NOW} - interval '1 day'),
  (2, 'cognito-bob', 'bob@example.com', 'Bob', true, ${NOW} - interval '60 days', ${NOW} - interval '2 days');
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));

INSERT INTO api_keys (id, key_prefix, hashed_key, encrypted_key, encryption_version, user_id, name,
                      created_at, last_used_at, is_active, is_default) VALUES
  (1, 'sk-a1B2c3', encode(sha256('alice-default'), 'hex'), NULL, 1, 1, 'default', ${NOW} - interval '90 days', ${NOW}, true, true),
  (2, 'sk-d4E5f6', encode(sha256('bob-default'), 'hex'), NULL, 1, 2, 'default', ${NOW} - interval '60 days', ${NOW}, true, true),
  (3, 'sk-g7H8i9', encode(sha256('alice-revoked'), 'hex'), NULL, 1, 1, 'old laptop', ${NOW} - interval '80 days', ${NOW} - interval '30 days', false, false);
SELECT setval(pg_get_serial_sequence('api_keys', 'id'), (SELECT max(id) FROM api_keys));
`;

export const SESSIONS_SEED_SQL = `-- Keys 1 and 2: ten sessions each in the last 24 hours, two hours apart, alternating two models (each
-- switch closes the old session); only the newest is active and it expires in the future.
INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
SELECT ${hex("'session-' || k.id || '-' || n")},
       k.user_id, k.id, ${hex("'model-' || (n % 2)")}, 'automated',
       ${NOW} - make_interval(mins => 20 + 120 * n),
       ${NOW} - make_interval(mins => 20 + 120 * n) + interval '4 hours',
       n = 0
FROM api_keys k CROSS JOIN generate_series(0, 9) AS n
WHERE k.id IN (1, 2);

-- History outside the window: key 1 three days ago, the revoked key 3 a month ago; all inactive.
INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
SELECT ${hex("'session-' || k.id || '-' || n")},
       k.user_id, k.id, ${hex("'model-' || (n % 2)")}, 'manual',
       ${NOW} - CASE WHEN k.id = 1 THEN interval '3 days' ELSE interval '30 days' END + make_interval(hours => n),
       ${NOW} - CASE WHEN k.id = 1 THEN interval '3 days' ELSE interval '30 days' END + make_interval(hours => n + 1),
       false
FROM api_keys k CROSS JOIN generate_series(10, 14) AS n
WHERE k.id IN (1, 3);
`;

export const API_KEY_SESSIONS_SEED_SQL = `${ACCOUNTS_SEED_SQL}
${SESSIONS_SEED_SQL}`;

/**
 * One idle and one busy OPEN session, and settled CLOSED, EXPIRED and FAILED ones; each model under one id,
 * each bid under one provider (two sessions share bid 1 and its provider, as a pool does).
 */
export const ROUTED_SESSIONS_SEED_SQL = `INSERT INTO routed_sessions (id, model_name, model_id, state, active_requests, created_at, updated_at,
                             last_used_at, expires_at, endpoint, error_reason, bid_id, provider_address)
SELECT ${hex("'routed-' || r.n")}, r.model_name, ${hex("'model-' || r.model_name")}, r.state, r.active_requests,
       ${NOW} - r.age, ${NOW} - r.age / 2, ${NOW} - r.age / 2, ${NOW} - r.age + interval '1 hour',
       'https://provider-' || r.bid || '.example/v1', r.error_reason, ${hex("'bid-' || r.bid")},
       '0x' || repeat(to_hex(r.bid), 40)
FROM (VALUES
  (1, 'llama-3.3-70b', 'OPEN', 0, interval '10 minutes', NULL, 1),
  (2, 'llama-3.3-70b', 'OPEN', 1, interval '20 minutes', NULL, 1),
  (3, 'qwen-2.5-72b', 'CLOSED', 0, interval '3 hours', NULL, 3),
  (4, 'qwen-2.5-72b', 'EXPIRED', 0, interval '5 hours', NULL, 4),
  (5, 'mistral-large', 'FAILED', 0, interval '2 hours', 'provider did not answer', 5)
) AS r (n, model_name, state, active_requests, age, error_reason, bid);
`;

export const GATEWAY_SEED_SQL = `${HEADER}-- Clean data shaped like the seed report's DEV database (2 active sessions, 20 created in 24 hours).

${API_KEY_SESSIONS_SEED_SQL}
${ROUTED_SESSIONS_SEED_SQL}`;

const ALL_GENERATIONS: readonly SchemaGeneration[] = ['api_key_sessions', 'routed_pool'];

/**
 * Creates the gateway's tables: the accounts (users, api_keys: both versions have them) and the sessions table
 * of each generation given (both by default, as mid-migration; `['routed_pool']` is today's gateway).
 */
export async function createGatewaySchema(
  client: ClientBase,
  generations: readonly SchemaGeneration[] = ALL_GENERATIONS,
): Promise<void> {
  await client.query(ACCOUNTS_SCHEMA_SQL);
  if (generations.includes('api_key_sessions')) await client.query(SESSIONS_TABLE_SQL);
  if (generations.includes('routed_pool')) await client.query(ROUTED_SESSIONS_SCHEMA_SQL);
}

/** Fills the tables created by {@link createGatewaySchema} with clean data. */
export async function seedCleanData(
  client: ClientBase,
  generations: readonly SchemaGeneration[] = ALL_GENERATIONS,
): Promise<void> {
  await client.query(ACCOUNTS_SEED_SQL);
  if (generations.includes('api_key_sessions')) await client.query(SESSIONS_SEED_SQL);
  if (generations.includes('routed_pool')) await client.query(ROUTED_SESSIONS_SEED_SQL);
}

/** Schema plus clean data: the database every violation scenario starts from. */
export async function buildCleanGateway(
  client: ClientBase,
  generations: readonly SchemaGeneration[] = ALL_GENERATIONS,
): Promise<void> {
  await createGatewaySchema(client, generations);
  await seedCleanData(client, generations);
}

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
