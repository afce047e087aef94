import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { SchemaGeneration } from '../../src/audit/result.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { execOnServer, ON_EMBEDDED } from '../helpers/database.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, cleanGateway } from './helpers.js';

/** A login role (trust auth on the test server) reading the gateway with the given grants; dropped after. */
async function auditAs(grants: string, generations?: SchemaGeneration[]): Promise<Awaited<ReturnType<typeof runAudit>>> {
  const db = await cleanGateway(generations);
  const role = `crosstalk_audit_ro_${randomBytes(4).toString('hex')}`;
  await execOnServer(`CREATE ROLE ${role} LOGIN`);
  try {
    if (grants !== '') await db.exec(grants.replaceAll('{role}', role));
    const url = new URL(db.url);
    url.username = role;
    return await runAudit({ ...auditConfig([{ label: 'prod', url: url.toString() }]), tracer: createTestTracing().tracer });
  } finally {
    // The role owns nothing but grants in the test database, which goes first.
    await db.close();
    await execOnServer(`DROP ROLE ${role}`);
  }
}

const SKIP = 'PGlite has one superuser and no other roles, so a missing privilege cannot be staged';
const roleOf = (url: string | undefined): string | undefined => url?.match(/\/\/([^@]+)@/)?.[1];

it.skipIf(ON_EMBEDDED)(`2025 schema, no SELECT on sessions: UNVERIFIED (exit 3), each check not run named with why (${SKIP})`, async () => {
  const report = await auditAs('GRANT SELECT ON users, api_keys TO {role}', ['api_key_sessions']);
  const [database] = report.databases;
  const role = roleOf(database?.url);
  const why = `no SELECT privilege on table sessions for role ${role}`;
  expect([report.outcome, report.exitCode]).toEqual(['unverified', 3]);
  const notRun = database?.checks.filter((c) => c.status === 'skipped').map((c) => `${c.id} (${c.reason})`);
  expect(notRun).toEqual(
    ['shared_across_keys', 'active_summary', 'multiple_active_per_key', 'recent_sessions', 'owner_mismatch',
      'active_without_key', 'stale_active', 'session_churn'].map((id) => `${id} (${why})`),
  );
  // The catalog-only index check still ran; it does not make the database verified.
  expect(database?.checks.find((c) => c.id === 'active_key_index')?.status).toBe('pass');
  expect(database?.error).toBe(`8 checks could not run: ${notRun?.join('; ')}`);
});

it.skipIf(ON_EMBEDDED)(`2025 schema, no SELECT on api_keys: the checks that join it not run, UNVERIFIED (${SKIP})`, async () => {
  const report = await auditAs('GRANT SELECT ON users, sessions TO {role}', ['api_key_sessions']);
  const [database] = report.databases;
  const role = roleOf(database?.url);
  expect([report.outcome, report.exitCode]).toEqual(['unverified', 3]);
  expect(database?.checks.filter((c) => c.status === 'skipped').map((c) => [c.id, c.reason])).toEqual([
    ['owner_mismatch', `no SELECT privilege on table api_keys for role ${role}`],
    ['active_without_key', `no SELECT privilege on table api_keys for role ${role}`],
  ]);
});

it.skipIf(ON_EMBEDDED)(`a column-level grant that leaves out api_keys.user_id: only owner_mismatch not run, UNVERIFIED (${SKIP})`, async () => {
  const report = await auditAs(
    'GRANT SELECT ON users, sessions TO {role}; GRANT SELECT (id, is_active) ON api_keys TO {role}',
    ['api_key_sessions'],
  );
  const skipped = report.databases[0]?.checks.filter((c) => c.status === 'skipped');
  expect(skipped?.map((c) => c.id)).toEqual(['owner_mismatch']);
  expect(skipped?.[0]?.reason).toMatch(/^no SELECT privilege on column api_keys\.user_id for role crosstalk_audit_ro_/);
  expect(report.exitCode).toBe(3);
});

it.skipIf(ON_EMBEDDED)(`today's schema, no SELECT on routed_sessions: every routed check not run, UNVERIFIED, never green (${SKIP})`, async () => {
  const report = await auditAs('', ['routed_pool']);
  const [database] = report.databases;
  const role = roleOf(database?.url);
  expect([report.outcome, report.exitCode]).toEqual(['unverified', 3]);
  expect(database?.checks.filter((c) => !c.id.startsWith('routed_')).map((c) => c.status)).toEqual(Array(9).fill('not_applicable'));
  const routed = database?.checks.filter((c) => c.id.startsWith('routed_'));
  expect(routed?.map((c) => [c.status, c.reason])).toEqual(
    routed?.map(() => ['skipped', `no SELECT privilege on table routed_sessions for role ${role}`]),
  );
  expect(routed).toHaveLength(7);
});
