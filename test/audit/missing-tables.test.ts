import { expect, it } from 'vitest';
import { AUDIT_CHECKS } from '../../src/audit/checks.js';
import { executeAudit } from '../../src/audit/command.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway, freshDatabase } from './helpers.js';

const statuses = (checks: Array<{ id: string; status: string; reason?: string }>): string[] =>
  checks.map((c) => `${c.id}: ${c.status}${c.reason ? ` (${c.reason})` : ''}`);

const SESSIONS_CHECKS = AUDIT_CHECKS.filter((c) => c.generation === 'api_key_sessions').map((c) => c.id);
const ROUTED_CHECKS = AUDIT_CHECKS.filter((c) => c.generation === 'routed_pool').map((c) => c.id);
const ACROSS_RUNS =
  'a change of provider_address shows only across runs: give --provider-state <file> to compare with the last run';

it("today's schema (routed_sessions only): every routed check runs, the sessions checks do not apply, exit 0", async () => {
  const db = await cleanGateway(['routed_pool']);
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'prod', url: db.url }]), createTestTracing().tracer, io)).toBe(0);
  const report = await runAudit({ ...auditConfig([{ label: 'prod', url: db.url }]), tracer: createTestTracing().tracer });
  const [database] = report.databases;
  expect(database?.outcome).toBe('clean');
  expect(database?.schema?.generations).toEqual(['routed_pool']);
  expect(database?.schema?.missingTables).toEqual(['sessions']);
  const notApplicable = 'table sessions not found (this database has the newer routed_sessions pool)';
  expect(statuses(database?.checks ?? [])).toEqual([
    ...SESSIONS_CHECKS.map((id) => `${id}: not_applicable (${notApplicable})`),
    ...ROUTED_CHECKS.filter((id) => id !== 'routed_provider_change').map((id) => `${id}: pass`),
    `routed_provider_change: not_applicable (${ACROSS_RUNS})`,
  ]);
  expect(io.out()).toContain(
    `CHECK 1: Sessions shared across multiple API keys\n➖ NOT APPLICABLE: ${notApplicable}\n`,
  );
  expect(io.out()).toContain('Schema: routed_sessions (model-keyed pool)\n');
  expect(io.out()).toContain(`  PROD  ✅ clean (${ROUTED_CHECKS.length - 1} pass, ${SESSIONS_CHECKS.length + 1} not applicable)\n`);
});

it('the 2025 schema alone: every sessions check runs, the routed checks do not apply, exit 0', async () => {
  const db = await cleanGateway(['api_key_sessions']);
  const report = await runAudit({ ...auditConfig([{ label: 'dev', url: db.url }]), tracer: createTestTracing().tracer });
  expect([report.outcome, report.exitCode]).toEqual(['clean', 0]);
  expect(report.databases[0]?.schema?.generations).toEqual(['api_key_sessions']);
  const notApplicable = 'table routed_sessions not found (this database has the 2025 sessions table)';
  expect(statuses(report.databases[0]?.checks ?? []).slice(SESSIONS_CHECKS.length)).toEqual(
    ROUTED_CHECKS.map((id) => `${id}: not_applicable (${notApplicable})`),
  );
  expect(report.databases[0]?.checks.slice(0, SESSIONS_CHECKS.length).map((c) => c.status)).not.toContain('skipped');
});

it('a pool from before the 2026-07 migrations (no bid_id, provider_address): that check does not apply, still clean', async () => {
  const db = await cleanGateway(['routed_pool']);
  await db.exec('ALTER TABLE routed_sessions DROP COLUMN bid_id, DROP COLUMN provider_address');
  const report = await runAudit({ ...auditConfig([{ label: 'old', url: db.url }]), tracer: createTestTracing().tracer });
  const check = report.databases[0]?.checks.find((c) => c.id === 'routed_provider_identity');
  expect([check?.status, check?.reason]).toEqual([
    'not_applicable',
    'column routed_sessions.bid_id, routed_sessions.provider_address not in this version of the gateway schema',
  ]);
  expect(report.exitCode).toBe(0);
});

it('a sessions table without api_key_id: the checks that need it could not run, UNVERIFIED (exit 3), each named', async () => {
  const db = await cleanGateway(['api_key_sessions']);
  await db.exec('ALTER TABLE sessions DROP COLUMN api_key_id');
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'old', url: db.url }]), createTestTracing().tracer, io)).toBe(3);
  const report = await runAudit({ ...auditConfig([{ label: 'old', url: db.url }]), tracer: createTestTracing().tracer });
  const [database] = report.databases;
  expect(database?.outcome).toBe('unverified');
  expect(statuses(database?.checks ?? []).slice(0, SESSIONS_CHECKS.length)).toEqual([
    'shared_across_keys: skipped (column sessions.api_key_id not found)',
    'active_summary: skipped (column sessions.api_key_id not found)',
    'multiple_active_per_key: skipped (column sessions.api_key_id not found)',
    'recent_sessions: skipped (column sessions.api_key_id not found)',
    'active_key_index: skipped (column sessions.api_key_id not found)',
    'owner_mismatch: skipped (column sessions.api_key_id not found)',
    'active_without_key: skipped (column sessions.api_key_id not found)',
    'stale_active: skipped (column sessions.api_key_id not found)',
    'session_churn: skipped (column sessions.api_key_id not found)',
  ]);
  expect(io.out()).toContain('❔ UNVERIFIED: NOT EVERY CHECK COULD RUN');
  expect(io.out()).toContain('Exit code: 3 (unverified: a check that applies could not run)\n');
  expect(io.err()).toBe(
    `crosstalk audit: database "old" (${db.url}) 9 checks could not run: ` +
      SESSIONS_CHECKS.map((id) => `${id} (column sessions.api_key_id not found)`).join('; ') +
      '\n',
  );
});

it('a 2025 database without api_keys: the checks that join it could not run, UNVERIFIED, never green', async () => {
  const db = await cleanGateway(['api_key_sessions']);
  await db.exec('ALTER TABLE sessions DROP CONSTRAINT sessions_api_key_id_fkey; DROP TABLE api_keys');
  const report = await runAudit({ ...auditConfig([{ label: 'dev', url: db.url }]), tracer: createTestTracing().tracer });
  expect([report.outcome, report.exitCode]).toEqual(['unverified', 3]);
  expect(report.databases[0]?.error).toBe(
    '2 checks could not run: owner_mismatch (table api_keys not found); active_without_key (table api_keys not found)',
  );
});

it('a database with no gateway tables: nothing could be checked, exit 2 with one line', async () => {
  const db = await freshDatabase();
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'empty', url: db.url }]), createTestTracing().tracer, io)).toBe(2);
  expect(io.err()).toBe(
    `crosstalk audit: database "empty" (${db.url}) nothing could be checked: table sessions not found; table routed_sessions not found\n`,
  );
});
