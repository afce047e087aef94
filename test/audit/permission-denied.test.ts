import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import { execOnServer, ON_EMBEDDED } from '../helpers/database.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, cleanGateway } from './helpers.js';

/** A login role (trust auth on the test server) reading the gateway with the given grants; dropped after. */
async function auditAs(grants: string): Promise<Awaited<ReturnType<typeof runAudit>>> {
  const db = await cleanGateway();
  const role = `crosstalk_audit_ro_${randomBytes(4).toString('hex')}`;
  await execOnServer(`CREATE ROLE ${role} LOGIN`);
  try {
    await db.exec(grants.replaceAll('{role}', role));
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

it.skipIf(ON_EMBEDDED)(`a role without SELECT on api_keys: the checks that read it are skipped, the others run, exit 0 (${SKIP})`, async () => {
  const report = await auditAs('GRANT SELECT ON users, sessions, routed_sessions TO {role}');
  const [database] = report.databases;
  const role = database?.url.match(/\/\/([^@]+)@/)?.[1];
  expect(report.exitCode).toBe(0);
  expect(database?.checks.map((c) => `${c.id}: ${c.status}${c.reason ? ` (${c.reason})` : ''}`)).toEqual([
    'shared_across_keys: pass',
    'active_summary: info',
    'multiple_active_per_key: pass',
    'recent_sessions: info',
    'active_key_index: pass',
    `owner_mismatch: skipped (no SELECT privilege on table api_keys for role ${role})`,
    `active_without_key: skipped (no SELECT privilege on table api_keys for role ${role})`,
    'stale_active: pass',
    'session_churn: pass',
    'routed_pool: pass',
  ]);
});

it.skipIf(ON_EMBEDDED)(`a column-level grant that leaves out api_keys.user_id: only owner_mismatch is skipped (${SKIP})`, async () => {
  const report = await auditAs(
    'GRANT SELECT ON users, sessions, routed_sessions TO {role}; GRANT SELECT (id, is_active) ON api_keys TO {role}',
  );
  const skipped = report.databases[0]?.checks.filter((c) => c.status === 'skipped');
  expect(skipped?.map((c) => c.id)).toEqual(['owner_mismatch']);
  expect(skipped?.[0]?.reason).toMatch(/^no SELECT privilege on column api_keys\.user_id for role crosstalk_audit_ro_/);
  expect(report.exitCode).toBe(0);
});
