/**
 * An evaluation corpus for the gateway-aware detection, at the inspector level: every request is what the real
 * gateway sends (session headers, Basic auth, no `model` in the body, no key header unless the case is about it),
 * every answer is router-shaped SSE, and every request carries its ground truth (`victim`: it received bytes that
 * were not its own answer, or none while another got two). A case is a scripted sequence of requests; the runner
 * feeds them through SseParser → ResponseInspector → RequestJudge with the SSE fast path on, in event order, on an
 * injected clock.
 */
import { InspectorContext } from '../../src/inspect/context.js';
import { Detection } from '../../src/inspect/detection.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { requestShapeOf } from '../../src/inspect/request-shape.js';
import { ResponseInspector, type InspectionSummary } from '../../src/inspect/response-inspector.js';
import { SseParser } from '../../src/inspect/sse-parser.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';
import { rng, hex } from '../inspect/fixtures.js';

export const T0 = 1_764_000_000_000;

/** One answer as a provider's server writes it (before the router or a bug moves it). */
export interface AnswerSpec {
  /** One id for the stream, or a function of the chunk index (drift). */
  id: string | ((chunk: number) => string);
  model: string;
  pieces: number;
  promptTokens: number;
  completionTokens?: number;
  created?: number;
  /** Extra JSON for every content chunk's choice (`"logprobs":{…}`), or a tool-call delta instead of content. */
  choiceExtra?: string;
  toolCall?: boolean;
  index?: number;
  /** A final usage-only chunk with its own id (a common benign habit). */
  usageChunkId?: string;
}

export function answerEvents(a: AnswerSpec): string[] {
  const created = a.created ?? Math.floor(T0 / 1000);
  const id = (i: number) => (typeof a.id === 'string' ? a.id : a.id(i));
  const head = (i: number) => `{"id":"${id(i)}","object":"chat.completion.chunk","created":${created},"model":"${a.model}"`;
  const index = a.index ?? 0;
  const events: string[] = [];
  for (let i = 0; i < a.pieces; i++) {
    const delta = a.toolCall === true
      ? `{"tool_calls":[{"index":0,"id":"call_${i}","type":"function","function":{"name":"f","arguments":"{}"}}]}`
      : `{"content":"piece ${i} of the answer "}`;
    events.push(`${head(i)},"choices":[{"index":${index},"delta":${delta}${a.choiceExtra ?? ''},"finish_reason":null}]}`);
  }
  const u = `{"prompt_tokens":${a.promptTokens},"completion_tokens":${a.completionTokens ?? a.pieces * 5},"total_tokens":${a.promptTokens + (a.completionTokens ?? a.pieces * 5)}}`;
  const last = a.pieces;
  if (a.usageChunkId !== undefined) {
    events.push(`${head(last)},"choices":[{"index":${index},"delta":{},"finish_reason":"stop"}]}`);
    events.push(`{"id":"${a.usageChunkId}","object":"chat.completion.chunk","created":${created},"model":"${a.model}","choices":[],"usage":${u}}`);
  } else {
    events.push(`${head(last)},"choices":[{"index":${index},"delta":{},"finish_reason":"stop"}],"usage":${u},"usage_from_provider":${u},"usage_from_consumer":${u}}`);
  }
  return events;
}

export const sse = (payloads: readonly string[]): string => payloads.map((p) => `data: ${p}\n\n`).join('');

export interface World {
  now: { ms: number };
  store: MemoryDetectionStore;
  detection: Detection;
  ctx: InspectorContext;
  rand: () => number;
  modelIds: Record<string, string>;
}

export function newWorld(seed: number, options: { sessionScope?: 'key' | 'shared' } = {}): World {
  const now = { ms: T0 };
  const store = new MemoryDetectionStore({ now: () => now.ms });
  const detection = new Detection({ store, sessionScope: options.sessionScope ?? 'shared' });
  const rand = rng(seed);
  const modelIds: Record<string, string> = {};
  for (const m of ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b']) modelIds[m] = `0x${hex(rand, 64)}`;
  return { now, store, detection, ctx: new InspectorContext({ now: () => now.ms }), rand, modelIds };
}

export const newId = (w: World): string => `chatcmpl-${hex(w.rand, 24)}`;
export const newSession = (w: World): string => `0x${hex(w.rand, 64)}`;

/** The gateway opens a session on a model through the sidecar (the control plane the detection learns from). */
export function openSession(w: World, model: string, provider?: string): string {
  const session = newSession(w);
  const modelId = w.modelIds[model] as string;
  const call = w.detection.controlCall('POST', `/blockchain/models/${modelId}/session`);
  w.detection.onControlResponse(call!, 200, { sessionID: session });
  if (provider !== undefined) {
    w.detection.onControlResponse(w.detection.controlCall('GET', `/blockchain/sessions/${session}`)!, 200, {
      session: { Id: session, ModelAgentId: modelId, Provider: provider, BidID: `0x${'b'.repeat(64)}`, ClosedAt: 0 },
    });
  }
  return session;
}

export interface RequestSpec {
  requestId: string;
  session: string;
  /** Gateway-shaped body (no `model`). */
  body?: Record<string, unknown>;
  key?: string;
  /** Ground truth: this request did not get (only) its own answer. */
  victim: boolean;
}

export interface Flight {
  spec: RequestSpec;
  inspector: ResponseInspector;
  parser: SseParser;
  summary?: InspectionSummary;
}

/** The request reaches the sidecar and is forwarded; the router answered 200 with `x-request-id` = `echo`. */
export function start(w: World, spec: RequestSpec, echo: string | undefined = spec.requestId): Flight {
  const body = spec.body ?? { messages: [{ role: 'user', content: 'hello there' }], stream: true };
  const judge = w.detection.begin({
    requestId: spec.requestId,
    sessionId: spec.session,
    ...(spec.key !== undefined && { keyFingerprint: spec.key }),
    shape: requestShapeOf(body, w.now.ms),
    upstream: 'router',
  });
  const inspector = new ResponseInspector(
    w.ctx,
    { requestId: spec.requestId, sessionId: spec.session, stream: true, ...(spec.key !== undefined && { keyFingerprint: spec.key }) },
    undefined,
    judge,
  );
  inspector.checkRequest();
  inspector.onStatus(200);
  inspector.onResponseHeaders(echo === undefined ? {} : { 'x-request-id': echo });
  const parser = new SseParser({ maxEventBytes: 1 << 20, onEvent: (e) => inspector.onEvent(e), skipper: inspector });
  return { spec, inspector, parser };
}

export function feed(f: Flight, text: string): void {
  f.parser.write(Buffer.from(text));
}

export function end(w: World, f: Flight): InspectionSummary {
  f.parser.end();
  w.now.ms += 5;
  f.summary = f.inspector.finish();
  return f.summary;
}

/** A whole request: start, its answer's bytes, end. */
export function run(w: World, spec: RequestSpec, text: string, echo?: string): Flight {
  const f = start(w, spec, echo ?? spec.requestId);
  feed(f, text);
  end(w, f);
  return f;
}

export interface CaseResult {
  victims: number;
  caught: number;
  innocents: number;
  falseAlarms: number;
  /** Reasons per flagged request id, for messages. */
  flagged: Map<string, string[]>;
}

/** Scores finished flights: a request is flagged by its own findings or by a peer finding naming it. */
export function score(flights: readonly Flight[]): CaseResult {
  const flagged = new Map<string, string[]>();
  const note = (id: string, f: Finding) => flagged.set(id, [...(flagged.get(id) ?? []), f.reason]);
  for (const f of flights) {
    for (const finding of f.summary?.findings ?? []) note(f.spec.requestId, finding);
    for (const peer of f.summary?.detection?.peerFindings ?? []) note(peer.requestId, peer.finding);
  }
  const r: CaseResult = { victims: 0, caught: 0, innocents: 0, falseAlarms: 0, flagged };
  for (const f of flights) {
    const hit = flagged.has(f.spec.requestId);
    if (f.spec.victim) {
      r.victims++;
      if (hit) r.caught++;
    } else {
      r.innocents++;
      if (hit) r.falseAlarms++;
    }
  }
  return r;
}

/** Clean answers on fresh sessions of each model, so name quorums and habits exist (a warmed-up sidecar). */
export function warmUp(w: World, models: readonly string[], perModel = 3, opts: { idStyle?: 'unique' | 'drift' } = {}): Flight[] {
  const flights: Flight[] = [];
  for (const model of models) {
    for (let i = 0; i < perModel; i++) {
      const session = openSession(w, model);
      const id = newId(w);
      const ids = opts.idStyle === 'drift' ? (c: number) => `${id}-${c}` : id;
      flights.push(run(w, { requestId: `warm-${model}-${i}-${hex(w.rand, 4)}`, session, victim: false }, sse([...answerEvents({ id: ids, model, pieces: 4, promptTokens: 12 }), '[DONE]'])));
    }
  }
  return flights;
}
