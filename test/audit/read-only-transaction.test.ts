import { expect, it } from 'vitest';
import { defineQueryCheck, type AuditCheck } from '../../src/audit/check-kit.js';
import { ownerMismatch } from '../../src/audit/checks-sessions.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, cleanGateway } from './helpers.js';

interface Settings {
  read_only: string;
  isolation: string;
  statement_timeout: string;
  time_zone: string;
}

function attempt(id: string, sql: string): AuditCheck {
  return defineQueryCheck({
    id,
    title: `tries to ${id}`,
    proves: 'nothing: it must be refused',
    requires: [],
    sql,
    evaluate: () => ({ status: 'pass', summary: 'the write went through', rowsFound: 0 }),
  });
}

it('every check runs in a read-only, repeatable-read transaction with the statement_timeout set; writes are refused', async () => {
  const db = await cleanGateway();
  let seen: Settings | undefined;
  const settings = defineQueryCheck<Settings>({
    id: 'settings',
    title: 'transaction settings',
    proves: 'what the checks run under',
    requires: [],
    sql: `SELECT current_setting('transaction_read_only') AS read_only,
                 current_setting('transaction_isolation') AS isolation,
                 current_setting('statement_timeout') AS statement_timeout,
                 current_setting('TimeZone') AS time_zone`,
    evaluate(rows) {
      seen = rows[0];
      return { status: 'info', summary: 'read', rowsFound: rows.length };
    },
  });
  const checks = [
    settings,
    attempt('insert', "INSERT INTO users (cognito_user_id) VALUES ('intruder')"),
    attempt('update', 'UPDATE sessions SET is_active = false'),
    attempt('create', 'CREATE TABLE audit_was_here (id int)'),
    attempt('lock', 'SELECT id FROM sessions FOR UPDATE'),
    // Still runs after four refusals: each check has its own savepoint.
    ownerMismatch,
  ];
  const report = await runAudit({
    ...auditConfig([{ label: 'dev', url: db.url }], { statementTimeoutMs: 1234 }),
    tracer: createTestTracing().tracer,
    checks,
  });

  expect(seen).toEqual({ read_only: 'on', isolation: 'repeatable read', statement_timeout: '1234ms', time_zone: 'UTC' });
  expect(report.databases[0]?.checks.map((c) => [c.id, c.status, c.reason])).toEqual([
    ['settings', 'info', undefined],
    ['insert', 'error', 'cannot execute INSERT in a read-only transaction: the audit transaction is read-only and refused a write'],
    ['update', 'error', 'cannot execute UPDATE in a read-only transaction: the audit transaction is read-only and refused a write'],
    ['create', 'error', 'cannot execute CREATE TABLE in a read-only transaction: the audit transaction is read-only and refused a write'],
    ['lock', 'error', 'cannot execute SELECT FOR UPDATE in a read-only transaction: the audit transaction is read-only and refused a write'],
    ['owner_mismatch', 'pass', undefined],
  ]);
  // Refused checks did not run: the database is UNVERIFIED (exit 3), never "clean".
  expect([report.outcome, report.exitCode]).toEqual(['unverified', 3]);

  const client = await db.connect();
  const { rows } = await client.query<{ users: string; tables: string; inactive: string }>(
    `SELECT (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM pg_class WHERE relname = 'audit_was_here') AS tables,
            (SELECT count(*) FROM sessions WHERE is_active IS NOT TRUE) AS inactive`,
  );
  expect(rows[0]).toEqual({ users: '2', tables: '0', inactive: '28' });
});
