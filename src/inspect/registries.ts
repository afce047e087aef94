/**
 * The in-memory state the detectors need across requests, bounded in size (oldest entries evicted) and in time
 * (entries expire). Every registry takes an injectable clock so tests never sleep.
 */

export type Clock = () => number;

// The defaults live in src/config/defaults.ts (one source for the proxy, the inspector and the probe).
import {
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_INFLIGHT_MAX_AGE_MS,
  DEFAULT_MAX_COMPLETION_IDS as DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
} from '../config/defaults.js';

export {
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_INFLIGHT_MAX_AGE_MS,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
};

/** Expired entries at the front of a TtlLru are swept once per this many writes (and whenever it is full). */
const SWEEP_EVERY_WRITES = 64;

interface Slot<V> {
  value: V;
  expiresAt: number;
}

/**
 * A Map kept in last-written order with a per-entry expiry: `set` moves an entry to the end, the oldest is
 * evicted past `maxEntries`, expired entries vanish on read and are swept from the front on write.
 *
 * The front is read through one long-lived iterator (Map iteration is live: it skips entries deleted after it was
 * made and reaches the ones added since). A fresh iterator per sweep would start at the table's first slot and
 * step over every entry deleted from the front since V8 last compacted the table — at capacity one per write, so
 * thousands of holes: on a full 10,000-entry map that made each `set` cost microseconds (`bench/request-micro.ts`).
 */
export class TtlLru<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: Clock;
  private writes = 0;
  /** Walks the map from its oldest entry; every entry it has passed was evicted, or is `front`. */
  private cursor: IterableIterator<[K, Slot<V>]> | undefined;
  /** The entry the cursor returned last and the sweep kept: the oldest, unless it has been deleted or rewritten. */
  private front: [K, Slot<V>] | undefined;

  constructor(options: { maxEntries: number; ttlMs: number; now?: Clock }) {
    if (!(options.maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
    this.maxEntries = options.maxEntries;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return slot.value;
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    const now = this.now();
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: now + ttlMs });
    // Sweep when over the cap, else only every few writes (amortized).
    if (this.map.size <= this.maxEntries && ++this.writes < SWEEP_EVERY_WRITES) return;
    this.writes = 0;
    for (let oldest = this.oldest(); oldest !== undefined; oldest = this.oldest()) {
      if (this.map.size <= this.maxEntries && oldest[1].expiresAt > now) break;
      this.map.delete(oldest[0]);
    }
  }

  /** The oldest entry, or undefined when the map is empty. */
  private oldest(): [K, Slot<V>] | undefined {
    // Still the oldest unless it was deleted or rewritten since (a rewrite is a new slot at the end).
    if (this.front !== undefined && this.map.get(this.front[0]) === this.front[1]) return this.front;
    let next = this.cursor?.next();
    // A finished iterator stays finished (it would not see later entries): start again from the front.
    if (next === undefined || next.done === true) {
      this.cursor = this.map.entries();
      next = this.cursor.next();
    }
    this.front = next.done === true ? undefined : next.value;
    return this.front;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }
}

// --- completion ids ------------------------------------------------------------------------------------------

export interface CompletionIdEntry {
  /** Opaque per-request token (request ids are not trusted to be unique). */
  owner: number;
  requestId: string;
  inflight: boolean;
}

export interface CompletionIdRegistryOptions {
  maxEntries?: number;
  windowMs?: number;
  inflightMaxAgeMs?: number;
  now?: Clock;
}

/** Completion id → the request it was first delivered on, while in flight and for a window after. */
export class CompletionIdRegistry {
  private readonly lru: TtlLru<string, CompletionIdEntry>;
  private readonly windowMs: number;

  constructor(options: CompletionIdRegistryOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_COMPLETION_ID_WINDOW_MS;
    this.lru = new TtlLru({
      maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      ttlMs: options.inflightMaxAgeMs ?? DEFAULT_INFLIGHT_MAX_AGE_MS,
      now: options.now,
    });
  }

  get size(): number {
    return this.lru.size;
  }

  lookup(id: string): CompletionIdEntry | undefined {
    return this.lru.get(id);
  }

  /** Records `id` as delivered on the in-flight request `owner`. */
  claim(id: string, owner: number, requestId: string): void {
    this.lru.set(id, { owner, requestId, inflight: true });
  }

  /** The owner finished: its ids are remembered for the recent window only. */
  release(ids: Iterable<string>, owner: number): void {
    for (const id of ids) {
      const entry = this.lru.get(id);
      if (entry === undefined || entry.owner !== owner) continue;
      this.lru.set(id, { owner, requestId: entry.requestId, inflight: false }, this.windowMs);
    }
  }
}

// --- session → model -----------------------------------------------------------------------------------------

export interface SessionRegistryOptions {
  maxEntries?: number;
  windowMs?: number;
  now?: Clock;
}

interface ModelBinding {
  model: string;
  /** Distinct requests that reported this model. */
  confirmations: number;
  /** The request that taught it. */
  teacher: number;
}

/** The bounded, expiring map behind both session registries. */
function sessionLru<V>(options: SessionRegistryOptions): TtlLru<string, V> {
  return new TtlLru<string, V>({
    maxEntries: options.maxEntries ?? DEFAULT_MAX_SESSIONS,
    ttlMs: options.windowMs ?? DEFAULT_SESSION_BINDING_WINDOW_MS,
    now: options.now,
  });
}

/**
 * Session → the (normalized) model its responses report; a session is bound to one model.
 *
 * Poisoning policy: only a response with no finding teaches (at its first model), so a response already found
 * foreign never does. A binding taught by one request only is dropped when that request is later found foreign
 * (`retract`) or when another response with no finding of its own contradicts it (`contradict`; the
 * contradiction is still flagged, since either side may be the foreign one). A binding confirmed by two or more
 * requests stands until it expires.
 * One undetected foreign response can therefore cost at most one false flag, not a session's worth.
 */
export class SessionModelRegistry {
  private readonly lru: TtlLru<string, ModelBinding>;

  constructor(options: SessionRegistryOptions = {}) {
    this.lru = sessionLru(options);
  }

  get size(): number {
    return this.lru.size;
  }

  get(session: string): string | undefined {
    return this.lru.get(session)?.model;
  }

  /** Request `teacher` reported `model` on `session`. */
  learn(session: string, model: string, teacher: number): void {
    const binding = this.lru.get(session);
    if (binding === undefined) {
      this.lru.set(session, { model, confirmations: 1, teacher });
    } else if (binding.model === model) {
      const confirmations = binding.teacher === teacher ? binding.confirmations : binding.confirmations + 1;
      this.lru.set(session, { model, confirmations, teacher: binding.teacher });
    }
  }

  /** A response reported another model than the binding: drop the binding if only one request taught it. */
  contradict(session: string): void {
    const binding = this.lru.get(session);
    if (binding !== undefined && binding.confirmations < 2) this.lru.delete(session);
  }

  /** Request `teacher` was found foreign: undo what it alone taught. */
  retract(session: string, teacher: number): void {
    const binding = this.lru.get(session);
    if (binding !== undefined && binding.teacher === teacher && binding.confirmations < 2) this.lru.delete(session);
  }
}

// --- session → key -------------------------------------------------------------------------------------------

/** Session → the API key fingerprint that first used it within the binding window (refreshed on each use). */
export class SessionKeyRegistry {
  private readonly lru: TtlLru<string, string>;

  constructor(options: SessionRegistryOptions = {}) {
    this.lru = sessionLru(options);
  }

  get size(): number {
    return this.lru.size;
  }

  get(session: string): string | undefined {
    return this.lru.get(session);
  }

  bind(session: string, key: string): void {
    this.lru.set(session, key);
  }
}

// --- in flight -----------------------------------------------------------------------------------------------

export interface InflightHandle {
  /** Other requests with the same API key in flight when this one started. */
  readonly apiKey: number;
  /** Other requests on the same session in flight when this one started. */
  readonly session: number;
  /** Idempotent. */
  release(): void;
}

/** Counts of in-flight requests per key fingerprint and per session; an entry lives only while its count is > 0. */
export class InflightTracker {
  private readonly byKey = new Map<string, number>();
  private readonly bySession = new Map<string, number>();

  start(key?: string, session?: string): InflightHandle {
    const apiKey = key === undefined ? 0 : increment(this.byKey, key);
    const sessionCount = session === undefined ? 0 : increment(this.bySession, session);
    let released = false;
    return {
      apiKey,
      session: sessionCount,
      release: () => {
        if (released) return;
        released = true;
        if (key !== undefined) decrement(this.byKey, key);
        if (session !== undefined) decrement(this.bySession, session);
      },
    };
  }

  inflightForKey(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  inflightForSession(session: string): number {
    return this.bySession.get(session) ?? 0;
  }
}

/** Returns the count before incrementing: the others in flight. */
function increment(map: Map<string, number>, key: string): number {
  const before = map.get(key) ?? 0;
  map.set(key, before + 1);
  return before;
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
