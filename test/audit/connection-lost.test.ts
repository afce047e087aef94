import { expect, it } from 'vitest';
import { defineQueryCheck } from '../../src/audit/check-kit.js';
import { activeSummary } from '../../src/audit/checks-seed.js';
import { ownerMismatch, staleActive } from '../../src/audit/checks-sessions.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { ON_EMBEDDED } from '../helpers/database.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, cleanGateway } from './helpers.js';

const SKIP = 'PGlite is one in-process backend; terminating it is not a lost connection';

it.skipIf(ON_EMBEDDED)(`a database that goes away mid-run: exit 2 for it, the remaining checks not run, the other database still reported (${SKIP})`, async () => {
  const [dev, prod] = await Promise.all([cleanGateway(), cleanGateway()]);
  const prodName = new URL(prod.url).pathname.slice(1);
  // Stands in for a failover or an admin killing the session: the server ends the backend under a check.
  const goneAway = defineQueryCheck<{ ok: boolean }>({
    id: 'server_goes_away',
    title: 'the server ends the session on prod',
    proves: 'nothing',
    requires: [],
    sql: 'SELECT CASE WHEN current_database() = $1 THEN pg_terminate_backend(pg_backend_pid()) ELSE true END AS ok',
    params: () => [prodName],
    evaluate: () => ({ status: 'pass', summary: 'still here', rowsFound: 0 }),
  });
  const report = await runAudit({
    ...auditConfig([
      { label: 'dev', url: dev.url },
      { label: 'prod', url: prod.url },
    ]),
    tracer: createTestTracing().tracer,
    checks: [activeSummary, goneAway, ownerMismatch, staleActive],
  });

  const [devReport, prodReport] = report.databases;
  expect(devReport?.outcome).toBe('clean');
  expect(devReport?.checks.map((c) => c.status)).toEqual(['info', 'pass', 'pass', 'pass']);
  expect(prodReport?.outcome).toBe('error');
  expect(prodReport?.exitCode).toBe(2);
  expect(prodReport?.error).toBe(
    'connection lost during check server_goes_away: terminating connection due to administrator command',
  );
  expect(prodReport?.checks.map((c) => [c.id, c.status, c.reason])).toEqual([
    ['active_summary', 'info', undefined],
    ['server_goes_away', 'error', 'connection lost: terminating connection due to administrator command'],
    ['owner_mismatch', 'error', 'not run: connection lost: terminating connection due to administrator command'],
    ['stale_active', 'error', 'not run: connection lost: terminating connection due to administrator command'],
  ]);
  expect(report.exitCode).toBe(2);
});
