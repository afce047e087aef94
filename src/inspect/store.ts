/**
 * All state the detection learns across requests, behind one interface (issue 13 item 9): request ids the
 * sidecar issued, live streams' completion ids, delivered completion ids (the whole window), session bindings
 * (model id, provider, verified key), bids, model-name consensus, provider id habits, and recent answers for the
 * starvation rule.
 *
 * Reads are synchronous and local-first: a detector on the response path never waits for a network. Writes apply
 * locally at once and, when `recordWrites` is on, are also appended to a batch (`drainWrites`) that a shared
 * implementation (Redis, issue 17) ships asynchronously and other replicas fold in with `applyRemote`. The ops are
 * plain JSON data holding ids, hashes and names only — never content, never a credential.
 */
import { DEFAULT_COMPLETION_ID_WINDOW_MS, DEFAULT_MAX_SESSION_BINDINGS, DEFAULT_SESSION_BINDING_WINDOW_MS } from '../config/defaults.js';
import { CompletionIdWindow, type DeliveredOwner } from './completion-id-window.js';
import { IdHabits, type IdObservation } from './id-habits.js';
import { NameConsensus, type NameVote, type OverturnedVote } from './name-consensus.js';
import { PromptRatios } from './request-shape.js';
import { TtlLru, type Clock } from './registries.js';

/** What the sidecar knows of one on-chain session. */
export interface SessionBinding {
  /** `ModelAgentId` (lower case, 0x + 64 hex). */
  modelId?: string;
  /** The provider's address (lower case). */
  provider?: string;
  bidId?: string;
  /** Where the model id came from. */
  source?: 'open' | 'lookup' | 'bid';
  closed?: boolean;
  /** Key fingerprint bound after the router accepted (2xx) a request with it on this session. */
  key?: string;
}

/** A live (in-flight) owner of a completion id. */
export interface LiveOwner extends DeliveredOwner {
  /** Process-unique token of the owning inspector. */
  token: number;
}

/** One finished answer, kept for the starvation rule's window. */
export interface RecentAnswer {
  requestId: string;
  /** The upstream that served it (the router URL, or the session's provider when known). */
  upstream: string;
  startedAt: number;
  endedAt: number;
  /** 200 and no completion content. */
  starved: boolean;
  /** Completions it carried (finish_reasons of one choice, or usage chunks). */
  completions: number;
  /** Opaque caller data (the proxy's span context), returned with a pairing. */
  link?: unknown;
}

export type StoreWrite =
  | { op: 'session'; session: string; binding: SessionBinding }
  | { op: 'bid'; bidId: string; modelId: string; provider?: string }
  | { op: 'delivered'; ids: string[]; owner: DeliveredOwner }
  | { op: 'name_vote'; modelId: string; provider?: string; name: string; vote: NameVote }
  | { op: 'id_habit'; upstream: string; observation: IdObservation };

export interface DetectionStoreOptions {
  now?: Clock;
  /** How long delivered completion ids are remembered (default `DEFAULT_COMPLETION_ID_WINDOW_MS`). */
  completionIdWindowMs?: number;
  /** How long a session binding lives after its last use (default `DEFAULT_SESSION_BINDING_WINDOW_MS`). */
  sessionBindingWindowMs?: number;
  /** Sessions held at most (default 100,000). */
  maxSessions?: number;
  /** Live ids held at most (in-flight requests × ids each; default 100,000). */
  maxLiveIds?: number;
  /** Request ids remembered as issued (default 100,000, for the completion-id window). */
  maxIssuedRequestIds?: number;
  /** How long starved and multi-completion answers are kept for pairing (default 5 min: longer than a stream). */
  starvationWindowMs?: number;
  /** Distinct sessions that make a model-name quorum (default 2). */
  nameQuorum?: number;
  /** Streams before an id habit is called (default 5). */
  habitMinStreams?: number;
  /** Append every write to a batch for a shared store (default false). */
  recordWrites?: boolean;
}

export interface DetectionStore {
  readonly now: Clock;
  // request ids the sidecar issued
  issueRequestId(requestId: string, token: number): void;
  requestIdToken(requestId: string): number | undefined;
  // live and delivered completion ids
  liveOwner(id: string): LiveOwner | undefined;
  claimLive(id: string, owner: LiveOwner): boolean;
  releaseLive(ids: Iterable<string>, token: number): void;
  deliveredOwner(id: string): DeliveredOwner | undefined;
  addDelivered(ids: string[], owner: DeliveredOwner): void;
  // sessions and bids
  session(session: string): SessionBinding | undefined;
  bindSession(session: string, patch: SessionBinding): void;
  bid(bidId: string): { modelId: string; provider?: string } | undefined;
  learnBid(bidId: string, modelId: string, provider?: string): void;
  // learned habits
  readonly names: NameConsensus;
  voteName(modelId: string, provider: string | undefined, name: string, vote: NameVote): OverturnedVote[];
  readonly habits: IdHabits;
  observeIds(upstream: string, observation: IdObservation): void;
  readonly promptRatios: PromptRatios;
  // starvation window
  readonly starvationWindowMs: number;
  recentAnswers(upstream: string, from: number): RecentAnswer[];
  addAnswer(answer: RecentAnswer): void;
  // the shared-store seam
  drainWrites(): StoreWrite[];
  applyRemote(writes: readonly StoreWrite[]): void;
}

/** The windows come from the one source of inspector defaults; the sizes are the store's own (issue 13 item 8). */
const DEFAULTS = {
  completionIdWindowMs: DEFAULT_COMPLETION_ID_WINDOW_MS,
  sessionBindingWindowMs: DEFAULT_SESSION_BINDING_WINDOW_MS,
  maxSessions: DEFAULT_MAX_SESSION_BINDINGS,
  maxLiveIds: 100_000,
  maxIssuedRequestIds: 100_000,
  starvationWindowMs: 5 * 60_000,
};

/** Model ids and provider addresses kept once each for the session bindings (a few per deployment; a cap, not a cache). */
const MAX_SHARED_BINDING_VALUES = 10_000;

/** Recent answers kept at most per upstream (the starvation window is short; this caps a burst). */
const MAX_RECENT_PER_UPSTREAM = 4096;

export class MemoryDetectionStore implements DetectionStore {
  readonly now: Clock;
  readonly names: NameConsensus;
  readonly habits: IdHabits;
  readonly promptRatios = new PromptRatios();
  private readonly issued: TtlLru<string, number>;
  private readonly live = new Map<string, LiveOwner>();
  private readonly maxLiveIds: number;
  private readonly delivered: CompletionIdWindow;
  private readonly sessions: TtlLru<string, SessionBinding>;
  private readonly bids: TtlLru<string, { modelId: string; provider?: string }>;
  private readonly recent = new Map<string, RecentAnswer[]>();
  /** One copy of each model id and provider the bindings name (each control-plane answer parses its own). */
  private readonly bindingValues = new Map<string, string>();
  readonly starvationWindowMs: number;
  private recordWrites: boolean;
  private pending: StoreWrite[] = [];

  constructor(options: DetectionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    const windowMs = options.completionIdWindowMs ?? DEFAULTS.completionIdWindowMs;
    const bindingMs = options.sessionBindingWindowMs ?? DEFAULTS.sessionBindingWindowMs;
    const maxSessions = options.maxSessions ?? DEFAULTS.maxSessions;
    this.issued = new TtlLru({ maxEntries: options.maxIssuedRequestIds ?? DEFAULTS.maxIssuedRequestIds, ttlMs: windowMs, now: this.now });
    this.maxLiveIds = options.maxLiveIds ?? DEFAULTS.maxLiveIds;
    this.delivered = new CompletionIdWindow({ windowMs, now: this.now });
    this.sessions = new TtlLru({ maxEntries: maxSessions, ttlMs: bindingMs, now: this.now });
    this.bids = new TtlLru({ maxEntries: maxSessions, ttlMs: bindingMs, now: this.now });
    this.names = new NameConsensus({ quorum: options.nameQuorum ?? 2 });
    this.habits = new IdHabits({ minStreams: options.habitMinStreams ?? 5 });
    this.starvationWindowMs = options.starvationWindowMs ?? DEFAULTS.starvationWindowMs;
    this.recordWrites = options.recordWrites ?? false;
  }

  private log(write: StoreWrite): void {
    if (this.recordWrites) this.pending.push(write);
  }

  issueRequestId(requestId: string, token: number): void {
    this.issued.set(requestId, token);
  }

  requestIdToken(requestId: string): number | undefined {
    return this.issued.get(requestId);
  }

  liveOwner(id: string): LiveOwner | undefined {
    return this.live.get(id);
  }

  /** False when the cap is reached (the id is then not tracked live; counted by the caller). */
  claimLive(id: string, owner: LiveOwner): boolean {
    if (this.live.has(id)) return true;
    if (this.live.size >= this.maxLiveIds) return false;
    this.live.set(id, owner);
    return true;
  }

  releaseLive(ids: Iterable<string>, token: number): void {
    for (const id of ids) if (this.live.get(id)?.token === token) this.live.delete(id);
  }

  deliveredOwner(id: string): DeliveredOwner | undefined {
    return this.delivered.lookup(id);
  }

  addDelivered(ids: string[], owner: DeliveredOwner): void {
    if (ids.length === 0) return;
    this.delivered.add(ids, owner);
    this.log({ op: 'delivered', ids, owner });
  }

  /** Ids held in the delivered window. */
  deliveredStats(): { ids: number } {
    return { ids: this.delivered.size };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  session(session: string): SessionBinding | undefined {
    return this.sessions.get(session);
  }

  bindSession(session: string, patch: SessionBinding): void {
    const merged = { ...this.sessions.get(session), ...patch };
    if (merged.modelId !== undefined) merged.modelId = this.shared(merged.modelId);
    if (merged.provider !== undefined) merged.provider = this.shared(merged.provider);
    this.sessions.set(session, merged);
    this.log({ op: 'session', session, binding: patch });
  }

  /** `value`, or the copy of it already held (100,000 sessions name a few models and providers). */
  private shared(value: string): string {
    const held = this.bindingValues.get(value);
    if (held !== undefined) return held;
    if (this.bindingValues.size < MAX_SHARED_BINDING_VALUES) this.bindingValues.set(value, value);
    return value;
  }

  bid(bidId: string): { modelId: string; provider?: string } | undefined {
    return this.bids.get(bidId);
  }

  learnBid(bidId: string, modelId: string, provider?: string): void {
    this.bids.set(bidId, provider === undefined ? { modelId } : { modelId, provider });
    this.log(provider === undefined ? { op: 'bid', bidId, modelId } : { op: 'bid', bidId, modelId, provider });
  }

  voteName(modelId: string, provider: string | undefined, name: string, vote: NameVote): OverturnedVote[] {
    this.log(provider === undefined ? { op: 'name_vote', modelId, name, vote } : { op: 'name_vote', modelId, provider, name, vote });
    return this.names.vote(modelId, provider, name, vote);
  }

  observeIds(upstream: string, observation: IdObservation): void {
    this.habits.observe(upstream, observation);
    this.log({ op: 'id_habit', upstream, observation });
  }

  recentAnswers(upstream: string, from: number): RecentAnswer[] {
    const list = this.recent.get(upstream);
    return list === undefined ? [] : list.filter((a) => a.endedAt >= from);
  }

  addAnswer(answer: RecentAnswer): void {
    let list = this.recent.get(answer.upstream);
    if (list === undefined) this.recent.set(answer.upstream, (list = []));
    const cutoff = this.now() - this.starvationWindowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] as RecentAnswer).endedAt < cutoff) drop++;
    if (drop > 0 || list.length >= MAX_RECENT_PER_UPSTREAM) list.splice(0, Math.max(drop, list.length - MAX_RECENT_PER_UPSTREAM + 1));
    list.push(answer);
  }

  drainWrites(): StoreWrite[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Folds in another replica's writes (not re-logged, so they are not shipped back). */
  applyRemote(writes: readonly StoreWrite[]): void {
    const recording = this.recordWrites;
    this.recordWrites = false;
    try {
      for (const w of writes) {
        if (w.op === 'session') this.bindSession(w.session, w.binding);
        else if (w.op === 'bid') this.learnBid(w.bidId, w.modelId, w.provider);
        else if (w.op === 'delivered') this.addDelivered(w.ids, w.owner);
        else if (w.op === 'name_vote') this.voteName(w.modelId, w.provider, w.name, w.vote);
        else this.observeIds(w.upstream, w.observation);
      }
    } finally {
      this.recordWrites = recording;
    }
  }
}
