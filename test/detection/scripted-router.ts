/**
 * A scripted router for end-to-end detection tests where the provider's exact bytes matter (id habits, spliced
 * events, name forms, replays): the control plane of the real router (models, session open / look-up / close, Basic
 * auth not checked) and a chat route whose answer the test writes. Sessions are bound to models as on chain.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import type { ProxyConfig } from '../../src/proxy/options.js';
import { SimulatedGateway, modelIdFor, type GatewayChatResult, type GatewayMode } from '../../src/simulator/index.js';
import { startProxy, type Harness } from '../helpers/proxy-harness.js';
import { MODELS } from './e2e.js';

export const PROVIDER = '0x' + 'ab'.repeat(20);

export interface ScriptedChat {
  /** Lower-case session id from the `session_id` header. */
  session: string;
  /** The session's model name (the on-chain `Name`). */
  model: string;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** 1 for the first chat request, 2 for the second… */
  n: number;
  res: http.ServerResponse;
}

export interface ScriptedRouter {
  url: string;
  /** `GET /blockchain/sessions/{id}` calls: the session and the authorization they carried. */
  lookups: { session: string; authorization: string | undefined }[];
  /** Binds a session the sidecar never saw opened (the router knows it; a look-up finds it). */
  addSession(session: string, model: string): void;
  /** Look-ups answer after the gate's promise settles (a never-settling one makes them hang). */
  setLookupGate(gate: () => Promise<void>): void;
}

function hex64(n: number): string {
  return '0x' + n.toString(16).padStart(64, '0');
}

export async function startScriptedRouter(options: {
  answer(chat: ScriptedChat): void | Promise<void>;
  /** Look-ups answer after this promise (default at once); a never-settling one makes them hang. */
  lookupGate?: () => Promise<void>;
}): Promise<ScriptedRouter> {
  let gate = options.lookupGate;
  const sessions = new Map<string, string>();
  const lookups: ScriptedRouter['lookups'] = [];
  let opened = 0;
  let chats = 0;
  const json = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const parts = path.split('/');
      if (req.method === 'GET' && path === '/blockchain/models') {
        return json(res, { models: MODELS.map((name) => ({ Id: modelIdFor(name), Name: name, Tags: [], ModelType: 'LLM' })) });
      }
      if (req.method === 'POST' && parts[1] === 'blockchain' && parts[2] === 'models' && parts[4] === 'session') {
        const model = MODELS.find((m) => modelIdFor(m) === parts[3]) ?? MODELS[0];
        const id = hex64(0x5e55_0000 + ++opened);
        sessions.set(id, model);
        return json(res, { sessionID: id });
      }
      if (req.method === 'POST' && parts[2] === 'sessions' && parts[4] === 'close') return json(res, {});
      if (req.method === 'GET' && parts[2] === 'sessions' && parts.length === 4) {
        const session = (parts[3] as string).toLowerCase();
        const auth = req.headers.authorization;
        lookups.push({ session, authorization: auth });
        const model = sessions.get(session);
        const answer = () => {
          if (model === undefined) {
            res.writeHead(404).end('{"error":"not found"}');
            return;
          }
          json(res, {
            session: { Id: session, User: '0x' + '11'.repeat(20), Provider: PROVIDER, ModelAgentId: modelIdFor(model), BidID: hex64(7), Stake: '1', PricePerSecond: '1', OpenedAt: 1, EndsAt: 9_999_999_999, ClosedAt: 0 },
          });
        };
        if (gate === undefined) return answer();
        void gate().then(answer);
        return;
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        const session = String(req.headers['session_id'] ?? '').toLowerCase();
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // An empty or broken body: answered all the same.
        }
        void options.answer({ session, model: sessions.get(session) ?? 'unknown', body, headers: req.headers, n: ++chats, res });
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lookups,
    addSession: (session, model) => void sessions.set(session.toLowerCase(), model),
    setLookupGate: (g) => {
      gate = g;
    },
  };
}

/** Writes `payloads` as SSE events, then `[DONE]`, and ends. */
export function writeSse(res: http.ServerResponse, payloads: readonly string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const p of payloads) res.write(`data: ${p}\n\n`);
  res.end('data: [DONE]\n\n');
}

/** One chat.completion.chunk payload as a provider writes it (`created` now, unless given). */
export function chunk(c: {
  id: string;
  model: string;
  content?: string;
  finish?: boolean;
  usage?: { prompt: number; completion: number };
  created?: number;
}): string {
  const created = c.created ?? Math.floor(Date.now() / 1000);
  const delta = c.content === undefined ? '{}' : JSON.stringify({ content: c.content });
  const usage = c.usage === undefined ? '' : `,"usage":{"prompt_tokens":${c.usage.prompt},"completion_tokens":${c.usage.completion},"total_tokens":${c.usage.prompt + c.usage.completion}}`;
  return `{"id":"${c.id}","object":"chat.completion.chunk","created":${created},"model":"${c.model}","choices":[{"index":0,"delta":${delta},"finish_reason":${c.finish === true ? '"stop"' : 'null'}}]${usage}}`;
}

/** A whole answer: `pieces` content chunks (ids from `id(i)`), then the final chunk with usage. */
export function answer(a: { id: (i: number) => string; model: string; pieces?: number; prompt?: number; text?: string }): string[] {
  const pieces = a.pieces ?? 4;
  const out: string[] = [];
  for (let i = 0; i < pieces; i++) out.push(chunk({ id: a.id(i), model: a.model, content: `${a.text ?? 'word'} ${i} ` }));
  out.push(chunk({ id: a.id(pieces), model: a.model, finish: true, usage: { prompt: a.prompt ?? 20, completion: pieces * 2 } }));
  return out;
}

export interface ScriptedWorld {
  router: ScriptedRouter;
  h: Harness;
  gateway: SimulatedGateway;
  /** One gateway-shaped chat through the proxy with request id `id`; waits until the proxy ended it. */
  chat(id: string, key: string, model: string, content?: string): Promise<GatewayChatResult>;
  /** `requestId:reason+reason` of every incident, oldest first. */
  flagged(): string[];
}

/** A scripted router behind the real proxy, and a gateway in front (Basic auth, no model in the body). */
export async function scriptedWorld(
  answerWith: (chat: ScriptedChat) => string[] | string,
  options: { mode?: GatewayMode; keyHeader?: string; proxy?: Partial<ProxyConfig> } = {},
): Promise<ScriptedWorld> {
  const router = await startScriptedRouter({
    answer: (chat) => {
      const out = answerWith(chat);
      if (typeof out !== 'string') return writeSse(chat.res, out);
      chat.res.writeHead(200, { 'content-type': 'text/event-stream' });
      chat.res.end(out);
    },
  });
  const mode = options.mode ?? 'session-per-key';
  const h = await startProxy(router.url, { sessionScope: mode === 'pooled' ? 'shared' : 'key', ...options.proxy });
  const gateway = new SimulatedGateway({
    baseUrl: h.url,
    mode,
    auth: { username: 'admin', password: 'pw' },
    ...(options.keyHeader !== undefined && { keyHeader: options.keyHeader }),
  });
  return {
    router,
    h,
    gateway,
    async chat(id, key, model, content = 'hello') {
      const result = await gateway.chat({ apiKey: key, model, messages: [{ role: 'user', content }], headers: { 'x-request-id': id } });
      for (let i = 0; i < 100 && h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
      return result;
    },
    flagged: () => h.proxy.incidents.list().reverse().map((i) => `${i.requestId}:${i.reasons.join('+')}`),
  };
}
