import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import type { IncidentLog } from './incidents.js';
import type { ProxyConfig } from './options.js';
import { checkUpstreamReachable } from './readiness.js';

/** The admin port: never proxied, never reachable through the gateway-facing port. */
export function buildAdminServer(deps: {
  config: ProxyConfig;
  metrics: ProxyMetrics;
  incidents: IncidentLog;
  logger: Logger;
}): FastifyInstance {
  const { config, metrics, incidents } = deps;
  const admin = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });

  admin.get('/healthz', async () => ({ status: 'ok' }));

  admin.get('/readyz', async (_request, reply) => {
    const result = await checkUpstreamReachable(config.upstream);
    if (result.ok) return { status: 'ready', upstream: 'reachable' };
    return reply.code(503).send({ status: 'not_ready', upstream: 'unreachable', reason: result.reason });
  });

  admin.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  admin.get<{ Querystring: { limit?: string } }>('/incidents', async (request) => {
    const limit = Number(request.query.limit);
    const items = incidents.list(Number.isInteger(limit) && limit > 0 ? limit : undefined);
    return { total: incidents.count, incidents: items };
  });

  return admin;
}
