-- Generated from src/audit/fixtures.ts; test/audit/deploy-sql.test.ts keeps this file equal to it.
-- Gateway schema (../shared/CONTEXT.md, "Database"): sessions keyed by API key (2025) and the
-- model-keyed routed_sessions pool (2026), both present as during the migration between them.

CREATE TABLE users (
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

-- id is the on-chain session id (0x + 64 hex); model the on-chain model id.
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
CREATE UNIQUE INDEX sessions_active_api_key_unique ON sessions (api_key_id, is_active) WHERE is_active IS true;

CREATE TABLE routed_sessions (
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
