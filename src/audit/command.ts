import { writeFile } from 'node:fs/promises';
import type { Tracer } from '@opentelemetry/api';
import type { Command } from 'commander';
import { addOptions, cliFlags } from '../config/option.js';
import { startTelemetry } from '../telemetry/sdk.js';
import { renderAuditMetrics, writeFileAtomically } from './metrics-file.js';
import type { AuditReport, ExitCode } from './result.js';
import {
  AUDIT_OPTION_SPECS,
  resolveAuditConfig,
  type AuditConfig,
  type AuditFlags,
  type AuditFormat,
} from './options.js';
import { renderJsonReport } from './report-json.js';
import { renderMarkdownReport } from './report-markdown.js';
import { renderTextReport } from './report-text.js';
import { executePrintGrants } from './print-grants.js';
import { ProviderState } from './provider-state.js';
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
 * Runs the audit, writes the report to stdout or `--out`, the textfile metrics to `--metrics-file`, and one
 * stderr line per database that could not be (fully) audited. Returns the exit code: 1 when any database has
 * a violation (or, with --strict, a warning), else 2 when the audit could not run on one, else 3 when one is
 * unverified, else 0.
 */
export async function executeAudit(config: AuditConfig, tracer: Tracer, io: AuditIo): Promise<ExitCode> {
  if (config.printGrants) return executePrintGrants(config, io);
  const { providerStateFile, ...settings } = config;
  const providerState = providerStateFile === undefined ? undefined : await ProviderState.load(providerStateFile);
  const report = await runAudit({ ...settings, tracer, ...(providerState === undefined ? {} : { providerState }) });
  if (providerState !== undefined) {
    try {
      await providerState.save();
    } catch (err) {
      throw new Error(`audit: could not write --provider-state ${providerState.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  if (config.metricsFile !== undefined) {
    try {
      await writeFileAtomically(config.metricsFile, renderAuditMetrics(report, Date.now()));
    } catch (err) {
      throw new Error(`audit: could not write --metrics-file ${config.metricsFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
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

/** `crosstalk audit`: the session-isolation audit of the gateway's PostgreSQL databases. */
export function registerAuditCommand(program: Command): void {
  const cmd = program
    .command('audit')
    .description(
      "Audit the gateway's PostgreSQL databases for session-isolation violations (read-only; the seed report's " +
        'four checks plus checks that can fail)',
    );
  addOptions(cmd, AUDIT_OPTION_SPECS);
  cmd
    .option('--print-grants', 'print the GRANT statements the detected schema needs, then exit (no audit)')
    .addHelpText(
      'after',
      '\nExit codes: 0 clean (or warnings only), 1 an isolation violation found (or warnings with --strict), ' +
        '2 could not run (bad flag, unreachable database, no gateway table), 3 unverified (a check that ' +
        'applies could not run: privilege, missing table or column, timeout). A violation wins over the rest.',
    )
    .action(async () => {
      // A ConfigError from here reaches cli.ts, which prints it as one line and exits 2.
      const config = resolveAuditConfig(cliFlags(cmd) as AuditFlags, process.env);
      const telemetry = startTelemetry();
      try {
        const io = { stdout: process.stdout, stderr: process.stderr };
        process.exitCode = await executeAudit(config, telemetry.tracer, io);
      } finally {
        await telemetry.shutdown();
      }
    });
}
