import type { ClientBase } from 'pg';
import { ACTIVE_KEY_INDEX_NAME } from './check-active-key-index.js';
import { hex, NOW } from './fixture-sql.js';
import type { SchemaGeneration } from './result.js';

/**
 * The gateway's PostgreSQL schema (../shared/CONTEXT.md, "Database") with clean data; the injectors of every
 * isolation violation and normal-operation state the audit must tell apart are in fixture-violations.ts. Tests, the
 * demo and docker-compose (deploy/postgres/*.sql, kept byte-equal to these strings by test/audit/deploy-sql.test.ts)
 * all build databases from this text.
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

export { injectViolation, VIOLATIONS, type Violation, type ViolationName } from './fixture-violations.js';
