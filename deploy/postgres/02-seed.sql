-- Generated from src/audit/fixtures.ts; test/audit/deploy-sql.test.ts keeps this file equal to it.
-- Clean data shaped like the seed report's DEV database (2 active sessions, 20 created in 24 hours).

INSERT INTO users (id, cognito_user_id, email, name, is_active, created_at, updated_at) VALUES
  (1, 'cognito-alice', 'alice@example.com', 'Alice', true, (now() AT TIME ZONE 'UTC') - interval '90 days', (now() AT TIME ZONE 'UTC') - interval '1 day'),
  (2, 'cognito-bob', 'bob@example.com', 'Bob', true, (now() AT TIME ZONE 'UTC') - interval '60 days', (now() AT TIME ZONE 'UTC') - interval '2 days');
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));

INSERT INTO api_keys (id, key_prefix, hashed_key, encrypted_key, encryption_version, user_id, name,
                      created_at, last_used_at, is_active, is_default) VALUES
  (1, 'sk-a1B2c3', encode(sha256('alice-default'), 'hex'), NULL, 1, 1, 'default', (now() AT TIME ZONE 'UTC') - interval '90 days', (now() AT TIME ZONE 'UTC'), true, true),
  (2, 'sk-d4E5f6', encode(sha256('bob-default'), 'hex'), NULL, 1, 2, 'default', (now() AT TIME ZONE 'UTC') - interval '60 days', (now() AT TIME ZONE 'UTC'), true, true),
  (3, 'sk-g7H8i9', encode(sha256('alice-revoked'), 'hex'), NULL, 1, 1, 'old laptop', (now() AT TIME ZONE 'UTC') - interval '80 days', (now() AT TIME ZONE 'UTC') - interval '30 days', false, false);
SELECT setval(pg_get_serial_sequence('api_keys', 'id'), (SELECT max(id) FROM api_keys));

-- Keys 1 and 2: ten sessions each in the last 24 hours, two hours apart, alternating two models (each
-- switch closes the old session); only the newest is active and it expires in the future.
INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
SELECT '0x' || encode(sha256(convert_to('session-' || k.id || '-' || n, 'UTF8')), 'hex'),
       k.user_id, k.id, '0x' || encode(sha256(convert_to('model-' || (n % 2), 'UTF8')), 'hex'), 'automated',
       (now() AT TIME ZONE 'UTC') - make_interval(mins => 20 + 120 * n),
       (now() AT TIME ZONE 'UTC') - make_interval(mins => 20 + 120 * n) + interval '4 hours',
       n = 0
FROM api_keys k CROSS JOIN generate_series(0, 9) AS n
WHERE k.id IN (1, 2);

-- History outside the window: key 1 three days ago, the revoked key 3 a month ago; all inactive.
INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
SELECT '0x' || encode(sha256(convert_to('session-' || k.id || '-' || n, 'UTF8')), 'hex'),
       k.user_id, k.id, '0x' || encode(sha256(convert_to('model-' || (n % 2), 'UTF8')), 'hex'), 'manual',
       (now() AT TIME ZONE 'UTC') - CASE WHEN k.id = 1 THEN interval '3 days' ELSE interval '30 days' END + make_interval(hours => n),
       (now() AT TIME ZONE 'UTC') - CASE WHEN k.id = 1 THEN interval '3 days' ELSE interval '30 days' END + make_interval(hours => n + 1),
       false
FROM api_keys k CROSS JOIN generate_series(10, 14) AS n
WHERE k.id IN (1, 3);

INSERT INTO routed_sessions (id, model_name, model_id, state, active_requests, created_at, updated_at,
                             last_used_at, expires_at, endpoint, error_reason, bid_id, provider_address)
SELECT '0x' || encode(sha256(convert_to('routed-' || r.n, 'UTF8')), 'hex'), r.model_name, '0x' || encode(sha256(convert_to('model-' || r.model_name, 'UTF8')), 'hex'), r.state, r.active_requests,
       (now() AT TIME ZONE 'UTC') - r.age, (now() AT TIME ZONE 'UTC') - r.age / 2, (now() AT TIME ZONE 'UTC') - r.age / 2, (now() AT TIME ZONE 'UTC') - r.age + interval '1 hour',
       'https://provider-' || r.bid || '.example/v1', r.error_reason, '0x' || encode(sha256(convert_to('bid-' || r.bid, 'UTF8')), 'hex'),
       '0x' || repeat(to_hex(r.bid), 40)
FROM (VALUES
  (1, 'llama-3.3-70b', 'OPEN', 0, interval '10 minutes', NULL, 1),
  (2, 'llama-3.3-70b', 'OPEN', 1, interval '20 minutes', NULL, 1),
  (3, 'qwen-2.5-72b', 'CLOSED', 0, interval '3 hours', NULL, 3),
  (4, 'qwen-2.5-72b', 'EXPIRED', 0, interval '5 hours', NULL, 4),
  (5, 'mistral-large', 'FAILED', 0, interval '2 hours', 'provider did not answer', 5)
) AS r (n, model_name, state, active_requests, age, error_reason, bid);
