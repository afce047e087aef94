import {
  FAILOVER_LINE,
  NEW_SESSION_LINE_PREFIX,
  PING_COMMENT,
  approxTokens,
  chunkPrefix,
  chunkSuffix,
  contentPiece,
  finalChunk,
  nonceFirstPiece,
  rawEvent,
  type Usage,
} from './completion-chunks.js';
import type { SseSink } from './sse-sink.js';

/** Everything one completion needs, fixed when the request arrives (so a swapped body keeps its own identity). */
export interface CompletionPlan {
  completionId: string;
  created: number;
  /** The model name, already JSON-encoded. */
  modelJson: string;
  /** Extra top-level fields as `,"k":v` (the `chunk-request-id` fault), or ''. */
  extra: string;
  chunks: number;
  chunkBytes: number;
  delayMs: number;
  nonce: string | undefined;
  promptTokens: number;
  /** The request's `max_tokens` / `max_completion_tokens`: a provider never reports more completion tokens. */
  maxTokens?: number;
  /** When set, the router's failover lines (naming this new session) precede the content. */
  failoverSessionId: string | undefined;
  /** Content chunks sent before the connection is cut. */
  resetAfterChunks: number | undefined;
  /** Stall (ms, Infinity = until closed) after half of the content chunks. */
  stallMidStreamMs: number | undefined;
  /** Gives every chunk after the first a fresh completion id (llama.cpp-style drift). */
  nextId: (() => string) | undefined;
}

export interface StreamEnv {
  eol: string;
  /** `: ping` first and after every N chunks; 0 never. */
  keepAlive: number;
}

export function pieceAt(plan: CompletionPlan, index: number): string {
  return index === 0 && plan.nonce !== undefined
    ? nonceFirstPiece(plan.chunkBytes, plan.nonce)
    : contentPiece(plan.chunkBytes, index);
}

export function usageOf(plan: CompletionPlan): Usage {
  const bytes = plan.chunks === 0 ? 0 : pieceAt(plan, 0).length + (plan.chunks - 1) * plan.chunkBytes;
  const completion = Math.min(plan.chunks === 0 ? 0 : approxTokens(bytes), plan.maxTokens ?? Infinity);
  return { prompt_tokens: plan.promptTokens, completion_tokens: completion, total_tokens: plan.promptTokens + completion };
}

/** The whole reply text, for the non-streaming JSON body. */
export function contentOf(plan: CompletionPlan): string {
  let text = '';
  for (let i = 0; i < plan.chunks; i++) text += pieceAt(plan, i);
  return text;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits `ms` (Infinity = forever) or until the sink's connection closes, whichever is first. */
export function stall(sink: SseSink, ms: number): Promise<void> {
  if (!Number.isFinite(ms)) return sink.whenClosed();
  return new Promise((resolve) => {
    // unref: a stalled response must not keep a test worker or a stopping CLI alive.
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void sink.whenClosed().then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Writes one completion's events into `sink` (which may belong to another request under a bug): optional
 * failover lines, the content chunks with their pacing, the final chunk with usage. `[DONE]` is the sink's job.
 */
export async function writeCompletion(plan: CompletionPlan, sink: SseSink, env: StreamEnv): Promise<void> {
  const { eol, keepAlive } = env;
  if (plan.failoverSessionId !== undefined) {
    sink.write(rawEvent(`data: ${FAILOVER_LINE}`, eol));
    sink.write(rawEvent(`data: ${NEW_SESSION_LINE_PREFIX}${plan.failoverSessionId}`, eol));
  }
  const ping = keepAlive > 0 ? rawEvent(PING_COMMENT, eol) : '';
  if (keepAlive > 0) sink.write(ping);
  const suffix = chunkSuffix(eol);
  const stallAt = plan.stallMidStreamMs === undefined ? -1 : Math.floor(plan.chunks / 2);
  const resetAt = plan.resetAfterChunks === undefined ? -1 : Math.min(plan.resetAfterChunks, plan.chunks);
  let id = plan.completionId;
  let prefix = chunkPrefix(id, plan.created, plan.modelJson, plan.extra);
  for (let i = 0; i < plan.chunks; i++) {
    if (sink.closed) return;
    if (i === resetAt) {
      sink.reset();
      return;
    }
    if (i === stallAt) {
      await stall(sink, plan.stallMidStreamMs ?? 0);
      if (sink.closed) return;
    }
    if (i > 0 && plan.nextId !== undefined) {
      id = plan.nextId();
      prefix = chunkPrefix(id, plan.created, plan.modelJson, plan.extra);
    }
    let ok = sink.write(prefix + pieceAt(plan, i) + suffix);
    if (keepAlive > 0 && (i + 1) % keepAlive === 0) ok = sink.write(ping) && ok;
    if (plan.delayMs > 0) await sleep(plan.delayMs);
    else if (!ok) await sink.drained();
  }
  if (sink.closed) return;
  if (resetAt === plan.chunks) {
    sink.reset();
    return;
  }
  if (plan.nextId !== undefined && plan.chunks > 0) id = plan.nextId();
  sink.write(finalChunk(id, plan.created, plan.modelJson, plan.extra, usageOf(plan), eol));
}
