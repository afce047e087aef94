import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Logger } from 'pino';
import { classifyRequestIdEcho, type ControlCall, type Finding, type RequestJudge, type ResponseInspector } from '../inspect/index.js';
import {
  HEADER_API_KEY_ID,
  HEADER_MODEL_ID,
  HEADER_REQUEST_ID,
  HEADER_SESSION_ID,
  HEADER_X_SESSION_ID,
} from '../protocol/headers.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
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
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  type ProxyRequestIdEcho,
} from '../telemetry/attributes.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import type { ApiKeyIdentifier, ApiKeyIdentity } from './api-key.js';
import { extractApiKey } from './api-key.js';
import { ChunkMeter } from './body-meter.js';
import { decideRequestId } from './request-id.js';
import { OTHER_ROUTE, isChatCompletions, routeTemplate, type RouteName } from './route-name.js';

/**
 * The per-request context (ids, identity, span, timings, end reason) and the one function that ends a request.
 * Everything else reads and fills the context; only {@link endRequest} writes the span's final attributes and
 * status, by explicit rules, and ends it.
 */

/** Per-request state lives behind a symbol on the fastify request (fastify `lib/symbols.js` style). */
export const kRequestContext = Symbol('crosstalk.requestContext');

export type StreamEndReason =
  | 'complete'
  | 'client_aborted'
  | 'upstream_reset'
  | 'upstream_idle_timeout'
  | 'upstream_error'
  | 'request_body_timeout'
  | 'blocked'
  | 'shutdown';

/** Identity values longer than this are cut (and counted): a 7 KB session id must not reach spans or registries. */
export const MAX_IDENTITY_CHARS = 256;

export interface RequestContext {
  /** `performance.now()` at the start of the request. */
  readonly startedAt: number;
  readonly requestId: string;
  readonly requestIdRejected: boolean;
  readonly method: string;
  /** Path without query. */
  readonly path: string;
  /** From the fixed set of known routes, else `other` (route-name.ts). */
  readonly route: RouteName;
  readonly isChat: boolean;
  readonly span: Span;
  /** Context holding `span`, for propagation upstream. */
  readonly context: Context;
  /** The upstream exchange's token (upstream-pool.ts), for cancelling it. */
  exchange?: string;
  sessionId?: string;
  modelIdHeader?: string;
  apiKey?: ApiKeyIdentity;
  apiKeyId?: string;
  /** From the JSON body, once the body has been read. */
  requestModel?: string;
  requestStream?: boolean;
  /** A small JSON request body read whole (request-body.ts): forwarded as these bytes. */
  requestBody?: Buffer;
  /** What the upstream's `x-request-id` said, judged once (see {@link judgeEcho}); undefined before headers. */
  echo?: ProxyRequestIdEcho;
  /**
   * The detection's view of issued request ids (set at request start): this request's token, and the token an
   * issued id belongs to. An echo naming an id issued to another request is a mismatch; one never issued, rewritten.
   */
  echoIdentity?: { token: number; ownerOf(requestId: string): number | undefined };
  /** The gateway-aware rules for a chat request (inspection.ts). */
  judge?: RequestJudge;
  /** A session look-up in flight for this request, awaited before it is forwarded (bounded by its timeout). */
  lookup?: Promise<void>;
  /** A control-plane call (session open, session or bid look-up, close) whose answer teaches the detection. */
  controlCall?: ControlCall;
  /** A finding the proxy itself raised on a route without an inspector (echo naming another request). */
  proxyFindings: Finding[];
  upstreamStatus?: number;
  /** The one meter of the response body (first-chunk time, bytes received from the upstream). */
  readonly meter: ChunkMeter;
  /** Set by an HTTP failure path (upstream error, block, body timeout); else derived when the request ends. */
  endReason?: StreamEndReason;
  errorType?: string;
  inflightApiKey: number;
  inflightSession: number;
  /** The crosstalk inspector for chat completions (undefined for other routes). */
  inspector?: ResponseInspector;
  /** Block mode stopped (or replaced) this response. */
  blocked?: boolean;
  /** Block mode, SSE body being relayed: stops it now (a late shared finding); false when nothing was stopped. */
  stopBody?: () => boolean;
  /** The reply was hijacked and the upstream body is being relayed (response-path.ts). */
  forwarding?: boolean;
  /** Inspection of this response was given up (inspection.ts `degrade`). */
  degraded?: string;
  ended: boolean;
}

export interface RequestContextDeps {
  tracer: Tracer;
  metrics: ProxyMetrics;
  keys: ApiKeyIdentifier;
  apiKeyHeader: string;
  serverAddress: string;
  serverPort: number;
}

const propagator = new W3CTraceContextPropagator();

/** `server.address` / `server.port` of every span: the upstream the sidecar forwards to. */
export function upstreamServer(upstream: URL): Pick<RequestContextDeps, 'serverAddress' | 'serverPort'> {
  return { serverAddress: upstream.hostname, serverPort: Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80)) };
}

/** First value of a header, or undefined (Node gives arrays for a few repeated headers). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function capped(value: string | undefined, field: string, metrics: ProxyMetrics): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length <= MAX_IDENTITY_CHARS) return value;
  metrics.identityTruncated.inc({ field });
  return value.slice(0, MAX_IDENTITY_CHARS);
}

export function startRequest(method: string, url: string, headers: IncomingHttpHeaders, deps: RequestContextDeps): RequestContext {
  const decision = decideRequestId(headers[HEADER_REQUEST_ID]);
  if (decision.rejected) deps.metrics.requestIdRejected.inc();
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const isChat = isChatCompletions(path);
  const route = routeTemplate(path);
  const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const span = deps.tracer.startSpan(
    isChat ? GEN_AI_OPERATION_NAME_VALUE_CHAT : `${method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        // The path only for a known route: an unknown one is caller-chosen text (it may hold a key).
        [ATTR_URL_PATH]: route === OTHER_ROUTE ? OTHER_ROUTE : path,
        [ATTR_SERVER_ADDRESS]: deps.serverAddress,
        [ATTR_SERVER_PORT]: deps.serverPort,
        [CROSSTALK_REQUEST_ID]: decision.id,
        [CROSSTALK_REQUEST_ID_REJECTED]: decision.rejected,
      },
    },
    parent,
  );
  if (isChat) span.setAttribute(ATTR_GEN_AI_OPERATION_NAME, GEN_AI_OPERATION_NAME_VALUE_CHAT);
  const ctx: RequestContext = {
    startedAt: performance.now(),
    requestId: decision.id,
    requestIdRejected: decision.rejected,
    method,
    path,
    route,
    isChat,
    span,
    context: trace.setSpan(parent, span),
    proxyFindings: [],
    meter: new ChunkMeter(),
    inflightApiKey: 0,
    inflightSession: 0,
    ended: false,
  };
  const session = capped(
    headerValue(headers, HEADER_SESSION_ID) ?? headerValue(headers, HEADER_X_SESSION_ID),
    'session_id',
    deps.metrics,
  );
  if (session !== undefined) ctx.sessionId = session;
  const modelId = capped(headerValue(headers, HEADER_MODEL_ID), 'model_id', deps.metrics);
  if (modelId !== undefined) ctx.modelIdHeader = modelId;
  const keyId = capped(headerValue(headers, HEADER_API_KEY_ID), 'api_key_id', deps.metrics);
  if (keyId !== undefined) ctx.apiKeyId = keyId;
  const key = extractApiKey(headers, deps.apiKeyHeader);
  if (key) ctx.apiKey = deps.keys.identify(key);
  deps.metrics.requestStarted(route);
  return ctx;
}

/**
 * The echo verdict, from one rule (the detector's `checkRequestIdEcho`): the header the caller gets and the span
 * attribute both come from here. Returns the finding when the echo names another request.
 */
export function judgeEcho(ctx: RequestContext, echoed: string | string[] | undefined): Finding | undefined {
  const seen = Array.isArray(echoed) ? echoed.join(', ') : echoed;
  const identity = ctx.echoIdentity;
  const { echo, other } = classifyRequestIdEcho(ctx.requestId, seen, identity?.ownerOf ?? (() => undefined), identity?.token ?? -1);
  ctx.echo = echo === 'foreign' ? 'mismatch' : echo;
  if (echo !== 'foreign' || other === undefined) return undefined;
  return {
    reason: 'request_id_mismatch',
    evidence: { expected: ctx.requestId, seen: other, source: 'header', rule: 'issued_to_other' },
  };
}

/** What the request's end needs from the response and the process. */
export interface RequestOutcome {
  status: number;
  /** The whole response was handed to the caller's socket. */
  completed: boolean;
  shuttingDown: boolean;
}

export interface RequestEndDeps {
  metrics: ProxyMetrics;
  logger: Logger;
  /** Detection's part of the end (span attributes, incident, status); may throw: it is contained. */
  finishInspection(ctx: RequestContext): ProxyRequestIdEcho | undefined;
}

/** An end reason from the rules, in order: an HTTP failure recorded earlier, else how the response ended. */
export function endReasonOf(ctx: RequestContext, outcome: RequestOutcome): StreamEndReason {
  if (ctx.endReason !== undefined) return ctx.endReason;
  if (outcome.completed) return 'complete';
  return outcome.shuttingDown ? 'shutdown' : 'client_aborted';
}

/**
 * Ends a request: the one place that writes the span's final attributes and status and ends it. Rules, in order:
 * 1. HTTP failure: a 5xx, or an end that is neither complete, a client abort, a shutdown nor a block → ERROR with
 *    `error.type` (a client abort is not an error; a blocked response is detection's, not the upstream's).
 * 2. Detection: a finding sets ERROR `crosstalk detected: …` (it overrides rule 1's message).
 */
export function endRequest(ctx: RequestContext, outcome: RequestOutcome, deps: RequestEndDeps): StreamEndReason | undefined {
  if (ctx.ended) return undefined;
  ctx.ended = true;
  deps.metrics.requestEnded(ctx.route);
  const { status } = outcome;
  const endReason = endReasonOf(ctx, outcome);
  const span = ctx.span;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  span.setAttribute(CROSSTALK_STREAM, ctx.requestStream === true);
  span.setAttribute(CROSSTALK_RESPONSE_BYTES, ctx.meter.receivedBytes);
  span.setAttribute(CROSSTALK_STREAM_END_REASON, endReason);
  if (ctx.sessionId) span.setAttribute(ATTR_SESSION_ID, ctx.sessionId);
  if (ctx.modelIdHeader) span.setAttribute(CROSSTALK_MODEL_ID, ctx.modelIdHeader);
  if (ctx.requestModel) span.setAttribute(ATTR_GEN_AI_REQUEST_MODEL, ctx.requestModel);
  if (ctx.apiKey?.prefix) span.setAttribute(CROSSTALK_API_KEY_PREFIX, ctx.apiKey.prefix);
  if (ctx.apiKey) span.setAttribute(CROSSTALK_API_KEY_FINGERPRINT, ctx.apiKey.fingerprint);
  if (ctx.apiKeyId) span.setAttribute(CROSSTALK_API_KEY_ID, ctx.apiKeyId);
  const firstChunkAt = ctx.meter.firstChunkAt;
  if (firstChunkAt !== undefined) {
    const ttfc = firstChunkAt - ctx.startedAt;
    span.setAttribute(CROSSTALK_TIME_TO_FIRST_CHUNK_MS, Math.round(ttfc * 1000) / 1000);
    deps.metrics.recordTimeToFirstChunk(ctx.route, ttfc / 1000);
  }

  // Rule 1: HTTP failure.
  const quiet = endReason === 'complete' || endReason === 'client_aborted' || endReason === 'shutdown';
  if (endReason !== 'blocked' && (status >= 500 || !quiet)) {
    span.setAttribute(ATTR_ERROR_TYPE, ctx.errorType ?? String(status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: endReason === 'complete' ? `HTTP ${status}` : endReason });
  }
  // Rule 2: detection. An inspector failure must not keep the span from ending or the request from being counted.
  let echo = ctx.echo;
  try {
    echo = deps.finishInspection(ctx) ?? echo;
  } catch (err) {
    deps.logger.error(
      { requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err },
      'crosstalk inspector failed at the end of a response',
    );
  }
  if (ctx.upstreamStatus !== undefined && echo !== undefined) span.setAttribute(CROSSTALK_REQUEST_ID_ECHO, echo);
  deps.metrics.recordRequest(ctx.method, ctx.route, status, (performance.now() - ctx.startedAt) / 1000);
  span.end();
  return endReason;
}
