import { onTestFinished } from 'vitest';
import type { AuditIo } from '../../src/audit/command.js';
import { buildCleanGateway } from '../../src/audit/fixtures.js';
import type { AuditReport, SchemaGeneration } from '../../src/audit/result.js';
import { DEFAULT_AUDIT_SETTINGS, DEFAULT_GRANT_ROLE, type AuditConfig, type DatabaseTarget } from '../../src/audit/options.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** A fresh database for this test, dropped when it finishes. */
export async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  onTestFinished(() => db.close());
  return db;
}

/** A fresh database holding the gateway schema and clean data (both generations unless told). */
export async function cleanGateway(generations?: SchemaGeneration[]): Promise<TestDatabase> {
  const db = await freshDatabase();
  const client = await db.connect();
  await buildCleanGateway(client, generations);
  return db;
}

export function auditConfig(databases: DatabaseTarget[], overrides: Partial<AuditConfig> = {}): AuditConfig {
  return {
    ...DEFAULT_AUDIT_SETTINGS,
    databases,
    format: 'text',
    out: undefined,
    metricsFile: undefined,
    providerStateFile: undefined,
    printGrants: false,
    grantRole: DEFAULT_GRANT_ROLE,
    ...overrides,
  };
}

export function captureIo(): AuditIo & { out(): string; err(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

export const FIXED_DATE = '2025-10-28T12:00:00.000Z';

/** Replaces what differs between runs (time, durations, generated database names) for whole-output asserts. */
export function normalizeReport(report: AuditReport, urls: Record<string, string> = {}): AuditReport {
  return {
    ...report,
    startedAt: FIXED_DATE,
    durationMs: 0,
    databases: report.databases.map((d) => {
      const { serverVersion: _serverVersion, ...rest } = d;
      return {
        ...rest,
        url: urls[d.label] ?? d.url,
        durationMs: 0,
        checks: d.checks.map((c) => ({ ...c, durationMs: 0 })),
      };
    }),
  };
}
