/**
 * Micro-benchmark of the sidecar's own work per request, without sockets: what the proxy runs for one
 * gateway-shaped streamed chat completion (session_id + Basic auth, no key, no `model`), from `onRequest` to the
 * span's end, through the real modules — the request context and its span (`startRequest` / `endRequest`), the
 * request body's facts, detection (`ProxyInspection`: judge, inspector, the flag-mode `BodyObserver` fed the chunks
 * the relay would write, the end-of-request learning and report) and the metrics.
 *
 *   npx tsx bench/request-micro.ts              (REQUEST_MICRO_REQUESTS=20000 per round; REQUEST_MICRO_ONLY=<n>)
 *
 * Three set-ups, rounds alternating, median reported: the lifecycle alone (chat inspection off, as with a
 * non-chat route), with detection, and with detection for 100-chunk streams. Spans are recorded by a real SDK
 * tracer but not exported (`bench/tracing-micro.ts` measures export). 64 requests are in flight at once, spread
 * over 64 sessions, and their chunks interleave, as at concurrency 64. CPU is the whole process's
 * (`process.cpuUsage()`: GC threads included) per request. Every answer carries its own completion id, written in
 * place into its slot's chunk buffers (a reused id is a finding, and the run fails on any finding): that write is
 * in the figures. Figures are for comparing builds on one machine, not a budget: the bench's per-request CPU also
 * holds HTTP parsing, sockets and undici.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BodyObserver } from '../src/inspect/body-observer.js';
import { parseBodyFacts } from '../src/proxy/request-body.js';
import { endRequest, headerValue, startRequest, type RequestContext } from '../src/proxy/request-context.js';
import { proxyParts } from './lib/proxy-parts.js';
import { median } from './lib/stats.js';

const REQUESTS = Number(process.env.REQUEST_MICRO_REQUESTS ?? 20_000);
const ROUNDS = 5;
const CONCURRENCY = 64;
const SESSIONS = 64;
const UPSTREAM = 'http://127.0.0.1:8082';

interface Setup {
  name: string;
  inspect: boolean;
  chunks: number;
  chunkText: string;
  /**
   * Unpaced delivery: the answer's bytes arrive in reads of this size (many events per read, one cut mid-event
   * at each read's end), as from an upstream that streams faster than the proxy reads. Undefined: one event per read.
   */
  readBytes?: number;
}

const ALL_SETUPS: Setup[] = [
  { name: 'lifecycle only (no chat inspection), 15 chunks', inspect: false, chunks: 15, chunkText: 'token' },
  { name: 'with detection, 15 chunks × 6 B', inspect: true, chunks: 15, chunkText: 'token ' },
  { name: 'with detection, 100 chunks × 60 B', inspect: true, chunks: 100, chunkText: 'x'.repeat(60) },
  { name: 'with detection, 100 chunks × 60 B, 4 KiB reads', inspect: true, chunks: 100, chunkText: 'x'.repeat(60), readBytes: 4096 },
];
/** `REQUEST_MICRO_ONLY=2` runs the second set-up alone (e.g. under --cpu-prof). */
const only = process.env.REQUEST_MICRO_ONLY;
const SETUPS = only === undefined ? ALL_SETUPS : ALL_SETUPS.filter((_, i) => String(i + 1) === only);

const session = (i: number): string => `0x${(i % SESSIONS).toString(16).padStart(64, '0')}`;

function requestHeaders(i: number): IncomingHttpHeaders {
  const s = session(i);
  return {
    host: '127.0.0.1:8080',
    'content-type': 'application/json',
    'content-length': '180',
    authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}`,
    session_id: s,
    'x-session-id': s,
    'x-request-id': `gw-${i}-0123456789abcdef`,
  };
}

const REQUEST_BODY = Buffer.from(
  JSON.stringify({
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Write a short paragraph about the sea.' },
    ],
    stream: true,
  }),
);

const ID_PREFIX = 'chatcmpl-';
const ID_HEX = 24;
const completionId = (i: number): string => `${ID_PREFIX}${i.toString(16).padStart(ID_HEX, '0')}`;

/**
 * The chunks of one answer as a provider streams them: one SSE event per chunk, a usage chunk, `[DONE]`. Each slot
 * of the 64 in flight owns one such set; {@link renumber} gives it the next request's completion id in place (every
 * answer has its own id, as from a real provider: a reused one is a finding).
 */
function answerChunks(i: number, setup: Setup): Buffer[] {
  const id = completionId(i);
  const head = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'llama-3.3-70b' };
  const out: Buffer[] = [];
  for (let c = 0; c < setup.chunks; c++) {
    const chunk = { ...head, choices: [{ index: 0, delta: { content: setup.chunkText }, finish_reason: null }] };
    out.push(Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`));
  }
  const usage = { prompt_tokens: 24, completion_tokens: setup.chunks, total_tokens: 24 + setup.chunks };
  out.push(Buffer.from(`data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage })}\n\n`));
  out.push(Buffer.from('data: [DONE]\n\n'));
  return out;
}

/** Where each chunk's completion id starts (-1: none), found once per slot. */
const idOffsets = new WeakMap<Buffer, number>();

/** Writes request `i`'s completion id over the previous one in each chunk (same length, same offset). */
function renumber(chunks: readonly Buffer[], i: number): void {
  const id = completionId(i);
  for (const chunk of chunks) {
    let at = idOffsets.get(chunk);
    if (at === undefined) idOffsets.set(chunk, (at = chunk.indexOf(ID_PREFIX)));
    if (at !== -1) chunk.write(id, at, 'latin1');
  }
}

interface Live {
  ctx: RequestContext;
  observer: BodyObserver | undefined;
  /** The slot's chunk buffers (returned to the free list at the end). */
  slot: Buffer[];
  /** What the relay hands on, read by read: the slot's chunks, or their bytes cut into `readBytes` pieces. */
  chunks: Buffer[];
  next: number;
}

/** `whole` in pieces of `size` bytes (views, no copy). */
function reads(whole: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < whole.length; at += size) out.push(whole.subarray(at, at + size));
  return out;
}
/** Completion ids are unique across the whole run (the delivered-id window outlives a round). */
let idBase = 0;

/** Runs `REQUESTS` requests, `CONCURRENCY` at a time, their chunks interleaved; returns CPU µs per request. */
function run(setup: Setup, requests: number): number {
  idBase += 1_000_000_000;
  const { deps, inspection, metrics, logger } = proxyParts(UPSTREAM);
  let findings = 0;
  const endDeps = { metrics, logger, finishInspection: (c: RequestContext) => inspection.finish(c) };
  const slots = Array.from({ length: CONCURRENCY }, (_, i) => answerChunks(i, setup));
  const free = [...slots];
  const start = process.cpuUsage();
  let started = 0;
  const live: Live[] = [];
  const begin = (): void => {
    const i = started++;
    const headers = requestHeaders(i);
    const ctx = startRequest('POST', '/v1/chat/completions', headers, deps);
    if (setup.inspect) inspection.start(ctx, headerValue(headers, 'authorization'));
    else inspection.begin(ctx);
    const facts = parseBodyFacts(REQUEST_BODY);
    if (facts.stream !== undefined) ctx.requestStream = facts.stream;
    if (facts.json !== undefined) inspection.setRequestBody(ctx, facts.json);
    ctx.upstreamStatus = 200;
    let observer: BodyObserver | undefined;
    if (ctx.inspector !== undefined) {
      inspection.onStatus(ctx, 200);
      inspection.onResponseHeaders(ctx, { 'content-type': 'text/event-stream', 'x-request-id': ctx.requestId });
      observer = new BodyObserver(ctx.inspector, 'sse', (err) => inspection.degrade(ctx, 'inspector_error', err));
    }
    const slot = free.pop() as Buffer[];
    renumber(slot, i + idBase);
    // Gathered reads cost the concatenation the relay pays for them (response-relay.ts).
    const chunks = setup.readBytes === undefined ? slot : reads(Buffer.concat(slot), setup.readBytes);
    live.push({ ctx, observer, slot, chunks, next: 0 });
  };
  while (started < Math.min(CONCURRENCY, requests)) begin();
  while (live.length > 0) {
    // One chunk for each request in flight, as 64 paced streams deliver them.
    for (let k = live.length - 1; k >= 0; k--) {
      const r = live[k] as Live;
      const chunk = r.chunks[r.next++] as Buffer;
      r.ctx.meter.write(chunk);
      r.observer?.write(chunk);
      if (r.next < r.chunks.length) continue;
      r.observer?.end();
      if (r.ctx.inspector?.hasFindings === true) findings++;
      endRequest(r.ctx, { status: 200, completed: true, shuttingDown: false }, endDeps);
      live.splice(k, 1);
      free.push(r.slot);
      if (started < requests) begin();
    }
  }
  const used = process.cpuUsage(start);
  if (findings > 0) throw new Error(`${setup.name}: ${findings} findings on honest traffic: the micro-benchmark is not measuring a clean request`);
  return (used.user + used.system) / requests;
}

function main(): void {
  // Warm-up: every set-up once, so the JIT has seen each path before the first measured round.
  for (const setup of SETUPS) run(setup, Math.min(REQUESTS, 5_000));
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < SETUPS.length; k++) {
      const setup = SETUPS[(k + round) % SETUPS.length] as Setup;
      const list = results.get(setup.name) ?? [];
      list.push(run(setup, REQUESTS));
      results.set(setup.name, list);
    }
  }
  console.log(`per-request CPU, ${REQUESTS} requests per round, ${CONCURRENCY} in flight, median of ${ROUNDS} rounds`);
  for (const setup of SETUPS) {
    const values = results.get(setup.name) as number[];
    console.log(`  ${setup.name.padEnd(48)} ${median(values).toFixed(1).padStart(7)} µs   (rounds: ${values.map((v) => v.toFixed(1)).join(', ')})`);
  }
}

main();
