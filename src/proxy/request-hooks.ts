import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errors } from '../errors.js';
import { GEN_AI_OPERATION_NAME_VALUE_CHAT } from '../telemetry/attributes.js';
import { HEADER_CONTENT_LENGTH, HEADER_CONTENT_TYPE, HEADER_REQUEST_ID } from '../protocol/headers.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import type { ProxyInspection } from './inspection.js';
import {
  BodyTap,
  isJsonContentType,
  limitBodyIdle,
  parseBodyFacts,
  readWholeBody,
  type RequestBodyFacts,
} from './request-body.js';
import {
  endRequest,
  headerValue,
  kRequestContext,
  startRequest,
  type RequestContext,
  type RequestContextDeps,
} from './request-context.js';
import type { UpstreamPool } from './upstream-pool.js';

declare module 'fastify' {
  interface FastifyRequest {
    [kRequestContext]?: RequestContext;
  }
}

/** Request bodies up to this size (with a content-length) are read whole before forwarding; larger ones stream. */
const WHOLE_BODY_MAX_BYTES = 64 * 1024;

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

export interface RequestHookDeps extends RequestContextDeps {
  inspection: ProxyInspection;
  metrics: ProxyMetrics;
  logger: Logger;
  pool: UpstreamPool;
  /** Request bodies copied for their facts only up to this size (the original bytes always flow). */
  maxRequestCopyBytes: number;
  /** Longest silence between two request body bytes → 408 (0: no limit). */
  requestIdleTimeoutMs: number;
  /** More header lines than this → 431. */
  maxHeaderLines: number;
  /** True once close() began (an unfinished response then ends as `shutdown`). */
  shuttingDown(): boolean;
  /** Called when a request starts, and after it ended (its span is ended). */
  onStarted(): void;
  onEnded(): void;
}

/**
 * The request side's hooks: the context at `onRequest` (and the request's end when the caller's socket closes),
 * the request body at `preParsing`.
 */
export function addRequestHooks(app: FastifyInstance, deps: RequestHookDeps): void {
  const { inspection, pool } = deps;

  const finish = (request: FastifyRequest, reply: FastifyReply): void => {
    const ctx = request[kRequestContext];
    if (!ctx || ctx.ended) return;
    // A caller who left before the upstream answered cancels the upstream request now (issue 14 row 4).
    if (ctx.exchange !== undefined) {
      pool.cancel(ctx.exchange);
      pool.release(ctx.exchange);
    }
    endRequest(
      ctx,
      { status: reply.raw.statusCode, completed: reply.raw.writableFinished, shuttingDown: deps.shuttingDown() },
      { metrics: deps.metrics, logger: deps.logger, finishInspection: (c) => inspection.finish(c) },
    );
    deps.onEnded();
  };

  app.addHook('onRequest', (request, reply, done) => {
    const ctx = startRequest(request.method, request.url, request.headers, deps);
    request[kRequestContext] = ctx;
    deps.onStarted();
    ctx.exchange = pool.open();
    reply.header(HEADER_REQUEST_ID, ctx.requestId);
    reply.raw.once('close', () => finish(request, reply));
    // Node keeps at most `maxHeadersCount` lines and drops the rest silently: past the cap, refuse rather than
    // forward a request whose later headers (an `authorization`) were lost.
    if (request.raw.rawHeaders.length / 2 > deps.maxHeaderLines) {
      const err = new errors.CROSSTALK_ERR_TOO_MANY_HEADERS(String(deps.maxHeaderLines));
      ctx.endReason = 'blocked';
      reply.code(431).type('application/json; charset=utf-8').send({
        statusCode: 431,
        code: err.code,
        error: 'Request Header Fields Too Large',
        message: err.message,
      });
      return;
    }
    // `--inspection off` skips both: no detection on any route (no request id issued to it, no control-plane
    // learning, no judge), so nothing can be found; the request is forwarded and traced as usual.
    if (inspection.enabled && !ctx.isChat) inspection.begin(ctx);
    if (inspection.enabled && ctx.isChat) {
      // The request's own router credentials reach a session look-up (if one is needed) and nothing else.
      const finding = inspection.start(ctx, headerValue(request.headers, 'authorization'));
      if (finding && inspection.blocking) {
        // Known from the request alone (the session is bound to another key): never forward it.
        inspection.sendBlocked(ctx, reply, [finding.reason]);
        return;
      }
    }
    done();
  });

  // A session look-up started for this request is awaited before it is forwarded (it never rejects, and is bounded
  // by --session-lookup-timeout): the answer is then judged against the session's on-chain model.
  app.addHook('preHandler', (request, _reply, done) => {
    const lookup = request[kRequestContext]?.lookup;
    if (lookup === undefined) return done();
    void lookup.then(() => done());
  });

  // JSON request bodies give the sidecar `model` and `stream`. A small one with a content-length (a chat request,
  // nearly always) is read whole and sent upstream as one buffer: its facts are known before the upstream call,
  // and it is cheaper to forward than a stream. Anything else streams upstream through a tap that keeps a bounded
  // copy (JSON only). Every body has an idle limit between its bytes (issue 14 row 9).
  app.addHook('preParsing', (request, reply, payload, done) => {
    const ctx = request[kRequestContext];
    if (!ctx || request.method === 'GET' || request.method === 'HEAD') return done(null, payload);
    const hasBody = request.headers['transfer-encoding'] !== undefined || (contentLength(request.headers[HEADER_CONTENT_LENGTH]) ?? 0) > 0;
    if (!hasBody) return done(null, payload);
    limitBodyIdle(
      payload,
      deps.requestIdleTimeoutMs,
      () => {
        ctx.endReason = 'request_body_timeout';
      },
      reply.raw,
    );
    const json = isJsonContentType(request.headers[HEADER_CONTENT_TYPE]);
    const length = contentLength(request.headers[HEADER_CONTENT_LENGTH]);
    if (json && length !== undefined && length > 0 && length <= WHOLE_BODY_MAX_BYTES) {
      readWholeBody(
        payload,
        (body) => {
          ctx.requestBody = body;
          applyBodyFacts(ctx, parseBodyFacts(body));
          done(null, payload);
        },
        (err) => done(err),
      );
      return;
    }
    const copyBytes = json && (length === undefined || length <= deps.maxRequestCopyBytes) ? deps.maxRequestCopyBytes : 0;
    const tap = new BodyTap(copyBytes, (facts) => applyBodyFacts(ctx, facts));
    // Plain pipe (see response-relay.ts on pipeline's cost); a broken upload fails the forwarded body too.
    payload.on('error', (err) => tap.destroy(err));
    payload.pipe(tap);
    done(null, tap);
  });

  function applyBodyFacts(ctx: RequestContext, facts: RequestBodyFacts): void {
    if (facts.model !== undefined) {
      ctx.requestModel = facts.model;
      inspection.setRequestModel(ctx, facts.model);
      if (ctx.isChat) ctx.span.updateName(`${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${facts.model}`);
    }
    if (facts.stream !== undefined) ctx.requestStream = facts.stream;
    if (ctx.isChat && facts.json !== undefined) inspection.setRequestBody(ctx, facts.json);
  }
}
