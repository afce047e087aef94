import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SIM_AUTH, basicAuthHeader, checkBasicAuth, type SimAuth } from './basic-auth.js';
import { HEX32_PATTERN, buildCatalogue, DEFAULT_MODELS, makeSessions, type SimModel } from './catalogue.js';
import { NONCE_PATTERN, approxTokens, usageJson } from './completion-chunks.js';
import {
  SIM_HEADER_CHUNKS,
  SIM_HEADER_CHUNK_BYTES,
  SIM_HEADER_CHUNK_DELAY_MS,
  SIM_HEADER_FAULT,
  SimHeaderError,
  headerInt,
  parseFaults,
  type Faults,
} from './faults.js';
import {
  DEFAULT_RECORD_LIMIT,
  DEFAULT_SESSION_DURATION_SEC,
  DEFAULT_SIM_CHUNKS,
  DEFAULT_SIM_CHUNK_BYTES,
  DEFAULT_SIM_CHUNK_DELAY_MS,
  DEFAULT_SWAP_PAIR_WAIT_MS,
  MAX_REQUEST_BODY_BYTES,
  type ReceivedRequest,
  type SimBug,
  type SimulatedRouterOptions,
} from './options.js';
import { createPrng } from './prng.js';
import { SessionStore, type SimSession } from './sessions.js';
import { SseSink } from './sse-sink.js';
import { contentOf, sleep, stall, usageOf, writeCompletion, type CompletionPlan } from './stream-writer.js';

export interface SimulatedRouterStats {
  /** Every request received, any route, including refused ones. */
  requests: number;
  /** Responses not yet closed. */
  inFlight: number;
  /** Chat completion requests that passed auth and session checks. */
  chatCompletions: number;
  /** Of those, streamed ones. */
  streams: number;
  /** Streams whose content a bug wrote to another request's connection. */
  misdirectedStreams: number;
  /** Chat and embedding requests per session id (lower case). */
  bySession: Map<string, number>;
}

export interface SimulatedRouter {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly models: readonly SimModel[];
  readonly sessions: SessionStore;
  readonly stats: SimulatedRouterStats;
  /** The last `recordLimit` requests received, oldest first. */
  readonly requests: readonly ReceivedRequest[];
  /** The credentials in force, or undefined when auth is off. */
  readonly auth: SimAuth | undefined;
  readonly bug: SimBug;
  setBug(bug: SimBug): void;
  /** Headers a gateway sends for a chat request on `sessionId` (auth, content type, both session headers). */
  chatHeaders(sessionId: string): Record<string, string>;
  /** Calls `listener` for every request received; returns the unsubscribe function. */
  onRequest(listener: (request: ReceivedRequest) => void): () => void;
  resetStats(): void;
  close(): Promise<void>;
}

const HEADER_REQUEST_ID = 'x-request-id';
const HEADER_SESSION_ID = 'session_id';
const HEADER_X_SESSION_ID = 'x-session-id';
const HEADER_MODEL_ID = 'model_id';

/** A request refused with the router's `{"error": …}` body. */
class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  faults: Faults;
}

interface Route {
  method: 'GET' | 'POST';
  auth: boolean;
  handle(ctx: RequestContext): Promise<void> | void;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        reject(new RouteError(413, 'request body too large'));
        req.destroy();
        return;
      }
      parts.push(part);
    });
    req.once('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)));
    req.once('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RouteError(400, 'invalid JSON body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RouteError(400, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The text of the last user message (string content or text parts), for the nonce echo and token counts. */
function lastUserText(body: Record<string, unknown>): string {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message === null || typeof message !== 'object' || message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part: unknown) => (typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : ''))
        .join(' ');
    }
    return '';
  }
  return '';
}

function promptChars(body: Record<string, unknown>): number {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return 0;
  let chars = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (typeof content === 'string') chars += content.length;
  }
  return chars;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a simulated Lumerin proxy-router on plain `node:http` (see CONTEXT.md for the routes, headers and SSE
 * format it reproduces). It doubles as the "direct" baseline in benchmarks, so the streaming path only
 * concatenates pre-serialised strings.
 */
export async function startSimulatedRouter(options: SimulatedRouterOptions = {}): Promise<SimulatedRouter> {
  const host = options.host ?? '127.0.0.1';
  const auth = options.auth === false ? undefined : (options.auth ?? DEFAULT_SIM_AUTH);
  const expectedAuth = auth === undefined ? '' : basicAuthHeader(auth);
  const clock = options.clock ?? Date.now;
  const prng = createPrng(options.seed);
  const models = options.models === undefined ? [...DEFAULT_MODELS] : buildCatalogue(options.models);
  const sessions = new SessionStore(models, prng, clock, options.sessionDurationSec ?? DEFAULT_SESSION_DURATION_SEC);
  for (const spec of options.sessions ?? makeSessions(1, models)) sessions.add(spec);

  const requireSession = options.requireSession ?? true;
  const defaultChunks = options.chunks ?? DEFAULT_SIM_CHUNKS;
  const defaultDelayMs = options.chunkDelayMs ?? DEFAULT_SIM_CHUNK_DELAY_MS;
  const defaultChunkBytes = options.chunkBytes ?? DEFAULT_SIM_CHUNK_BYTES;
  const echoRequestId = options.echoRequestId ?? true;
  const echoSession = options.echoSession ?? false;
  const swapPairWaitMs = options.swapPairWaitMs ?? DEFAULT_SWAP_PAIR_WAIT_MS;
  const recordLimit = options.recordLimit ?? DEFAULT_RECORD_LIMIT;
  const streamEnv = { eol: options.crlf === true ? '\r\n' : '\n', keepAlive: options.keepAlive ?? 0 };
  const sinkOptions = {
    eol: streamEnv.eol,
    omitDone: options.omitDone ?? false,
    // Its own PRNG stream, so turning random chunking on changes where writes split, never the bytes.
    randomChunking:
      options.randomChunking === true
        ? createPrng(options.seed === undefined ? undefined : `${options.seed}/chunking`)
        : undefined,
  };
  let bug: SimBug = options.bug ?? 'none';

  const stats: SimulatedRouterStats = {
    requests: 0,
    inFlight: 0,
    chatCompletions: 0,
    streams: 0,
    misdirectedStreams: 0,
    bySession: new Map(),
  };
  const requests: ReceivedRequest[] = [];
  const listeners = new Set<(request: ReceivedRequest) => void>();
  if (options.onRequest !== undefined) listeners.add(options.onRequest);

  // --- bug state ---
  /** shared-reply: the connection whose reply callback every overlapping stream ends up using. */
  let sharedOwner: SseSink | undefined;
  /** swap: a lone stream waiting briefly for a partner to trade bodies with. */
  let swapWaiting: { sink: SseSink; pair: (partner: SseSink | undefined) => void } | undefined;

  function newCompletionId(): string {
    return `chatcmpl-${prng.hex(24)}`;
  }

  function countSession(session: SimSession): void {
    stats.bySession.set(session.id, (stats.bySession.get(session.id) ?? 0) + 1);
  }

  /** The session a request names in `session_id` (or `X-Session-ID`); the query string is ignored like the router. */
  function requestSession(headers: IncomingHttpHeaders): SimSession | undefined {
    const raw = firstHeader(headers, HEADER_SESSION_ID) ?? firstHeader(headers, HEADER_X_SESSION_ID);
    if (raw === undefined || raw === '') {
      if (requireSession) throw new RouteError(400, 'session_id header is required');
      return undefined;
    }
    if (!HEX32_PATTERN.test(raw)) throw new RouteError(400, `invalid session_id header: ${raw.slice(0, 80)}`);
    const session = sessions.get(raw);
    if (session === undefined) throw new RouteError(404, `session not found: ${raw}`);
    const state = sessions.state(session);
    if (state === 'expired') throw new RouteError(400, 'session expired');
    if (state === 'closed') throw new RouteError(400, 'session closed');
    return session;
  }

  /** Without a session (requireSession off) the router serves a local model: `model_id`, body `model`, or the first. */
  function sessionlessModel(headers: IncomingHttpHeaders, body: Record<string, unknown>): SimModel {
    const byId = firstHeader(headers, HEADER_MODEL_ID);
    const byName = typeof body['model'] === 'string' ? body['model'] : undefined;
    const model = sessions.findModel(byId ?? byName ?? '') ?? models[0];
    if (model === undefined) throw new RouteError(500, 'no models configured');
    return model;
  }

  function setSessionHeader(res: ServerResponse, faults: Faults, session: SimSession | undefined): void {
    if (faults.wrongSession) {
      const other = sessions.list().find((s) => s !== session);
      res.setHeader(HEADER_SESSION_ID, other?.id ?? `0x${prng.hex(64)}`);
    } else if (echoSession && session !== undefined) {
      res.setHeader(HEADER_SESSION_ID, session.id);
    }
  }

  async function chatCompletions(ctx: RequestContext): Promise<void> {
    const { req, res, faults } = ctx;
    const body = await readJson(req);
    const session = requestSession(req.headers);
    const model = session?.model ?? sessionlessModel(req.headers, body);
    const headers = req.headers;
    const chunks = headerInt(headers[SIM_HEADER_CHUNKS], SIM_HEADER_CHUNKS, defaultChunks);
    const chunkBytes = headerInt(headers[SIM_HEADER_CHUNK_BYTES], SIM_HEADER_CHUNK_BYTES, defaultChunkBytes, 1);
    const delayMs = headerInt(headers[SIM_HEADER_CHUNK_DELAY_MS], SIM_HEADER_CHUNK_DELAY_MS, defaultDelayMs);
    if (session !== undefined) countSession(session);
    stats.chatCompletions++;
    setSessionHeader(res, faults, session);

    const plan: CompletionPlan = {
      completionId: newCompletionId(),
      created: Math.floor(clock() / 1000),
      modelJson: JSON.stringify(faults.model ?? model.name),
      extra: faults.chunkRequestId === undefined ? '' : `,"request_id":${JSON.stringify(faults.chunkRequestId)}`,
      chunks,
      chunkBytes,
      delayMs,
      nonce: NONCE_PATTERN.exec(lastUserText(body))?.[1],
      promptTokens: approxTokens(promptChars(body)),
      failoverSessionId: options.failoverLines === true || faults.failover ? `0x${prng.hex(64)}` : undefined,
      resetAfterChunks:
        faults.resetAfterChunks === undefined
          ? undefined
          : faults.resetAfterChunks === -1
            ? Math.floor(chunks / 2)
            : faults.resetAfterChunks,
      stallMidStreamMs: faults.stallMidStreamMs,
      nextId: options.idDrift === true ? newCompletionId : undefined,
    };
    if (body['stream'] === true) await streamCompletion(res, plan);
    else await jsonCompletion(res, plan);
  }

  async function streamCompletion(res: ServerResponse, plan: CompletionPlan): Promise<void> {
    stats.streams++;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const own = new SseSink(res, sinkOptions);
    // One writer will fill `own`: this request's generator, or under `swap` the partner's.
    own.acquire();

    if (bug === 'shared-reply') {
      const owner = sharedOwner;
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
      sharedOwner = own;
      own.onFinish(() => {
        if (sharedOwner === own) sharedOwner = undefined;
      });
    } else if (bug === 'swap') {
      const partner = await pairForSwap(own);
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

  function pairForSwap(own: SseSink): Promise<SseSink | undefined> {
    const waiting = swapWaiting;
    if (waiting !== undefined && !waiting.sink.closed) {
      swapWaiting = undefined;
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
        if (swapWaiting === entry) swapWaiting = undefined;
        resolve(undefined);
      }, swapPairWaitMs);
      swapWaiting = entry;
    });
  }

  async function jsonCompletion(res: ServerResponse, plan: CompletionPlan): Promise<void> {
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
    const sink = new SseSink(res, sinkOptions);
    if (plan.stallMidStreamMs !== undefined) await stall(sink, plan.stallMidStreamMs);
    if (sink.closed) return;
    if (plan.resetAfterChunks !== undefined) sink.reset();
    else res.end(text.slice(half));
  }

  async function embeddings(ctx: RequestContext): Promise<void> {
    const { req, res, faults } = ctx;
    const body = await readJson(req);
    const hasSession =
      firstHeader(req.headers, HEADER_SESSION_ID) !== undefined ||
      firstHeader(req.headers, HEADER_X_SESSION_ID) !== undefined;
    const session = hasSession || requireSession ? requestSession(req.headers) : undefined;
    const model = session?.model ?? sessionlessModel(req.headers, body);
    if (session !== undefined) countSession(session);
    setSessionHeader(res, faults, session);
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
  }

  const exact = new Map<string, Route>([
    ['/healthcheck', { method: 'GET', auth: false, handle: ({ res }) => healthcheck(res) }],
    ['/v1/chat/completions', { method: 'POST', auth: true, handle: chatCompletions }],
    ['/v1/embeddings', { method: 'POST', auth: true, handle: embeddings }],
    [
      '/v1/models',
      {
        method: 'GET',
        auth: true,
        // The router's LocalModel list: on-chain Id, Name, and the provider's Model name.
        handle: ({ res }) => sendJson(res, 200, models.map((m) => ({ Id: m.id, Name: m.name, Model: m.name }))),
      },
    ],
  ]);
  const startedAt = clock();

  function healthcheck(res: ServerResponse): void {
    sendJson(res, 200, {
      Status: 'healthy',
      Version: 'crosstalk-simulated-router',
      Uptime: `${Math.floor((clock() - startedAt) / 1000)}s`,
    });
  }

  const patterns: { pattern: RegExp; route: Route }[] = [
    {
      pattern: /^\/blockchain\/models\/([^/]+)\/session$/,
      route: {
        method: 'POST',
        auth: true,
        handle: async ({ req, res, params }) => {
          const body = await readJson(req);
          const model = sessions.findModel(params[0] ?? '');
          if (model === undefined) throw new RouteError(404, 'model not found');
          const duration = typeof body['sessionDuration'] === 'number' ? body['sessionDuration'] : undefined;
          const session = sessions.open(model, duration);
          sendJson(res, 200, { sessionID: session.id });
        },
      },
    },
    {
      pattern: /^\/blockchain\/sessions\/([^/]+)\/close$/,
      route: {
        method: 'POST',
        auth: true,
        handle: ({ res, params }) => {
          const id = params[0] ?? '';
          if (sessions.get(id) === undefined) throw new RouteError(404, 'session not found');
          if (!sessions.close(id)) throw new RouteError(400, 'session already closed');
          sendJson(res, 200, { tx: `0x${prng.hex(64)}` });
        },
      },
    },
    {
      pattern: /^\/blockchain\/sessions\/([^/]+)$/,
      route: {
        method: 'GET',
        auth: true,
        handle: ({ res, params }) => {
          const session = sessions.get(params[0] ?? '');
          if (session === undefined) throw new RouteError(404, 'session not found');
          sendJson(res, 200, sessions.toBody(session));
        },
      },
    },
  ];

  function findRoute(path: string): { route: Route; params: string[] } | undefined {
    const route = exact.get(path);
    if (route !== undefined) return { route, params: [] };
    for (const { pattern, route: candidate } of patterns) {
      const match = pattern.exec(path);
      if (match !== null) return { route: candidate, params: match.slice(1).map((p) => decodeURIComponent(p)) };
    }
    return undefined;
  }

  function record(req: IncomingMessage, path: string, query: string): void {
    const entry: ReceivedRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, receivedAt: clock() };
    requests.push(entry);
    if (requests.length > recordLimit) requests.splice(0, requests.length - recordLimit);
    for (const listener of listeners) {
      try {
        listener(entry);
      } catch {
        // A test's listener must not turn into a 500 for the code under test.
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    stats.inFlight++;
    res.once('close', () => {
      stats.inFlight--;
    });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    record(req, path, q === -1 ? '' : url.slice(q + 1));

    const found = findRoute(path);
    if (found === undefined) return sendError(res, 404, 'not found');
    const { route, params } = found;
    if (route.auth && auth !== undefined) {
      const failure = checkBasicAuth(req.headers.authorization, auth, expectedAuth);
      if (failure !== undefined) return sendError(res, 401, failure);
    }
    if (req.method !== route.method) return sendError(res, 403, 'method not allowed');

    const faults = parseFaults(firstHeader(req.headers, SIM_HEADER_FAULT));
    const incomingId = firstHeader(req.headers, HEADER_REQUEST_ID);
    if (faults.wrongRequestId) {
      let wrong = prng.hex(8);
      while (wrong === incomingId) wrong = prng.hex(8);
      res.setHeader('X-Request-Id', wrong);
    } else if (echoRequestId) {
      res.setHeader('X-Request-Id', incomingId ?? prng.hex(8));
    }
    if (faults.stallBeforeHeadersMs !== undefined) {
      await stall(new SseSink(res, sinkOptions), faults.stallBeforeHeadersMs);
      if (res.destroyed) return;
    }
    if (faults.status !== undefined) return sendError(res, faults.status, `simulated status ${faults.status}`);
    await route.handle({ req, res, params, faults });
  }

  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof RouteError) return sendError(res, err.status, err.message);
      if (err instanceof SimHeaderError) return sendError(res, 400, err.message);
      if (res.headersSent) res.destroy();
      else sendError(res, 500, err instanceof Error ? err.message : String(err));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${hostForUrl(host)}:${port}`,
    port,
    models,
    sessions,
    stats,
    requests,
    auth,
    get bug() {
      return bug;
    },
    setBug(next: SimBug) {
      bug = next;
      sharedOwner = undefined;
    },
    chatHeaders(sessionId: string) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        [HEADER_SESSION_ID]: sessionId,
        'X-Session-ID': sessionId,
      };
      if (auth !== undefined) headers['authorization'] = expectedAuth;
      return headers;
    },
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    resetStats() {
      stats.requests = 0;
      stats.chatCompletions = 0;
      stats.streams = 0;
      stats.misdirectedStreams = 0;
      stats.bySession.clear();
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        swapWaiting?.pair(undefined);
        swapWaiting = undefined;
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // Streams, stalls and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
