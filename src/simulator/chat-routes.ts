/**
 * The simulated router's inference routes (`/v1/chat/completions`, `/v1/embeddings`) and the two router bugs
 * that misdirect streams (`shared-reply`, `swap`).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { HEX32_PATTERN, type SimModel } from './catalogue.js';
import { NONCE_PATTERN, approxTokens, usageJson } from './completion-chunks.js';
import { SIM_HEADER_CHUNKS, SIM_HEADER_CHUNK_BYTES, SIM_HEADER_CHUNK_DELAY_MS, headerInt, type Faults } from './faults.js';
import { RouteError, firstHeader, readJson, sendJson, type RequestContext } from './http-json.js';
import type { SimBug } from './options.js';
import type { Prng } from './prng.js';
import { lastUserText, promptChars } from './request-body.js';
import type { SessionStore, SimSession } from './sessions.js';
import { SseSink, type SseSinkOptions } from './sse-sink.js';
import { contentOf, sleep, stall, usageOf, writeCompletion, type CompletionPlan, type StreamEnv } from './stream-writer.js';

export const HEADER_SESSION_ID = 'session_id';
export const HEADER_X_SESSION_ID = 'x-session-id';
const HEADER_MODEL_ID = 'model_id';

export interface ChatStats {
  chatCompletions: number;
  streams: number;
  misdirectedStreams: number;
  bySession: Map<string, number>;
}

export interface ChatRoutesOptions {
  sessions: SessionStore;
  models: readonly SimModel[];
  prng: Prng;
  /** Milliseconds since the epoch: `created` in every body comes from it. */
  clock: () => number;
  stats: ChatStats;
  bug: () => SimBug;
  requireSession: boolean;
  defaultChunks: number;
  defaultDelayMs: number;
  defaultChunkBytes: number;
  echoSession: boolean;
  swapPairWaitMs: number;
  failoverLines: boolean;
  idDrift: boolean;
  streamEnv: StreamEnv;
  sinkOptions: SseSinkOptions;
}

export class ChatRoutes {
  /** shared-reply: the connection whose reply callback every overlapping stream ends up using. */
  private sharedOwner: SseSink | undefined;
  /** swap: a lone stream waiting briefly for a partner to trade bodies with. */
  private swapWaiting: { sink: SseSink; pair: (partner: SseSink | undefined) => void } | undefined;

  constructor(private readonly o: ChatRoutesOptions) {}

  /** Forget bug state (a bug switch or shutdown): a waiting swap partner is released unpaired. */
  reset(): void {
    this.sharedOwner = undefined;
    this.swapWaiting?.pair(undefined);
    this.swapWaiting = undefined;
  }

  private newCompletionId = (): string => `chatcmpl-${this.o.prng.hex(24)}`;

  private countSession(session: SimSession): void {
    const { bySession } = this.o.stats;
    bySession.set(session.id, (bySession.get(session.id) ?? 0) + 1);
  }

  /** The session a request names in `session_id` (or `X-Session-ID`); the query string is ignored like the router. */
  private requestSession(headers: IncomingHttpHeaders): SimSession | undefined {
    const raw = firstHeader(headers, HEADER_SESSION_ID) ?? firstHeader(headers, HEADER_X_SESSION_ID);
    if (raw === undefined || raw === '') {
      if (this.o.requireSession) throw new RouteError(400, 'session_id header is required');
      return undefined;
    }
    if (!HEX32_PATTERN.test(raw)) throw new RouteError(400, `invalid session_id header: ${raw.slice(0, 80)}`);
    const { sessions } = this.o;
    const session = sessions.get(raw);
    if (session === undefined) throw new RouteError(404, `session not found: ${raw}`);
    const state = sessions.state(session);
    if (state === 'expired') throw new RouteError(400, 'session expired');
    if (state === 'closed') throw new RouteError(400, 'session closed');
    return session;
  }

  /** Without a session (requireSession off) the router serves a local model: `model_id`, body `model`, or the first. */
  private sessionlessModel(headers: IncomingHttpHeaders, body: Record<string, unknown>): SimModel {
    const byId = firstHeader(headers, HEADER_MODEL_ID);
    const byName = typeof body['model'] === 'string' ? body['model'] : undefined;
    const model = this.o.sessions.findModel(byId ?? byName ?? '') ?? this.o.models[0];
    if (model === undefined) throw new RouteError(500, 'no models configured');
    return model;
  }

  private setSessionHeader(res: ServerResponse, faults: Faults, session: SimSession | undefined): void {
    if (faults.wrongSession) {
      const other = this.o.sessions.list().find((s) => s !== session);
      res.setHeader(HEADER_SESSION_ID, other?.id ?? `0x${this.o.prng.hex(64)}`);
    } else if (this.o.echoSession && session !== undefined) {
      res.setHeader(HEADER_SESSION_ID, session.id);
    }
  }

  chatCompletions = async (ctx: RequestContext): Promise<void> => {
    const { req, res, faults } = ctx;
    const o = this.o;
    const body = await readJson(req);
    const session = this.requestSession(req.headers);
    const model = session?.model ?? this.sessionlessModel(req.headers, body);
    const headers = req.headers;
    const chunks = headerInt(headers[SIM_HEADER_CHUNKS], SIM_HEADER_CHUNKS, o.defaultChunks);
    const chunkBytes = headerInt(headers[SIM_HEADER_CHUNK_BYTES], SIM_HEADER_CHUNK_BYTES, o.defaultChunkBytes, 1);
    const delayMs = headerInt(headers[SIM_HEADER_CHUNK_DELAY_MS], SIM_HEADER_CHUNK_DELAY_MS, o.defaultDelayMs);
    if (session !== undefined) this.countSession(session);
    o.stats.chatCompletions++;
    this.setSessionHeader(res, faults, session);

    const plan: CompletionPlan = {
      completionId: this.newCompletionId(),
      created: Math.floor(o.clock() / 1000),
      modelJson: JSON.stringify(faults.model ?? model.name),
      extra: faults.chunkRequestId === undefined ? '' : `,"request_id":${JSON.stringify(faults.chunkRequestId)}`,
      chunks,
      chunkBytes,
      delayMs,
      nonce: NONCE_PATTERN.exec(lastUserText(body))?.[1],
      promptTokens: approxTokens(promptChars(body)),
      ...maxTokensOf(body),
      failoverSessionId: o.failoverLines || faults.failover ? `0x${o.prng.hex(64)}` : undefined,
      resetAfterChunks:
        faults.resetAfterChunks === undefined
          ? undefined
          : faults.resetAfterChunks === -1
            ? Math.floor(chunks / 2)
            : faults.resetAfterChunks,
      stallMidStreamMs: faults.stallMidStreamMs,
      nextId: o.idDrift ? this.newCompletionId : undefined,
    };
    if (body['stream'] === true) await this.streamCompletion(res, plan);
    else await this.jsonCompletion(res, plan);
  };

  private async streamCompletion(res: ServerResponse, plan: CompletionPlan): Promise<void> {
    const { stats, streamEnv, sinkOptions } = this.o;
    stats.streams++;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const own = new SseSink(res, sinkOptions);
    // One writer will fill `own`: this request's generator, or under `swap` the partner's.
    own.acquire();
    const bug = this.o.bug();

    if (bug === 'shared-reply') {
      const owner = this.sharedOwner;
      if (owner !== undefined && !owner.finished && !owner.closed) {
        // The shared callback still points at the older connection: our chunks go there; our own client
        // keeps its headers and, once our generator is done, an empty end.
        stats.misdirectedStreams++;
        owner.acquire();
        try {
          await writeCompletion(plan, owner, streamEnv);
        } finally {
          owner.release();
          own.release();
        }
        return;
      }
      this.sharedOwner = own;
      own.onFinish(() => {
        if (this.sharedOwner === own) this.sharedOwner = undefined;
      });
    } else if (bug === 'swap') {
      const partner = await this.pairForSwap(own);
      if (partner !== undefined) {
        stats.misdirectedStreams++;
        try {
          await writeCompletion(plan, partner, streamEnv);
        } finally {
          partner.release();
        }
        return;
      }
    }
    try {
      await writeCompletion(plan, own, streamEnv);
    } finally {
      own.release();
    }
  }

  private pairForSwap(own: SseSink): Promise<SseSink | undefined> {
    const waiting = this.swapWaiting;
    if (waiting !== undefined && !waiting.sink.closed) {
      this.swapWaiting = undefined;
      waiting.pair(own);
      return Promise.resolve(waiting.sink);
    }
    return new Promise((resolve) => {
      const entry = {
        sink: own,
        pair: (partner: SseSink | undefined): void => {
          clearTimeout(timer);
          resolve(partner);
        },
      };
      const timer = setTimeout(() => {
        if (this.swapWaiting === entry) this.swapWaiting = undefined;
        resolve(undefined);
      }, this.o.swapPairWaitMs);
      this.swapWaiting = entry;
    });
  }

  private async jsonCompletion(res: ServerResponse, plan: CompletionPlan): Promise<void> {
    if (plan.delayMs > 0 && plan.chunks > 0) await sleep(plan.delayMs * plan.chunks);
    const usage = usageJson(usageOf(plan));
    const text =
      `{"id":"${plan.completionId}","object":"chat.completion","created":${plan.created},"model":${plan.modelJson}` +
      `${plan.extra},"choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(contentOf(plan))}}` +
      `,"finish_reason":"stop"}],"usage":${usage},"usage_from_provider":${usage},"usage_from_consumer":${usage}}`;
    if (res.destroyed) return;
    const cut = plan.resetAfterChunks !== undefined || plan.stallMidStreamMs !== undefined;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    if (!cut) {
      res.end(text);
      return;
    }
    // Faults on a JSON answer: half the body, then the cut or the stall.
    const half = Math.floor(text.length / 2);
    res.write(text.slice(0, half));
    const sink = new SseSink(res, this.o.sinkOptions);
    if (plan.stallMidStreamMs !== undefined) await stall(sink, plan.stallMidStreamMs);
    if (sink.closed) return;
    if (plan.resetAfterChunks !== undefined) sink.reset();
    else res.end(text.slice(half));
  }

  embeddings = async (ctx: RequestContext): Promise<void> => {
    const { req, res, faults } = ctx;
    const body = await readJson(req);
    const hasSession =
      firstHeader(req.headers, HEADER_SESSION_ID) !== undefined ||
      firstHeader(req.headers, HEADER_X_SESSION_ID) !== undefined;
    const session = hasSession || this.o.requireSession ? this.requestSession(req.headers) : undefined;
    const model = session?.model ?? this.sessionlessModel(req.headers, body);
    if (session !== undefined) this.countSession(session);
    this.setSessionHeader(res, faults, session);
    const input = body['input'];
    const inputs = Array.isArray(input) ? input.map(String) : [String(input ?? '')];
    let tokens = 0;
    const data = inputs.map((text, index) => {
      tokens += approxTokens(text.length);
      // A small deterministic vector derived from the text, enough for shape checks.
      const embedding = Array.from({ length: 8 }, (_, i) => Number(Math.sin(text.length + i).toFixed(6)));
      return { object: 'embedding', index, embedding };
    });
    sendJson(res, 200, {
      object: 'list',
      data,
      model: faults.model ?? model.name,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  };
}

/** The request's completion cap (`max_completion_tokens`, else `max_tokens`), when it is a positive integer. */
function maxTokensOf(body: Record<string, unknown>): { maxTokens?: number } {
  const v = body['max_completion_tokens'] ?? body['max_tokens'];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? { maxTokens: v } : {};
}
