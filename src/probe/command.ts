import type { Command } from 'commander';
import { startTelemetry, type Telemetry } from '../telemetry/sdk.js';
import type { ProbeResult } from './result.js';
import {
  DEFAULT_API_KEY_HEADER,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_TOKENS,
  DEFAULT_REQUESTS,
  DEFAULT_TIMEOUT_MS,
  PROBE_ENV,
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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `crosstalk probe`: verify the fix from the client side. */
export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description(
      'Verify the fix from the client side: concurrent streaming requests that switch models rapidly per key, ' +
        "each checked with the sidecar's crosstalk rules plus a per-request nonce",
    )
    .option('--target <url>', `gateway API (https://…/api/v1) or router/sidecar base URL (env ${PROBE_ENV.target})`)
    .option('--api-key <key>', `API key, repeatable; printed by prefix only (env ${PROBE_ENV.apiKeys}, comma separated)`, collect)
    .option('--model <name>', `model to request, repeatable: requests alternate between them (env ${PROBE_ENV.models})`, collect)
    .option(
      '--session <[model=]0x…>',
      `router/sidecar target: a session per model (pairs with --model in order), or several model=0x… for one per key (env ${PROBE_ENV.sessions})`,
      collect,
    )
    .option('--basic-auth <user:pass>', `router admin credentials for router/sidecar targets; never printed (env ${PROBE_ENV.basicAuth})`)
    .option('--api-key-header <name>', `router/sidecar target: header carrying the key (default ${DEFAULT_API_KEY_HEADER}; env ${PROBE_ENV.apiKeyHeader})`)
    .option('--requests <n>', `requests to send (default ${DEFAULT_REQUESTS}, or unbounded with --duration; env ${PROBE_ENV.requests})`)
    .option('--concurrency <n>', `requests in flight at once (default ${DEFAULT_CONCURRENCY}; env ${PROBE_ENV.concurrency})`)
    .option('--duration <dur>', `keep sending for this long, e.g. 30s, 5m (env ${PROBE_ENV.duration})`)
    .option('--burst <n>', `back-to-back requests per key before the next key (default min(8, concurrency/keys); env ${PROBE_ENV.burst})`)
    .option('--expect-echo', `the upstream repeats the prompt's nonce: an answer without it is crosstalk (env ${PROBE_ENV.expectEcho})`)
    .option('--format <format>', `text or json (default text; env ${PROBE_ENV.format})`)
    .option('--sidecar-admin <url>', `join the sidecar's GET /incidents to the probe's requests (env ${PROBE_ENV.sidecarAdmin})`)
    .option('--timeout <dur>', `limit per request, from sending it to its last byte (default ${DEFAULT_TIMEOUT_MS / 1000}s; env ${PROBE_ENV.timeout})`)
    .option('--max-tokens <n>', `max_tokens of each request (default ${DEFAULT_MAX_TOKENS}; env ${PROBE_ENV.maxTokens})`)
    .option('--model-alias <a=b>', `treat response model a as b, repeatable (env ${PROBE_ENV.modelAliases})`, collect)
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .addHelpText(
      'after',
      [
        '',
        'Verdict and exit code:',
        '  0 FIX VERIFIED  every request answered, every answer echoed its own x-request-id, no crosstalk',
        '  1 CROSSTALK     an answer belongs to another request (ids, model, nonce, echo, or a sidecar incident)',
        '  3 UNVERIFIED    no crosstalk seen, but no (or not every) answer echoed its request id, or requests failed',
        '  2               could not run: bad flag, or no request was answered',
        '',
        'Examples:',
        '  crosstalk probe --target https://gateway.example/api/v1 --api-key sk-… --api-key sk-… --model a --model b',
        '  crosstalk probe --target http://sidecar:8080 --model a --model b --session a=0x… --session b=0x… \\',
        '                  --basic-auth admin:… --sidecar-admin http://sidecar:9464',
      ].join('\n'),
    )
    .action(async (flags: ProbeFlags) => {
      // A ConfigError reaches cli.ts, which prints it as one line and exits 2.
      const config = resolveProbeConfig(flags, process.env);
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
