/**
 * Looks a session up once (`GET /blockchain/sessions/{id}`) when the sidecar never saw it opened — it started
 * after the gateway opened its sessions (issue 13 item 2). Async, deduplicated, cached in the store, bounded in
 * concurrency and with a timeout. The request's own router credentials are passed to each call and never kept:
 * not in the cache, not in the pending map, not in an error.
 */
import { DEFAULT_SESSION_LOOKUP_MAX_IN_FLIGHT, DEFAULT_SESSION_LOOKUP_TIMEOUT_MS } from '../config/defaults.js';
import { sessionBody } from './control-plane.js';
import type { DetectionStore, SessionBinding } from './store.js';

/**
 * The proxy implements this with one HTTP GET to the router: `GET {upstream}/blockchain/sessions/{session}` with
 * the given `authorization` header, resolving the parsed JSON body of a 200 answer (undefined for any other status),
 * rejecting or aborting on `signal`.
 */
export type SessionLookup = (session: string, authorization: string | undefined, signal: AbortSignal) => Promise<unknown>;

export interface SessionResolverOptions {
  lookup: SessionLookup;
  store: DetectionStore;
  /** Per look-up timeout (default 2 s). */
  timeoutMs?: number;
  /** Look-ups in flight at most; more are not started (default 16). */
  maxInFlight?: number;
  /** A failed look-up is not retried for this long (default 60 s). */
  retryAfterMs?: number;
  /** Failed sessions remembered at most (default 10,000). */
  maxFailures?: number;
}

export type ResolveOutcome = 'known' | 'resolved' | 'failed' | 'skipped';

export class SessionResolver {
  private readonly o: Required<Omit<SessionResolverOptions, 'lookup' | 'store'>> & Pick<SessionResolverOptions, 'lookup' | 'store'>;
  private readonly inFlight = new Map<string, Promise<ResolveOutcome>>();
  private readonly failedAt = new Map<string, number>();
  /** Outcomes so far, for a metric. */
  readonly counts: Record<ResolveOutcome, number> = { known: 0, resolved: 0, failed: 0, skipped: 0 };

  constructor(options: SessionResolverOptions) {
    this.o = {
      timeoutMs: DEFAULT_SESSION_LOOKUP_TIMEOUT_MS,
      maxInFlight: DEFAULT_SESSION_LOOKUP_MAX_IN_FLIGHT,
      retryAfterMs: 60_000,
      maxFailures: 10_000,
      ...options,
    };
  }

  /** The binding is already known (model id present). */
  known(session: string): SessionBinding | undefined {
    const b = this.o.store.session(session);
    return b?.modelId === undefined ? undefined : b;
  }

  /**
   * Makes sure the session's model id is known: at once if it is, else one look-up shared by concurrent callers.
   * Never rejects. `session` must be normalized (lower case).
   */
  resolve(session: string, authorization: string | undefined): Promise<ResolveOutcome> {
    if (this.known(session) !== undefined) return this.count('known');
    const pending = this.inFlight.get(session);
    if (pending !== undefined) return pending;
    const failed = this.failedAt.get(session);
    const now = this.o.store.now();
    if (failed !== undefined && now - failed < this.o.retryAfterMs) return this.count('skipped');
    if (this.inFlight.size >= this.o.maxInFlight) return this.count('skipped');
    const run = this.run(session, authorization).then((outcome) => {
      this.inFlight.delete(session);
      this.counts[outcome]++;
      return outcome;
    });
    this.inFlight.set(session, run);
    return run;
  }

  private count(outcome: ResolveOutcome): Promise<ResolveOutcome> {
    this.counts[outcome]++;
    return Promise.resolve(outcome);
  }

  private async run(session: string, authorization: string | undefined): Promise<ResolveOutcome> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    try {
      const body = await this.o.lookup(session, authorization, controller.signal);
      const found = sessionBody(body);
      if (found === undefined || found.session !== session || found.binding.modelId === undefined) return this.fail(session);
      this.o.store.bindSession(session, found.binding);
      this.failedAt.delete(session);
      return 'resolved';
    } catch {
      return this.fail(session);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(session: string): 'failed' {
    if (this.failedAt.size >= this.o.maxFailures) {
      const oldest = this.failedAt.keys().next().value;
      if (oldest !== undefined) this.failedAt.delete(oldest);
    }
    this.failedAt.set(session, this.o.store.now());
    return 'failed';
  }
}
