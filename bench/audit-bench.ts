/**
 * How long `crosstalk audit` takes on a gateway-sized database: 1,000,000 `sessions` rows by default.
 *
 *   npx tsx bench/audit-bench.ts [--rows 1000000] [--runs 5]
 *
 * Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) as an admin connection: creates a
 * scratch database, bulk-loads users, api_keys, sessions and routed_sessions with generate_series, runs
 * VACUUM (ANALYZE) (what autovacuum leaves a live database with), audits it N times, prints the median wall
 * time on stderr and the figures as JSON on stdout, and drops the scratch database. `runAuditBench` is the
 * same for bench/run.ts.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import { API_KEY_SESSIONS_SCHEMA_SQL, ROUTED_SESSIONS_SCHEMA_SQL } from '../src/audit/fixtures.js';
import { DEFAULT_AUDIT_SETTINGS } from '../src/audit/options.js';
import { runAudit } from '../src/audit/run-audit.js';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface AuditBenchOptions {
  /** Admin connection string; a scratch database is created next to it. */
  databaseUrl?: string;
  rows?: number;
  /** API keys (one user each); the newest session of every active key is active. */
  apiKeys?: number;
  routedSessions?: number;
  runs?: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface AuditBenchResult {
  name: 'audit';
  rows: number;
  apiKeys: number;
  routedSessions: number;
  runs: number;
  serverVersion: string;
  loadSeconds: number;
  /** Whole audit (connect, detect, every check, close), one per run. */
  timingsMs: number[];
  medianMs: number;
  medianSeconds: number;
  minMs: number;
  maxMs: number;
  /** Median per check across runs. */
  checkMedianMs: Record<string, number>;
  /** The audit's verdict on the generated data (0: it is clean). */
  exitCode: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function benchLoadSql(rows: number, apiKeys: number, routed: number): string {
  const inactiveFrom = Math.floor(apiKeys * 0.95) + 1;
  const now = "(now() AT TIME ZONE 'UTC')";
  return `
-- FK triggers off for the bulk load only (superuser); the data is consistent by construction.
SET session_replication_role = replica;
INSERT INTO users (id, cognito_user_id, email, name, is_active, created_at, updated_at)
SELECT u, 'cognito-' || u, 'user' || u || '@example.com', 'User ' || u, true, ${now} - interval '400 days', ${now}
FROM generate_series(1, ${apiKeys}) AS u;
-- The last 5% of keys are revoked; none of their sessions is active.
INSERT INTO api_keys (id, key_prefix, hashed_key, encrypted_key, encryption_version, user_id, name, created_at,
                      last_used_at, is_active, is_default)
SELECT k, 'sk-' || lpad(to_hex(k), 6, '0'), md5('key' || k), NULL, 1, k, 'default', ${now} - interval '400 days',
       ${now}, k < ${inactiveFrom}, true
FROM generate_series(1, ${apiKeys}) AS k;
-- Session n belongs to key n % keys + 1 and is n * 90 days / rows old: about 1.1 sessions per key in the
-- last 24 hours, none churning; session n <= keys is its key's newest and is active unless the key is revoked.
INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
SELECT '0x' || lpad(to_hex(n), 64, '0'), n % ${apiKeys} + 1, n % ${apiKeys} + 1, '0x' || lpad(to_hex(n % 8), 64, '0'),
       CASE WHEN n % 10 = 0 THEN 'manual' ELSE 'automated' END,
       ${now} - make_interval(secs => n * 7776000.0 / ${rows}),
       CASE WHEN n <= ${apiKeys} THEN ${now} + interval '1 hour'
            ELSE ${now} - make_interval(secs => n * 7776000.0 / ${rows}) + interval '1 hour' END,
       n <= ${apiKeys} AND n % ${apiKeys} + 1 < ${inactiveFrom}
FROM generate_series(1, ${rows}) AS n;
INSERT INTO routed_sessions (id, model_name, model_id, state, active_requests, created_at, updated_at,
                             last_used_at, expires_at, endpoint, error_reason, provider_address)
SELECT '0xff' || lpad(to_hex(n), 62, '0'), 'model-' || n % 8, '0x' || lpad(to_hex(n % 8), 64, '0'),
       (ARRAY['OPEN', 'CLOSED', 'EXPIRED', 'FAILED'])[CASE WHEN n <= 200 THEN 1 ELSE 2 + n % 3 END],
       CASE WHEN n <= 100 THEN 1 ELSE 0 END,
       ${now} - make_interval(mins => n), ${now}, ${now},
       CASE WHEN n <= 200 THEN ${now} + interval '1 hour'
            ELSE ${now} - make_interval(mins => n) + interval '1 hour' END,
       'https://provider.example/v1', NULL, '0x' || lpad(to_hex(n % 50), 40, '0')
FROM generate_series(1, ${routed}) AS n;
SET session_replication_role = DEFAULT;
SELECT setval(pg_get_serial_sequence('users', 'id'), ${apiKeys});
SELECT setval(pg_get_serial_sequence('api_keys', 'id'), ${apiKeys});
`;
}

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function runAuditBench(options: AuditBenchOptions = {}): Promise<AuditBenchResult> {
  const adminUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
  const rows = options.rows ?? 1_000_000;
  const apiKeys = options.apiKeys ?? 10_000;
  const routedSessions = options.routedSessions ?? 20_000;
  const runs = options.runs ?? 5;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const name = `crosstalk_audit_bench_${randomBytes(4).toString('hex')}`;
  const scratch = new URL(adminUrl);
  scratch.pathname = `/${name}`;
  await onServer(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  try {
    const loadStarted = performance.now();
    const serverVersion = await onServer(scratch.toString(), async (c) => {
      await c.query(API_KEY_SESSIONS_SCHEMA_SQL);
      await c.query(ROUTED_SESSIONS_SCHEMA_SQL);
      await c.query(benchLoadSql(rows, apiKeys, routedSessions));
      await c.query('VACUUM (ANALYZE)');
      return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '';
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    log(`loaded ${rows.toLocaleString('en')} sessions in ${loadSeconds.toFixed(1)} s`);

    const timingsMs: number[] = [];
    const perCheck = new Map<string, number[]>();
    let exitCode = 0;
    // The no-op tracer of @opentelemetry/api: the figure is the audit's SQL, not an exporter.
    const tracer = trace.getTracer('crosstalk-audit-bench');
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const databases = [{ label: 'bench', url: scratch.toString() }];
      const report = await runAudit({ ...DEFAULT_AUDIT_SETTINGS, databases, tracer });
      timingsMs.push(performance.now() - started);
      exitCode = report.exitCode;
      for (const check of report.databases[0]?.checks ?? []) {
        perCheck.set(check.id, [...(perCheck.get(check.id) ?? []), check.durationMs]);
      }
      if (report.databases[0]?.error !== undefined) throw new Error(`audit failed: ${report.databases[0].error}`);
    }
    const medianMs = median(timingsMs);
    return {
      name: 'audit',
      rows,
      apiKeys,
      routedSessions,
      runs,
      serverVersion,
      loadSeconds: Number(loadSeconds.toFixed(2)),
      timingsMs: timingsMs.map((t) => Math.round(t)),
      medianMs: Math.round(medianMs),
      medianSeconds: Number((medianMs / 1000).toFixed(3)),
      minMs: Math.round(Math.min(...timingsMs)),
      maxMs: Math.round(Math.max(...timingsMs)),
      checkMedianMs: Object.fromEntries([...perCheck].map(([id, ms]) => [id, median(ms)])),
      exitCode,
    };
  } finally {
    await onServer(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

function flag(name: string): number | undefined {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? undefined : Number(process.argv[at + 1]);
  return value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runAuditBench({ rows: flag('--rows'), runs: flag('--runs') });
  process.stderr.write(
    `audit of ${result.rows.toLocaleString('en')} sessions: median ${result.medianSeconds.toFixed(3)} s over ` +
      `${result.runs} runs (min ${result.minMs} ms, max ${result.maxMs} ms), exit code ${result.exitCode}\n`,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
