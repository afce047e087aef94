import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { errors } from '../errors.js';
import {
  InspectorContext,
  REASON_CODES,
  ResponseInspector,
  type Detection,
  type EchoVerdict,
  type Finding,
  type ReasonCode,
  type RequestIdEcho,
} from '../inspect/index.js';
import { HEADER_REQUEST_ID } from '../protocol/headers.js';
import {
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  CROSSTALK_COMPLETION_ID_DRIFT,
  CROSSTALK_INFLIGHT_API_KEY,
  CROSSTALK_INFLIGHT_SESSION,
  CROSSTALK_INSPECTION_SKIPPED,
  CROSSTALK_SSE_EVENTS,
  CROSSTALK_SSE_OVERSIZED_EVENTS,
  EVENT_CROSSTALK_DETECTED,
  INSPECTION_OFF,
  type ProxyRequestIdEcho,
} from '../telemetry/attributes.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import { DetectionReport, relatedRequestIds } from './detection-report.js';
import { IncidentRecorder, findingEventAttributes, remoteSpanContext, requestLink, type SharedReplicas } from './incident-recorder.js';
import type { IncidentLog } from './incidents.js';
import { traceRef } from '../store/records.js';
import type { LateFinding } from '../store/shared-store.js';
import type { ProxyConfig } from './options.js';
import { InFlightIndex } from './in-flight-index.js';
import type { RequestContext } from './request-context.js';

/** Why inspection of one response was given up (the `reason` of `crosstalk_inspection_degraded_total`). */
export type DegradedReason =
  | 'inspector_error'
  | 'event_too_large'
  | 'json_body_too_large'
  | 'content_encoding'
  | 'payload_unparsed'
  | 'global_json_cap';

/** The judge's echo verdict as the span and the caller's header state it. */
function echoOf(verdict: EchoVerdict, fallback: RequestIdEcho): ProxyRequestIdEcho {
  if (verdict === 'foreign') return 'mismatch';
  return verdict === 'missing' ? fallback : verdict;
}

/**
 * Turns the inspector's findings into what operators see: span attributes and events, a WARN log line,
 * `crosstalk_detected_total`, `/incidents`, and (in block mode) a stopped response. The inspector only observes
 * and reports; every call into it goes through {@link ProxyInspection.guard}, so an inspector exception degrades
 * that one response to uninspected forwarding (counted, logged without response bytes) and nothing else.
 */
export class ProxyInspection {
  readonly context: InspectorContext;
  private readonly report_: DetectionReport;
  private readonly recorder: IncidentRecorder;
  private readonly ownerOf: (requestId: string) => number | undefined;
  /** Chat requests being judged, by their judge's token: where a late shared finding for one of them lands. */
  private readonly judged = new InFlightIndex<number, RequestContext>();

  constructor(
    private readonly config: ProxyConfig,
    private readonly metrics: ProxyMetrics,
    incidents: IncidentLog,
    private readonly logger: Logger,
    readonly detection: Detection,
    tracer: Tracer,
    private readonly shared?: SharedReplicas,
  ) {
    const store = detection.store;
    this.ownerOf = (requestId) => store.requestIdToken(requestId);
    this.report_ = new DetectionReport({
      metrics,
      incidents,
      logger,
      tracer,
      seedTtlMs: config.sessionBindingWindowMs,
      relatedOf: (requestId) => this.recorder.relatedRequest(requestId),
    });
    const report = this.report_;
    this.recorder = new IncidentRecorder({ incidents, logger, shared, traceIdOf: (requestId) => report.traceIdOf(requestId) });
    this.context = new InspectorContext({
      sessionScope: config.sessionScope,
      modelAliases: config.modelAliases,
      maxEventBytes: config.maxEventBytes,
      maxJsonBodyBytes: config.maxJsonBodyBytes,
      sessionBindingWindowMs: config.sessionBindingWindowMs,
      completionIdWindowMs: config.completionIdWindowMs,
    });
    metrics.initReasons(REASON_CODES);
  }

  /** `--inspection on` (the default): requests are judged; off, every request is forwarded and traced only. */
  get enabled(): boolean {
    return this.config.inspection;
  }

  get blocking(): boolean {
    return this.config.onCrosstalk === 'block';
  }

  /** Runs one call into the inspector; an exception degrades this response (once) and returns undefined. */
  guard<T>(ctx: RequestContext, fn: (inspector: ResponseInspector) => T): T | undefined {
    const inspector = ctx.inspector;
    if (!inspector) return undefined;
    try {
      return fn(inspector);
    } catch (err) {
      this.degrade(ctx, 'inspector_error', err);
      return undefined;
    }
  }

  /**
   * Inspection of this response stops: counted by reason, and for an exception logged with its type only (a
   * parser's message may quote the bytes it choked on). The inspector is dropped, so no later call reaches it.
   */
  degrade(ctx: RequestContext, reason: DegradedReason, err?: unknown): void {
    const inspector = ctx.inspector;
    if (!inspector || ctx.degraded) return;
    ctx.degraded = reason;
    this.metrics.inspectionDegraded.inc({ reason });
    if (err !== undefined) {
      this.logger.error(
        { requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err },
        'crosstalk inspector failed; forwarding this response uninspected',
      );
    }
    try {
      inspector.skip('inspector_error');
    } catch {
      // The inspector is already broken; the span says `inspector_error` from ctx.degraded.
    }
  }

  /**
   * Called at request start (the in-flight counts are the risk condition at that moment). Returns a finding
   * already knowable from the request itself (`session_key_conflict`).
   */
  /**
   * Any request that is not a chat completion: its request id is issued (an echo of it on another request is then
   * a mismatch, an echo of an id never issued is a rewrite), and a control-plane call is noted for its answer.
   */
  begin(ctx: RequestContext): void {
    // A detection failure must not fail the request (a throw here would be a 500 from the onRequest hook): the
    // request is forwarded unobserved, the failure logged by type only (issue 14 row 1).
    try {
      const token = this.detection.nextToken();
      this.detection.store.issueRequestId(ctx.requestId, token);
      ctx.echoIdentity = { token, ownerOf: this.ownerOf };
      const call = this.detection.controlCall(ctx.method, ctx.path);
      if (call !== undefined) ctx.controlCall = call;
    } catch (err) {
      this.logger.error({ requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err }, 'crosstalk detection failed at request start');
    }
  }

  /** A control-plane answer's status and JSON body (read bounded while it was forwarded) teach the detection. */
  onControlResponse(ctx: RequestContext, status: number, body: unknown): void {
    const call = ctx.controlCall;
    if (call === undefined) return;
    try {
      this.detection.onControlResponse(call, status, body);
    } catch (err) {
      this.logger.error({ requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err }, 'crosstalk control-plane learning failed');
    }
  }

  start(ctx: RequestContext, authorization?: string): Finding | undefined {
    const facts = {
      requestId: ctx.requestId,
      stream: false,
      ...(ctx.sessionId !== undefined && { sessionId: ctx.sessionId }),
      ...(ctx.modelIdHeader !== undefined && { modelIdHeader: ctx.modelIdHeader }),
      ...(ctx.apiKey !== undefined && { keyFingerprint: ctx.apiKey.fingerprint }),
    };
    try {
      const spanContext = ctx.span.spanContext();
      const judge = this.detection.begin({
        requestId: ctx.requestId,
        upstream: this.config.upstream.origin,
        link: spanContext,
        // Only a shared store carries the span to other replicas (item 5); the memory store keeps no more per id.
        ...(this.shared !== undefined && { trace: traceRef(spanContext.traceId, spanContext.spanId) }),
        ...(ctx.sessionId !== undefined && { sessionId: ctx.sessionId }),
        ...(ctx.apiKey !== undefined && { keyFingerprint: ctx.apiKey.fingerprint }),
      });
      ctx.judge = judge;
      this.judged.set(judge.token, ctx);
      ctx.echoIdentity = { token: judge.token, ownerOf: this.ownerOf };
      const inspector = new ResponseInspector(this.context, facts, (finding) => this.onFinding(ctx, finding), judge);
      ctx.inspector = inspector;
      // A session never seen opened: one look-up with this request's own credentials (used for that call only),
      // awaited before forwarding, bounded by --session-lookup-timeout.
      if (this.detection.resolver !== undefined && judge.sessionsToResolve.length > 0) {
        ctx.lookup = this.detection.resolveSessions(judge, authorization);
      }
      ctx.inflightApiKey = inspector.inflight.apiKey;
      ctx.inflightSession = inspector.inflight.session;
    } catch (err) {
      this.metrics.inspectionDegraded.inc({ reason: 'inspector_error' });
      this.logger.error(
        { requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err },
        'crosstalk inspector failed; forwarding this response uninspected',
      );
      return undefined;
    }
    return this.guard(ctx, (inspector) => inspector.checkRequest());
  }

  /** The model from the request body, once it is known. */
  setRequestModel(ctx: RequestContext, model: string): void {
    this.guard(ctx, (inspector) => inspector.setRequestModel(model));
  }

  /** The parsed chat request body: its shape (messages, n, tools, max_tokens…) for the answer's checks. */
  setRequestBody(ctx: RequestContext, body: Record<string, unknown>): void {
    const judge = ctx.judge;
    if (judge === undefined) return;
    this.guard(ctx, () => judge.setRequestBody(body, this.detection.store.now()));
  }

  /** The upstream's status (before its body): a 2xx binds the session to the key; a 200 without content starves. */
  onStatus(ctx: RequestContext, status: number): void {
    this.guard(ctx, (inspector) => inspector.onStatus(status));
  }

  /** The upstream's response headers, as they came (before any rewriting). */
  onResponseHeaders(ctx: RequestContext, headers: IncomingHttpHeaders): void {
    this.guard(ctx, (inspector) => inspector.onResponseHeaders(headers));
  }

  /** Findings from the request or the headers (a block-mode response with one is stopped before its body). */
  hasFindings(ctx: RequestContext): boolean {
    return ctx.proxyFindings.length > 0 || this.guard(ctx, (inspector) => inspector.hasFindings) === true;
  }

  reasons(ctx: RequestContext): ReasonCode[] {
    const reasons = new Set<ReasonCode>(ctx.proxyFindings.map((f) => f.reason));
    for (const r of this.guard(ctx, (inspector) => inspector.reasons) ?? []) reasons.add(r);
    return [...reasons];
  }

  /** A finding the proxy raised itself (an echo naming another request, on a route without an inspector). */
  addProxyFinding(ctx: RequestContext, finding: Finding): void {
    ctx.proxyFindings.push(finding);
    this.onFinding(ctx, finding);
  }

  private onFinding(ctx: RequestContext, finding: Finding): void {
    this.metrics.detected.inc({ reason: finding.reason });
    ctx.span.addEvent(EVENT_CROSSTALK_DETECTED, findingEventAttributes(finding));
  }

  /** The JSON answer for a response blocked before any byte of it was sent. */
  blockedBody(ctx: RequestContext, reasons: readonly ReasonCode[]) {
    const err = new errors.CROSSTALK_ERR_FOREIGN_RESPONSE(reasons.join(', '));
    return {
      statusCode: 502,
      code: err.code,
      error: 'Bad Gateway',
      message: err.message,
      reasons,
      request_id: ctx.requestId,
    };
  }

  /** Replaces whatever upstream headers were copied onto the reply with a 502 JSON answer. */
  sendBlocked(ctx: RequestContext, reply: FastifyReply, reasons: readonly ReasonCode[]): void {
    ctx.blocked = true;
    ctx.endReason = 'blocked';
    for (const name of Object.keys(reply.getHeaders())) {
      if (name !== HEADER_REQUEST_ID) reply.removeHeader(name);
    }
    reply.code(502).type('application/json; charset=utf-8').send(this.blockedBody(ctx, reasons));
  }

  /**
   * At the end of the exchange (complete, failed or aborted): summary → span, log, incident. Returns the echo
   * verdict the span records (the inspector's, which also read chunk-level echoes, else the proxy's own).
   */
  finish(ctx: RequestContext): ProxyRequestIdEcho | undefined {
    const span = ctx.span;
    if (ctx.judge !== undefined) this.judged.take(ctx.judge.token);
    const summary = this.guard(ctx, (inspector) => inspector.finish());
    // Why inspection was given up: an exception (`inspector_error`) or a cap (`global_json_cap`, …).
    if (ctx.degraded) span.setAttribute(CROSSTALK_INSPECTION_SKIPPED, ctx.degraded);
    else if (ctx.isChat && !this.enabled) span.setAttribute(CROSSTALK_INSPECTION_SKIPPED, INSPECTION_OFF);
    if (ctx.isChat) {
      this.metrics.responsesInspected.inc({ result: summary && !summary.inspectionSkipped && !ctx.degraded ? 'inspected' : 'uninspected' });
    }
    if (summary) {
      span.setAttribute(CROSSTALK_INFLIGHT_API_KEY, summary.inflight.apiKey);
      span.setAttribute(CROSSTALK_INFLIGHT_SESSION, summary.inflight.session);
      span.setAttribute(CROSSTALK_SSE_EVENTS, summary.events);
      if (summary.oversizedEvents > 0) {
        span.setAttribute(CROSSTALK_SSE_OVERSIZED_EVENTS, summary.oversizedEvents);
        this.metrics.oversizedEvents.inc(summary.oversizedEvents);
      }
      if (summary.inspectionSkipped && !ctx.degraded) span.setAttribute(CROSSTALK_INSPECTION_SKIPPED, summary.inspectionSkipped);
      if (summary.completionIdDrift) span.setAttribute(CROSSTALK_COMPLETION_ID_DRIFT, true);
      if (summary.responseModel) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, summary.responseModel);
      if (summary.firstCompletionId) span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, summary.firstCompletionId);
      if (summary.usage?.inputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, summary.usage.inputTokens);
      if (summary.usage?.outputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, summary.usage.outputTokens);
    }
    const findings = [...ctx.proxyFindings, ...(summary?.findings ?? [])];
    const reasons = [...new Set(findings.map((f) => f.reason))];
    const inflight = summary?.inflight ?? { apiKey: 0, session: 0 };
    const judged = summary?.detection;
    const completionIds = judged?.completionIds ?? (summary?.firstCompletionId !== undefined ? [summary.firstCompletionId] : []);
    if (reasons.length > 0) {
      const related = relatedRequestIds(ctx.requestId, findings, judged?.links);
      const links = judged !== undefined ? { links: judged.links } : {};
      this.recorder.record(ctx, { reasons, findings, inflight, related, completionIds, ...links });
    }
    if (judged !== undefined) {
      try {
        this.report_.onJudged(ctx, judged, this.report_.seedOf(ctx, judged, inflight), findings);
      } catch (err) {
        this.logger.error({ requestId: ctx.requestId, errorType: err instanceof Error ? err.name : typeof err }, 'crosstalk peer reporting failed');
      }
      return echoOf(judged.echo, summary?.requestIdEcho ?? 'missing');
    }
    return summary?.requestIdEcho ?? ctx.echo;
  }

  /**
   * A shared fact from another replica, arriving after this replica judged on local knowledge (issue 17 item 2):
   * a request still in flight gets the finding (span event, metric, its incident at its end) and, in block mode,
   * its SSE body is stopped from this point; a request already finished gets it as an amended or added incident and
   * a short span in its trace. Either way its span links to the other replica's request span.
   */
  onLateFinding(late: LateFinding): void {
    const ctx = late.token === undefined ? undefined : this.judged.get(late.token);
    const otherContext = remoteSpanContext(late.other.trace);
    let stopped = false;
    if (ctx !== undefined) {
      // Still in flight (a request leaves `judged` when it ends): the finding is this request's own.
      const raised = this.guard(ctx, (inspector) => inspector.raiseExternal(late.finding));
      if (raised === undefined) this.addProxyFinding(ctx, late.finding);
      if (otherContext !== undefined) {
        ctx.span.addLink(requestLink(otherContext, late.other.requestId, late.finding.reason));
      }
      if (raised === true && this.blocking && ctx.stopBody !== undefined) stopped = ctx.stopBody();
    } else {
      this.report_.onLateFinding(late.requestId, late.finding, { requestId: late.other.requestId, spanContext: otherContext });
    }
    this.logger.warn(
      {
        requestId: late.requestId,
        inFlight: ctx !== undefined,
        reasons: [late.finding.reason],
        otherReplica: late.other.replica,
        otherRequestId: late.other.requestId,
        ...(otherContext !== undefined && { otherTraceId: otherContext.traceId }),
        blocked: stopped,
      },
      'crosstalk detected (late shared finding from another replica)',
    );
  }
}
