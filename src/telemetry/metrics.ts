import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  METRIC_DETECTED_TOTAL,
  METRIC_INFLIGHT,
  METRIC_REQUEST_DURATION,
  METRIC_REQUEST_ID_REJECTED_TOTAL,
  METRIC_REQUESTS_TOTAL,
  METRIC_SSE_OVERSIZED_EVENTS_TOTAL,
  METRIC_TIME_TO_FIRST_CHUNK,
  METRIC_UPSTREAM_ERRORS_TOTAL,
} from './attributes.js';

const MAX_CACHED_LABEL_SETS = 1024;

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

  /** `crosstalk_time_to_first_chunk_seconds` for one response. */
  recordTimeToFirstChunk(route: string, seconds: number): void {
    let child = this.ttfcChildren.get(route);
    if (child === undefined) {
      child = this.timeToFirstChunk.labels(route);
      if (this.ttfcChildren.size < MAX_CACHED_LABEL_SETS) this.ttfcChildren.set(route, child);
    }
    child.observe(seconds);
  }

  constructor({ processMetrics = false }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'crosstalk_' });
  }

  /** Pre-declares every reason so dashboards show zeros rather than gaps. */
  initReasons(reasons: readonly string[]): void {
    for (const reason of reasons) this.detected.inc({ reason }, 0);
  }
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
