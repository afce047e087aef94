/**
 * The bench's audit section: `bench/audit-bench.ts`'s `runAuditBench` on a scratch database at DATABASE_URL, its
 * "all checks" seconds read from whatever shape it returns.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditMeasure } from './goals.js';

export interface AuditSection {
  status: 'ran' | 'absent' | 'skipped' | 'failed';
  note: string;
  result?: unknown;
  measure?: AuditMeasure;
}

/** Rows of the `sessions` table the audit runs against. */
export const AUDIT_ROWS = 1_000_000;

/** Seconds for "all checks" from whatever runAuditBench returns (its shape is that module's to define). */
function auditSeconds(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as Record<string, unknown>;
  for (const key of ['medianSeconds', 'checksSeconds', 'totalSeconds', 'seconds']) {
    if (typeof r[key] === 'number') return r[key];
  }
  for (const key of ['medianMs', 'checksMs', 'totalMs', 'elapsedMs', 'durationMs']) {
    if (typeof r[key] === 'number') return (r[key] as number) / 1000;
  }
  return undefined;
}

export async function runAuditSection(options: {
  root: string;
  wanted: boolean;
  skipNote: string;
  quick: boolean;
  log: (line: string) => void;
}): Promise<AuditSection> {
  const file = join(options.root, 'bench', 'audit-bench.ts');
  if (!options.wanted) return { status: 'skipped', note: options.skipNote };
  if (!existsSync(file)) {
    return { status: 'absent', note: 'bench/audit-bench.ts not present yet: audit target not measured' };
  }
  options.log('\naudit: runAuditBench on 1,000,000 sessions rows …');
  try {
    const mod = (await import(pathToFileURL(file).href)) as {
      runAuditBench?: (opts: Record<string, unknown>) => Promise<unknown>;
    };
    if (typeof mod.runAuditBench !== 'function') {
      return { status: 'failed', note: 'bench/audit-bench.ts does not export runAuditBench' };
    }
    // Median over runs of the whole audit (connect, detect, every check) on a scratch database at DATABASE_URL.
    const result = await mod.runAuditBench({ rows: AUDIT_ROWS, runs: options.quick ? 3 : 5, log: options.log });
    const seconds = auditSeconds(result);
    const rows =
      typeof result === 'object' && result !== null && typeof (result as { rows?: unknown }).rows === 'number'
        ? ((result as { rows: number }).rows)
        : AUDIT_ROWS;
    return {
      status: 'ran',
      note: seconds === undefined ? 'runAuditBench returned no checks time the runner recognises' : 'ok',
      result,
      ...(seconds === undefined ? {} : { measure: { seconds, rows } }),
    };
  } catch (err) {
    return { status: 'failed', note: err instanceof Error ? err.message : String(err) };
  }
}
