/**
 * The audit part of the demo: an embedded PostgreSQL (PGlite behind its socket server, so the audit's `pg`
 * code path is the production one) holding the gateway's schema and clean data plus one injected violation.
 */
import type { Tracer } from '@opentelemetry/api';
import pg from 'pg';
import { startEmbeddedPostgres } from '../audit/embedded-postgres.js';
import { buildCleanGateway, injectViolation, VIOLATIONS, type ViolationName } from '../audit/fixtures.js';
import type { AuditReport } from '../audit/result.js';
import { DEFAULT_AUDIT_SETTINGS } from '../audit/options.js';
import { runAudit } from '../audit/run-audit.js';

/**
 * The seed report's premise was that the partial unique index makes a second active session per key
 * impossible; this violation removes the index and adds exactly that second session.
 */
export const DEMO_VIOLATION: ViolationName = 'second_active_session';
export const DEMO_DATABASE_LABEL = 'embedded';

export interface AuditRunResult {
  violation: { name: ViolationName; description: string };
  report: AuditReport;
  /** Checks the injected violation must trip, and whether each did. */
  expected: Array<{ check: string; flagged: boolean }>;
}

export async function runDemoAudit(tracer: Tracer): Promise<AuditRunResult> {
  const server = await startEmbeddedPostgres();
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    let mustFlag: Record<string, string[]>;
    try {
      await buildCleanGateway(client);
      mustFlag = await injectViolation(client, DEMO_VIOLATION);
    } finally {
      await client.end();
    }
    const report = await runAudit({
      ...DEFAULT_AUDIT_SETTINGS,
      databases: [{ label: DEMO_DATABASE_LABEL, url: server.url }],
      tracer,
    });
    const checks = report.databases[0]?.checks ?? [];
    const expected = Object.keys(mustFlag).map((check) => ({
      check,
      flagged: checks.some((c) => c.id === check && c.status === 'violation'),
    }));
    return { violation: { name: DEMO_VIOLATION, description: VIOLATIONS[DEMO_VIOLATION].description }, report, expected };
  } finally {
    await server.close();
  }
}
