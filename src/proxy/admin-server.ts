import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errors } from '../errors.js';
import type { ProxyMetrics } from '../telemetry/metrics.js';
import type { IncidentLog } from './incidents.js';
import type { ProxyConfig } from './options.js';
import { checkUpstreamReachable, type Reachability } from './readiness.js';

/** `/readyz` probes the upstream at most this often; callers in between share the last answer (issue 14 row 10). */
export const READINESS_PROBE_INTERVAL_MS = 1_000;

/**
 * The upstream check behind `/readyz`, rate-limited: at most one handshake per interval, however many probes
 * arrive, and concurrent probes share the one in flight (2,000 calls used to hold 4,000 sockets).
 */
export class ReadinessCache {
  private last: { at: number; result: Reachability } | undefined;
  private inFlight: Promise<Reachability> | undefined;

  constructor(
    private readonly check: () => Promise<Reachability>,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = READINESS_PROBE_INTERVAL_MS,
  ) {}

  get(): Promise<Reachability> {
    if (this.last && this.now() - this.last.at < this.intervalMs) return Promise.resolve(this.last.result);
    if (!this.inFlight) {
      this.inFlight = this.check().then((result) => {
        this.last = { at: this.now(), result };
        this.inFlight = undefined;
        return result;
      });
    }
    return this.inFlight;
  }
}

/** A constant-time bearer check: the token's digest against the header's, so neither length nor prefix leaks. */
function bearerGuard(token: string | undefined) {
  if (token === undefined) return undefined;
  const want = createHash('sha256').update(token).digest();
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const got = createHash('sha256').update(given).digest();
    if (given === '' || !timingSafeEqual(got, want)) {
      // No echo of what was sent: the header is a credential even when it is the wrong one.
      return reply.code(401).header('www-authenticate', 'Bearer').send(new errors.CROSSTALK_ERR_UNAUTHORIZED(request.routeOptions.url));
    }
  };
}

/**
 * The admin port: never proxied, never reachable through the gateway-facing port. `/healthz` and `/readyz` answer
 * anyone (kubelet probes); `/metrics` and `/incidents` (session ids, key fingerprints) need the bearer token from
 * `--admin-token-file` when one is set.
 */
export function buildAdminServer(deps: {
  config: ProxyConfig;
  metrics: ProxyMetrics;
  incidents: IncidentLog;
  logger: Logger;
  readiness?: ReadinessCache;
}): FastifyInstance {
  const { config, metrics, incidents } = deps;
  const admin = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const readiness = deps.readiness ?? new ReadinessCache(() => checkUpstreamReachable(config.upstream));
  const guard = bearerGuard(config.adminToken);
  const protectedRoute = guard ? { onRequest: guard } : {};

  admin.get('/healthz', async () => ({ status: 'ok' }));

  admin.get('/readyz', async (_request, reply) => {
    const result = await readiness.get();
    if (result.ok) return { status: 'ready', upstream: 'reachable' };
    return reply.code(503).send({ status: 'not_ready', upstream: 'unreachable', reason: result.reason });
  });

  admin.get('/metrics', protectedRoute, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  admin.get<{ Querystring: { limit?: string } }>('/incidents', protectedRoute, async (request) => {
    const limit = Number(request.query.limit);
    const items = incidents.list(Number.isInteger(limit) && limit > 0 ? limit : undefined);
    return { total: incidents.count, incidents: items };
  });

  return admin;
}
