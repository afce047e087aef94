import type { IncomingHttpHeaders } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Logger } from 'pino';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SESSION_ID,
  ATTR_URL_PATH,
  CROSSTALK_API_KEY_FINGERPRINT,
  CROSSTALK_API_KEY_ID,
  CROSSTALK_API_KEY_PREFIX,
  CROSSTALK_MODEL_ID,
  CROSSTALK_REQUEST_ID,
  CROSSTALK_REQUEST_ID_ECHO,
  CROSSTALK_REQUEST_ID_REJECTED,
  CROSSTALK_RESPONSE_BYTES,
  CROSSTALK_STREAM,
  CROSSTALK_STREAM_END_REASON,
  CROSSTALK_TIME_TO_FIRST_CHUNK_MS,
  ATTR_GEN_AI_REQUEST_MODEL,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  HEADER_API_KEY_ID,
  HEADER_MODEL_ID,
  HEADER_REQUEST_ID,
  HEADER_REQUEST_ID_ECHO,
  HEADER_SESSION_ID,
  HEADER_X_SESSION_ID,
  type RequestIdEcho,
} from '../telemetry/attributes.js';
import { ProxyMetrics } from '../telemetry/metrics.js';
import { createLogger } from '../telemetry/logger.js';
import { ApiKeyIdentifier, extractApiKey, randomFingerprintSecret } from './api-key.js';
import { BodyTap, isJsonContentType, parseBodyFacts, readWholeBody, type RequestBodyFacts } from './body-tap.js';
import { IncidentLog } from './incidents.js';
import { DEFAULT_MAX_REQUEST_COPY_BYTES, type ProxyConfig } from './options.js';
import { decideRequestId } from './request-id.js';
import { kRequestState, type RequestState, type StreamEndReason } from './request-state.js';
import { isChatCompletions, routeTemplate } from './route-name.js';
import { rootCode, upstreamErrorResponse } from './upstream-error.js';
import { buildAdminServer } from './admin-server.js';
import { ProxyInspection } from './inspection.js';

declare module 'fastify' {
  interface FastifyRequest {
    [kRequestState]?: RequestState;
  }
}

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
  /** Binds both ports; resolves to the URLs actually bound (port 0 → real port). */
  listen(): Promise<{ url: string; adminUrl: string }>;
  /** Stops accepting, lets in-flight responses finish for up to `shutdownTimeoutMs`, then cuts the rest. */
  close(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
/** reply-from already drops `connection`, the names it lists, and `transfer-encoding`. */
const HOP_BY_HOP_REQUEST_HEADERS = ['keep-alive', 'proxy-connection', 'upgrade', 'te', 'expect'] as const;
const CONTENT_TYPE_SSE = 'text/event-stream';
/** Request bodies up to this size (with a content-length) are read whole before forwarding; larger ones stream. */
const WHOLE_BODY_MAX_BYTES = 64 * 1024;

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** Response headers that describe the upstream connection only (RFC 9110 §7.6.1); Node frames the caller's. */
const HOP_BY_HOP_RESPONSE_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'] as const;

function stripHopByHopResponseHeaders(headers: IncomingHttpHeaders): void {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    // Headers the upstream named as hop-by-hop in its Connection header.
    for (const name of connection.split(',')) {
      const n = name.trim().toLowerCase();
      if (n !== '') delete headers[n];
    }
  }
  for (const name of HOP_BY_HOP_RESPONSE_HEADERS) delete headers[name];
}

/** First value of a header, or undefined (Node gives arrays for a few repeated headers). */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createProxyServer(config: ProxyConfig, deps: ProxyDeps = {}): ProxyServer {
  const tracer = deps.tracer ?? trace.getTracer('crosstalk');
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = deps.metrics ?? new ProxyMetrics();
  const incidents = new IncidentLog(config.incidentsLimit);
  const inspection = new ProxyInspection(config, metrics, incidents, logger);
  let fingerprintSecret = config.fingerprintSecret;
  if (fingerprintSecret === undefined) {
    fingerprintSecret = randomFingerprintSecret();
    logger.warn(
      'no --fingerprint-secret / CROSSTALK_FINGERPRINT_SECRET set: API key fingerprints use a random per-process secret and will not match across restarts or replicas',
    );
  }
  const keys = new ApiKeyIdentifier(fingerprintSecret);
  const serverAddress = config.upstream.hostname;
  const serverPort = Number(config.upstream.port || (config.upstream.protocol === 'https:' ? 443 : 80));

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
  });

  app.addHook('onRequest', (request, reply, done) => {
    const state = startRequest(request);
    request[kRequestState] = state;
    reply.header(HEADER_REQUEST_ID, state.requestId);
    reply.raw.once('close', () => finishRequest(request, reply));
    if (state.isChat) {
      const finding = inspection.start(state);
      if (finding && inspection.blocking) {
        // Known from the request alone (the session is bound to another key): never forward it.
        inspection.sendBlocked(state, reply, [finding.reason]);
        return;
      }
    }
    done();
  });

  // JSON request bodies give the sidecar `model` and `stream`. A small one with a content-length (a chat request,
  // nearly always) is read whole and sent upstream as one buffer: its facts are known before the upstream call,
  // and it is cheaper to forward than a stream (no Transform, no stream body in undici). Anything else streams
  // upstream untouched: through a tap that keeps a bounded copy, or (past the copy cap) as it is.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const state = request[kRequestState];
    if (!state || !isJsonContentType(request.headers['content-type'])) return done(null, payload);
    const length = contentLength(request.headers['content-length']);
    if (length !== undefined && length > 0 && length <= WHOLE_BODY_MAX_BYTES && request.method !== 'GET' && request.method !== 'HEAD') {
      readWholeBody(
        payload,
        (body) => {
          state.requestBody = body;
          applyBodyFacts(state, parseBodyFacts(body));
          done(null, payload);
        },
        (err) => done(err),
      );
      return;
    }
    if (length !== undefined && length > DEFAULT_MAX_REQUEST_COPY_BYTES) return done(null, payload);
    const tap = new BodyTap(DEFAULT_MAX_REQUEST_COPY_BYTES, (facts) => applyBodyFacts(state, facts));
    // Plain pipe (see link-streams.ts on pipeline's cost); a broken upload fails the forwarded body too.
    payload.on('error', (err) => tap.destroy(err));
    payload.pipe(tap);
    done(null, tap);
  });

  function applyBodyFacts(state: RequestState, facts: RequestBodyFacts): void {
    if (facts.model !== undefined) {
      state.requestModel = facts.model;
      state.inspector?.setRequestModel(facts.model);
      if (state.isChat) state.span.updateName(`${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${facts.model}`);
    }
    if (facts.stream !== undefined) state.requestStream = facts.stream;
  }

  app.register(httpProxy, {
    upstream: config.upstream.href.replace(/\/$/, ''),
    undici: {
      // No artificial cap: 1,000 concurrent streams must not queue behind 128 sockets.
      connections: null,
      pipelining: 1,
      headersTimeout: config.upstreamTimeoutMs,
      // undici's bodyTimeout is the gap between two body chunks, i.e. an idle timeout, not a total one.
      bodyTimeout: config.idleTimeoutMs,
      connectTimeout: config.connectTimeoutMs,
      // reply-from defaults to rejectUnauthorized=false; a sidecar must verify its upstream's certificate.
      tls: { rejectUnauthorized: true },
    } as never,
    disableRequestLogging: true,
    // Forward the raw path and query exactly as received (http-proxy would re-encode the query string).
    handler: (request, reply, dest, options) => {
      const q = request.url.indexOf('?');
      const url = q === -1 ? dest : dest + request.url.slice(q);
      const body = request[kRequestState]?.requestBody;
      // A body read whole goes as those bytes, with the caller's own content-type value (reply-from sets both).
      // Object.assign, not `{ ...options, body, … }`: on these options (function values) V8 took ~1.5 µs per
      // spread against ~70 ns (Node 20), a per-request cost the bench's profile showed.
      if (body !== undefined) {
        return reply.from(url, Object.assign({}, options, { body, contentType: request.headers['content-type'] as string }));
      }
      return reply.from(url, options);
    },
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => {
        const state = request[kRequestState];
        if (!state) return headers;
        // Hop-by-hop headers stay on this hop (RFC 9110 §7.6.1); `expect` was already answered by Node's
        // server with 100 Continue, and undici refuses all of these outright.
        for (const name of HOP_BY_HOP_REQUEST_HEADERS) delete headers[name];
        headers[HEADER_REQUEST_ID] = state.requestId;
        // Our span is the upstream call's parent: replace the caller's traceparent/tracestate with ours.
        delete headers.traceparent;
        delete headers.tracestate;
        propagator.inject(state.context, headers, defaultTextMapSetter);
        return headers;
      },
      rewriteHeaders: (headers, request) => {
        // reply-from strips the upstream's connection headers only for HTTP/2 sources: copied through, an upstream
        // `connection: keep-alive` kept the caller's connection open after it asked for `connection: close`.
        stripHopByHopResponseHeaders(headers);
        const state = request?.[kRequestState];
        if (!state) return headers;
        const echo = headers[HEADER_REQUEST_ID];
        state.upstreamRequestIdEcho = Array.isArray(echo) ? echo[0] : (echo as string | undefined);
        // The inspector reads the upstream's own echo headers before ours replace them.
        state.inspector?.onResponseHeaders(headers);
        headers[HEADER_REQUEST_ID] = state.requestId;
        headers[HEADER_REQUEST_ID_ECHO] = requestIdEcho(state);
        return headers;
      },
      onResponse: (request, reply, res) => {
        const state = request[kRequestState];
        const upstream = res.stream as NodeJS.ReadableStream & { destroy(err?: Error): void };
        if (!state) {
          reply.send(upstream);
          return;
        }
        state.upstreamStatus = res.statusCode;
        // reply-from's types describe the http1 response; the undici path gives { statusCode, headers, stream }.
        const headers = (res as unknown as { headers: IncomingHttpHeaders }).headers;
        const contentType = headerValue(headers, 'content-type') ?? '';
        if (contentType.startsWith(CONTENT_TYPE_SSE)) state.requestStream = true;
        state.meter = inspection.respond(state, reply as FastifyReply, upstream as never, headers, (err) => {
          if (!state.endReason) markUpstreamFailure(state, err);
        });
      },
      onError: (reply, { error }) => {
        const state = reply.request[kRequestState];
        const answer = upstreamErrorResponse(error);
        if (state) {
          state.errorType = answer.errorType;
          state.endReason = 'upstream_error';
        }
        metrics.upstreamErrors.inc({ error_type: answer.errorType, phase: 'headers' });
        logger.warn({ requestId: state?.requestId, errorType: answer.errorType, status: answer.statusCode }, answer.message);
        if (reply.sent) return;
        reply
          .code(answer.statusCode)
          .type('application/json; charset=utf-8')
          .send({ statusCode: answer.statusCode, code: answer.code, error: answer.error, message: answer.message });
      },
    },
  });

  function startRequest(request: FastifyRequest): RequestState {
    const headers = request.headers;
    const decision = decideRequestId(headers[HEADER_REQUEST_ID]);
    if (decision.rejected) metrics.requestIdRejected.inc();
    const q = request.url.indexOf('?');
    const path = q === -1 ? request.url : request.url.slice(0, q);
    const isChat = isChatCompletions(path);
    const route = routeTemplate(path);
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      isChat ? GEN_AI_OPERATION_NAME_VALUE_CHAT : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: path,
          [ATTR_SERVER_ADDRESS]: serverAddress,
          [ATTR_SERVER_PORT]: serverPort,
          [CROSSTALK_REQUEST_ID]: decision.id,
          [CROSSTALK_REQUEST_ID_REJECTED]: decision.rejected,
        },
      },
      parent,
    );
    if (isChat) span.setAttribute(ATTR_GEN_AI_OPERATION_NAME, GEN_AI_OPERATION_NAME_VALUE_CHAT);
    const state: RequestState = {
      startedAt: performance.now(),
      requestId: decision.id,
      requestIdRejected: decision.rejected,
      method: request.method,
      path,
      route,
      isChat,
      span,
      context: trace.setSpan(parent, span),
      inflightApiKey: 0,
      inflightSession: 0,
      ended: false,
    };
    const session = headerValue(headers, HEADER_SESSION_ID) ?? headerValue(headers, HEADER_X_SESSION_ID);
    if (session) state.sessionId = session;
    const modelId = headerValue(headers, HEADER_MODEL_ID);
    if (modelId) state.modelIdHeader = modelId;
    const keyId = headerValue(headers, HEADER_API_KEY_ID);
    if (keyId) state.apiKeyId = keyId;
    const key = extractApiKey(headers, config.apiKeyHeader);
    if (key) state.apiKey = keys.identify(key);
    metrics.inFlight.inc();
    return state;
  }

  function markUpstreamFailure(state: RequestState, err: unknown): void {
    const code = rootCode(err);
    state.errorType = code ?? (err instanceof Error ? err.name : 'Error');
    // A destroy caused by the client going away surfaces here as a premature close: not the upstream's fault.
    if (code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    state.endReason = code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_idle_timeout' : 'upstream_reset';
    metrics.upstreamErrors.inc({ error_type: state.errorType, phase: 'body' });
    logger.warn({ requestId: state.requestId, errorType: state.errorType }, 'upstream stream broke after headers were sent; ending the response');
  }

  function finishRequest(request: FastifyRequest, reply: FastifyReply): void {
    const state = request[kRequestState];
    if (!state || state.ended) return;
    state.ended = true;
    metrics.inFlight.dec();
    const status = reply.raw.statusCode;
    const completed = reply.raw.writableFinished;
    let endReason: StreamEndReason = state.endReason ?? (completed ? 'complete' : 'client_aborted');
    if (shuttingDown && !completed && endReason === 'client_aborted') endReason = 'shutdown';
    const span = state.span;
    const now = performance.now();
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    span.setAttribute(CROSSTALK_STREAM, state.requestStream === true);
    span.setAttribute(CROSSTALK_RESPONSE_BYTES, state.meter?.receivedBytes ?? 0);
    span.setAttribute(CROSSTALK_STREAM_END_REASON, endReason);
    if (state.sessionId) span.setAttribute(ATTR_SESSION_ID, state.sessionId);
    if (state.modelIdHeader) span.setAttribute(CROSSTALK_MODEL_ID, state.modelIdHeader);
    if (state.requestModel) span.setAttribute(ATTR_GEN_AI_REQUEST_MODEL, state.requestModel);
    if (state.apiKey?.prefix) span.setAttribute(CROSSTALK_API_KEY_PREFIX, state.apiKey.prefix);
    if (state.apiKey) span.setAttribute(CROSSTALK_API_KEY_FINGERPRINT, state.apiKey.fingerprint);
    if (state.apiKeyId) span.setAttribute(CROSSTALK_API_KEY_ID, state.apiKeyId);
    if (state.upstreamStatus !== undefined) {
      span.setAttribute(CROSSTALK_REQUEST_ID_ECHO, requestIdEcho(state));
    }
    const firstChunkAt = state.meter?.firstChunkAt;
    if (firstChunkAt !== undefined) {
      const ttfc = firstChunkAt - state.startedAt;
      span.setAttribute(CROSSTALK_TIME_TO_FIRST_CHUNK_MS, Math.round(ttfc * 1000) / 1000);
      metrics.recordTimeToFirstChunk(state.route, ttfc / 1000);
    }
    const failed =
      endReason !== 'blocked' &&
      (status >= 500 || (endReason !== 'complete' && endReason !== 'client_aborted' && endReason !== 'shutdown'));
    if (failed) {
      const errorType = state.errorType ?? String(status);
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus({ code: SpanStatusCode.ERROR, message: endReason === 'complete' ? `HTTP ${status}` : endReason });
    }
    // After the generic status: a detection sets its own ERROR status and message. An inspector failure here
    // must not keep the span from ending or the metrics from counting the request.
    try {
      const summary = inspection.finish(state);
      if (summary) span.setAttribute(CROSSTALK_REQUEST_ID_ECHO, summary.requestIdEcho);
    } catch (err) {
      logger.error({ requestId: state.requestId, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'crosstalk inspector failed at the end of a response');
    }
    metrics.recordRequest(state.method, state.route, status, (now - state.startedAt) / 1000);
    span.end();
    // fastify closes the connections that are idle when close() starts; one whose last response finishes later
    // would keep close() waiting for --shutdown-timeout. Close it as soon as it goes idle.
    if (shuttingDown) setImmediate(() => app.server.closeIdleConnections());
  }

  let shuttingDown = false;
  const admin = buildAdminServer({ config, metrics, incidents, logger });

  return {
    app,
    admin,
    metrics,
    incidents,
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
      await admin.close();
    },
  };
}

function requestIdEcho(state: RequestState): RequestIdEcho {
  if (state.upstreamRequestIdEcho === undefined) return 'missing';
  return state.upstreamRequestIdEcho === state.requestId ? 'match' : 'mismatch';
}
