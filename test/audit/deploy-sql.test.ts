import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { GATEWAY_SCHEMA_SQL, GATEWAY_SEED_SQL } from '../../src/audit/fixtures.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, freshDatabase } from './helpers.js';

const deployFile = (name: string): Promise<string> =>
  readFile(new URL(`../../deploy/postgres/${name}`, import.meta.url), 'utf8');

it('deploy/postgres/*.sql are the fixtures’ text (regenerate them from src/audit/fixtures.ts if this fails)', async () => {
  expect(await deployFile('01-schema.sql')).toBe(GATEWAY_SCHEMA_SQL);
  expect(await deployFile('02-seed.sql')).toBe(GATEWAY_SEED_SQL);
});

it('a database initialised from the deploy files, as docker-compose does, audits clean', async () => {
  const db = await freshDatabase();
  await db.exec(await deployFile('01-schema.sql'));
  await db.exec(await deployFile('02-seed.sql'));
  const report = await runAudit({ ...auditConfig([{ label: 'compose', url: db.url }]), tracer: createTestTracing().tracer });
  expect(report.exitCode).toBe(0);
  expect(report.databases[0]?.checks.map((c) => `${c.id}:${c.status}`)).toEqual([
    'shared_across_keys:pass',
    'active_summary:info',
    'multiple_active_per_key:pass',
    'recent_sessions:info',
    'active_key_index:pass',
    'owner_mismatch:pass',
    'active_without_key:pass',
    'stale_active:pass',
    'session_churn:pass',
    'routed_concurrent_requests:pass',
    'routed_negative_requests:pass',
    'routed_terminal_busy:pass',
    'routed_open_expired:pass',
    'routed_model_identity:pass',
    'routed_provider_identity:pass',
    'routed_provider_change:not_applicable',
  ]);
});
