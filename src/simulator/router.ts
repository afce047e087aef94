import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SIM_AUTH, basicAuthHeader, checkBasicAuth, type SimAuth } from './basic-auth.js';
import { buildCatalogue, DEFAULT_MODELS, makeSessions, type SimModel } from './catalogue.js';
import { ChatRoutes, HEADER_SESSION_ID } from './chat-routes.js';
import { controlPlaneRoutes, modelsRoute } from './control-plane.js';
import { SIM_HEADER_FAULT, SimHeaderError, parseFaults } from './faults.js';
import { RouteError, firstHeader, hostForUrl, sendError, sendJson, type Route } from './http-json.js';
import {
  DEFAULT_RECORD_LIMIT,
  DEFAULT_SESSION_DURATION_SEC,
  DEFAULT_SIM_CHUNKS,
  DEFAULT_SIM_CHUNK_BYTES,
  DEFAULT_SIM_CHUNK_DELAY_MS,
  DEFAULT_SWAP_PAIR_WAIT_MS,
  type ReceivedRequest,
  type SimBug,
  type SimulatedRouterOptions,
} from './options.js';
import { createPrng } from './prng.js';
import { SessionStore } from './sessions.js';
import { SseSink } from './sse-sink.js';
import { stall } from './stream-writer.js';

/** The gateway spells the second session header this way (Node lower-cases it on arrival). */
const HEADER_X_SESSION_ID_CANON = 'X-Session-ID';

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

  const echoRequestId = options.echoRequestId ?? true;
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

  const chat = new ChatRoutes({
    sessions,
    models,
    prng,
    clock,
    stats,
    bug: () => bug,
    requireSession: options.requireSession ?? true,
    defaultChunks: options.chunks ?? DEFAULT_SIM_CHUNKS,
    defaultDelayMs: options.chunkDelayMs ?? DEFAULT_SIM_CHUNK_DELAY_MS,
    defaultChunkBytes: options.chunkBytes ?? DEFAULT_SIM_CHUNK_BYTES,
    echoSession: options.echoSession ?? false,
    swapPairWaitMs: options.swapPairWaitMs ?? DEFAULT_SWAP_PAIR_WAIT_MS,
    failoverLines: options.failoverLines === true,
    idDrift: options.idDrift === true,
    streamEnv,
    sinkOptions,
  });
  const startedAt = clock();
  const exact = new Map<string, Route>([
    ['/healthcheck', { method: 'GET', auth: false, handle: ({ res }) => healthcheck(res) }],
    ['/v1/chat/completions', { method: 'POST', auth: true, handle: chat.chatCompletions }],
    ['/v1/embeddings', { method: 'POST', auth: true, handle: chat.embeddings }],
    [
      '/v1/models',
      {
        method: 'GET',
        auth: true,
        // The router's LocalModel list: on-chain Id, Name, and the provider's Model name.
        handle: ({ res }) => sendJson(res, 200, models.map((m) => ({ Id: m.id, Name: m.name, Model: m.name }))),
      },
    ],
    ['/blockchain/models', modelsRoute(models)],
  ]);
  const patterns = controlPlaneRoutes(sessions, prng);

  function healthcheck(res: ServerResponse): void {
    sendJson(res, 200, {
      Status: 'healthy',
      Version: 'crosstalk-simulated-router',
      Uptime: `${Math.floor((clock() - startedAt) / 1000)}s`,
    });
  }

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
      let wrong = faults.wrongRequestIdValue ?? prng.hex(8);
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
      chat.reset();
    },
    chatHeaders(sessionId: string) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        [HEADER_SESSION_ID]: sessionId,
        [HEADER_X_SESSION_ID_CANON]: sessionId,
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
        chat.reset();
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // Streams, stalls and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
