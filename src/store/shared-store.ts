/**
 * The detection store several replicas share (issue 17), without any network on the byte path: every read and
 * write goes to a local {@link MemoryDetectionStore} at once; the writes (plus the live-id claims the memory store
 * does not log) queue up as {@link SharedWrite}s for a transport (src/store/redis-sync.ts) to ship in batches, and
 * other replicas' batches are folded in with {@link applyBatch}. A replica ignores its own batches.
 *
 * Flag mode never waits; block mode decides on what is known locally at that instant. A shared fact that arrives
 * later and shows that a request in flight here carries an id another replica's request was given is surfaced as
 * a {@link LateFinding}: the proxy stops a block-mode stream from that point and records it as a late shared finding.
 */
import type { DeliveredOwner } from '../inspect/completion-id-window.js';
import type { Finding } from '../inspect/detectors.js';
import { habitKeyOf, type IdHabits, type IdObservation } from '../inspect/id-habits.js';
import type { NameConsensus, NameVote, OverturnedVote } from '../inspect/name-consensus.js';
import { TtlLru, type Clock } from '../inspect/registries.js';
import type { PromptRatios } from '../inspect/request-shape.js';
import {
  MemoryDetectionStore,
  type DetectionStore,
  type DetectionStoreOptions,
  type LiveOwner,
  type RecentAnswer,
  type SessionBinding,
  type StoreWrite,
} from '../inspect/store.js';
import { DEFAULT_COMPLETION_ID_WINDOW_MS, DEFAULT_INFLIGHT_MAX_AGE_MS } from '../config/defaults.js';
import type { SharedBatch, SharedWrite } from './records.js';

/** The token of a live owner on another replica: local tokens are positive serials, so it never equals one. */
export const REMOTE_TOKEN = -1;

/** A shared finding that arrived after the local request had already been judged on local knowledge. */
export interface LateFinding {
  /** The local request: its token while it is in flight (undefined once finished), and its request id. */
  token: number | undefined;
  requestId: string;
  finding: Finding;
  /** The request on the other replica that holds the same id (its span as `<traceId>-<spanId>`, when shared). */
  other: RemoteRequest & { state: 'in_flight' | 'finished' };
}

/** A request served by another replica, as its shared records name it. */
export interface RemoteRequest {
  replica: string;
  requestId: string;
  /** Its span as `<traceId>-<spanId>` (records.ts `traceRef`), when that replica shared it. */
  trace?: string;
}

export interface SharedDetectionStoreOptions extends Omit<DetectionStoreOptions, 'recordWrites'> {
  /** This replica's id, carried in every batch (default: host, pid and a random suffix). */
  replica: string;
  /** How long another replica's live claim is held without its end (default: the in-flight max age). */
  remoteLiveMaxAgeMs?: number;
  /** Remote live ids held at most (default 100,000). */
  maxRemoteLiveIds?: number;
}

interface RemoteLive {
  owner: LiveOwner;
  replica: string;
}

function sameUser(a: DeliveredOwner, b: DeliveredOwner): boolean {
  return a.key !== undefined && a.key === b.key && a.session !== undefined && a.session === b.session;
}

export class SharedDetectionStore implements DetectionStore {
  readonly replica: string;
  readonly local: MemoryDetectionStore;
  private readonly remoteLive: TtlLru<string, RemoteLive>;
  private outgoing: SharedWrite[] = [];
  private readonly reported: TtlLru<string, true>;
  /** Requests other replicas named in their records, by request id (bounded; for incidents and span links). */
  private readonly remoteRequests: TtlLru<string, RemoteRequest>;
  private readonly listeners = new Set<(late: LateFinding) => void>();
  private applied = 0;
  /** The transport shipping this store's writes (set by RedisSync), for callers that order by it (tests, tools). */
  transport: { flush(): Promise<string | undefined>; caughtUp(id: string): Promise<void> } | undefined;

  constructor(options: SharedDetectionStoreOptions) {
    this.replica = options.replica;
    this.local = new MemoryDetectionStore({ ...options, recordWrites: true });
    const ttlMs = options.remoteLiveMaxAgeMs ?? DEFAULT_INFLIGHT_MAX_AGE_MS;
    const now = this.local.now;
    this.remoteLive = new TtlLru({ maxEntries: options.maxRemoteLiveIds ?? 100_000, ttlMs, now });
    this.reported = new TtlLru({ maxEntries: 10_000, ttlMs, now });
    this.remoteRequests = new TtlLru({
      maxEntries: options.maxRemoteLiveIds ?? 100_000,
      ttlMs: Math.max(options.completionIdWindowMs ?? DEFAULT_COMPLETION_ID_WINDOW_MS, ttlMs),
      now,
    });
  }

  /** The request another replica named in its records under `requestId` (replica, and its span when shared). */
  remoteRequest(requestId: string): RemoteRequest | undefined {
    return this.remoteRequests.get(requestId);
  }

  private noteRemote(owner: DeliveredOwner, replica: string): void {
    const known: RemoteRequest = { replica, requestId: owner.requestId };
    if (owner.trace !== undefined) known.trace = owner.trace;
    this.remoteRequests.set(owner.requestId, known);
  }

  get now(): Clock {
    return this.local.now;
  }
  get names(): NameConsensus {
    return this.local.names;
  }
  get habits(): IdHabits {
    return this.local.habits;
  }
  get promptRatios(): PromptRatios {
    return this.local.promptRatios;
  }
  get starvationWindowMs(): number {
    return this.local.starvationWindowMs;
  }

  /** Calls `fn` for each late shared finding; returns the unsubscribe. */
  onLateFinding(fn: (late: LateFinding) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Remote writes applied so far (for tests and stats). */
  get appliedWrites(): number {
    return this.applied;
  }

  issueRequestId(requestId: string, token: number): void {
    this.local.issueRequestId(requestId, token);
  }
  requestIdToken(requestId: string): number | undefined {
    return this.local.requestIdToken(requestId);
  }

  liveOwner(id: string): LiveOwner | undefined {
    return this.local.liveOwner(id) ?? this.remoteLive.get(id)?.owner;
  }

  claimLive(id: string, owner: LiveOwner): boolean {
    const ok = this.local.claimLive(id, owner);
    if (ok && this.local.liveOwner(id)?.token === owner.token) this.queueLive(id, owner);
    // The judge sees a remote owner now and decides itself: the same pair must not come back as a late finding.
    const held = this.remoteLive.get(id);
    if (held !== undefined) this.markReported(owner.requestId, held.replica, held.owner.requestId);
    const delivered = this.local.deliveredOwner(id);
    // An owner applied from another replica's batch names that replica; this replica's own name none.
    if (delivered?.replica !== undefined) this.markReported(owner.requestId, delivered.replica, delivered.requestId);
    return ok;
  }

  private markReported(mine: string, replica: string, other: string): void {
    this.reported.set(`${mine}|${replica}|${other}`, true);
  }

  private queueLive(id: string, owner: LiveOwner): void {
    this.pullLocal();
    const last = this.outgoing[this.outgoing.length - 1];
    if (last?.op === 'live' && last.owner.requestId === owner.requestId && last.ids.length < 1024) {
      last.ids.push(id);
      return;
    }
    const { token: _token, ...plain } = owner;
    this.outgoing.push({ op: 'live', ids: [id], owner: plain });
  }

  releaseLive(ids: Iterable<string>, token: number): void {
    this.local.releaseLive(ids, token);
  }
  deliveredOwner(id: string): DeliveredOwner | undefined {
    return this.local.deliveredOwner(id);
  }
  /** This replica's own delivery (its judge names no `replica`: that is how an applied one is told apart). */
  addDelivered(ids: string[], owner: DeliveredOwner): void {
    this.local.addDelivered(ids, owner);
  }
  session(session: string): SessionBinding | undefined {
    return this.local.session(session);
  }
  bindSession(session: string, patch: SessionBinding): void {
    this.local.bindSession(session, patch);
  }
  bid(bidId: string): { modelId: string; provider?: string } | undefined {
    return this.local.bid(bidId);
  }
  learnBid(bidId: string, modelId: string, provider?: string): void {
    this.local.learnBid(bidId, modelId, provider);
  }
  voteName(modelId: string, provider: string | undefined, name: string, vote: NameVote): OverturnedVote[] {
    return this.local.voteName(modelId, provider, name, vote);
  }
  observeIds(upstream: string, observation: IdObservation): void {
    this.local.observeIds(upstream, observation);
  }
  recentAnswers(upstream: string, from: number): RecentAnswer[] {
    return this.local.recentAnswers(upstream, from);
  }
  addAnswer(answer: RecentAnswer): void {
    this.local.addAnswer(answer);
  }

  private pullLocal(): void {
    const writes = this.local.drainWrites();
    if (writes.length > 0) this.outgoing.push(...writes);
  }

  /** This replica's writes since the last call (live claims included), in order, for the transport. */
  drainShared(): SharedWrite[] {
    this.pullLocal();
    const out = this.outgoing;
    this.outgoing = [];
    return out;
  }

  /** The DetectionStore seam: the same drain without the live claims (the transport uses {@link drainShared}). */
  drainWrites(): StoreWrite[] {
    return this.drainShared().filter((w): w is StoreWrite => w.op !== 'live');
  }

  /** Folds in writes as if from an unnamed other replica (the DetectionStore seam). */
  applyRemote(writes: readonly StoreWrite[]): void {
    this.applyBatch({ replica: '', writes: [...writes] });
  }

  /** Folds in another replica's batch; this replica's own batches are ignored. */
  applyBatch(batch: SharedBatch): void {
    if (batch.replica === this.replica) return;
    const plain: StoreWrite[] = [];
    for (const w of batch.writes) {
      this.applied++;
      if (w.op === 'live' || w.op === 'delivered') this.noteRemote(w.owner, batch.replica);
      if (w.op === 'live') {
        const owner: LiveOwner = { ...w.owner, token: REMOTE_TOKEN };
        for (const id of w.ids) {
          this.remoteLive.set(id, { owner, replica: batch.replica });
          this.checkLate(id, w.owner, batch.replica, 'in_flight');
        }
      } else if (w.op === 'delivered') {
        for (const id of w.ids) {
          const held = this.remoteLive.get(id);
          const heldHere = held !== undefined && held.replica === batch.replica && held.owner.requestId === w.owner.requestId;
          if (heldHere) this.remoteLive.delete(id);
          this.checkLate(id, w.owner, batch.replica, 'finished');
        }
        plain.push({ ...w, owner: { ...w.owner, replica: batch.replica } });
      } else {
        plain.push(w);
      }
    }
    if (plain.length > 0) this.local.applyRemote(plain);
  }

  /** Whether the provider's ids are unique, under the key the judge reads its habit by ({@link habitKeyOf}). */
  private habitUnique(session: string | undefined, model: string | undefined): boolean {
    const key = habitKeyOf(session === undefined ? undefined : this.local.session(session), model);
    return key !== undefined && this.local.habits.habit(key).reuse === 'unique';
  }

  /** A remote request holds `id`: does a request of this replica (in flight, or finished here) hold it too? */
  private checkLate(id: string, other: DeliveredOwner, replica: string, state: 'in_flight' | 'finished'): void {
    if (this.listeners.size === 0) return;
    const live = this.local.liveOwner(id);
    let mine: DeliveredOwner | undefined = live;
    if (mine === undefined) {
      const delivered = this.local.deliveredOwner(id);
      if (delivered !== undefined && delivered.replica === undefined) mine = delivered;
    }
    if (mine === undefined || sameUser(mine, other) || !this.habitUnique(mine.session ?? other.session, mine.model ?? other.model)) return;
    const token = live?.token;
    if (this.reported.get(`${mine.requestId}|${replica}|${other.requestId}`) !== undefined) return;
    this.markReported(mine.requestId, replica, other.requestId);
    const late: LateFinding = {
      token,
      requestId: mine.requestId,
      finding: {
        reason: 'completion_id_collision',
        evidence: { seen: id, other_request_id: other.requestId, other_replica: replica, other_state: state, rule: 'late_shared' },
      },
      other: { replica, requestId: other.requestId, ...(other.trace !== undefined && { trace: other.trace }), state },
    };
    for (const fn of this.listeners) {
      try {
        fn(late);
      } catch {
        // A listener's failure must not stop the others nor the sync loop.
      }
    }
  }
}
