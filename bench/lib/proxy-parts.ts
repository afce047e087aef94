/**
 * The sidecar's per-request parts without its servers: the request-context deps and ProxyInspection over an
 * in-memory detection store, a real (unexported) SDK tracer, silent logger. For bench/request-micro.ts and the
 * tests that drive a request's lifecycle by hand.
 */
import { TracerProvider } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { Detection, MemoryDetectionStore } from '../../src/inspect/index.js';
import { ApiKeyIdentifier } from '../../src/proxy/api-key.js';
import { IncidentLog } from '../../src/proxy/incidents.js';
import { ProxyInspection } from '../../src/proxy/inspection.js';
import { proxyConfigFor } from '../../src/proxy/options.js';
import { upstreamServer, type RequestContextDeps } from '../../src/proxy/request-context.js';
import { ProxyMetrics } from '../../src/telemetry/metrics.js';

export interface ProxyParts {
  deps: RequestContextDeps;
  inspection: ProxyInspection;
  metrics: ProxyMetrics;
  logger: pino.Logger;
}

export function proxyParts(upstream: string, fingerprintSecret = 'crosstalk-bench'): ProxyParts {
  const config = proxyConfigFor(upstream);
  const metrics = new ProxyMetrics();
  const logger = pino({ level: 'silent' });
  const tracer = new TracerProvider().getTracer('crosstalk');
  const detection = new Detection({ store: new MemoryDetectionStore(), sessionScope: config.sessionScope });
  const inspection = new ProxyInspection(config, metrics, new IncidentLog(config.incidentsLimit), logger, detection, tracer);
  const deps: RequestContextDeps = {
    tracer,
    metrics,
    keys: new ApiKeyIdentifier(fingerprintSecret),
    apiKeyHeader: config.apiKeyHeader,
    ...upstreamServer(config.upstream),
  };
  return { deps, inspection, metrics, logger };
}
