import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  METRIC_DETECTED_TOTAL,
  METRIC_IDENTITY_TRUNCATED_TOTAL,
  METRIC_INFLIGHT,
  METRIC_INFLIGHT_BY_ROUTE,
  METRIC_INSPECTION_DEGRADED_TOTAL,
  METRIC_REQUEST_DURATION,
  METRIC_REQUEST_ID_REJECTED_TOTAL,
  METRIC_REQUESTS_TOTAL,
  METRIC_RESPONSES_INSPECTED_TOTAL,
  METRIC_SPANS_DROPPED_TOTAL,
  METRIC_SPANS_EXPORTED_TOTAL,
  METRIC_SSE_OVERSIZED_EVENTS_TOTAL,
  METRIC_STARVED_REQUESTS_TOTAL,
  METRIC_STORE_UP,
  METRIC_STORE_RECORDS_TOTAL,
  METRIC_TIME_TO_FIRST_CHUNK,
  METRIC_UPSTREAM_ERRORS_TOTAL,
} from './attributes.js';

const MAX_CACHED_LABEL_SETS = 1024;

/** Why the inspector gave up on one response (`crosstalk_inspection_degraded_total{reason}`), all pre-declared. */
export const INSPECTION_DEGRADED_REASONS = [
  'inspector_error',
  'event_too_large',
  'json_body_too_large',
  'content_encoding',
  'payload_unparsed',
  'global_json_cap',
] as const;
export type InspectionDegradedReason = (typeof INSPECTION_DEGRADED_REASONS)[number];

/** `crosstalk_responses_inspected_total{result}`: chat responses by inspection coverage. */
export const INSPECTION_RESULTS = ['inspected', 'uninspected'] as const;

/** Identity values that are capped before they reach spans and registries (more can be declared at run time). */
export const IDENTITY_FIELDS = ['session_id', 'model_id', 'api_key_id'] as const;

/** Route templates whose in-flight gauge is pre-declared (the dashboard shows zeros, not gaps). */
export const KNOWN_ROUTES = ['/v1/chat/completions', '/v1/models', '/v1/embeddings', '/healthcheck'] as const;

/** `crosstalk_spans_dropped_total{reason}`. */
export const SPAN_DROP_REASONS = ['queue_full', 'export_failed'] as const;

/**
 * Spans the OTLP pipeline exported or lost, written by the counting span processor (`src/telemetry/sdk.ts`) and
 * read by every {@link ProxyMetrics} at scrape time. Plain numbers, so counting costs nothing on the hot path and
 * telemetry can start before (or without) a metrics registry.
 */
export class SpanExportCounts {
  /** Spans the exporter reported as delivered. */
  exported = 0;
  /** Spans refused because the processor's queue was full (the collector is slower than the traffic). */
  droppedQueueFull = 0;
  /** Spans in a batch the exporter reported as failed (collector down, refusing, timing out). */
  droppedExportFailed = 0;
}

/** The process's counts: `startTelemetry()` writes them and `new ProxyMetrics()` reads them unless told otherwise. */
export const processSpanExportCounts = new SpanExportCounts();

/**
 * How often the event-loop-lag monitor (`crosstalk_nodejs_eventloop_lag_*`) samples, in milliseconds.
 * prom-client's default of 10 ms wakes the loop 100 times a second, idle or not: on paced streams that was 42%
 * more `epoll_pwait` wake-ups than a bare proxy makes (5,907 vs 4,152), and 30 ms of CPU per idle 10 s. At 100 ms the
 * monitor wakes 10 times a second. The trade-off: a stall shorter than this is caught only with probability
 * stall / resolution (a 20 ms stall one time in five), while every stall longer than it is measured in full; the
 * lag p99 the dashboard plots is about stalls of tens of milliseconds and more, which this still sees.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 100;

export interface ProxyMetricsOptions {
  /** prom-client's process metrics (RSS, heap, event-loop lag), prefixed `crosstalk_`. */
  processMetrics?: boolean;
  /** Where the span counters are read from; defaults to {@link processSpanExportCounts}. */
  spanCounts?: SpanExportCounts;
}

/**
 * The proxy's Prometheus metrics, in a registry of its own (several proxies can live in one test process).
 * Labels are low-cardinality by construction: route templates, status classes, error codes, reason codes.
 * No label ever carries a key, a session id or a request id.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: METRIC_REQUESTS_TOTAL,
    help: 'Requests proxied, by method, route template and status code class',
    labelNames: ['method', 'route', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: METRIC_INFLIGHT,
    help: 'Requests currently in flight through the proxy',
    registers: [this.registry],
  });
  /** The same count by route template; moved by {@link requestStarted} / {@link requestEnded}. */
  readonly inFlightByRoute = new Gauge({
    name: METRIC_INFLIGHT_BY_ROUTE,
    help: 'Requests currently in flight through the proxy, by route template',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: METRIC_UPSTREAM_ERRORS_TOTAL,
    help: 'Upstream failures (before or after response headers), by error type',
    labelNames: ['error_type', 'phase'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: METRIC_REQUEST_DURATION,
    help: 'Time from request start to the end of the response, seconds',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly timeToFirstChunk = new Histogram({
    name: METRIC_TIME_TO_FIRST_CHUNK,
    help: 'Time from request start to the first response body byte, seconds',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly detected = new Counter({
    name: METRIC_DETECTED_TOTAL,
    help: 'Responses flagged as crosstalk, by reason code',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly requestIdRejected = new Counter({
    name: METRIC_REQUEST_ID_REJECTED_TOTAL,
    help: 'Incoming x-request-id values rejected as invalid (a new id was generated)',
    registers: [this.registry],
  });
  readonly oversizedEvents = new Counter({
    name: METRIC_SSE_OVERSIZED_EVENTS_TOTAL,
    help: 'SSE events over the size cap: forwarded but not inspected',
    registers: [this.registry],
  });
  /** One response the inspector gave up on (it was forwarded uninspected); `.inc({ reason })`. */
  readonly inspectionDegraded = new Counter({
    name: METRIC_INSPECTION_DEGRADED_TOTAL,
    help: 'Responses the inspector gave up on (forwarded uninspected), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Every chat response once, `.inc({ result: 'inspected' | 'uninspected' })`. */
  readonly responsesInspected = new Counter({
    name: METRIC_RESPONSES_INSPECTED_TOTAL,
    help: 'Chat responses by inspection coverage (inspected to the end, or not)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** A 200 chat answer with no completion content, counted whether or not it was flagged. */
  readonly starvedRequests = new Counter({
    name: METRIC_STARVED_REQUESTS_TOTAL,
    help: 'Chat answers with status 200 and no completion content (a starved recipient, flagged or not)',
    registers: [this.registry],
  });
  /** 1 while the shared store answers (or the store is in memory), 0 while it is unreachable. */
  readonly storeUp = new Gauge({
    name: METRIC_STORE_UP,
    help: 'Whether the inspector store is reachable (1; the in-memory store always is) or not (0)',
    // Under --workers the primary aggregates the workers' registries: 0 as soon as any worker lost the store.
    aggregator: 'min',
    registers: [this.registry],
  });
  /** Shared-store records (issue 17): sent, received from other replicas, dropped (queue full), rejected (invalid). */
  readonly storeRecords = new Counter({
    name: METRIC_STORE_RECORDS_TOTAL,
    help: 'Shared detection store records: sent, received (from other replicas), dropped (queue full while Redis was away), rejected (invalid)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  /** An identity value (session id, key id…) longer than its cap, cut before it reached spans or registries. */
  readonly identityTruncated = new Counter({
    name: METRIC_IDENTITY_TRUNCATED_TOTAL,
    help: 'Identity values (session id, key id) cut to their cap, by field',
    labelNames: ['field'] as const,
    registers: [this.registry],
  });
  readonly spansExported: Counter;
  readonly spansDropped: Counter<'reason'>;

  /**
   * Label-bound children of the per-request metrics, by label values: prom-client otherwise sorts and hashes the
   * label object on every call (measured ~5 µs per request for the three of them). Bounded: past the cap the
   * plain labelled call is used.
   */
  private readonly children = new Map<string, { requests: { inc(): void }; duration: { observe(v: number): void } }>();
  private readonly ttfcChildren = new Map<string, { observe(v: number): void }>();

  /** One finished request: `crosstalk_requests_total` and `crosstalk_request_duration_seconds`. */
  recordRequest(method: string, route: string, status: number, seconds: number): void {
    const statusLabel = statusClass(status);
    const key = `${method} ${statusLabel} ${route}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = { requests: this.requests.labels(method, route, statusLabel), duration: this.duration.labels(route) };
      if (this.children.size < MAX_CACHED_LABEL_SETS) this.children.set(key, child);
    }
    child.requests.inc();
    child.duration.observe(seconds);
  }

  /** A request entered the proxy: both in-flight gauges (total and by route) go up. */
  requestStarted(route: string): void {
    this.inFlight.inc();
    this.routeGauge(route).inc();
  }

  /** The request left (every end: complete, aborted, failed): the gauges {@link requestStarted} moved go down. */
  requestEnded(route: string): void {
    this.inFlight.dec();
    this.routeGauge(route).dec();
  }

  private readonly routeGauges = new Map<string, { inc(): void; dec(): void }>();

  /** The by-route gauge's child for `route`, bound once (route names are a fixed set: route-name.ts). */
  private routeGauge(route: string): { inc(): void; dec(): void } {
    let child = this.routeGauges.get(route);
    if (child === undefined) {
      child = this.inFlightByRoute.labels(route);
      if (this.routeGauges.size < MAX_CACHED_LABEL_SETS) this.routeGauges.set(route, child);
    }
    return child;
  }

  /** `crosstalk_time_to_first_chunk_seconds` for one response. */
  recordTimeToFirstChunk(route: string, seconds: number): void {
    let child = this.ttfcChildren.get(route);
    if (child === undefined) {
      child = this.timeToFirstChunk.labels(route);
      if (this.ttfcChildren.size < MAX_CACHED_LABEL_SETS) this.ttfcChildren.set(route, child);
    }
    child.observe(seconds);
  }

  constructor({ processMetrics = false, spanCounts = processSpanExportCounts }: ProxyMetricsOptions = {}) {
    if (processMetrics) {
      collectDefaultMetrics({
        register: this.registry,
        prefix: 'crosstalk_',
        eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_RESOLUTION_MS,
      });
    }
    // Read at scrape time from the plain counts the span processor keeps (a counter's value is set, not added,
    // so several registries can show the same process-wide numbers).
    this.spansExported = new Counter({
      name: METRIC_SPANS_EXPORTED_TOTAL,
      help: 'Spans the OTLP exporter delivered to the collector',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(spanCounts.exported);
      },
    });
    this.spansDropped = new Counter({
      name: METRIC_SPANS_DROPPED_TOTAL,
      help: 'Spans lost before the collector: queue_full (the export queue was full) or export_failed',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ reason: 'queue_full' }, spanCounts.droppedQueueFull);
        this.inc({ reason: 'export_failed' }, spanCounts.droppedExportFailed);
      },
    });
    // Pre-declared label values: dashboards and alert rules see zeros rather than no series.
    for (const reason of INSPECTION_DEGRADED_REASONS) this.inspectionDegraded.inc({ reason }, 0);
    for (const result of INSPECTION_RESULTS) this.responsesInspected.inc({ result }, 0);
    this.initIdentityFields(IDENTITY_FIELDS);
    this.initRoutes(KNOWN_ROUTES);
    this.storeUp.set(1);
  }

  /** Pre-declares every reason so dashboards show zeros rather than gaps. */
  initReasons(reasons: readonly string[]): void {
    for (const reason of reasons) this.detected.inc({ reason }, 0);
  }

  /** Pre-declares `crosstalk_proxy_requests_in_flight_by_route{route}` at 0 for every route the proxy can name. */
  initRoutes(routes: readonly string[]): void {
    for (const route of routes) this.inFlightByRoute.inc({ route }, 0);
  }

  /** Pre-declares `crosstalk_identity_truncated_total{field}` for fields beyond {@link IDENTITY_FIELDS}. */
  initIdentityFields(fields: readonly string[]): void {
    for (const field of fields) this.identityTruncated.inc({ field }, 0);
  }
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
