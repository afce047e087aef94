import type { Command } from 'commander';
import { addOptions, cliFlags } from '../config/option.js';
import { startTelemetry, type Telemetry } from '../telemetry/sdk.js';
import type { ProbeResult } from './result.js';
import {
  PROBE_OPTION_SPECS,
  resolveProbeConfig,
  type ProbeConfig,
  type ProbeFlags,
} from './options.js';
import { createProgressReporter } from './progress.js';
import { renderJsonReport, renderTextReport } from './report.js';
import { runProbe } from './run-probe.js';

export interface ProbeIo {
  stdout: { write(text: string): unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function renderProbeReport(result: ProbeResult, format: ProbeConfig['format']): string {
  return format === 'json' ? renderJsonReport(result) : renderTextReport(result);
}

/** Spans only when the environment asks for them: a probe run from a laptop should not try localhost:4318. */
export function telemetryRequested(env: NodeJS.ProcessEnv): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter !== undefined && exporter !== '') return exporter.toLowerCase() !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Runs the probe with progress on stderr and the report on stdout; returns the exit code. */
export async function executeProbe(config: ProbeConfig, io: ProbeIo, signal?: AbortSignal, telemetry?: Telemetry): Promise<number> {
  const progress = config.progress
    ? createProgressReporter({
        stream: io.stderr,
        total: Number.isFinite(config.requests) ? config.requests : undefined,
        durationMs: config.durationMs,
      })
    : undefined;
  let result: ProbeResult;
  try {
    result = await runProbe(config, {
      ...(signal !== undefined && { signal }),
      ...(progress !== undefined && { onProgress: (p) => progress.update(p) }),
      ...(telemetry !== undefined && { tracer: telemetry.tracer }),
    });
  } finally {
    progress?.stop();
  }
  io.stdout.write(renderProbeReport(result, config.format));
  return result.verdict.exitCode;
}

/** `crosstalk probe`: verify the fix from the client side. */
export function registerProbeCommand(program: Command): void {
  const cmd = program
    .command('probe')
    .description(
      'Verify the fix from the client side: concurrent streaming requests that switch models rapidly per key, ' +
        "each checked with the sidecar's crosstalk rules plus a per-request nonce",
    );
  addOptions(cmd, PROBE_OPTION_SPECS);
  cmd
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .addHelpText(
      'after',
      [
        '',
        'Verdict and exit code:',
        '  0 FIX VERIFIED  every request answered, every answer echoed its own x-request-id, no crosstalk',
        '  1 CROSSTALK     an answer belongs to another request (ids, model, nonce, echo, or a sidecar incident)',
        '  3 UNVERIFIED    no crosstalk seen, but no (or not every) answer echoed its request id, or requests failed',
        '                  (in-band errors, a 200 stream carrying data: {"error":…}, are failed requests)',
        '  2               could not run: bad flag, or no request was answered',
        '',
        'Examples:',
        '  crosstalk probe --target https://gateway.example/api/v1 --api-key sk-… --api-key sk-… --model a --model b',
        '  crosstalk probe --target http://sidecar:8080 --model a --model b --session a=0x… --session b=0x… \\',
        '                  --basic-auth admin:… --sidecar-admin http://sidecar:9464',
      ].join('\n'),
    )
    .action(async () => {
      // A ConfigError reaches cli.ts, which prints it as one line and exits 2.
      const config = resolveProbeConfig(cliFlags(cmd) as ProbeFlags, process.env);
      const telemetry = telemetryRequested(process.env)
        ? startTelemetry({ serviceName: process.env.OTEL_SERVICE_NAME ?? 'crosstalk-probe' })
        : undefined;
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        process.exitCode = await executeProbe(config, { stdout: process.stdout, stderr: process.stderr }, stop.signal, telemetry);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await telemetry?.shutdown();
      }
    });
}
