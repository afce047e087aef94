import { onTestFinished } from 'vitest';
import { startUpstream } from '../helpers/proxy-harness.js';
import { resolveProbeConfig, type ProbeConfig, type ProbeFlags } from '../../src/probe/options.js';
import {
  DEFAULT_MODEL_NAMES,
  makeSessions,
  startSimulatedRouter,
  type SimulatedRouter,
  type SimulatedRouterOptions,
} from '../../src/simulator/index.js';

/** Gateway-shaped keys (`sk-` + 6 + `.` + 64 hex): the secret halves must never show up in any output. */
export const TEST_KEYS = ['sk-ProbeA.' + 'a1'.repeat(32), 'sk-ProbeB.' + 'b2'.repeat(32), 'sk-ProbeC.' + 'c3'.repeat(32)];
export const SECRET_PARTS = TEST_KEYS.map((k) => k.slice(k.indexOf('.') + 1));

/**
 * A simulated router with one session per key and model (the gateway's one-session-per-key shape), streams
 * slow enough to overlap (8 chunks × 5 ms).
 */
export async function startRouter(options: SimulatedRouterOptions = {}): Promise<SimulatedRouter> {
  const router = await startSimulatedRouter({
    seed: 11,
    chunks: 8,
    chunkDelayMs: 5,
    sessions: makeSessions(TEST_KEYS.length),
    ...options,
  });
  onTestFinished(() => router.close());
  return router;
}

/** Probe flags for a router/sidecar target: every model, one session per key, the router's Basic auth. */
export function routerFlags(router: SimulatedRouter, target: string, extra: ProbeFlags = {}): ProbeFlags {
  const sessions = DEFAULT_MODEL_NAMES.flatMap((model) => router.sessions.forModel(model).map((s) => `${model}=${s.id}`));
  const auth = router.auth;
  return {
    target,
    model: [...DEFAULT_MODEL_NAMES],
    session: sessions,
    apiKey: [...TEST_KEYS],
    ...(auth !== undefined && { basicAuth: `${auth.username}:${auth.password}` }),
    requests: '60',
    concurrency: '15',
    timeout: '10s',
    progress: false,
    ...extra,
  };
}

export function routerConfig(router: SimulatedRouter, target: string, extra: ProbeFlags = {}): ProbeConfig {
  return resolveProbeConfig(routerFlags(router, target, extra), {});
}

export interface FakeUpstreamOptions {
  /** Echo the request's x-request-id (default true). */
  echo?: boolean;
  /** Sets `x-crosstalk-request-id-echo` to this value, as a sidecar reporting its upstream's echo would. */
  sidecarEcho?: 'match' | 'missing' | 'mismatch';
  /** Status to answer with (default 200, a stream). */
  status?: number;
  /** Repeat the prompt's nonce in the answer (default true). */
  repeatNonce?: boolean;
  /**
   * Answer these requests (1-based, in arrival order) as the gateway reports a router failure: a 200 stream
   * whose only event is `data: {"error":…}` (or, with `errorAfterContent`, one that starts answering first).
   */
  inBandErrors?: (n: number) => boolean;
  errorAfterContent?: boolean;
  /** Answer with an `x-request-id` of the upstream's own, as the newer gateway does. */
  ownRequestIds?: boolean;
}

/** The gateway's in-band error event (../shared/CONTEXT.md, "Router → gateway response"). */
export const IN_BAND_ERROR =
  'data: {"error":{"message":"provider failed, failover enabled","type":"router_error","status":502}}\n\n';

export interface ReceivedProbeRequest {
  headers: Record<string, string | string[] | undefined>;
  body: { model?: string; stream?: boolean; max_tokens?: number; messages?: Array<{ role: string; content: string }> };
}

/**
 * A minimal OpenAI-compatible upstream: answers every chat request with a 3-chunk stream of its own completion
 * id, the requested model, and the prompt's nonce repeated. Records what it received.
 */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}) {
  const received: ReceivedProbeRequest[] = [];
  let serial = 0;
  let arrived = 0;
  const upstream = await startUpstream((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (part: string) => (raw += part));
    req.on('end', () => {
      const body = JSON.parse(raw) as ReceivedProbeRequest['body'];
      received.push({ headers: { ...req.headers, ':path': req.url ?? '' }, body });
      const nth = ++arrived;
      const headers: Record<string, string> = {};
      const rid = req.headers['x-request-id'];
      if (options.ownRequestIds === true) headers['x-request-id'] = `gw-${nth.toString(16).padStart(8, '0')}`;
      else if (options.echo !== false && typeof rid === 'string') headers['x-request-id'] = rid;
      if (options.sidecarEcho !== undefined) headers['x-crosstalk-request-id-echo'] = options.sidecarEcho;
      if (options.status !== undefined && options.status !== 200) {
        res.writeHead(options.status, { ...headers, 'content-type': 'application/json' });
        res.end('{"error":"no"}');
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream' });
      const id = `chatcmpl-fake${++serial}`;
      const nonce = /nonce:(\S+)/.exec(body.messages?.at(-1)?.content ?? '')?.[1] ?? '';
      const chunk = (content: string) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
      if (options.inBandErrors?.(nth) === true) {
        res.end((options.errorAfterContent === true ? chunk('Sure') : '') + IN_BAND_ERROR + 'data: [DONE]\n\n');
        return;
      }
      const first = options.repeatNonce === false ? 'Sure. ' : `nonce:${nonce} `;
      res.end(chunk(first) + chunk('hello ') + chunk('world') + 'data: [DONE]\n\n');
    });
  });
  return { url: upstream.url, received };
}
