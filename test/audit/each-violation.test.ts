import { afterEach, expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { injectViolation, VIOLATIONS, type ViolationName } from '../../src/audit/fixtures.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

const tracing = createTestTracing();
afterEach(() => tracing.exporter.reset());

const CASES = Object.entries(VIOLATIONS).map(
  ([name, v]) => [name as ViolationName, v.description, v.severity] as const,
);

it.each(CASES)('%s (%s): a %s, exactly the expected checks flag it, naming the offending ids', async (name, _d, severity) => {
  const db = await cleanGateway();
  const expected = await injectViolation(await db.connect(), name);

  const report = await runAudit({ ...auditConfig([{ label: 'prod', url: db.url }]), tracer: tracing.tracer });
  // A violation pages (exit 1); normal operation and hygiene are reported and exit 0.
  expect(report.exitCode).toBe(severity === 'violation' ? 1 : 0);
  const [database] = report.databases;
  expect(database?.outcome).toBe(severity);
  const flagged = Object.fromEntries(
    (database?.checks ?? [])
      .filter((c) => c.status !== 'pass' && c.status !== 'info' && c.status !== 'not_applicable')
      .map((c) => [c.id, c]),
  );
  // Every other check passes: the fixture holds exactly this violation.
  expect(Object.keys(flagged).sort()).toEqual(Object.keys(expected).sort());
  for (const [checkId, ids] of Object.entries(expected)) {
    expect(flagged[checkId]?.status).toBe(severity);
    expect(flagged[checkId]?.sample.map((s) => [s.id, s.severity])).toEqual(ids.map((id) => [id, severity]));
    expect(flagged[checkId]?.rowsFound).toBe(ids.length);
    expect(flagged[checkId]?.findings[severity]).toBe(ids.length);
    const [span] = tracing.spansNamed(`audit ${checkId}`);
    expect(span?.attributes).toMatchObject({
      'crosstalk.audit.status': severity,
      'crosstalk.audit.rows_found': flagged[checkId]?.rowsFound,
    });
    // SpanStatusCode.ERROR for a detection; a warning leaves the span unset.
    expect(span?.status.code).toBe(severity === 'violation' ? 2 : 0);
  }
});

it('--strict: warnings exit 1', async () => {
  const db = await cleanGateway();
  await injectViolation(await db.connect(), 'routed_failed_holding_slot');
  const config = auditConfig([{ label: 'prod', url: db.url }], { strict: true });
  const report = await runAudit({ ...config, tracer: tracing.tracer });
  expect([report.outcome, report.exitCode]).toEqual(['warning', 1]);
});

it('the grace is a flag: with --routed-grace 0s a FAILED session holding its slot is a violation', async () => {
  const db = await cleanGateway();
  const { routed_terminal_busy: ids = [] } = await injectViolation(await db.connect(), 'routed_failed_holding_slot');
  const config = auditConfig([{ label: 'prod', url: db.url }], { routedGraceSeconds: 0 });
  const report = await runAudit({ ...config, tracer: tracing.tracer });
  const check = report.databases[0]?.checks.find((c) => c.id === 'routed_terminal_busy');
  expect([report.exitCode, check?.status, check?.sample.map((s) => s.id)]).toEqual([1, 'violation', ids]);
});

it('one check holding both: violations listed first, the warning marked, both counted', async () => {
  const db = await cleanGateway();
  const client = await db.connect();
  const { routed_terminal_busy: failed = [] } = await injectViolation(client, 'routed_failed_holding_slot');
  const { routed_terminal_busy: closed = [] } = await injectViolation(client, 'routed_closed_busy');
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'prod', url: db.url }]), tracing.tracer, io)).toBe(1);
  expect(io.out()).toContain(
    [
      'CHECK routed_terminal_busy: Terminal routed sessions still counting requests',
      '❌ 2 terminal routed sessions still counting requests: 1 violation (longer than 30 seconds) and 1 warning ' +
        '(inside the 30 seconds grace)',
      '   offending ids:',
      `   - ${closed[0]}: CLOSED since `,
    ].join('\n'),
  );
  expect(io.out()).toMatch(new RegExp(`   - ${failed[0]}: FAILED since [^\\n]+ with active_requests 1 \\(warning\\)\\n`));
  expect(io.out()).toContain('  PROD  ❌ violation: routed_terminal_busy (1 row); ⚠️ warning: routed_terminal_busy (1 row)\n');
});

it('prints the offending ids in the text report and exits 1 through the command', async () => {
  const db = await cleanGateway();
  const { owner_mismatch: ids = [] } = await injectViolation(await db.connect(), 'owner_mismatch');
  const io = captureIo();
  const exitCode = await executeAudit(auditConfig([{ label: 'prod', url: db.url }]), tracing.tracer, io);
  expect(exitCode).toBe(1);
  expect(io.err()).toBe('');
  expect(io.out()).toContain(
    [
      "CHECK owner_mismatch: Sessions whose user is not their API key's owner",
      '❌ 1 session recorded under an API key another user owns',
      '   offending ids:',
      `   - ${ids[0]}: user 2, api key 1 owned by user 1`,
    ].join('\n'),
  );
  expect(io.out()).toContain('Executive Summary\n❌ ISOLATION VIOLATION FOUND\n  PROD  ❌ violation: owner_mismatch (1 row)\n');
});

it('lists at most --sample-limit ids but counts them all', async () => {
  const db = await cleanGateway();
  const client = await db.connect();
  await client.query(`INSERT INTO sessions (id, user_id, api_key_id, model, type, created_at, expires_at, is_active)
    SELECT '0x' || lpad(to_hex(n), 64, '0'), 2, 1, 'm', 'manual', now(), now(), false FROM generate_series(1, 25) n`);
  const report = await runAudit({ ...auditConfig([{ label: 'prod', url: db.url }], { sampleLimit: 3 }), tracer: tracing.tracer });
  const check = report.databases[0]?.checks.find((c) => c.id === 'owner_mismatch');
  expect(check?.rowsFound).toBe(25);
  expect(check?.sample.map((s) => s.id)).toEqual([1, 2, 3].map((n) => `0x${n.toString(16).padStart(64, '0')}`));
});
