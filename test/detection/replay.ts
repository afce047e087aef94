/**
 * Replays what a simulated gateway exchanged with the simulated router through the inspector and the
 * gateway-aware judge, in the order of the recorded events (each request's start and end), on a clock set to those
 * events. Ground truth comes from nonces: every prompt carries `nonce:<token>`, the simulated provider writes it at
 * the start of its answer, so an answer holding another nonce (or none, from a 200) was not the request's own.
 *
 * This is the inspector-level stand-in for the end-to-end runs of issue 13 until the proxy wires the judge in.
 */
import { InspectorContext } from '../../src/inspect/context.js';
import { Detection } from '../../src/inspect/detection.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { ResponseInspector, type InspectionSummary } from '../../src/inspect/response-inspector.js';
import { SseParser } from '../../src/inspect/sse-parser.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';
import type { GatewayChatResult, SimulatedGateway } from '../../src/simulator/index.js';

export interface Exchange {
  requestId: string;
  nonce: string;
  /** The model the caller asked for (the gateway knows it; the sidecar does not). */
  model: string;
  body: Record<string, unknown>;
  result: GatewayChatResult;
}

export interface ReplayOutcome {
  exchange: Exchange;
  summary: InspectionSummary;
  /** Ground truth. */
  victim: boolean;
  /** The answer named another model than asked for. */
  crossModel: boolean;
  starved: boolean;
  flaggedBy: string[];
}

const NONCE_AT = 'nonce:';

export function noncesIn(body: string): Set<string> {
  const out = new Set<string>();
  for (let at = body.indexOf(NONCE_AT); at !== -1; at = body.indexOf(NONCE_AT, at + 1)) {
    let end = at + NONCE_AT.length;
    while (end < body.length && /[A-Za-z0-9._-]/.test(body[end] as string)) end++;
    out.add(body.slice(at + NONCE_AT.length, end));
  }
  return out;
}

export function replay(gateway: SimulatedGateway, exchanges: readonly Exchange[], sessionScope: 'key' | 'shared'): ReplayOutcome[] {
  // The clock starts at the first request: the control plane's bindings are made "then" and live their window.
  const now = { ms: Math.min(...exchanges.map((x) => x.result.startedAt)) };
  const store = new MemoryDetectionStore({ now: () => now.ms });
  const detection = new Detection({ store, sessionScope });
  const ctx = new InspectorContext({ now: () => now.ms });
  // The control plane went through the sidecar before each session's first request.
  for (const line of gateway.controlLog) {
    const [verb, a, , b] = line.split(' ');
    if (verb === 'open') detection.onControlResponse({ kind: 'open_on_model', modelId: a as string }, 200, { sessionID: b });
    else if (verb === 'close') detection.onControlResponse({ kind: 'close_session', session: a as string }, 200, {});
  }
  type Ev = { at: number; kind: 'start' | 'end'; x: Exchange };
  const events: Ev[] = exchanges.flatMap((x) => [
    { at: x.result.startedAt, kind: 'start' as const, x },
    { at: x.result.endedAt, kind: 'end' as const, x },
  ]);
  events.sort((p, q) => p.at - q.at || (p.kind === q.kind ? 0 : p.kind === 'start' ? -1 : 1));
  const live = new Map<string, { inspector: ResponseInspector; parser: SseParser }>();
  const summaries = new Map<string, InspectionSummary>();
  for (const ev of events) {
    now.ms = ev.at;
    const { x } = ev;
    if (ev.kind === 'start') {
      const judge = detection.begin({ requestId: x.requestId, sessionId: x.result.sessionId, upstream: 'router' });
      judge.setRequestBody(x.body, ev.at);
      const facts = { requestId: x.requestId, sessionId: x.result.sessionId, stream: true };
      const inspector = new ResponseInspector(ctx, facts, undefined, judge);
      inspector.checkRequest();
      const parser = new SseParser({ maxEventBytes: 1 << 20, onEvent: (e) => inspector.onEvent(e), skipper: inspector });
      live.set(x.requestId, { inspector, parser });
      continue;
    }
    const l = live.get(x.requestId);
    if (l === undefined) continue;
    l.inspector.onStatus(x.result.status);
    l.inspector.onResponseHeaders(x.result.requestId === undefined ? {} : { 'x-request-id': x.result.requestId });
    l.parser.write(Buffer.from(x.result.body));
    l.parser.end();
    summaries.set(x.requestId, l.inspector.finish());
  }
  const flagged = new Map<string, string[]>();
  const note = (id: string, f: Finding) => flagged.set(id, [...(flagged.get(id) ?? []), f.reason]);
  for (const [id, s] of summaries) {
    for (const f of s.findings) note(id, f);
    for (const p of s.detection?.peerFindings ?? []) note(p.requestId, p.finding);
  }
  return exchanges.map((exchange) => {
    const nonces = noncesIn(exchange.result.body);
    const starved = exchange.result.status === 200 && nonces.size === 0;
    const victim = starved || nonces.size !== 1 || !nonces.has(exchange.nonce);
    const crossModel = exchange.result.models.some((m) => m !== exchange.model);
    return {
      exchange,
      summary: summaries.get(exchange.requestId) as InspectionSummary,
      victim,
      crossModel,
      starved,
      flaggedBy: flagged.get(exchange.requestId) ?? [],
    };
  });
}

export function nonceBody(nonce: string, promptChars: number): Record<string, unknown> {
  const filler = 'Tell me about the weather in a few words. '.repeat(Math.ceil(promptChars / 42)).slice(0, promptChars);
  return { messages: [{ role: 'user', content: `${filler} nonce:${nonce}` }], stream: true };
}
