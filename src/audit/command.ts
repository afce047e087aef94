import { writeFile } from 'node:fs/promises';
import type { Tracer } from '@opentelemetry/api';
import type { Command } from 'commander';
import { startTelemetry } from '../telemetry/sdk.js';
import type { AuditReport, ExitCode } from './model.js';
import {
  AUDIT_ENV,
  DEFAULT_CHURN_MINUTES,
  DEFAULT_CHURN_SESSIONS,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_FORMAT,
  DEFAULT_SAMPLE_LIMIT,
  DEFAULT_SINCE,
  DEFAULT_STATEMENT_TIMEOUT,
  resolveAuditConfig,
  type AuditConfig,
  type AuditFlags,
  type AuditFormat,
} from './options.js';
import { renderJsonReport } from './report-json.js';
import { renderMarkdownReport } from './report-markdown.js';
import { renderTextReport } from './report-text.js';
import { databaseErrorLine, runAudit } from './run-audit.js';

const RENDERERS: Record<AuditFormat, (report: AuditReport) => string> = {
  text: renderTextReport,
  json: renderJsonReport,
  markdown: renderMarkdownReport,
};

export function renderReport(report: AuditReport, format: AuditFormat): string {
  return RENDERERS[format](report);
}

export interface AuditIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs the audit, writes the report to stdout or `--out`, and one stderr line per database that could not
 * be (fully) audited. Returns the exit code: 1 when any database has a violation, else 2 when any could not
 * be audited, else 0.
 */
export async function executeAudit(config: AuditConfig, tracer: Tracer, io: AuditIo): Promise<ExitCode> {
  const report = await runAudit({ ...config, tracer });
  const output = renderReport(report, config.format);
  if (config.out === undefined) {
    io.stdout.write(output);
  } else {
    try {
      await writeFile(config.out, output);
    } catch (err) {
      throw new Error(`audit: could not write --out ${config.out}: ${(err as Error).message}`, { cause: err });
    }
  }
  for (const database of report.databases) {
    const line = databaseErrorLine(database);
    if (line !== undefined) io.stderr.write(`${line}\n`);
  }
  return report.exitCode;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `crosstalk audit`: the session-isolation audit of the gateway's PostgreSQL databases. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      "Audit the gateway's PostgreSQL databases for session-isolation violations (read-only; the seed report's " +
        'four checks plus checks that can fail)',
    )
    .option('--db <label=url>', `database to audit, repeatable (env ${AUDIT_ENV.databases}, comma separated)`, collect)
    .option('--format <format>', `text, json or markdown (default ${DEFAULT_FORMAT}; env ${AUDIT_ENV.format})`)
    .option('--out <file>', `write the report to a file instead of stdout (env ${AUDIT_ENV.out})`)
    .option(
      '--since <duration>',
      `recent-activity window, e.g. 30m, 24h, 7d (default ${DEFAULT_SINCE}; env ${AUDIT_ENV.since})`,
    )
    .option(
      '--statement-timeout <duration>',
      `per-statement limit (default ${DEFAULT_STATEMENT_TIMEOUT}; env ${AUDIT_ENV.statementTimeout})`,
    )
    .option(
      '--connect-timeout <duration>',
      `connection limit (default ${DEFAULT_CONNECT_TIMEOUT}; env ${AUDIT_ENV.connectTimeout})`,
    )
    .option(
      '--sample-limit <n>',
      `offending ids listed per check (default ${DEFAULT_SAMPLE_LIMIT}; env ${AUDIT_ENV.sampleLimit})`,
    )
    .option(
      '--churn-sessions <n>',
      `session_churn: more than n sessions … (default ${DEFAULT_CHURN_SESSIONS}; env ${AUDIT_ENV.churnSessions})`,
    )
    .option(
      '--churn-minutes <m>',
      `… within m minutes (default ${DEFAULT_CHURN_MINUTES}; env ${AUDIT_ENV.churnMinutes})`,
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 all databases clean, 1 an isolation violation found, 2 could not run ' +
        '(bad flag, unreachable database, failed check). A violation wins over a failure elsewhere.',
    )
    .action(async (flags: AuditFlags) => {
      // A ConfigError from here reaches cli.ts, which prints it as one line and exits 2.
      const config = resolveAuditConfig(flags, process.env);
      const telemetry = startTelemetry();
      try {
        const io = { stdout: process.stdout, stderr: process.stderr };
        process.exitCode = await executeAudit(config, telemetry.tracer, io);
      } finally {
        await telemetry.shutdown();
      }
    });
}
