/**
 * End-to-end runs for issue 13: gateway-shaped traffic (SimulatedGateway: session_id + X-Session-ID, Basic auth,
 * no `model` in the body, no key header) → the REAL proxy (createProxyServer via the harness) → an upstream (the
 * simulated router, or a scripted one). Ground truth from nonces, as in replay.ts; verdicts read from the proxy's
 * own incident log (what `GET /incidents` shows), spans from the harness's in-memory exporter.
 */
import { onTestFinished } from 'vitest';
import type { ProxyConfig } from '../../src/proxy/options.js';
import type { Incident } from '../../src/proxy/incidents.js';
import {
  SimulatedGateway,
  startSimulatedRouter,
  type GatewayChatResult,
  type GatewayMode,
  type SimulatedRouter,
  type SimulatedRouterOptions,
} from '../../src/simulator/index.js';
import { createPrng } from '../../src/simulator/prng.js';
import { startProxy, type Harness } from '../helpers/proxy-harness.js';
import { nonceBody, noncesIn } from './replay.js';

export const MODELS = ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b'] as const;

export interface E2eExchange {
  requestId: string;
  nonce: string;
  key: string;
  model: string;
  body: Record<string, unknown>;
  result: GatewayChatResult;
}

export interface E2eWorld {
  router: SimulatedRouter;
  harness: Harness;
  gateway: SimulatedGateway;
  exchanges: E2eExchange[];
  /** One gateway-shaped chat through the proxy, carrying a nonce (and `x-request-id`, to join incidents). */
  chat(
    key: string,
    model: string,
    promptChars?: number,
    extra?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<E2eExchange>;
  /** Incidents by request id (what /incidents holds). */
  incidents(): Map<string, Incident>;
}

export async function startE2e(options: {
  seed: number;
  mode: GatewayMode;
  router?: SimulatedRouterOptions;
  proxy?: Partial<ProxyConfig>;
}): Promise<E2eWorld> {
  const router = await startSimulatedRouter({ seed: options.seed, chunks: 6, chunkDelayMs: 2, ...options.router });
  onTestFinished(() => router.close());
  const harness = await startProxy(router.url, { sessionScope: options.mode === 'pooled' ? 'shared' : 'key', ...options.proxy });
  const gateway = new SimulatedGateway({ baseUrl: harness.url, mode: options.mode, auth: router.auth });
  const prng = createPrng(options.seed);
  const exchanges: E2eExchange[] = [];
  let n = 0;
  return {
    router,
    harness,
    gateway,
    exchanges,
    async chat(key, model, promptChars = 40, extra = {}, headers = {}) {
      const nonce = `n${++n}x${prng.hex(6)}`;
      const requestId = `req-${options.seed}-${n}`;
      const body = { ...nonceBody(nonce, promptChars), ...extra };
      const result = await gateway.chat({ apiKey: key, model, body, headers: { 'x-request-id': requestId, ...headers } });
      const x = { requestId, nonce, key, model, body, result };
      exchanges.push(x);
      return x;
    },
    incidents() {
      return new Map(harness.proxy.incidents.list().map((i) => [i.requestId, i]));
    },
  };
}

export interface Judged {
  x: E2eExchange;
  victim: boolean;
  starved: boolean;
  crossModel: boolean;
  incident: Incident | undefined;
}

/** Ground truth (nonces) beside the proxy's verdict, for every exchange so far. */
export function judged(world: E2eWorld): Judged[] {
  const incidents = world.incidents();
  return world.exchanges.map((x) => {
    const nonces = noncesIn(x.result.body);
    const starved = x.result.status === 200 && nonces.size === 0;
    return {
      x,
      starved,
      victim: starved || nonces.size !== 1 || !nonces.has(x.nonce),
      crossModel: x.result.models.some((m) => m !== x.model),
      incident: incidents.get(x.requestId),
    };
  });
}

/** Recall and false positives: "flagged/total" strings for the closing note. */
export function figures(outcomes: readonly Judged[]): { victims: string; innocentsFlagged: string } {
  const victims = outcomes.filter((o) => o.victim);
  const innocents = outcomes.filter((o) => !o.victim);
  return {
    victims: `${victims.filter((o) => o.incident !== undefined).length}/${victims.length}`,
    innocentsFlagged: `${innocents.filter((o) => o.incident !== undefined).length}/${innocents.length}`,
  };
}

export const keyOf = (i: number): string => `sk-key${String(i).padStart(3, '0')}.${'0'.repeat(64)}`;

/**
 * The old gateway's traffic under the router's `swap` bug: each key first uses every model once, one request at a
 * time, with the router clean (each model switch opens a fresh session through the sidecar); then the bug is on
 * and the keys run `rounds` requests each concurrently, rotating models, so answers of other models are swapped in.
 */
export async function crossModelSwapTraffic(world: E2eWorld, keyCount: number, rounds: number): Promise<void> {
  const keys = Array.from({ length: keyCount }, (_, i) => keyOf(i));
  for (const key of keys) for (const model of MODELS) await world.chat(key, model);
  world.router.setBug('swap');
  let turn = 0;
  await Promise.all(keys.map(async (key, k) => {
    for (let i = 0; i < rounds; i++) await world.chat(key, MODELS[(k + i + turn++) % MODELS.length] as string);
  }));
  await settled(world);
}

/** Waits until the proxy ended every request (incidents are written when a response's socket closes). */
export async function settled(world: E2eWorld): Promise<void> {
  for (let i = 0; i < 500 && world.harness.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
}
