import pg from 'pg';
import { renderGrants, type GrantsForDatabase } from './grants.js';
import { maskUrl, redactUrl } from './mask-url.js';
import type { AuditConfig, DatabaseTarget } from './options.js';
import { errorMessage } from './pg-errors.js';
import type { ExitCode } from './result.js';
import { AUDIT_APPLICATION_NAME, BEGIN_SQL } from './run-audit.js';
import { detectSchema } from './schema-detect.js';

export interface GrantsIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Reads the catalogs only (one read-only transaction), as whoever runs it: run it as the tables' owner. */
async function detect(target: DatabaseTarget, config: AuditConfig): Promise<GrantsForDatabase> {
  const client = new pg.Client({
    connectionString: target.url,
    application_name: AUDIT_APPLICATION_NAME,
    connectionTimeoutMillis: config.connectTimeoutMs,
    query_timeout: config.statementTimeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(BEGIN_SQL);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
    const schema = await detectSchema(client);
    await client.query('ROLLBACK');
    return { label: target.label, url: maskUrl(target.url), database, schema };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `crosstalk audit --print-grants`: the GRANTs each database's detected schema needs, on stdout. Exit 2 (and
 * one masked stderr line) for a database that cannot be read or holds no gateway table.
 */
export async function executePrintGrants(config: AuditConfig, io: GrantsIo): Promise<ExitCode> {
  let exitCode: ExitCode = 0;
  const results = await Promise.allSettled(config.databases.map((target) => detect(target, config)));
  for (const [index, result] of results.entries()) {
    const target = config.databases[index] as DatabaseTarget;
    const where = `crosstalk audit: database "${target.label}" (${maskUrl(target.url)})`;
    if (result.status === 'rejected') {
      io.stderr.write(`${where} could not be read: ${redactUrl(errorMessage(result.reason), target.url)}\n`);
      exitCode = 2;
    } else if (result.value.schema.generations.length === 0) {
      io.stderr.write(`${where} holds no gateway table (sessions or routed_sessions): nothing to grant\n`);
      exitCode = 2;
    } else {
      io.stdout.write(renderGrants(result.value, config.grantRole));
    }
  }
  return exitCode;
}
