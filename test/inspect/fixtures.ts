/**
 * Realistic router streams for the inspector tests (see /work/shared/CONTEXT.md "Router → gateway response").
 */
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SseParser, type SseEvent } from '../../src/inspect/sse-parser.js';

/** Deterministic PRNG (mulberry32) so a failing random chunking can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hex(rand: () => number, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

export function sessionId(rand: () => number): string {
  return `0x${hex(rand, 64)}`;
}

export function completionId(rand: () => number): string {
  return `chatcmpl-${hex(rand, 24)}`;
}

export interface ChunkOptions {
  id: string;
  model: string;
  content?: string;
  finish?: string | null;
  created?: number;
}

export function chunkJson(o: ChunkOptions): string {
  return JSON.stringify({
    id: o.id,
    object: 'chat.completion.chunk',
    created: o.created ?? 1_764_000_000,
    model: o.model,
    choices: [{ index: 0, delta: o.content === undefined ? {} : { content: o.content }, finish_reason: o.finish ?? null }],
  });
}

export function usageChunkJson(id: string, model: string, prompt: number, completion: number): string {
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  return JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 1_764_000_000,
    model,
    choices: [],
    usage: null,
    usage_from_provider: usage,
    usage_from_consumer: usage,
  });
}

export interface StreamOptions {
  model: string;
  /** One id for the whole stream, or a new id on every chunk (llama.cpp style drift). */
  ids: { kind: 'stable'; id: string } | { kind: 'drift'; next: () => string };
  pieces: string[];
  usage?: { prompt: number; completion: number };
  done?: boolean;
  crlf?: boolean;
  failover?: string;
  keepAlive?: boolean;
}

/** The bytes of one SSE response as the router writes it. */
export function routerStream(o: StreamOptions): string {
  const nl = o.crlf === true ? '\r\n' : '\n';
  const idFor = (): string => (o.ids.kind === 'stable' ? o.ids.id : o.ids.next());
  const events: string[] = [];
  if (o.keepAlive === true) events.push(`: ping${nl}${nl}`);
  if (o.failover !== undefined) {
    events.push(`data: provider failed, failover enabled${nl}${nl}`);
    events.push(`data: new session opened: ${o.failover}${nl}${nl}`);
  }
  o.pieces.forEach((content, i) => {
    events.push(`data: ${chunkJson({ id: idFor(), model: o.model, content })}${nl}${nl}`);
    if (o.keepAlive === true && i === 1) events.push(`:${nl}${nl}`);
  });
  events.push(`data: ${chunkJson({ id: idFor(), model: o.model, finish: 'stop' })}${nl}${nl}`);
  if (o.usage !== undefined) {
    events.push(`data: ${usageChunkJson(idFor(), o.model, o.usage.prompt, o.usage.completion)}${nl}${nl}`);
  }
  if (o.done !== false) events.push(`data: [DONE]${nl}${nl}`);
  return events.join('');
}

/** Splits `buf` at random points into chunks of 1..maxLen bytes. */
export function randomChunks(buf: Buffer, rand: () => number, maxLen = 64): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const n = 1 + Math.floor(rand() * maxLen);
    out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** Parses `chunks` and returns the events without their chunk-relative `endOffset`. */
export function parseAll(chunks: Buffer[], maxEventBytes = 64 * 1024): Omit<SseEvent, 'endOffset'>[] {
  const events: Omit<SseEvent, 'endOffset'>[] = [];
  const parser = new SseParser({
    maxEventBytes,
    onEvent: ({ endOffset: _endOffset, ...rest }) => events.push(rest),
  });
  for (const c of chunks) parser.write(c);
  parser.end();
  return events;
}

export const MODEL_LLAMA = 'meta-llama/Llama-3.3-70B-Instruct';
export const MODEL_QWEN = 'Qwen/Qwen2.5-Coder-32B-Instruct';

export const CONTENT_PIECES = ['Hel', 'lo', ', wor', 'ld — ', 'héllo ', '世界', ' 🙂', '!'];

/** An SSE parser feeding `inspector`, as the proxy's flag mode does. */
export function feeder(inspector: { onEvent: (e: SseEvent) => void }, maxEventBytes = 64 * 1024): SseParser {
  return new SseParser({ maxEventBytes, onEvent: (e) => inspector.onEvent(e) });
}

export function sse(...payloads: string[]): Buffer {
  return Buffer.from(payloads.map((p) => `data: ${p}\n\n`).join(''), 'utf8');
}

/** Pushes `chunks` through `stream` and collects what comes out, chunk by chunk. */
export async function runThrough(stream: Transform, chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return out;
}
