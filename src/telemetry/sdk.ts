import { TraceFlags, trace, type Context, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  StackContextManager,
  type BatchSpanProcessorOptions,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ConfigError } from '../errors.js';
import { processSpanExportCounts, type SpanExportCounts } from './metrics.js';
import { VERSION } from '../version.js';

export const DEFAULT_SERVICE_NAME = 'crosstalk-sidecar';
export const TRACER_NAME = 'crosstalk';

export type TracesExporterKind = 'otlp' | 'console' | 'none';

export interface Telemetry {
  tracer: Tracer;
  /**
   * Flushes pending spans and stops the SDK, waiting at most `DEFAULT_FLUSH_TIMEOUT_MS`: a one-shot job
   * (audit, probe) must not hang on its way out because no collector is listening. Safe to call twice.
   */
  shutdown(): Promise<void>;
}

/** How long shutdown waits for the last spans to reach the collector. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 3_000;

export interface TelemetryOptions {
  /** Defaults to `OTEL_SERVICE_NAME`, then `crosstalk-sidecar`. */
  serviceName?: string;
  /** Overrides `OTEL_TRACES_EXPORTER`. */
  exporter?: TracesExporterKind;
  /** Extra processors (tests pass an in-memory one). */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
  /** Overrides {@link DEFAULT_FLUSH_TIMEOUT_MS}. */
  flushTimeoutMs?: number;
  /**
   * Where exported and dropped spans are counted (`crosstalk_spans_exported_total`,
   * `crosstalk_spans_dropped_total` on the admin `/metrics`); defaults to the process's counts, which every
   * `ProxyMetrics` reads.
   */
  spanCounts?: SpanExportCounts;
  /** Overrides the exporter `exporter` names (tests pass one aimed at a loopback receiver). */
  spanExporter?: SpanExporter;
}

/**
 * Reads `OTEL_TRACES_EXPORTER` the way the spec does (comma-separated list, first supported value wins,
 * default `otlp`). We build the exporter ourselves so `otlp` always means the OTLP/HTTP (JSON) exporter.
 */
export function resolveTracesExporter(value: string | undefined): TracesExporterKind {
  if (value === undefined || value.trim() === '') return 'otlp';
  for (const part of value.split(',').map((p) => p.trim().toLowerCase())) {
    if (part === 'otlp' || part === 'console' || part === 'none') return part;
  }
  throw new ConfigError(`OTEL_TRACES_EXPORTER must be otlp, console or none (got ${JSON.stringify(value)})`);
}

function exporterFor(kind: TracesExporterKind): SpanExporter | undefined {
  switch (kind) {
    case 'otlp':
      // Reads OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / *_HEADERS itself.
      return new OTLPTraceExporter();
    case 'console':
      return new ConsoleSpanExporter();
    case 'none':
      return undefined;
  }
}

/**
 * Batch defaults for a proxy on the hot path. Serialising a batch blocks the event loop that also relays every
 * stream: the stock 512-span batch every 5 s stalled it for tens of milliseconds and added ~120 ms to the p99 of
 * 5 ms-spaced streams in `npm run bench`. Each export is also an HTTP request with a fixed cost (~0.35 ms of CPU
 * on loopback), paid per batch: at 4,000 spans/s, batches of 16 cost 43 µs of CPU per span, batches of 128 cost
 * 22 µs (`bench/tracing-micro.ts`). So: at most 128 spans (~1 ms of serialising) per export, and at least every
 * 100 ms, so a paced stream meets at most a small batch. The queue is larger than the stock 2,048 so bursts are
 * not dropped while batches drain.
 */
export const DEFAULT_BSP = { scheduledDelayMillis: 100, maxExportBatchSize: 128, maxQueueSize: 8192 } as const;

/** The spec's `OTEL_BSP_*` variables (the 2.x processor no longer reads them itself), over {@link DEFAULT_BSP}. */
export function batchOptionsFromEnv(env: NodeJS.ProcessEnv): {
  scheduledDelayMillis: number;
  maxExportBatchSize: number;
  maxQueueSize: number;
  exportTimeoutMillis?: number;
} {
  const num = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number ≥ 0 (got ${JSON.stringify(v)})`);
    return n;
  };
  const maxQueueSize = num('OTEL_BSP_MAX_QUEUE_SIZE') ?? DEFAULT_BSP.maxQueueSize;
  const out: ReturnType<typeof batchOptionsFromEnv> = {
    scheduledDelayMillis: num('OTEL_BSP_SCHEDULE_DELAY') ?? DEFAULT_BSP.scheduledDelayMillis,
    // The SDK requires batch ≤ queue.
    maxExportBatchSize: Math.min(num('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? DEFAULT_BSP.maxExportBatchSize, maxQueueSize),
    maxQueueSize,
  };
  const timeout = num('OTEL_BSP_EXPORT_TIMEOUT');
  if (timeout !== undefined) out.exportTimeoutMillis = timeout;
  return out;
}

/**
 * Counts what the wrapped exporter reports for each batch: delivered spans as exported, a failed batch's spans as
 * dropped (`export_failed`). The SDK's batch processor only logs a failed export at debug level through `diag`,
 * so without this a collector that is down loses every span silently (issue 14, row 14).
 */
export class CountingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly counts: SpanExportCounts,
    /** Called with the batch size when a batch leaves the processor's queue. */
    private readonly onHandOff: (spans: number) => void = () => undefined,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const n = spans.length;
    this.onHandOff(n);
    let settled = false;
    const settle = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      if (result.code === ExportResultCode.SUCCESS) this.counts.exported += n;
      else this.counts.droppedExportFailed += n;
      resultCallback(result);
    };
    try {
      this.inner.export(spans, settle);
    } catch (err) {
      settle({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The SDK's BatchSpanProcessor with its losses counted. That processor drops a span silently when its queue is
 * full (one `diag.warn` later, no counter), and its queue is private, so this wrapper keeps the queue bound
 * itself: a span is queued when it ends and leaves the queue when its batch is handed to the exporter. At the
 * bound the wrapper drops the span and counts it (`queue_full`); the inner processor, given the same bound,
 * therefore never reaches its own, and every loss is counted exactly once.
 */
export class CountingBatchSpanProcessor implements SpanProcessor {
  private readonly inner: BatchSpanProcessor;
  private readonly maxQueueSize: number;
  private queued = 0;
  private stopped = false;

  constructor(
    options: BatchSpanProcessorOptions,
    private readonly counts: SpanExportCounts = processSpanExportCounts,
  ) {
    // The SDK's own default when none is given.
    this.maxQueueSize = options.maxQueueSize ?? 2048;
    const exporter = new CountingSpanExporter(options.exporter, counts, (n) => {
      this.queued = Math.max(0, this.queued - n);
    });
    this.inner = new BatchSpanProcessor({ ...options, exporter, maxQueueSize: this.maxQueueSize });
  }

  /** Spans ended and not yet handed to the exporter. */
  get queueLength(): number {
    return this.queued;
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // The inner processor ignores these too: nothing to queue, nothing lost.
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.maxQueueSize) {
      this.counts.droppedQueueFull += 1;
      return;
    }
    this.queued += 1;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    return this.inner.shutdown();
  }
}

/**
 * Starts the OpenTelemetry NodeSDK once for the process (proxy, audit, probe and demo share it).
 * No auto-instrumentation: crosstalk creates its own spans, so nothing else in the process is traced twice.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  const kind = options.exporter ?? resolveTracesExporter(env.OTEL_TRACES_EXPORTER);
  const exporter = options.spanExporter ?? exporterFor(kind);
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (exporter) {
    spanProcessors.push(
      new CountingBatchSpanProcessor({ exporter, ...batchOptionsFromEnv(env) }, options.spanCounts ?? processSpanExportCounts),
    );
  }

  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? env.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    spanProcessors,
    instrumentations: [],
    // Resource detectors shell out / probe cloud metadata endpoints; a sidecar needs none of that.
    autoDetectResources: false,
    // crosstalk passes span contexts explicitly and propagates with its own W3C propagator, so it needs neither
    // the SDK's default AsyncLocalStorage context manager nor a global propagator. That manager turns on async
    // hooks for the whole process the first time anything calls context.with() — the span processor does, on
    // every export — which taxes every promise and socket callback of the proxy (in `npm run bench` it cost
    // ~0.17 ms of CPU per request at c64, about as much as everything else the sidecar adds).
    contextManager: new StackContextManager(),
    textMapPropagator: null,
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  const shutdownBounded = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS);
      timer.unref();
    });
    const result = await Promise.race([sdk.shutdown().then(() => 'done' as const, () => 'failed' as const), timeout]);
    clearTimeout(timer);
    if (result !== 'done') {
      console.error(`crosstalk: telemetry: some spans were not exported (${result === 'timeout' ? 'collector did not answer in time' : 'export failed'})`);
    }
  };
  return {
    tracer: trace.getTracer(TRACER_NAME, VERSION),
    shutdown: () => (stopped ??= shutdownBounded()),
  };
}
