/**
 * A simulated Morpheus gateway: the traffic the sidecar really sees (CONTEXT.md, "Measured behind the real
 * gateway"). Requests carry `session_id` + `X-Session-ID` and Basic auth, no `model` in the body, no `model_id`
 * and no API key; the session is opened through the control plane (`POST /blockchain/models/{id}/session`), which
 * passes through whatever `baseUrl` is (the sidecar, in tests).
 *
 * Two modes, as the two gateway versions behave:
 * - `session-per-key` (Oct 2025): one active session per API key; a model switch closes it and opens another,
 *   with no lock, so requests still in flight on the old session keep going.
 * - `pooled` (2026): a model-keyed pool; a request claims an open session with no request in flight, else opens
 *   one; sessions are reused across users.
 */
import { request } from 'undici';
import { basicAuthHeader, type SimAuth } from './basic-auth.js';

export type GatewayMode = 'session-per-key' | 'pooled';

export interface GatewayOptions {
  /** Where the gateway's `PROXY_ROUTER_URL` points (the sidecar, or the router directly). */
  baseUrl: string;
  mode: GatewayMode;
  /** The router's admin credentials; undefined sends no `authorization`. */
  auth: SimAuth | undefined;
  sessionDurationSec?: number;
  /** A deployment that forwards the caller's key (or its id) in this header; default: none (as the real gateway). */
  keyHeader?: string;
  /** The older gateway's `?session_id=0x…` query (the router ignores it). */
  sessionQuery?: boolean;
  /** Milliseconds since the epoch, for `startedAt` / `endedAt`; default Date.now. */
  clock?: () => number;
}

export interface GatewayChatRequest {
  /** The caller's API key (`sk-…`): selects the key's session in `session-per-key` mode. */
  apiKey: string;
  /** The on-chain model name the caller asked for (the gateway resolves its id from `/blockchain/models`). */
  model: string;
  messages?: { role: string; content: string }[];
  stream?: boolean;
  /** Extra body fields (`max_tokens`, `n`, `tools`, …). `model` is stripped, as the gateway does. */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface GatewayChatResult {
  status: number;
  sessionId: string;
  /** `x-request-id` of the response. */
  requestId: string | undefined;
  body: string;
  /** Completion ids and models of the JSON chunks (or the JSON body), in order. */
  ids: string[];
  models: string[];
  /** `clock()` when the request was sent and when its body ended (for replays ordered by these events). */
  startedAt: number;
  endedAt: number;
}

interface PooledSession {
  id: string;
  modelId: string;
  active: number;
}

export class SimulatedGateway {
  private readonly options: GatewayOptions;
  private modelIds: Map<string, string> | undefined;
  /** session-per-key: key → its active session. */
  private readonly byKey = new Map<string, { id: string; modelId: string }>();
  /** pooled: the routed_sessions rows. */
  private readonly pool: PooledSession[] = [];
  /** Control-plane calls made, in order (`open <model id> → <session>`, `close <session>`). */
  readonly controlLog: string[] = [];

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  private authHeaders(): Record<string, string> {
    return this.options.auth === undefined ? {} : { authorization: basicAuthHeader(this.options.auth) };
  }

  private async json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await request(`${this.options.baseUrl}${path}`, {
      method,
      headers: { ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`gateway: ${method} ${path} answered ${res.statusCode}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The on-chain id of a model name, from `GET /blockchain/models` (fetched once). */
  async modelId(name: string): Promise<string> {
    if (this.modelIds === undefined) {
      const { models } = (await this.json('GET', '/blockchain/models')) as { models: { Id: string; Name: string }[] };
      this.modelIds = new Map(models.map((m) => [m.Name, m.Id]));
    }
    const id = this.modelIds.get(name);
    if (id === undefined) throw new Error(`gateway: unknown model ${name}`);
    return id;
  }

  async openSession(modelId: string): Promise<string> {
    const body = { sessionDuration: this.options.sessionDurationSec ?? 3600, failover: false, directPayment: false };
    const { sessionID } = (await this.json('POST', `/blockchain/models/${modelId}/session`, body)) as { sessionID: string };
    this.controlLog.push(`open ${modelId} -> ${sessionID}`);
    return sessionID;
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.json('POST', `/blockchain/sessions/${sessionId}/close`, {});
    this.controlLog.push(`close ${sessionId}`);
  }

  /** The session this request goes out on, and the release to call when it ends. */
  private async claim(apiKey: string, modelId: string): Promise<{ id: string; release: () => void }> {
    if (this.options.mode === 'session-per-key') {
      const current = this.byKey.get(apiKey);
      if (current !== undefined && current.modelId === modelId) return { id: current.id, release: () => {} };
      // A model switch: close the old session (no lock: in-flight requests keep it) and open another.
      this.byKey.delete(apiKey);
      if (current !== undefined) await this.closeSession(current.id);
      const id = await this.openSession(modelId);
      this.byKey.set(apiKey, { id, modelId });
      return { id, release: () => {} };
    }
    let row = this.pool.find((s) => s.modelId === modelId && s.active === 0);
    if (row === undefined) {
      row = { id: await this.openSession(modelId), modelId, active: 0 };
      this.pool.push(row);
    }
    const claimed = row;
    claimed.active++;
    return { id: claimed.id, release: () => void claimed.active-- };
  }

  /** Headers the gateway sends for a chat request on `sessionId`. */
  chatHeaders(sessionId: string, apiKey?: string, stream = true): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      session_id: sessionId,
      'X-Session-ID': sessionId,
      ...this.authHeaders(),
    };
    if (stream) headers['accept'] = 'text/event-stream';
    if (this.options.keyHeader !== undefined && apiKey !== undefined) headers[this.options.keyHeader] = apiKey;
    return headers;
  }

  async chat(req: GatewayChatRequest): Promise<GatewayChatResult> {
    const modelId = await this.modelId(req.model);
    const session = await this.claim(req.apiKey, modelId);
    try {
      const stream = req.stream ?? true;
      const body: Record<string, unknown> = {
        messages: req.messages ?? [{ role: 'user', content: 'hello' }],
        stream,
        ...req.body,
      };
      delete body['model'];
      delete body['session_id'];
      const query = this.options.sessionQuery === true ? `?session_id=${session.id}` : '';
      const clock = this.options.clock ?? Date.now;
      const startedAt = clock();
      const res = await request(`${this.options.baseUrl}/v1/chat/completions${query}`, {
        method: 'POST',
        headers: { ...this.chatHeaders(session.id, req.apiKey, stream), ...req.headers },
        body: JSON.stringify(body),
      });
      const text = await res.body.text();
      const endedAt = clock();
      const rid = res.headers['x-request-id'];
      return {
        status: res.statusCode,
        sessionId: session.id,
        startedAt,
        endedAt,
        requestId: typeof rid === 'string' ? rid : undefined,
        body: text,
        ...chunkIdentity(text),
      };
    } finally {
      session.release();
    }
  }
}

/** Completion ids and models in an SSE body or a JSON body, for assertions on what the caller saw. */
export function chunkIdentity(text: string): { ids: string[]; models: string[] } {
  const ids: string[] = [];
  const models: string[] = [];
  const payloads = text.trimStart().startsWith('{')
    ? [text]
    : text
        .split('\n')
        .filter((line) => line.startsWith('data: {'))
        .map((line) => line.slice(6).trimEnd());
  for (const payload of payloads) {
    try {
      const chunk = JSON.parse(payload) as { id?: unknown; model?: unknown };
      if (typeof chunk.id === 'string') ids.push(chunk.id);
      if (typeof chunk.model === 'string') models.push(chunk.model);
    } catch {
      // Not JSON (router text lines): nothing to note.
    }
  }
  return { ids, models };
}
