/**
 * Micro-benchmark of the inspector's per-chunk hot path: SSE parser alone, parser + ResponseInspector (with and
 * without the fast path for repeated chunks), flag mode as shipped (the relay's chunk handed to a BodyObserver) and
 * block mode's InspectStream, against a bare PassThrough, on realistic router streams cut into ~60-byte chunks.
 *
 *   npx tsx bench/inspect-micro.ts
 *
 * Reports MB/s and the ratio to the bare pass-through (the proxy's budget is ≤1.5x a bare proxy's CPU;
 * this isolates the inspector's share of it). Last, the cost of one write to a full registry (`TtlLru` at the
 * session registries' capacity), the state every request writes at its end.
 */
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BodyObserver,
  InspectorContext,
  InspectStream,
  ResponseInspector,
  SseParser,
} from '../src/inspect/index.js';
import { DEFAULT_MAX_SESSIONS } from '../src/config/defaults.js';
import { TtlLru } from '../src/inspect/registries.js';

const RESPONSES = 400;
const TOKENS_PER_RESPONSE = 200;
/** 60 B: a token per read (paced streams); 8 KiB: many events per read (an upstream faster than the proxy). */
const CHUNK_SIZES = [60, 8192];
const ROUNDS = 5;

function chunk(id: string, content: string): string {
  return JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 1_764_000_000,
    model: 'meta-llama/Llama-3.3-70B-Instruct',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
}

function response(n: number, drift: boolean): Buffer {
  const parts: string[] = [];
  for (let t = 0; t < TOKENS_PER_RESPONSE; t++) {
    const id = drift ? `chatcmpl-${n}-${t}` : `chatcmpl-${n}`;
    parts.push(`data: ${chunk(id, ' token')}\n\n`);
  }
  parts.push('data: [DONE]\n\n');
  return Buffer.from(parts.join(''));
}

function cut(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function corpus(drift: boolean, size: number): { streams: Buffer[][]; bytes: number } {
  const streams: Buffer[][] = [];
  let bytes = 0;
  for (let n = 0; n < RESPONSES; n++) {
    const r = response(n, drift);
    bytes += r.length;
    streams.push(cut(r, size));
  }
  return { streams, bytes };
}

function time(fn: () => void): number {
  fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

async function throughStreams(streams: Buffer[][], make: (i: number) => Transform): Promise<void> {
  for (let i = 0; i < streams.length; i++) {
    await pipeline(
      Readable.from(streams[i] as Buffer[]),
      make(i),
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    );
  }
}

const mbps = (bytes: number, ms: number): string => ((bytes / 1e6) / (ms / 1e3)).toFixed(1);

async function main(): Promise<void> {
  for (const [drift, size] of [false, true].flatMap((d) => CHUNK_SIZES.map((c) => [d, c] as const))) {
    const { streams, bytes } = corpus(drift, size);
    const label = drift ? 'per-chunk id drift' : 'stable ids';
    const chunks = streams.reduce((n, s) => n + s.length, 0);
    console.log(`\n${label}: ${RESPONSES} responses, ${(bytes / 1e6).toFixed(1)} MB, ${chunks} chunks of ≤ ${size} B`);

    const parserOnly = time(() => {
      for (const s of streams) {
        const p = new SseParser({ maxEventBytes: 256 * 1024, onEvent: () => {} });
        for (const c of s) p.write(c);
        p.end();
      }
    });
    const parserInspector = time(() => {
      const ctx = new InspectorContext();
      streams.forEach((s, i) => {
        const inspector = new ResponseInspector(ctx, { requestId: `r${i}`, stream: true });
        const p = new SseParser({ maxEventBytes: 256 * 1024, onEvent: (e) => inspector.onEvent(e) });
        for (const c of s) p.write(c);
        p.end();
        inspector.finish();
      });
    });
    const parserInspectorFast = time(() => {
      const ctx = new InspectorContext();
      streams.forEach((s, i) => {
        const inspector = new ResponseInspector(ctx, { requestId: `r${i}`, stream: true });
        const p = new SseParser({ maxEventBytes: 256 * 1024, onEvent: (e) => inspector.onEvent(e), skipper: inspector });
        for (const c of s) p.write(c);
        p.end();
        inspector.finish();
      });
    });
    const bare = await timeAsync(() => throughStreams(streams, () => new PassThrough()));
    // A fresh context per run: the same corpus replayed into one context would (rightly) collide.
    // Flag mode as shipped: no stream hop; the relay hands each chunk it wrote to a BodyObserver.
    const observedRun = (): Promise<void> => {
      const ctx = new InspectorContext();
      return throughStreams(streams, (i) => {
        const inspector = new ResponseInspector(ctx, { requestId: `r${i}`, stream: true });
        const observer = new BodyObserver(inspector, 'sse', () => undefined);
        const stream = new PassThrough();
        stream.on('data', (chunk: Buffer) => observer.write(chunk));
        stream.on('end', () => {
          observer.end();
          inspector.finish();
        });
        return stream;
      });
    };
    const blockedRun = (): Promise<void> => {
      const ctx = new InspectorContext();
      return throughStreams(streams, (i) => {
        const inspector = new ResponseInspector(ctx, { requestId: `r${i}`, stream: true });
        const stream = new InspectStream({ inspector });
        stream.on('end', () => inspector.finish());
        return stream;
      });
    };
    const inspected = await timeAsync(observedRun);
    const blocked = await timeAsync(blockedRun);
    console.log(`  parser only                ${mbps(bytes, parserOnly).padStart(8)} MB/s`);
    console.log(`  parser + inspector         ${mbps(bytes, parserInspector).padStart(8)} MB/s  (every event parsed)`);
    console.log(`  parser + inspector, fast   ${mbps(bytes, parserInspectorFast).padStart(8)} MB/s  (repeats skipped from their bytes, as the proxy runs)`);
    console.log(`  PassThrough pipeline       ${mbps(bytes, bare).padStart(8)} MB/s`);
    console.log(`  flag: BodyObserver         ${mbps(bytes, inspected).padStart(8)} MB/s  (${(inspected / bare).toFixed(2)}x PassThrough time)`);
    console.log(`  block: InspectStream       ${mbps(bytes, blocked).padStart(8)} MB/s  (${(blocked / bare).toFixed(2)}x PassThrough time)`);
  }
  fullRegistryWrites();
}

/** ns per `set` of a new key into a TtlLru held at capacity (best of the rounds): nearly every write evicts. */
function fullRegistryWrites(): void {
  const writes = 200_000;
  const lru = new TtlLru<string, number>({ maxEntries: DEFAULT_MAX_SESSIONS, ttlMs: 600_000 });
  for (let i = 0; i < DEFAULT_MAX_SESSIONS; i++) lru.set(`k${i}`, i);
  const keys = Array.from({ length: writes }, (_, i) => `k${DEFAULT_MAX_SESSIONS + i}`);
  const ns = (time(() => keys.forEach((key, i) => lru.set(key, i))) * 1e6) / writes;
  console.log(`\nTtlLru at capacity (${DEFAULT_MAX_SESSIONS} entries): ${ns.toFixed(0)} ns per write that evicts`);
}

await main();
