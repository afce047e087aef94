import type { Tracer } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

export interface TestTracing {
  tracer: Tracer;
  exporter: InMemorySpanExporter;
  /** Finished spans with this exact name. */
  spansNamed(name: string): ReadableSpan[];
  shutdown(): Promise<void>;
}

/** A tracer whose finished spans land in memory (OTel contrib test style); no globals are touched. */
export function createTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    tracer: provider.getTracer('crosstalk-test'),
    exporter,
    spansNamed: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
    shutdown: () => provider.shutdown(),
  };
}
