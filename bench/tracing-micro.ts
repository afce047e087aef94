/**
 * Micro-benchmark of what tracing costs per request: the proxy's span (same name, kind and attributes as
 * `src/proxy/server.ts` sets on a clean streamed chat completion), created, ended and exported through the real
 * telemetry set-up (`startTelemetry`, OTLP/HTTP to a receiver in its own process), against the same work with
 * `OTEL_TRACES_EXPORTER=none` (no span processor: the tracer is a no-op), and with the batches of 16 spans the
 * sidecar used to export (each export is an HTTP request with a fixed cost: the batch size sets how often it is
 * paid).
 *
 *   npx tsx bench/tracing-micro.ts            (TRACING_MICRO_SPANS=20000 spans per round)
 *
 * CPU is the whole process's (`process.cpuUsage()`: every thread, so V8's background GC and anything the
 * exporter does off the main thread count) per span, after the last span was flushed. Rounds alternate the
 * set-ups; the median of each is reported. Spans are made in bursts of 64 (one event-loop turn each), as a
 * proxy at concurrency 64 ends them.
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { DEFAULT_BSP, startTelemetry, type Telemetry } from '../src/telemetry/sdk.js';
import * as A from '../src/telemetry/attributes.js';
import { median } from './lib/stats.js';

const SPANS = Number(process.env.TRACING_MICRO_SPANS ?? 20_000);
const ROUNDS = 5;
const BURST = 64;
/** Spans per second: about what the proxy ends at concurrency 64 without chunk spacing on these machines. */
const RATE = Number(process.env.TRACING_MICRO_RATE ?? 4_000);
const SESSIONS = ['0x' + 'ab'.repeat(32), '0x' + 'cd'.repeat(32), '0x' + 'ef'.repeat(32)];

/** One request's span, attribute for attribute what the proxy records on a clean streamed completion. */
function requestSpan(tracer: Tracer, i: number): void {
  const span = tracer.startSpan('chat', {
    kind: SpanKind.SERVER,
    attributes: {
      [A.ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [A.ATTR_URL_PATH]: '/v1/chat/completions',
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: 8080,
      [A.CROSSTALK_REQUEST_ID]: `bench-${process.pid}-${i}-0123456789abcdef`,
      [A.CROSSTALK_REQUEST_ID_REJECTED]: false,
    },
  });
  span.setAttribute(A.ATTR_GEN_AI_OPERATION_NAME, A.GEN_AI_OPERATION_NAME_VALUE_CHAT);
  span.setAttribute(A.ATTR_GEN_AI_REQUEST_MODEL, 'meta-llama/Llama-3.3-70B-Instruct');
  span.setAttribute(A.CROSSTALK_INFLIGHT_API_KEY, 21);
  span.setAttribute(A.CROSSTALK_INFLIGHT_SESSION, 21);
  span.setAttribute(A.CROSSTALK_SSE_EVENTS, 102);
  span.setAttribute(A.ATTR_GEN_AI_RESPONSE_MODEL, 'meta-llama/Llama-3.3-70B-Instruct');
  span.setAttribute(A.ATTR_GEN_AI_RESPONSE_ID, `chatcmpl-${i}-7f3a9c2e`);
  span.setAttribute(A.ATTR_GEN_AI_USAGE_INPUT_TOKENS, 12);
  span.setAttribute(A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, 100);
  span.setAttribute(A.ATTR_HTTP_RESPONSE_STATUS_CODE, 200);
  span.setAttribute(A.CROSSTALK_STREAM, true);
  span.setAttribute(A.CROSSTALK_RESPONSE_BYTES, 25_812);
  span.setAttribute(A.CROSSTALK_STREAM_END_REASON, 'complete');
  span.setAttribute(A.ATTR_SESSION_ID, SESSIONS[i % 3]!);
  span.setAttribute(A.CROSSTALK_API_KEY_PREFIX, 'sk-Ab3dEf');
  span.setAttribute(A.CROSSTALK_API_KEY_FINGERPRINT, '9f86d081884c7d659a2feaa0');
  span.setAttribute(A.CROSSTALK_REQUEST_ID_ECHO, 'match');
  span.setAttribute(A.CROSSTALK_TIME_TO_FIRST_CHUNK_MS, 1.234);
  span.end();
}

async function makeSpans(tracer: Tracer, count: number): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < count; ) {
    for (const end = Math.min(count, i + BURST); i < end; i++) requestSpan(tracer, i);
    const due = started + (i / RATE) * 1000;
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
}

interface Setup {
  name: string;
  exporter: 'otlp' | 'none';
  env?: NodeJS.ProcessEnv;
}

interface ChildResult {
  usPerSpan: number;
  /** Event-loop delay while spans were made and exported (an export serialises its batch in one go): p99, max. */
  p99StallMs: number;
  maxStallMs: number;
}

/** In a fresh child process (the SDK registers process-wide globals once). */
async function measureInChild(setup: Setup, receiverUrl: string): Promise<ChildResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', setup.exporter], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    // The OTLP exporter reads its endpoint from the environment itself.
    env: { ...process.env, ...setup.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl },
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${setup.name}: child exited ${code}`);
  return JSON.parse(out) as ChildResult;
}

async function child(exporter: 'otlp' | 'none'): Promise<void> {
  const telemetry: Telemetry = startTelemetry({ exporter });
  await makeSpans(telemetry.tracer, 2_000); // warm-up
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const before = process.cpuUsage();
  await makeSpans(telemetry.tracer, SPANS);
  await telemetry.shutdown();
  const used = process.cpuUsage(before);
  delay.disable();
  const result: ChildResult = {
    usPerSpan: (used.user + used.system) / SPANS,
    p99StallMs: delay.percentile(99) / 1e6,
    maxStallMs: delay.max / 1e6,
  };
  process.stdout.write(JSON.stringify(result));
}

async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const child = fork(fileURLToPath(new URL('./lib/otlp-receiver.ts', import.meta.url)), ['0'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`OTLP receiver exited (${code})`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return { url, stop: () => child.kill('SIGTERM') };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'otlp' | 'none');
} else {
  await main();
}

async function main(): Promise<void> {
  const setups: Setup[] = [
    { name: 'no tracing (exporter none)', exporter: 'none' },
    { name: 'OTLP/HTTP, batches of 16', exporter: 'otlp', env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16' } },
  { name: `OTLP/HTTP, defaults (batches of ${DEFAULT_BSP.maxExportBatchSize})`, exporter: 'otlp' },
  ];
  const receiver = await startReceiver();
  try {
    const samples = new Map<string, ChildResult[]>(setups.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const setup of round % 2 === 0 ? setups : [...setups].reverse()) {
        samples.get(setup.name)!.push(await measureInChild(setup, receiver.url));
      }
    }
    console.log(`${SPANS} spans per round at ${RATE}/s, ${ROUNDS} rounds; medians (CPU of the whole process):`);
    console.log(`  ${'set-up'.padEnd(40)} ${'CPU µs/span'.padStart(11)} ${'over none'.padStart(9)} ${'stall p99'.padStart(10)} ${'max'.padStart(9)}`);
    const base = median(samples.get(setups[0]!.name)!.map((r) => r.usPerSpan));
    for (const setup of setups) {
      const runs = samples.get(setup.name)!;
      const cpu = median(runs.map((r) => r.usPerSpan));
      const p99 = median(runs.map((r) => r.p99StallMs));
      const max = median(runs.map((r) => r.maxStallMs));
      console.log(
        `  ${setup.name.padEnd(40)} ${cpu.toFixed(1).padStart(11)} ${`+${(cpu - base).toFixed(1)}`.padStart(9)} ${`${p99.toFixed(2)} ms`.padStart(10)} ${`${max.toFixed(2)} ms`.padStart(9)}`,
      );
    }
  } finally {
    receiver.stop();
  }
}
