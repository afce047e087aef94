/**
 * Load generator, run by bench/run.ts as its own process (fork with IPC) so its CPU never counts against the
 * proxy under test. Closed loop: `concurrency` workers, each on its own keep-alive connection of an undici Pool,
 * send the next request as soon as the previous one ends. Per request it records the time to the first body
 * byte, the total time, the SSE events (`\n\n`-terminated blocks) and the bytes received.
 *
 * Two modes: a timed window (`durationSec`) after `warmupSec` of unmeasured load, or a fixed request count
 * (`requests`, e.g. one 1 GiB stream or 1,000 long streams at once) after a short warm-up of ordinary streams.
 * The driver tells the runner when the measured window opens and closes (IPC), then sends its result.
 *
 *   config: JSON in argv[2] (see DriverConfig in lib/protocol.ts)
 */
import { Pool, type Dispatcher } from 'undici';
import type { DriverConfig, DriverMessage, DriverResult, HeaderSet } from './lib/protocol.js';
import { percentile } from './lib/stats.js';

const LF = 0x0a;
/** Requests of the fixed-count warm-up: the ordinary gateway stream, whatever the measured shape. */
const WARMUP_SHAPE = { chunks: 100, chunkBytes: 60, chunkDelayMs: 0 } as const;
const MAX_ERROR_SAMPLES = 5;
const ERROR_BODY_BYTES = 300;
/** A run that has not finished this long after it should have is broken, not slow. */
const HARD_TIMEOUT_GRACE_MS = 180_000;

interface Shape {
  chunks: number;
  chunkBytes: number;
  chunkDelayMs: number;
}

interface Outcome {
  startedAt: number;
  endedAt: number;
  status: number;
  error: string | undefined;
  ttfcMs: number;
  totalMs: number;
  events: number;
  bytes: number;
}

function send(message: DriverMessage): void {
  if (process.connected) process.send?.(message);
}

const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
const url = new URL(config.origin);
const poolSize = Math.max(config.concurrency, config.warmupConcurrency ?? 0);
const pool = new Pool(url.origin, {
  connections: poolSize,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});

const body = JSON.stringify({
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Write a short paragraph about the sea.' },
  ],
  stream: config.stream,
  temperature: 0.7,
});

/** Every request issued (warm-up, window and drain), to compare with the spans the sidecar exported. */
let sequence = 0;

function headersFor(set: HeaderSet, shape: Shape): Record<string, string> {
  return {
    ...set,
    accept: config.stream ? 'text/event-stream' : 'application/json',
    'x-request-id': `${config.requestIdPrefix}-${(sequence++).toString(36)}`,
    'x-sim-chunks': String(shape.chunks),
    'x-sim-chunk-bytes': String(shape.chunkBytes),
    'x-sim-chunk-delay-ms': String(shape.chunkDelayMs),
  };
}

/** One request, resolved (never rejected) with what happened. */
function oneRequest(set: HeaderSet, shape: Shape): Promise<Outcome> {
  return new Promise((resolve) => {
    const start = performance.now();
    const outcome: Outcome = {
      startedAt: start,
      endedAt: 0,
      status: 0,
      error: undefined,
      ttfcMs: -1,
      totalMs: 0,
      events: 0,
      bytes: 0,
    };
    let lastWasLf = false;
    let errorBody = '';
    const onData = (chunk: Buffer): boolean => {
      if (outcome.ttfcMs < 0) outcome.ttfcMs = performance.now() - start;
      outcome.bytes += chunk.length;
      if (outcome.status !== 200 && errorBody.length < ERROR_BODY_BYTES) {
        errorBody += chunk.toString('utf8', 0, Math.min(chunk.length, ERROR_BODY_BYTES));
      }
      // An event ends at a blank line; count LF LF pairs, including one split across two reads.
      if (lastWasLf && chunk[0] === LF) outcome.events++;
      let at = chunk.indexOf('\n\n');
      while (at !== -1) {
        outcome.events++;
        at = chunk.indexOf('\n\n', at + 2);
      }
      lastWasLf = chunk[chunk.length - 1] === LF;
      return true;
    };
    // undici's classic handler shape: Pool.dispatch in undici 7 still asserts onConnect/onHeaders/onData.
    const handler: Dispatcher.DispatchHandler = {
      onConnect() {},
      onHeaders(statusCode) {
        outcome.status = statusCode;
        return true;
      },
      onData,
      onComplete() {
        outcome.endedAt = performance.now();
        outcome.totalMs = outcome.endedAt - start;
        if (outcome.status !== 200) outcome.error = `status ${outcome.status}: ${errorBody.slice(0, ERROR_BODY_BYTES)}`;
        resolve(outcome);
      },
      onError(err) {
        outcome.endedAt = performance.now();
        outcome.totalMs = outcome.endedAt - start;
        outcome.error = `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}`;
        resolve(outcome);
      },
    };
    pool.dispatch(
      { origin: url.origin, path: config.path, method: 'POST', headers: headersFor(set, shape), body },
      handler,
    );
  });
}

/**
 * Turns the outcomes seen around a window [from, to] into a result. Throughput counts each request by the share
 * of its lifetime inside the window (Σ overlap/duration ÷ window): a closed loop's requests start in waves, and
 * counting whole completions would swing by a wave (1/5 of the total at 5 ms × 100 chunks in a 3 s window).
 * Latency percentiles use the requests that completed inside the window.
 */
function summarise(
  outcomes: readonly Outcome[],
  from: number,
  to: number,
  expectedEvents: number | undefined,
): DriverResult {
  const windowMs = to - from;
  let completed = 0;
  let ok = 0;
  let errors = 0;
  let incomplete = 0;
  let share = 0;
  let events = 0;
  let bytes = 0;
  const errorSamples: string[] = [];
  const ttfc: number[] = [];
  const total: number[] = [];
  for (const o of outcomes) {
    const overlap = Math.min(o.endedAt, to) - Math.max(o.startedAt, from);
    if (overlap <= 0) continue;
    const fraction = overlap / (o.endedAt - o.startedAt);
    share += fraction;
    events += o.events * fraction;
    bytes += o.bytes * fraction;
    const inWindow = o.endedAt >= from && o.endedAt <= to;
    if (o.error !== undefined) {
      errors++;
      if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(o.error);
      continue;
    }
    if (expectedEvents !== undefined && o.events < expectedEvents) {
      incomplete++;
      if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(`incomplete: ${o.events} of ${expectedEvents} events`);
    } else {
      ok++;
    }
    if (inWindow) {
      completed++;
      ttfc.push(o.ttfcMs);
      total.push(o.totalMs);
    }
  }
  const windowSec = windowMs / 1000;
  const ttfcSorted = Float64Array.from(ttfc).sort();
  const totalSorted = Float64Array.from(total).sort();
  return {
    sent: 0,
    completed,
    ok,
    errors,
    incomplete,
    errorSamples,
    windowSec,
    requests: share,
    requestsPerSec: share / windowSec,
    chunksPerSec: config.stream ? events / windowSec : 0,
    bytesPerSec: bytes / windowSec,
    bytes,
    ttfcP50: percentile(ttfcSorted, 0.5),
    ttfcP99: percentile(ttfcSorted, 0.99),
    totalP50: percentile(totalSorted, 0.5),
    totalP99: percentile(totalSorted, 0.99),
  };
}

const measuredShape: Shape = {
  chunks: config.chunks,
  chunkBytes: config.chunkBytes,
  chunkDelayMs: config.chunkDelayMs,
};
// The simulator ends a stream with a final usage chunk and `data: [DONE]`.
const expectedEvents = config.stream ? config.chunks + 2 : undefined;

function setFor(worker: number): HeaderSet {
  return config.headerSets[worker % config.headerSets.length] ?? {};
}

/**
 * Closed-loop load while `keepGoing()` holds; `onDone` sees every completion and decides whether it counts.
 * Worker w starts after w/concurrency of `rampMs`: with paced streams every request lasts about as long as the
 * next, so workers started together would stay in lock-step and every request would start in a burst of
 * `concurrency` — a queue at each proxy's door that a gateway's independent callers do not form.
 */
async function closedLoop(
  concurrency: number,
  shape: Shape,
  keepGoing: () => boolean,
  onDone: (o: Outcome) => void,
  rampMs = 0,
): Promise<void> {
  const workers: Promise<void>[] = [];
  for (let w = 0; w < concurrency; w++) {
    const set = setFor(w);
    const delay = (w * rampMs) / concurrency;
    workers.push(
      (async () => {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        while (keepGoing()) onDone(await oneRequest(set, shape));
      })(),
    );
  }
  await Promise.all(workers);
}

async function timedRun(): Promise<DriverResult> {
  let phase: 'warmup' | 'measure' | 'drain' = config.warmupSec > 0 ? 'warmup' : 'measure';
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  const outcomes: Outcome[] = [];
  const openWindow = (): void => {
    phase = 'measure';
    windowStart = performance.now();
    send({ type: 'window-open' });
    setTimeout(() => {
      windowEnd = performance.now();
      phase = 'drain';
      send({ type: 'window-close' });
    }, config.durationSec * 1000);
  };
  if (phase === 'warmup') setTimeout(openWindow, config.warmupSec * 1000);
  else openWindow();
  // Spread the workers over one paced request (never longer than half the warm-up, so the window sees them all).
  const rampMs = Math.min((config.warmupSec * 1000) / 2, config.chunks * config.chunkDelayMs);
  await closedLoop(
    config.concurrency,
    measuredShape,
    () => phase !== 'drain',
    (o) => {
      // Requests still in flight when the window opens or closes count for their share inside it.
      if (o.endedAt > windowStart) outcomes.push(o);
    },
    rampMs,
  );
  return summarise(outcomes, windowStart, windowEnd, expectedEvents);
}

async function fixedCountRun(requests: number): Promise<DriverResult> {
  if (config.warmupSec > 0) {
    const until = performance.now() + config.warmupSec * 1000;
    await closedLoop(
      Math.max(1, config.warmupConcurrency ?? 1),
      WARMUP_SHAPE,
      () => performance.now() < until,
      () => undefined,
    );
  }
  const outcomes: Outcome[] = [];
  const windowStart = performance.now();
  send({ type: 'window-open' });
  let next = 0;
  await closedLoop(
    Math.min(config.concurrency, requests),
    measuredShape,
    () => next++ < requests,
    (o) => outcomes.push(o),
  );
  const windowEnd = performance.now();
  send({ type: 'window-close' });
  return summarise(outcomes, windowStart, windowEnd, expectedEvents);
}

async function main(): Promise<void> {
  const planned = config.requests === undefined ? config.warmupSec + config.durationSec : config.warmupSec + 600;
  const hardTimeout = setTimeout(() => {
    send({ type: 'fatal', message: `driver did not finish within ${planned}s + grace` });
    process.exit(2);
  }, planned * 1000 + HARD_TIMEOUT_GRACE_MS);
  hardTimeout.unref();
  const result = config.requests === undefined ? await timedRun() : await fixedCountRun(config.requests);
  send({ type: 'result', result: { ...result, sent: sequence } });
  await pool.close();
  process.disconnect?.();
}

main().catch((err: unknown) => {
  send({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  // Timers and sockets of the broken run must not keep the process alive.
  setTimeout(() => process.exit(1), 100);
});
