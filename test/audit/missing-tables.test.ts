import { expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway, freshDatabase } from './helpers.js';

const statuses = (checks: Array<{ id: string; status: string; reason?: string }>): string[] =>
  checks.map((c) => `${c.id}: ${c.status}${c.reason ? ` (${c.reason})` : ''}`);

it('the newer routed_sessions pool alone: sessions checks skipped with the reason, routed_pool runs, exit 0', async () => {
  const db = await cleanGateway(['routed_pool']);
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'prod', url: db.url }]), createTestTracing().tracer, io)).toBe(0);
  const report = await runAudit({ ...auditConfig([{ label: 'prod', url: db.url }]), tracer: createTestTracing().tracer });
  const [database] = report.databases;
  expect(database?.schema?.generations).toEqual(['routed_pool']);
  expect(database?.schema?.missingTables).toEqual(['users', 'api_keys', 'sessions']);
  const skipped = 'table sessions not found (this database has the newer routed_sessions pool)';
  expect(statuses(database?.checks ?? [])).toEqual([
    `shared_across_keys: skipped (${skipped})`,
    `active_summary: skipped (${skipped})`,
    `multiple_active_per_key: skipped (${skipped})`,
    `recent_sessions: skipped (${skipped})`,
    `active_key_index: skipped (${skipped})`,
    `owner_mismatch: skipped (${skipped})`,
    `active_without_key: skipped (${skipped})`,
    `stale_active: skipped (${skipped})`,
    `session_churn: skipped (${skipped})`,
    'routed_pool: pass',
  ]);
  expect(io.out()).toContain(
    `CHECK 1: Sessions shared across multiple API keys\n➖ SKIPPED: ${skipped}\n\nCHECK 2: Active sessions summary\n➖ SKIPPED: ${skipped}\n`,
  );
  expect(io.out()).toContain('Schema: routed_sessions (model-keyed pool)\n');
  expect(io.out()).toContain('  PROD  ✅ clean (1 pass, 9 skipped)\n');
});

it('the 2025 generation alone: routed_pool skipped, everything else runs, exit 0', async () => {
  const db = await cleanGateway(['api_key_sessions']);
  const report = await runAudit({ ...auditConfig([{ label: 'dev', url: db.url }]), tracer: createTestTracing().tracer });
  expect(report.exitCode).toBe(0);
  expect(report.databases[0]?.schema?.generations).toEqual(['api_key_sessions']);
  expect(statuses(report.databases[0]?.checks ?? []).at(-1)).toBe('routed_pool: skipped (table routed_sessions not found)');
  expect(report.databases[0]?.checks.filter((c) => c.status === 'skipped')).toHaveLength(1);
});

it('a sessions table without api_key_id: the checks that need it are skipped naming the column', async () => {
  const db = await cleanGateway();
  await db.exec('ALTER TABLE sessions DROP COLUMN api_key_id');
  const report = await runAudit({ ...auditConfig([{ label: 'old', url: db.url }]), tracer: createTestTracing().tracer });
  expect(report.exitCode).toBe(0);
  expect(report.databases[0]?.schema?.generations).toEqual(['routed_pool']);
  expect(statuses(report.databases[0]?.checks ?? [])).toEqual([
    'shared_across_keys: skipped (column sessions.api_key_id not found)',
    'active_summary: skipped (column sessions.api_key_id not found)',
    'multiple_active_per_key: skipped (column sessions.api_key_id not found)',
    'recent_sessions: skipped (column sessions.api_key_id not found)',
    'active_key_index: skipped (column sessions.api_key_id not found)',
    'owner_mismatch: skipped (column sessions.api_key_id not found)',
    'active_without_key: skipped (column sessions.api_key_id not found)',
    'stale_active: skipped (column sessions.api_key_id not found)',
    'session_churn: skipped (column sessions.api_key_id not found)',
    'routed_pool: pass',
  ]);
});

it('a database with no gateway tables: nothing could be checked, exit 2 with one line', async () => {
  const db = await freshDatabase();
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'empty', url: db.url }]), createTestTracing().tracer, io)).toBe(2);
  expect(io.err()).toBe(
    `crosstalk audit: database "empty" (${db.url}) nothing could be checked: table sessions not found; table routed_sessions not found\n`,
  );
});
