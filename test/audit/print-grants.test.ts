import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import type { SchemaGeneration } from '../../src/audit/result.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { execOnServer, ON_EMBEDDED } from '../helpers/database.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

const SKIP = 'PGlite has one superuser and no other roles, so the grants cannot be applied to a fresh role';

/**
 * The operator's path: `--print-grants` as the owner, its output applied as is, then the audit as the fresh
 * role. Every check that applies must run (none skipped), and the secret columns stay unreadable.
 */
async function grantsLetTheAuditRun(generations: SchemaGeneration[]): Promise<void> {
  const db = await cleanGateway(generations);
  const role = `crosstalk_audit_${randomBytes(4).toString('hex')}`;
  const io = captureIo();
  const config = auditConfig([{ label: 'prod', url: db.url }], { printGrants: true, grantRole: role });
  expect(await executeAudit(config, createTestTracing().tracer, io)).toBe(0);
  expect(io.err()).toBe('');
  const grants = io.out();
  expect(grants).not.toMatch(/hashed_key"|encrypted_key"/);
  await execOnServer(`CREATE ROLE ${role} LOGIN`);
  try {
    await db.exec(grants);
    const url = new URL(db.url);
    url.username = role;
    const report = await runAudit({ ...auditConfig([{ label: 'prod', url: url.toString() }]), tracer: createTestTracing().tracer });
    const [database] = report.databases;
    expect(database?.checks.filter((c) => c.status === 'skipped' || c.status === 'error')).toEqual([]);
    expect([report.outcome, report.exitCode]).toEqual(['clean', 0]);
    if (generations.includes('api_key_sessions')) {
      const client = await db.connect();
      const { rows } = await client.query<{ hashed: boolean; encrypted: boolean; prefix: boolean }>(
        `SELECT has_column_privilege($1, 'api_keys', 'hashed_key', 'SELECT') AS hashed,
                has_column_privilege($1, 'api_keys', 'encrypted_key', 'SELECT') AS encrypted,
                has_column_privilege($1, 'api_keys', 'key_prefix', 'SELECT') AS prefix`,
        [role],
      );
      expect(rows[0]).toEqual({ hashed: false, encrypted: false, prefix: false });
    }
  } finally {
    await db.close();
    await execOnServer(`DROP ROLE ${role}`);
  }
}

it.skipIf(ON_EMBEDDED)(`2025 schema: the printed GRANTs let the whole audit run, secret columns never granted (${SKIP})`, async () => {
  await grantsLetTheAuditRun(['api_key_sessions']);
});

it.skipIf(ON_EMBEDDED)(`today's schema (routed_sessions only): the printed GRANTs let the whole audit run (${SKIP})`, async () => {
  await grantsLetTheAuditRun(['routed_pool']);
});

it('prints column-level GRANTs naming only the tables the detected schema has', async () => {
  const db = await cleanGateway(['routed_pool']);
  const io = captureIo();
  const config = auditConfig([{ label: 'prod', url: db.url }], { printGrants: true });
  expect(await executeAudit(config, createTestTracing().tracer, io)).toBe(0);
  const database = new URL(db.url).pathname.slice(1);
  expect(io.out()).toBe(
    [
      `-- crosstalk audit --print-grants: database "prod" (${db.url}), schema routed_pool`,
      "-- Create the role first, e.g. CREATE ROLE crosstalk_audit LOGIN PASSWORD '…'; run these as the tables' owner.",
      '-- Column-level SELECT on what the checks read; api_keys.hashed_key and api_keys.encrypted_key are never granted.',
      `GRANT CONNECT ON DATABASE "${database}" TO crosstalk_audit;`,
      'GRANT USAGE ON SCHEMA "public" TO crosstalk_audit;',
      'GRANT SELECT ("id", "model_name", "model_id", "state", "active_requests", "created_at", "updated_at", ' +
        '"last_used_at", "expires_at", "bid_id", "provider_address") ON "public"."routed_sessions" TO crosstalk_audit;',
      '',
    ].join('\n'),
  );
});

it('a database with no gateway table: nothing to grant, exit 2 with one masked line', async () => {
  const db = await cleanGateway([]);
  const io = captureIo();
  const config = auditConfig([{ label: 'empty', url: db.url }], { printGrants: true });
  expect(await executeAudit(config, createTestTracing().tracer, io)).toBe(2);
  expect([io.out(), io.err()]).toEqual([
    '',
    `crosstalk audit: database "empty" (${db.url}) holds no gateway table (sessions or routed_sessions): nothing to grant\n`,
  ]);
});
