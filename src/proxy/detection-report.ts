/**
 * What the gateway-aware detection tells operators at the end of a chat request, beyond its own findings
 * (issue 13): starved and unparsed counts, span links to the requests it was paired with, and findings for OTHER
 * requests (a starved request's partner, the request that taught an overturned name), which go to their incidents
 * (amended, or added) and to a short span in their own trace, linked back. The requests those peers were are
 * remembered briefly by their ids only (trace context, route, identity prefixes), never content or credentials.
 */
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  isSpanContextValid,
  trace,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { Logger } from 'pino';
import { TtlLru, type Finding, type JudgeSummary, type PeerFinding } from '../inspect/index.js';
import {
  CROSSTALK_DETECTED,
  CROSSTALK_REASONS,
  CROSSTALK_RELATED_REQUEST_IDS,
  CROSSTALK_REQUEST_ID,
  SPAN_NAME_PEER_FINDING,
} from '../telemetry/attributes.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import { findingEventAttributes, requestLink } from './incident-recorder.js';
import { MAX_INCIDENT_IDS, type Incident, type IncidentLog, type RelatedRequest } from './incidents.js';
import type { RequestContext } from './request-context.js';

/** What an incident for a request needs, kept after the request ended (ids only). */
export interface RequestSeed {
  spanContext: SpanContext;
  method: string;
  path: string;
  session?: string;
  apiKeyPrefix?: string;
  apiKeyFingerprint?: string;
  apiKeyId?: string;
  inflight: { apiKey: number; session: number };
  completionIds: string[];
}

/** Finished chat requests remembered for a later peer finding. */
const MAX_SEEDS = 10_000;

function isSpanContext(value: unknown): value is SpanContext {
  const v = value as SpanContext | undefined;
  return typeof v?.traceId === 'string' && typeof v.spanId === 'string' && isSpanContextValid(v);
}

/** Other request ids a set of findings and links names (bounded, unique, never this request's own). */
export function relatedRequestIds(self: string, findings: readonly Finding[], links: JudgeSummary['links'] = []): string[] {
  const out: string[] = [];
  const add = (id: unknown): void => {
    if (typeof id === 'string' && id !== '' && id !== self && !out.includes(id) && out.length < MAX_INCIDENT_IDS) out.push(id);
  };
  for (const l of links) add(l.requestId);
  for (const f of findings) {
    add(f.evidence.other_request_id);
    // An echo naming an id the sidecar issued to another request: that request is the other party.
    if (f.reason === 'request_id_mismatch' && f.evidence['rule'] === 'issued_to_other') add(f.evidence.seen);
  }
  return out;
}

export class DetectionReport {
  private readonly seeds: TtlLru<string, RequestSeed>;

  constructor(
    private readonly deps: {
      metrics: ProxyMetrics;
      incidents: IncidentLog;
      logger: Logger;
      tracer: Tracer;
      seedTtlMs: number;
      /** Where a related request was served (replica, trace id), for incidents. */
      relatedOf?: (requestId: string) => RelatedRequest;
    },
  ) {
    this.seeds = new TtlLru({ maxEntries: MAX_SEEDS, ttlMs: deps.seedTtlMs });
  }

  /** The trace id of a finished chat request still remembered here. */
  traceIdOf(requestId: string): string | undefined {
    return this.seeds.get(requestId)?.spanContext.traceId;
  }

  private related(requestId: string): RelatedRequest {
    return this.deps.relatedOf?.(requestId) ?? { requestId };
  }

  seedOf(ctx: RequestContext, summary: JudgeSummary | undefined, inflight: { apiKey: number; session: number }): RequestSeed {
    const seed: RequestSeed = {
      spanContext: ctx.span.spanContext(),
      method: ctx.method,
      path: ctx.route,
      inflight,
      completionIds: summary?.completionIds ?? [],
    };
    if (ctx.sessionId !== undefined) seed.session = ctx.sessionId;
    if (ctx.apiKey?.prefix !== undefined) seed.apiKeyPrefix = ctx.apiKey.prefix;
    if (ctx.apiKey !== undefined) seed.apiKeyFingerprint = ctx.apiKey.fingerprint;
    if (ctx.apiKeyId !== undefined) seed.apiKeyId = ctx.apiKeyId;
    return seed;
  }

  /**
   * The judge's summary at the end of `ctx`: counts, links on this span, peer findings to their incidents and
   * traces. Call before the span ends (links are added to it).
   */
  onJudged(ctx: RequestContext, summary: JudgeSummary, seed: RequestSeed, findings: readonly Finding[]): void {
    const { metrics } = this.deps;
    if (summary.starved) metrics.starvedRequests.inc();
    if (summary.unparsedPayloads > 0) metrics.inspectionDegraded.inc({ reason: 'payload_unparsed' });
    const span = ctx.span;
    const reasonFor = (requestId: string): string =>
      findings.find((f) => f.evidence.other_request_id === requestId)?.reason ?? 'paired';
    for (const l of summary.links) {
      const context = isSpanContext(l.link) ? l.link : this.seeds.get(l.requestId)?.spanContext;
      if (context !== undefined) span.addLink(requestLink(context, l.requestId, reasonFor(l.requestId)));
    }
    const related = relatedRequestIds(ctx.requestId, findings, summary.links);
    for (const p of summary.peerFindings) {
      if (!related.includes(p.requestId) && related.length < MAX_INCIDENT_IDS) related.push(p.requestId);
    }
    if (related.length > 0) span.setAttribute(CROSSTALK_RELATED_REQUEST_IDS, related);
    this.seeds.set(ctx.requestId, seed);
    for (const peer of summary.peerFindings) this.onPeerFinding(ctx, peer, summary);
  }

  /** A finding for another (ended) request: counted, added to its incident, and recorded in its trace. */
  private onPeerFinding(ctx: RequestContext, peer: PeerFinding, summary: JudgeSummary): void {
    const linked = summary.links.find((l) => l.requestId === peer.requestId)?.link;
    this.recordEnded(peer.requestId, peer.finding, { requestId: ctx.requestId, spanContext: ctx.span.spanContext() }, {
      route: ctx.route,
      ...(isSpanContext(linked) && { spanContext: linked }),
    });
    this.deps.logger.warn(
      {
        requestId: peer.requestId,
        traceId: this.traceIdOf(peer.requestId) ?? (isSpanContext(linked) ? linked.traceId : undefined),
        reasons: [peer.finding.reason],
        foundBy: ctx.requestId,
      },
      'crosstalk detected (found by another request)',
    );
  }

  /**
   * A late shared finding for a request of this replica that has ended (issue 17 item 2): its incident amended or
   * added, a short span in its trace linked to the other replica's request span. A request no longer remembered here
   * is counted only (the log line names it).
   */
  onLateFinding(requestId: string, finding: Finding, other: { requestId: string; spanContext?: SpanContext | undefined }): void {
    if (this.seeds.get(requestId) === undefined) this.deps.metrics.detected.inc({ reason: finding.reason });
    else this.recordEnded(requestId, finding, other, {});
  }

  private recordEnded(
    requestId: string,
    finding: Finding,
    foundBy: { requestId: string; spanContext?: SpanContext | undefined },
    fallback: { route?: string; spanContext?: SpanContext },
  ): void {
    const { metrics, incidents, tracer } = this.deps;
    metrics.detected.inc({ reason: finding.reason });
    const seed = this.seeds.get(requestId);
    const peerContext = seed?.spanContext ?? fallback.spanContext;
    const related = [this.related(foundBy.requestId)];
    const relatedIds = related.map((r) => r.requestId);
    const evidence = { ...finding.evidence };
    if (!incidents.amend(requestId, finding.reason, evidence, related)) {
      const incident: Incident = {
        time: new Date().toISOString(),
        requestId,
        traceId: peerContext?.traceId ?? '',
        method: seed?.method ?? 'POST',
        path: seed?.path ?? fallback.route ?? 'other',
        reasons: [finding.reason],
        evidence: [{ reason: finding.reason, ...evidence }],
        blocked: false,
        inflight: seed?.inflight ?? { apiKey: 0, session: 0 },
        relatedRequestIds: relatedIds,
        relatedRequests: related,
        completionIds: seed?.completionIds ?? [],
      };
      const self = this.related(requestId).replica;
      if (self !== undefined) incident.replica = self;
      if (seed?.session !== undefined) incident.session = seed.session;
      if (seed?.apiKeyPrefix !== undefined) incident.apiKeyPrefix = seed.apiKeyPrefix;
      if (seed?.apiKeyFingerprint !== undefined) incident.apiKeyFingerprint = seed.apiKeyFingerprint;
      if (seed?.apiKeyId !== undefined) incident.apiKeyId = seed.apiKeyId;
      incidents.add(incident);
    }
    // The request's span has ended: a short span in its trace carries the finding, linked to the finder's span.
    if (peerContext !== undefined) {
      const links = foundBy.spanContext === undefined ? [] : [requestLink(foundBy.spanContext, foundBy.requestId, finding.reason)];
      const span = tracer.startSpan(
        SPAN_NAME_PEER_FINDING,
        {
          links,
          attributes: {
            [CROSSTALK_REQUEST_ID]: requestId,
            [CROSSTALK_DETECTED]: true,
            [CROSSTALK_REASONS]: [finding.reason],
            [CROSSTALK_RELATED_REQUEST_IDS]: relatedIds,
            ...findingEventAttributes(finding),
          },
        },
        trace.setSpanContext(ROOT_CONTEXT, peerContext),
      );
      span.setStatus({ code: SpanStatusCode.ERROR, message: `crosstalk detected: ${finding.reason}` });
      span.end();
    }
  }
}
