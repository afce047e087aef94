import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { errors } from '../errors.js';
import {
  BodyObserver,
  InspectStream,
  InspectorContext,
  REASON_CODES,
  ResponseInspector,
  type Finding,
  type InspectionSummary,
  type ReasonCode,
} from '../inspect/index.js';
import {
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  CROSSTALK_BLOCKED,
  CROSSTALK_COMPLETION_ID_DRIFT,
  CROSSTALK_DETECTED,
  CROSSTALK_EVIDENCE_PREFIX,
  CROSSTALK_EVENT_REASON,
  CROSSTALK_INFLIGHT_API_KEY,
  CROSSTALK_INFLIGHT_SESSION,
  CROSSTALK_INSPECTION_SKIPPED,
  CROSSTALK_REASONS,
  CROSSTALK_SSE_EVENTS,
  CROSSTALK_SSE_OVERSIZED_EVENTS,
  EVENT_CROSSTALK_DETECTED,
} from '../telemetry/attributes.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import { isJsonContentType } from './body-tap.js';
import type { IncidentLog } from './incidents.js';
import type { ProxyConfig } from './options.js';
import type { RequestState } from './request-state.js';
import { linkStreams } from './link-streams.js';
import { sendWithRelay } from './relay.js';
import { ChunkMeter, NOTHING_RECEIVED, type BodyMeter } from './body-meter.js';

const CONTENT_TYPE_SSE = 'text/event-stream';

/**
 * Hands the upstream body to fastify, which relays it to the caller (see relay.ts: the chunks of one upstream read
 * go out in one write), and observes every chunk on the way. Backpressure is the relay's: while the caller's
 * socket is full nothing more is read, so nothing more is observed either.
 */
function observe(
  reply: FastifyReply,
  upstream: Readable,
  observer: BodyMeter & { write(chunk: Buffer): void; end?(): void },
  onUpstreamError: (err: Error) => void,
): BodyMeter {
  // Before send: fastify's own error listener (added in send) destroys the response, after which an upstream
  // failure would be indistinguishable from the caller leaving first (which undici also reports as an error).
  upstream.on('error', (err: Error) => {
    if (!reply.raw.destroyed) onUpstreamError(err);
  });
  if (observer.end) upstream.once('end', () => observer.end?.());
  reply.send(sendWithRelay(upstream, (chunk) => observer.write(chunk)));
  return observer;
}

/** Drops an upstream body we will not forward (undici reports the abort as an error: expected, ignored). */
function discard(upstream: Readable): void {
  upstream.on('error', () => undefined);
  upstream.destroy();
}

/** Span event attributes for one finding: the reason and its evidence (ids only, by construction). */
export function findingEventAttributes(finding: Finding): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { [CROSSTALK_EVENT_REASON]: finding.reason };
  for (const [key, value] of Object.entries(finding.evidence)) {
    if (value !== undefined) attributes[CROSSTALK_EVIDENCE_PREFIX + key] = value;
  }
  return attributes;
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Puts the crosstalk inspector on chat-completion responses and turns its findings into what operators see:
 * span attributes and events, a WARN log line, `crosstalk_detected_total`, `/incidents`, and (in block mode)
 * a stopped response. The inspector itself only observes and reports.
 */
export class ProxyInspection {
  readonly context: InspectorContext;

  constructor(
    private readonly config: ProxyConfig,
    private readonly metrics: ProxyMetrics,
    private readonly incidents: IncidentLog,
    private readonly logger: Logger,
  ) {
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

  get blocking(): boolean {
    return this.config.onCrosstalk === 'block';
  }

  /**
   * Called at request start (the in-flight counts are the risk condition at that moment). Returns a finding
   * already knowable from the request itself (`session_key_conflict`).
   */
  start(state: RequestState): Finding | undefined {
    const facts = {
      requestId: state.requestId,
      stream: false,
      ...(state.sessionId !== undefined && { sessionId: state.sessionId }),
      ...(state.modelIdHeader !== undefined && { modelIdHeader: state.modelIdHeader }),
      ...(state.apiKey !== undefined && { keyFingerprint: state.apiKey.fingerprint }),
    };
    const inspector = new ResponseInspector(this.context, facts, (finding) => this.onFinding(state, finding));
    state.inspector = inspector;
    state.inflightApiKey = inspector.inflight.apiKey;
    state.inflightSession = inspector.inflight.session;
    return inspector.checkRequest();
  }

  private onFinding(state: RequestState, finding: Finding): void {
    this.metrics.detected.inc({ reason: finding.reason });
    state.span.addEvent(EVENT_CROSSTALK_DETECTED, findingEventAttributes(finding));
  }

  /** The JSON answer for a response blocked before any byte of it was sent. */
  blockedBody(state: RequestState, reasons: readonly ReasonCode[]) {
    const err = new errors.CROSSTALK_ERR_FOREIGN_RESPONSE(reasons.join(', '));
    return {
      statusCode: 502,
      code: err.code,
      error: 'Bad Gateway',
      message: err.message,
      reasons,
      request_id: state.requestId,
    };
  }

  /** Replaces whatever upstream headers were copied onto the reply with a 502 JSON answer. */
  sendBlocked(state: RequestState, reply: FastifyReply, reasons: readonly ReasonCode[]): void {
    state.blocked = true;
    state.endReason = 'blocked';
    for (const name of Object.keys(reply.getHeaders())) {
      if (name !== 'x-request-id') reply.removeHeader(name);
    }
    reply.code(502).type('application/json; charset=utf-8').send(this.blockedBody(state, reasons));
  }

  /**
   * Sends the upstream body to the caller. In flag mode (and for bodies not inspected) fastify relays the upstream
   * body straight to the caller and the inspector observes the chunks as they are written: no stream hop is
   * added. Block mode must be able to withhold bytes, so there the body crosses the InspectStream Transform.
   * Returns what the proxy reads at the end (first-chunk time, bytes). `onUpstreamError` hears of the upstream
   * body failing, not of the teardown that follows the caller going away.
   */
  respond(
    state: RequestState,
    reply: FastifyReply,
    upstream: Readable,
    headers: IncomingHttpHeaders,
    onUpstreamError: (err: Error) => void,
  ): BodyMeter {
    const inspector = state.inspector;
    if (!inspector) return observe(reply, upstream, new ChunkMeter(), onUpstreamError);
    // The inspector has already seen the upstream's headers (the proxy shows them to it before rewriting them).
    if (this.blocking && inspector.hasFindings) {
      // A header echo mismatch is known before the first byte: not one byte of the foreign body is sent.
      this.sendBlocked(state, reply, inspector.reasons);
      discard(upstream);
      return NOTHING_RECEIVED;
    }
    const encoding = firstHeader(headers, 'content-encoding');
    if (encoding !== undefined && encoding !== '' && encoding.toLowerCase() !== 'identity') {
      // Compressed bodies pass through untouched; decoding a copy would double the CPU cost of the hop.
      inspector.skip('content_encoding');
      return observe(reply, upstream, new ChunkMeter(), onUpstreamError);
    }
    const contentType = firstHeader(headers, 'content-type') ?? '';
    const kind = contentType.startsWith(CONTENT_TYPE_SSE) ? 'sse' : isJsonContentType(contentType) ? 'json' : undefined;
    if (kind === undefined) {
      inspector.skip('not_inspectable');
      return observe(reply, upstream, new ChunkMeter(), onUpstreamError);
    }
    if (!this.blocking) {
      const observer = new BodyObserver(inspector, kind, (err) => this.inspectorFailed(state, err));
      return observe(reply, upstream, observer, onUpstreamError);
    }

    const inspect = new InspectStream({
      inspector,
      mode: 'block',
      kind,
      onBlock: () => {
        state.blocked = true;
        state.endReason = 'blocked';
        // Let the error event reach the caller before the upstream is torn down.
        inspect.once('end', () => upstream.destroy());
      },
      onJsonVerdict: (verdict) => {
        if (verdict.blocked) {
          this.sendBlocked(state, reply, verdict.reasons);
          upstream.destroy();
        } else {
          reply.send(inspect);
        }
      },
    });
    linkStreams(upstream, inspect, onUpstreamError);
    // A JSON body is held until its verdict, so the status can still become 502.
    if (kind === 'sse') reply.send(inspect);
    return { get firstChunkAt() { return inspect.firstChunkAt; }, get receivedBytes() { return inspect.receivedBytes; } };
  }

  /**
   * Flag mode never lets an inspector bug cost the caller a byte: the response keeps flowing uninspected, the
   * span says `crosstalk.inspection.skipped=inspector_error`, and the error is logged (name and message only).
   */
  private inspectorFailed(state: RequestState, err: unknown): void {
    state.inspector?.skip('inspector_error');
    this.logger.error(
      { requestId: state.requestId, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) },
      'crosstalk inspector failed; forwarding this response uninspected',
    );
  }

  /** At the end of the exchange (complete, failed or aborted): summary → span, log, incident. */
  finish(state: RequestState): InspectionSummary | undefined {
    const inspector = state.inspector;
    if (!inspector) return undefined;
    const summary = inspector.finish();
    const span = state.span;
    span.setAttribute(CROSSTALK_INFLIGHT_API_KEY, summary.inflight.apiKey);
    span.setAttribute(CROSSTALK_INFLIGHT_SESSION, summary.inflight.session);
    span.setAttribute(CROSSTALK_SSE_EVENTS, summary.events);
    if (summary.oversizedEvents > 0) {
      span.setAttribute(CROSSTALK_SSE_OVERSIZED_EVENTS, summary.oversizedEvents);
      this.metrics.oversizedEvents.inc(summary.oversizedEvents);
    }
    if (summary.inspectionSkipped) span.setAttribute(CROSSTALK_INSPECTION_SKIPPED, summary.inspectionSkipped);
    if (summary.completionIdDrift) span.setAttribute(CROSSTALK_COMPLETION_ID_DRIFT, true);
    if (summary.responseModel) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, summary.responseModel);
    if (summary.firstCompletionId) span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, summary.firstCompletionId);
    if (summary.usage?.inputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, summary.usage.inputTokens);
    if (summary.usage?.outputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, summary.usage.outputTokens);
    if (summary.reasons.length === 0) return summary;

    span.setAttribute(CROSSTALK_DETECTED, true);
    span.setAttribute(CROSSTALK_REASONS, summary.reasons);
    span.setAttribute(CROSSTALK_BLOCKED, state.blocked === true);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `crosstalk detected: ${summary.reasons.join(', ')}` });
    const traceId = span.spanContext().traceId;
    this.incidents.add({
      time: new Date().toISOString(),
      requestId: state.requestId,
      traceId,
      method: state.method,
      path: state.path,
      ...(state.sessionId !== undefined && { session: state.sessionId }),
      ...(state.apiKey?.prefix !== undefined && { apiKeyPrefix: state.apiKey.prefix }),
      ...(state.apiKey !== undefined && { apiKeyFingerprint: state.apiKey.fingerprint }),
      ...(state.apiKeyId !== undefined && { apiKeyId: state.apiKeyId }),
      reasons: summary.reasons,
      evidence: summary.findings.map((f) => ({ reason: f.reason, ...f.evidence })),
      blocked: state.blocked === true,
      inflight: summary.inflight,
    });
    this.logger.warn(
      {
        requestId: state.requestId,
        traceId,
        reasons: summary.reasons,
        session: state.sessionId,
        apiKeyPrefix: state.apiKey?.prefix,
        blocked: state.blocked === true,
      },
      'crosstalk detected',
    );
    return summary;
  }
}
