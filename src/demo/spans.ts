/**
 * Where the demo's spans go. With `OTEL_*` set they go where the environment says (a real collector, as the
 * proxy would send them). Without, they go to the console, but only the flagged ones and one line each: the
 * SDK's ConsoleSpanExporter prints ~25 lines per span, and the demo ends ~600 spans, which would bury the
 * result under 15,000 lines. `--spans console` still gives the full exporter output for those who want it.
 */
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ConfigError } from '../errors.js';
import { CROSSTALK_DETECTED, CROSSTALK_REASONS, CROSSTALK_REQUEST_ID } from '../telemetry/attributes.js';
import { resolveTracesExporter, type TracesExporterKind } from '../telemetry/sdk.js';

export const SPAN_MODES = ['flagged', 'console', 'otlp', 'none'] as const;
export type SpanMode = (typeof SPAN_MODES)[number];

/** `--spans` if given; else `OTEL_TRACES_EXPORTER`; else `otlp` when an OTLP endpoint is set; else `flagged`. */
export function resolveSpanMode(flag: string | undefined, env: NodeJS.ProcessEnv): SpanMode {
  if (flag !== undefined) {
    if ((SPAN_MODES as readonly string[]).includes(flag)) return flag as SpanMode;
    throw new ConfigError(`--spans must be one of ${SPAN_MODES.join(', ')} (got ${JSON.stringify(flag)})`);
  }
  if (env.OTEL_TRACES_EXPORTER !== undefined && env.OTEL_TRACES_EXPORTER.trim() !== '') {
    return resolveTracesExporter(env.OTEL_TRACES_EXPORTER);
  }
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return 'otlp';
  return 'flagged';
}

/** The SDK exporter behind a mode (`flagged` prints through {@link FlaggedSpans} instead). */
export function exporterFor(mode: SpanMode): TracesExporterKind {
  return mode === 'flagged' ? 'none' : mode;
}

export interface FlaggedSpan {
  name: string;
  /** `client` (the probe) or `server` (the sidecar). */
  side: string;
  traceId: string;
  requestId: string;
  reasons: string[];
}

/** Counts every span that ends and keeps the flagged ones (`crosstalk.detected = true`) until drained. */
export class FlaggedSpans implements SpanProcessor {
  private ended = 0;
  private flagged: FlaggedSpan[] = [];

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.ended++;
    if (span.attributes[CROSSTALK_DETECTED] !== true) return;
    const reasons = span.attributes[CROSSTALK_REASONS];
    this.flagged.push({
      name: span.name,
      side: span.kind === SpanKind.CLIENT ? 'probe' : span.kind === SpanKind.SERVER ? 'sidecar' : 'internal',
      traceId: span.spanContext().traceId,
      requestId: String(span.attributes[CROSSTALK_REQUEST_ID] ?? ''),
      reasons: Array.isArray(reasons) ? reasons.map(String) : [],
    });
  }

  /** Spans ended and flagged since the last drain. */
  drain(): { ended: number; flagged: FlaggedSpan[] } {
    const out = { ended: this.ended, flagged: this.flagged };
    this.ended = 0;
    this.flagged = [];
    return out;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One line per flagged trace (the probe's client span and the sidecar's server span share it), at most `limit`. */
export function flaggedSpanLines(flagged: readonly FlaggedSpan[], limit: number): string[] {
  const byTrace = new Map<string, FlaggedSpan[]>();
  for (const span of flagged) {
    const list = byTrace.get(span.traceId);
    if (list === undefined) byTrace.set(span.traceId, [span]);
    else list.push(span);
  }
  const lines: string[] = [];
  for (const [traceId, spans] of [...byTrace.entries()].slice(0, limit)) {
    const first = spans[0] as FlaggedSpan;
    const sides = spans.map((s) => `${s.side}: ${s.reasons.join(',')}`).join(' | ');
    lines.push(`    trace ${traceId}  "${first.name}"  ${first.requestId}  ${sides}`);
  }
  if (byTrace.size > limit) lines.push(`    … and ${byTrace.size - limit} more flagged traces`);
  return lines;
}
