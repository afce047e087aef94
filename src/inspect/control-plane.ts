/**
 * Learns each session's on-chain model from the control plane that already passes through the sidecar
 * (issue 13 item 2; routes and bodies in CONTEXT.md "The control plane passes through the sidecar too"):
 * - `POST /blockchain/models/{modelId}/session` → `{"sessionID"}`: the session is bound to `modelId`;
 * - `POST /blockchain/bids/{bidId}/session` → `{"sessionID"}`: bound to the bid (its model and provider if known);
 * - `GET /blockchain/sessions/{id}` → `{"session":{ModelAgentId, Provider, BidID, ClosedAt, …}}`;
 * - `GET /blockchain/bids/{id}` → `{"bid":{ModelAgentId, Provider, …}}`;
 * - `POST /blockchain/sessions/{id}/close`: the session is closed.
 * Pure: the caller hands over the method, path, status and parsed JSON body of each answer; facts come back and
 * are written to the store. Only 2xx answers teach.
 */
import type { DetectionStore, SessionBinding } from './store.js';

/** A control-plane call the learner cares about, from its method and path (query already removed). */
export type ControlCall =
  | { kind: 'open_on_model'; modelId: string }
  | { kind: 'open_on_bid'; bidId: string }
  | { kind: 'open_session' }
  | { kind: 'get_session'; session: string }
  | { kind: 'get_bid'; bidId: string }
  | { kind: 'close_session'; session: string };

export type ControlFact =
  | { kind: 'session'; session: string; binding: SessionBinding }
  | { kind: 'bid'; bidId: string; modelId: string; provider?: string };

/** `0x` + 64 hex, lower-cased; anything else is not an on-chain id (undefined). */
export function hex32(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length !== 66 || value[0] !== '0' || (value[1] !== 'x' && value[1] !== 'X')) return undefined;
  for (let i = 2; i < 66; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
  }
  return value.toLowerCase();
}

/** A 20-byte address (`0x` + 40 hex), lower-cased, or undefined. */
function address(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length !== 42 || !value.startsWith('0x')) return undefined;
  for (let i = 2; i < 42; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
  }
  return value.toLowerCase();
}

/** Which control-plane call `method path` is, if any. */
export function classifyControlCall(method: string, path: string): ControlCall | undefined {
  const parts = path.split('/');
  // ['', 'blockchain', kind, id?, action?]
  if (parts[0] !== '' || parts[1] !== 'blockchain') return undefined;
  const [, , kind, rawId, action] = parts;
  const id = hex32(rawId === undefined ? undefined : safeDecode(rawId));
  if (method === 'POST' && kind === 'sessions' && parts.length === 3) return { kind: 'open_session' };
  if (id === undefined) return undefined;
  if (parts.length === 5 && method === 'POST' && action === 'session') {
    if (kind === 'models') return { kind: 'open_on_model', modelId: id };
    if (kind === 'bids') return { kind: 'open_on_bid', bidId: id };
  }
  if (parts.length === 5 && method === 'POST' && kind === 'sessions' && action === 'close') return { kind: 'close_session', session: id };
  if (parts.length === 4 && method === 'GET') {
    if (kind === 'sessions') return { kind: 'get_session', session: id };
    if (kind === 'bids') return { kind: 'get_bid', bidId: id };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The binding a `{"session": {…}}` body (or a bare session struct) states. */
export function sessionBody(body: unknown): { session: string; binding: SessionBinding } | undefined {
  const outer = record(body);
  const s = record(outer?.['session']) ?? outer;
  const session = hex32(s?.['Id']);
  if (s === undefined || session === undefined) return undefined;
  const binding: SessionBinding = { source: 'lookup' };
  const modelId = hex32(s['ModelAgentId']);
  if (modelId !== undefined) binding.modelId = modelId;
  const provider = address(s['Provider']);
  if (provider !== undefined) binding.provider = provider;
  const bidId = hex32(s['BidID']);
  if (bidId !== undefined) binding.bidId = bidId;
  if (typeof s['ClosedAt'] === 'number' && s['ClosedAt'] > 0) binding.closed = true;
  return { session, binding };
}

/** Facts an answer to `call` states (`status` is its HTTP status; only 2xx teach). */
export function controlFacts(call: ControlCall, status: number, body: unknown): ControlFact[] {
  if (status < 200 || status > 299) return [];
  const o = record(body);
  switch (call.kind) {
    case 'open_on_model': {
      const session = hex32(o?.['sessionID']);
      return session === undefined ? [] : [{ kind: 'session', session, binding: { modelId: call.modelId, source: 'open' } }];
    }
    case 'open_on_bid': {
      const session = hex32(o?.['sessionID']);
      return session === undefined ? [] : [{ kind: 'session', session, binding: { bidId: call.bidId, source: 'bid' } }];
    }
    case 'open_session':
      return [];
    case 'get_session': {
      const found = sessionBody(body);
      return found === undefined || found.session !== call.session ? [] : [{ kind: 'session', ...found }];
    }
    case 'get_bid': {
      const b = record(o?.['bid']) ?? o;
      const modelId = hex32(b?.['ModelAgentId']);
      if (modelId === undefined) return [];
      const provider = address(b?.['Provider']);
      return [provider === undefined ? { kind: 'bid', bidId: call.bidId, modelId } : { kind: 'bid', bidId: call.bidId, modelId, provider }];
    }
    case 'close_session':
      return [{ kind: 'session', session: call.session, binding: { closed: true } }];
  }
}

/** Writes facts to the store; a session opened on a known bid also gets the bid's model and provider. */
export function applyControlFacts(store: DetectionStore, facts: readonly ControlFact[]): void {
  for (const fact of facts) {
    if (fact.kind === 'bid') {
      store.learnBid(fact.bidId, fact.modelId, fact.provider);
      continue;
    }
    const binding = { ...fact.binding };
    if (binding.bidId !== undefined && (binding.modelId === undefined || binding.provider === undefined)) {
      const bid = store.bid(binding.bidId);
      if (bid !== undefined) {
        binding.modelId ??= bid.modelId;
        if (bid.provider !== undefined) binding.provider ??= bid.provider;
      }
    }
    store.bindSession(fact.session, binding);
  }
}
