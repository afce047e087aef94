/**
 * The end of a flagged chat request as operators see it: the span marked (attributes, status, links to related
 * requests on other replicas), one `/incidents` entry naming every related request with the replica that served it
 * and its trace id (issue 17 item 5), one WARN log line. Ids only, never content or credentials.
 */
import { SpanStatusCode, TraceFlags, type AttributeValue, type Link, type SpanContext } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Finding, JudgeSummary, ReasonCode } from '../inspect/index.js';
import { parseTraceRef } from '../store/records.js';
import type { RemoteRequest } from '../store/shared-store.js';
import {
  CROSSTALK_BLOCKED,
  CROSSTALK_DETECTED,
  CROSSTALK_EVENT_REASON,
  CROSSTALK_EVIDENCE_PREFIX,
  CROSSTALK_LINK_REASON,
  CROSSTALK_REASONS,
  CROSSTALK_REQUEST_ID,
} from '../telemetry/attributes.js';
import type { IncidentLog, RelatedRequest } from './incidents.js';
import type { RequestContext } from './request-context.js';

/** Span event attributes for one finding: the reason and its evidence (ids only, by construction). */
export function findingEventAttributes(finding: Finding): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { [CROSSTALK_EVENT_REASON]: finding.reason };
  for (const [key, value] of Object.entries(finding.evidence)) {
    if (value !== undefined) attributes[CROSSTALK_EVIDENCE_PREFIX + key] = value;
  }
  return attributes;
}

/** A span link to the span of request `requestId`, saying why (`crosstalk.link.reason`). */
export function requestLink(context: SpanContext, requestId: string, reason: string): Link {
  return { context, attributes: { [CROSSTALK_REQUEST_ID]: requestId, [CROSSTALK_LINK_REASON]: reason } };
}

/** What the shared store (issue 17) tells the proxy about other replicas; absent with the in-memory store. */
export interface SharedReplicas {
  /** This replica's id, written into its incidents. */
  replicaId: string;
  /** Another replica's request named in shared records. */
  remoteRequest(requestId: string): RemoteRequest | undefined;
}

/** The span context of a shared `<traceId>-<spanId>`, for a link (sampled: the other replica recorded it). */
export function remoteSpanContext(trace: string | undefined): SpanContext | undefined {
  const ids = parseTraceRef(trace);
  return ids === undefined ? undefined : { ...ids, traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

export interface FlaggedRequest {
  reasons: ReasonCode[];
  findings: Finding[];
  inflight: { apiKey: number; session: number };
  /** Other request ids the findings and pairings name (detection-report.ts `relatedRequestIds`). */
  related: string[];
  completionIds: string[];
  /** The judge's pairings (already linked by the detection report). */
  links?: JudgeSummary['links'];
}

export class IncidentRecorder {
  constructor(
    private readonly deps: {
      incidents: IncidentLog;
      logger: Logger;
      shared?: SharedReplicas | undefined;
      /** The trace id of a finished request of this replica still remembered (detection-report.ts). */
      traceIdOf: (requestId: string) => string | undefined;
    },
  ) {}

  /** Where a related request was served: this replica (its remembered trace), or another one (shared records). */
  relatedRequest(requestId: string): RelatedRequest {
    const { shared } = this.deps;
    const remote = shared?.remoteRequest(requestId);
    if (remote !== undefined) {
      const ids = parseTraceRef(remote.trace);
      return { requestId, replica: remote.replica, ...(ids !== undefined && { traceId: ids.traceId }) };
    }
    const local: RelatedRequest = { requestId };
    if (shared !== undefined) local.replica = shared.replicaId;
    const traceId = this.deps.traceIdOf(requestId);
    if (traceId !== undefined) local.traceId = traceId;
    return local;
  }

  /** Marks the span, links it to related requests on other replicas, adds the incident, logs one line. */
  record(ctx: RequestContext, flagged: FlaggedRequest): void {
    const { reasons, findings, related } = flagged;
    const span = ctx.span;
    span.setAttribute(CROSSTALK_DETECTED, true);
    span.setAttribute(CROSSTALK_REASONS, reasons);
    span.setAttribute(CROSSTALK_BLOCKED, ctx.blocked === true);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `crosstalk detected: ${reasons.join(', ')}` });
    this.linkRemote(ctx, related, findings, flagged.links);
    const traceId = span.spanContext().traceId;
    const shared = this.deps.shared;
    this.deps.incidents.add({
      time: new Date().toISOString(),
      requestId: ctx.requestId,
      traceId,
      method: ctx.method,
      // The route name, never the raw path (a path segment is caller-chosen text).
      path: ctx.route,
      ...(ctx.sessionId !== undefined && { session: ctx.sessionId }),
      ...(ctx.apiKey?.prefix !== undefined && { apiKeyPrefix: ctx.apiKey.prefix }),
      ...(ctx.apiKey !== undefined && { apiKeyFingerprint: ctx.apiKey.fingerprint }),
      ...(ctx.apiKeyId !== undefined && { apiKeyId: ctx.apiKeyId }),
      reasons,
      evidence: findings.map((f) => ({ reason: f.reason, ...f.evidence })),
      blocked: ctx.blocked === true,
      inflight: flagged.inflight,
      relatedRequestIds: related,
      relatedRequests: related.map((id) => this.relatedRequest(id)),
      ...(shared !== undefined && { replica: shared.replicaId }),
      completionIds: flagged.completionIds,
    });
    this.deps.logger.warn(
      { requestId: ctx.requestId, traceId, reasons, apiKeyPrefix: ctx.apiKey?.prefix, blocked: ctx.blocked === true },
      'crosstalk detected',
    );
  }

  /** Span links to related requests served by other replicas (local pairings are linked by the detection report). */
  private linkRemote(ctx: RequestContext, related: readonly string[], findings: readonly Finding[], links: JudgeSummary['links'] = []): void {
    const shared = this.deps.shared;
    if (shared === undefined) return;
    for (const requestId of related) {
      if (links.some((l) => l.requestId === requestId)) continue;
      const context = remoteSpanContext(shared.remoteRequest(requestId)?.trace);
      if (context === undefined) continue;
      const reason = findings.find((f) => f.evidence.other_request_id === requestId)?.reason ?? 'related';
      ctx.span.addLink(requestLink(context, requestId, reason));
    }
  }
}
