import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { trace, type Tracer } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Agent, request as undiciRequest } from 'undici';
import { DEFAULT_MAX_CONTROL_BODY_BYTES, DEFAULT_SESSION_LOOKUP_MAX_IN_FLIGHT } from '../config/defaults.js';
import { Detection, type DetectionStore, type SessionLookup } from '../inspect/index.js';
import { createDetectionStore } from '../store/create.js';
import { ProxyMetrics } from '../telemetry/metrics.js';
import { createLogger } from '../telemetry/logger.js';
import { HEADER_CONTENT_TYPE } from '../protocol/headers.js';
import { buildAdminServer } from './admin-server.js';
import { ApiKeyIdentifier, randomFingerprintSecret } from './api-key.js';
import { IncidentLog } from './incidents.js';
import { ProxyInspection } from './inspection.js';
import { DEFAULT_MAX_REQUEST_COPY_BYTES, type ProxyConfig } from './options.js';
import { kRequestContext, upstreamServer } from './request-context.js';
import { rewriteRequestHeaders } from './request-headers.js';
import { addRequestHooks } from './request-hooks.js';
import { rewriteResponseHeaders } from './response-headers.js';
import { ResponsePath } from './response-path.js';
import { UpstreamPool } from './upstream-pool.js';
import { JsonHoldBudget } from './hold-budget.js';

/**
 * Wires one sidecar: the gateway-facing fastify app (request hooks, reply-from with the upstream pool, the response
 * path), the admin server, and listen/close. What each part does lives in its own module:
 * request-context.ts (per-request state, the one end of a request), request-hooks.ts / request-body.ts /
 * request-headers.ts (caller → upstream), response-headers.ts / response-path.ts / response-relay.ts
 * (upstream → caller), upstream-pool.ts (connections: cancel, retire), inspection.ts (findings → operators).
 */

export interface ProxyDeps {
  tracer?: Tracer;
  logger?: Logger;
  metrics?: ProxyMetrics;
}

export interface ProxyServer {
  app: FastifyInstance;
  admin: FastifyInstance;
  metrics: ProxyMetrics;
  incidents: IncidentLog;
  pool: UpstreamPool;
  /** The gateway-aware detection (its store holds everything learned). */
  detection: Detection;
  /** Requests started and not yet ended (their spans still open). */
  readonly activeRequests: number;
  /** Binds both ports; resolves to the URLs actually bound (port 0 → real port). */
  listen(): Promise<{ url: string; adminUrl: string }>;
  /**
   * Stops accepting, lets in-flight responses finish for up to `shutdownTimeoutMs`, then cuts the rest; resolves
   * once every request has ended (so their spans, `end_reason=shutdown` for the cut ones, reach the exporter).
   */
  close(): Promise<void>;
}

export function createProxyServer(config: ProxyConfig, deps: ProxyDeps = {}): ProxyServer {
  const tracer = deps.tracer ?? trace.getTracer('crosstalk');
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? new ProxyMetrics();
  const incidents = new IncidentLog(config.incidentsLimit);
  // The one place the detection store is made: in memory, or shared through Redis with --store (issue 17).
  const created = createDetectionStore(config, { logger, metrics });
  const store: DetectionStore = created.store;
  const lookupAgent = config.sessionLookup ? new Agent({ connections: DEFAULT_SESSION_LOOKUP_MAX_IN_FLIGHT }) : undefined;
  const detection = new Detection({
    store,
    sessionScope: config.sessionScope,
    modelAliases: config.modelAliases,
    lookupTimeoutMs: config.sessionLookupTimeoutMs,
    ...(lookupAgent !== undefined && { lookup: sessionLookup(config.upstream.origin, lookupAgent) }),
  });
  const replicaId = created.replicaId;
  const shared = replicaId === undefined ? undefined : { replicaId, remoteRequest: (id: string) => created.remoteRequest(id) };
  const inspection = new ProxyInspection(config, metrics, incidents, logger, detection, tracer, shared);
  // A shared fact that arrives after this replica judged on local knowledge (issue 17 item 2).
  created.onLateFinding((late) => {
    try {
      inspection.onLateFinding(late);
    } catch (err) {
      logger.error({ requestId: late.requestId, errorType: err instanceof Error ? err.name : typeof err }, 'crosstalk late shared finding could not be recorded');
    }
  });
  let fingerprintSecret = config.fingerprintSecret;
  if (fingerprintSecret === undefined) {
    fingerprintSecret = randomFingerprintSecret();
    logger.warn(
      'no --fingerprint-secret-file / CROSSTALK_FINGERPRINT_SECRET_FILE set: API key fingerprints use a random per-process secret and will not match across restarts or replicas',
    );
  }
  const origin = config.upstream.origin;
  const pool = new UpstreamPool(origin, {
    headersTimeoutMs: config.upstreamTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  const responses = new ResponsePath({ inspection, metrics, logger, holdBudget: new JsonHoldBudget(config.maxHeldJsonBytes) });

  let shuttingDown = false;
  let active = 0;
  let onIdle: (() => void) | undefined;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (a pino child per request is measurable on the hot path): the sidecar's own log
    // lines name the request id themselves, and fastify's request ids (req-1, …) are not the ones users search by.
    childLoggerFactory: (parent) => parent,
    // The sidecar decides request ids itself (validation, rejection tracking).
    requestIdHeader: false,
    // Long-lived SSE responses must not be cut by a server-side request timeout.
    requestTimeout: 0,
    // Streamed uploads are never buffered by fastify (the proxy parser passes the raw stream).
    bodyLimit: Number.MAX_SAFE_INTEGER,
    // The query is forwarded as received (see the handler); fastify must not fail on a bad % escape in it.
    routerOptions: { querystringParser: () => ({}) },
  });
  // One more than the cap, so a request over it is seen (and refused with 431) rather than silently cut.
  app.server.maxHeadersCount = config.maxHeaderLines + 1;

  addRequestHooks(app, {
    tracer,
    metrics,
    logger,
    inspection,
    pool,
    keys: new ApiKeyIdentifier(fingerprintSecret),
    apiKeyHeader: config.apiKeyHeader,
    ...upstreamServer(config.upstream),
    maxRequestCopyBytes: DEFAULT_MAX_REQUEST_COPY_BYTES,
    requestIdleTimeoutMs: config.requestIdleTimeoutMs,
    maxHeaderLines: config.maxHeaderLines,
    shuttingDown: () => shuttingDown,
    onStarted: () => {
      active++;
    },
    onEnded: () => {
      active--;
      // fastify closes the connections that are idle when close() starts; one whose last response finishes later
      // would keep close() waiting for --shutdown-timeout. Close it as soon as it goes idle.
      if (shuttingDown) setImmediate(() => app.server.closeIdleConnections());
      if (active === 0) onIdle?.();
    },
  });

  app.register(httpProxy, {
    upstream: origin,
    undici: pool.dispatcher as never,
    // One caller request, one upstream request: reply-from would retry a GET answered 503 up to ten times,
    // reading `Retry-After` as milliseconds (issue 14 row 7). The 503 and its headers go to the caller as they are.
    replyOptions: {
      retryDelay: () => null,
      rewriteRequestHeaders: (request, headers) => {
        const ctx = request[kRequestContext];
        return ctx ? rewriteRequestHeaders(ctx, headers) : headers;
      },
      rewriteHeaders: (headers, request) => {
        const ctx = request?.[kRequestContext];
        if (!ctx) return headers;
        const finding = rewriteResponseHeaders(ctx, headers, (h) => inspection.onResponseHeaders(ctx, h));
        // On a route without an inspector the proxy raises the echo finding itself (chat's inspector already did).
        if (finding && !ctx.inspector) inspection.addProxyFinding(ctx, finding);
        return headers;
      },
      onResponse: (request, reply, res) => {
        const ctx = request[kRequestContext];
        const upstream = res.stream as unknown as Readable & { destroy(err?: Error): void };
        if (!ctx) {
          reply.send(upstream);
          return;
        }
        // reply-from's types describe the http1 response; the undici path gives { statusCode, headers, stream }.
        const headers = (res as unknown as { headers: IncomingHttpHeaders }).headers;
        responses.onResponse(ctx, reply as FastifyReply, res.statusCode, headers, upstream);
      },
      onError: (reply, { error }) => responses.onError(reply.request[kRequestContext], reply as FastifyReply, error),
    },
    disableRequestLogging: true,
    // Forward the raw path and query exactly as received. `dest` is the path only (http-proxy would re-encode the
    // query string); given a source without a query, reply-from appends the request's raw query itself. Not
    // `dest + query`: reply-from runs decodeURIComponent over its whole source, and a bad `%` escape in the query
    // became a 500 (issue 14 row 13).
    handler: (request, reply, dest, options) => {
      const url = dest;
      const body = request[kRequestContext]?.requestBody;
      // A body read whole goes as those bytes, with the caller's own content-type value (reply-from sets both).
      // Object.assign, not `{ ...options, body, … }`: on these options (function values) V8 took ~1.5 µs per
      // spread against ~70 ns (Node 20), a per-request cost the bench's profile showed.
      if (body !== undefined) {
        return reply.from(url, Object.assign({}, options, { body, contentType: request.headers[HEADER_CONTENT_TYPE] as string }));
      }
      return reply.from(url, options);
    },
  });

  const admin = buildAdminServer({ config, metrics, incidents, logger });

  const allEnded = (): Promise<void> =>
    active === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          onIdle = resolve;
        });

  return {
    app,
    admin,
    metrics,
    incidents,
    pool,
    detection,
    get activeRequests() {
      return active;
    },
    async listen() {
      const url = await app.listen({ port: config.port, host: config.host });
      const adminUrl = await admin.listen({ port: config.adminPort, host: config.adminHost });
      return { url, adminUrl };
    },
    async close() {
      shuttingDown = true;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
        timer.unref();
      });
      const closing = app.close();
      if ((await Promise.race([closing.then(() => 'closed' as const), deadline])) === 'timeout') {
        logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timeout: cutting the remaining in-flight responses');
        app.server.closeAllConnections();
        await closing;
      }
      clearTimeout(timer);
      // The cut responses end on their sockets' close events: wait for every span to be ended (issue 14 row 8).
      await allEnded();
      await admin.close();
      await created.close();
      if (lookupAgent !== undefined && !lookupAgent.closed && !lookupAgent.destroyed) await lookupAgent.close();
    },
  };
}

/**
 * `GET {origin}/blockchain/sessions/{id}` with the request's own `authorization` (passed in, used for this call,
 * never kept), on its own small connection pool; the parsed body of a 200 JSON answer up to
 * DEFAULT_MAX_CONTROL_BODY_BYTES, else undefined. Aborted by `signal` (the resolver's timeout).
 */
function sessionLookup(origin: string, dispatcher: Agent): SessionLookup {
  return async (session, authorization, signal) => {
    const res = await undiciRequest(`${origin}/blockchain/sessions/${session}`, {
      method: 'GET',
      dispatcher,
      signal,
      headers: authorization === undefined ? { accept: 'application/json' } : { accept: 'application/json', authorization },
    });
    const length = Number(res.headers['content-length'] ?? 0);
    if (res.statusCode !== 200 || length > DEFAULT_MAX_CONTROL_BODY_BYTES) {
      await res.body.dump();
      return undefined;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      if (bytes > DEFAULT_MAX_CONTROL_BODY_BYTES) {
        res.body.destroy();
        return undefined;
      }
      chunks.push(chunk as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  };
}
