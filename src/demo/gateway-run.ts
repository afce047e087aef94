/**
 * The demo's gateway-shaped traffic (issue 13): what the sidecar really sees behind the Morpheus gateway —
 * `session_id` + `X-Session-ID`, Basic auth, no `model` in the body, no API key — from the simulated gateway
 * (pooled sessions for `shared-reply`, the older session-per-key gateway for `swap`), through a fresh sidecar, to the
 * simulated router. Every prompt carries a nonce the simulated provider writes back: the ground truth each
 * request is scored against (its own answer, another's, or nothing while another got two).
 */
import { randomBytes } from 'node:crypto';
import type { Tracer } from '@opentelemetry/api';
import { proxyConfigFor } from '../proxy/options.js';
import { createProxyServer } from '../proxy/server.js';
import { NONCE_PATTERN, SimulatedGateway, type GatewayMode, type SimBug, type SimulatedRouter } from '../simulator/index.js';
import { createLogger } from '../telemetry/logger.js';

export interface GatewayRunResult {
  mode: GatewayMode;
  requests: number;
  /** 200 answers with no content (their answer went elsewhere), and how many the sidecar flagged. */
  starved: { total: number; flagged: number };
  /** Answers holding another request's answer (or several), and how many were flagged. */
  recipients: { total: number; flagged: number };
  /** Of those, answers from another model than asked. */
  crossModel: { total: number; flagged: number };
  /** Requests that got exactly their own answer, and how many were (wrongly) flagged. */
  innocents: { total: number; flagged: number };
}

const WARM_UP_ROUNDS = 2;
const USERS = 4;
const PER_USER = 5;

function noncesIn(body: string): Set<string> {
  const out = new Set<string>();
  for (const line of body.split('\n')) {
    const m = NONCE_PATTERN.exec(line);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

export async function runGatewayTraffic(options: {
  router: SimulatedRouter;
  bug: SimBug;
  models: readonly string[];
  tracer: Tracer;
}): Promise<GatewayRunResult> {
  const { router, bug, models } = options;
  const mode: GatewayMode = bug === 'swap' ? 'session-per-key' : 'pooled';
  const sidecar = createProxyServer(
    proxyConfigFor(router.url, { fingerprintSecret: randomBytes(16).toString('hex'), logLevel: 'silent', sessionScope: mode === 'pooled' ? 'shared' : 'key' }),
    { tracer: options.tracer, logger: createLogger('silent') },
  );
  const { url } = await sidecar.listen();
  const gateway = new SimulatedGateway({ baseUrl: url, mode, auth: router.auth });
  const exchanges: { requestId: string; nonce: string; model: string; status: number; body: string; models: string[] }[] = [];
  let n = 0;
  const one = async (user: number, model: string): Promise<void> => {
    const nonce = `g${++n}x${randomBytes(3).toString('hex')}`;
    const requestId = `gw-${bug}-${n}`;
    const r = await gateway.chat({
      // Selects the user's session (session-per-key); the gateway never forwards it.
      apiKey: `user-${user}`,
      model,
      messages: [{ role: 'user', content: `Say something short. nonce:${nonce}` }],
      headers: { 'x-request-id': requestId },
    });
    exchanges.push({ requestId, nonce, model, status: r.status, body: r.body, models: r.models });
  };
  try {
    // A clean warm-up (the router's bug off): each model answers on a few sessions, so its names are known.
    router.setBug('none');
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      for (const model of models) await Promise.all([one(0, model), one(1, model)]);
    }
    const warm = exchanges.length;
    router.setBug(bug);
    await Promise.all(
      Array.from({ length: USERS }, async (_, u) => {
        for (let i = 0; i < PER_USER; i++) await one(u + 2, models[(u + i) % models.length] as string);
      }),
    );
    for (let i = 0; i < 1000 && sidecar.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
    const flagged = new Set(sidecar.incidents.list().map((i) => i.requestId));
    const result: GatewayRunResult = {
      mode,
      requests: exchanges.length - warm,
      starved: { total: 0, flagged: 0 },
      recipients: { total: 0, flagged: 0 },
      crossModel: { total: 0, flagged: 0 },
      innocents: { total: 0, flagged: 0 },
    };
    const count = (c: { total: number; flagged: number }, hit: boolean) => {
      c.total++;
      if (hit) c.flagged++;
    };
    for (const x of exchanges) {
      const nonces = noncesIn(x.body);
      const hit = flagged.has(x.requestId);
      if (x.status === 200 && nonces.size === 0) count(result.starved, hit);
      else if (nonces.size === 1 && nonces.has(x.nonce)) count(result.innocents, hit);
      else {
        count(result.recipients, hit);
        if (x.models.some((m) => m !== x.model)) count(result.crossModel, hit);
      }
    }
    return result;
  } finally {
    router.setBug(bug);
    await sidecar.close();
  }
}

/** The demo's lines for one gateway-shaped run. */
export function gatewayLines(r: GatewayRunResult): string[] {
  const f = (c: { total: number; flagged: number }) => `${c.flagged}/${c.total}`;
  return [
    `  gateway-shaped traffic (${r.mode === 'pooled' ? 'pooled gateway' : 'old gateway, a fresh session per model switch'}: ` +
      `session_id + X-Session-ID, Basic auth, no model in the body, no key), ${r.requests} requests after a clean warm-up, nonces as ground truth:`,
    `    sidecar flagged: starved ${f(r.starved)}, recipients ${f(r.recipients)} (another model: ${f(r.crossModel)}), ` +
      `innocent ${f(r.innocents)}`,
  ];
}

/** What a gateway-shaped run must show: every starved request and cross-model answer flagged, no innocent. */
export function checkGateway(bug: SimBug, r: GatewayRunResult): string[] {
  const problems: string[] = [];
  if (r.innocents.flagged > 0) problems.push(`gateway traffic, bug ${bug}: ${r.innocents.flagged} innocent requests flagged`);
  if (r.starved.flagged < r.starved.total) problems.push(`gateway traffic, bug ${bug}: ${r.starved.total - r.starved.flagged} starved requests not flagged`);
  if (r.crossModel.flagged < r.crossModel.total) problems.push(`gateway traffic, bug ${bug}: ${r.crossModel.total - r.crossModel.flagged} cross-model answers not flagged`);
  if (bug === 'shared-reply' && (r.starved.total === 0 || r.recipients.flagged === 0)) problems.push('gateway traffic, bug shared-reply: no starved request and recipient flagged');
  if (bug === 'swap' && r.crossModel.flagged === 0) problems.push('gateway traffic, bug swap: no cross-model answer flagged');
  if (bug === 'none' && r.starved.total + r.recipients.total > 0) problems.push('gateway traffic, bug off: answers went astray');
  return problems;
}
