/**
 * The gateway-aware detection (issue 13): what the sidecar can know behind the real gateway — the control plane,
 * the request's own shape, the stream's structure, each provider's id habits, answers on the same upstream — and
 * never the body's `model` or a key header, which the gateway does not send.
 *
 * `Detection` is process-wide (one store, one session resolver); `RequestJudge` is one request's rules. Both are
 * pure of HTTP and spans: the proxy hands facts in and gets findings, peer findings and links back.
 */
import { DEFAULT_SESSION_LOOKUP_TIMEOUT_MS } from '../config/defaults.js';
import { applyControlFacts, classifyControlCall, controlFacts, type ControlCall } from './control-plane.js';
import {
  compileModelAliases,
  normalizeModelName,
  type EchoVerdict,
  type Finding,
  type ModelAliases,
  type SessionScope,
} from './detectors.js';
import type { IdHabit } from './id-habits.js';
import { DEFAULT_SHAPE_CHECK, type RequestShape, type ShapeCheckOptions } from './request-shape.js';
import { RequestJudge } from './request-judge.js';
import { SessionResolver, type SessionLookup } from './session-lookup.js';
import type { DetectionStore } from './store.js';

export { RequestJudge };

export interface DetectionOptions {
  store: DetectionStore;
  /** `key`: a session belongs to one API key (old gateway); `shared`: sessions are pooled across keys (new gateway). */
  sessionScope?: SessionScope;
  /** Configured aliases, alias → canonical. */
  modelAliases?: Record<string, string>;
  /** Look sessions up on the router when never seen opened; omit to turn look-ups off. */
  lookup?: SessionLookup;
  lookupTimeoutMs?: number;
  shape?: Partial<ShapeCheckOptions>;
  /** Ids one request tracks at most (drifting streams have one per chunk). */
  maxIdsPerRequest?: number;
}

/** A finding for another request (overturned teacher, starvation peer), to add to its incident. */
export interface PeerFinding {
  requestId: string;
  finding: Finding;
  /** The caller data the peer was registered with (its span context), for a span link. */
  link?: unknown;
}

export interface JudgeFacts {
  requestId: string;
  /** `session_id` / `X-Session-ID` request header. */
  sessionId?: string;
  /** Key fingerprint, when the deployment forwards one. */
  keyFingerprint?: string;
  /** The request body's `model`, when present (one variant; the real gateway strips it). */
  requestModel?: string;
  shape?: RequestShape;
  /** The upstream serving it (the proxy's router URL); answers are paired for starvation per upstream. */
  upstream?: string;
  /** Opaque caller data returned to peers (e.g. the span context, for OTel span links). */
  link?: unknown;
  /** This request's span as `<traceId>-<spanId>`, written into shared records (only given with a shared store). */
  trace?: string;
}

export interface JudgeSummary {
  echo: EchoVerdict;
  /** 200 and no completion content. */
  starved: boolean;
  /** Completions the answer carried (finish_reasons of one choice, or usage chunks). */
  completions: number;
  /** Content chunks changed id within the answer (benign on its own: llama.cpp, SGLang). */
  completionIdDrift: boolean;
  splicedEvents: number;
  /** Payloads that looked like JSON and parsed neither whole nor as spliced pieces. */
  unparsedPayloads: number;
  /** The session the answer was judged against last (after a failover, the new one). */
  session?: string;
  /** Sessions whose model is unknown: the proxy may resolve them (see `Detection.resolver`). */
  unknownSessions: string[];
  idHabit?: IdHabit;
  peerFindings: PeerFinding[];
  /** The completion ids the answer carried, in order (the first {@link MAX_SUMMARY_COMPLETION_IDS}). */
  completionIds: string[];
  /** Requests this one was paired with (span links both ways). */
  links: { requestId: string; link?: unknown }[];
}

/** Completion ids a summary names at most (an incident's join key for the probe). */
export const MAX_SUMMARY_COMPLETION_IDS = 16;

export class Detection {
  readonly store: DetectionStore;
  readonly resolver: SessionResolver | undefined;
  readonly sessionScope: SessionScope;
  readonly aliases: ModelAliases;
  readonly shape: ShapeCheckOptions;
  readonly maxIdsPerRequest: number;
  private serial = 0;

  constructor(options: DetectionOptions) {
    this.store = options.store;
    this.sessionScope = options.sessionScope ?? 'key';
    this.aliases = compileModelAliases(options.modelAliases);
    this.shape = { ...DEFAULT_SHAPE_CHECK, ...options.shape };
    this.maxIdsPerRequest = options.maxIdsPerRequest ?? 1024;
    this.resolver =
      options.lookup === undefined
        ? undefined
        : new SessionResolver({
            lookup: options.lookup,
            store: options.store,
            timeoutMs: options.lookupTimeoutMs ?? DEFAULT_SESSION_LOOKUP_TIMEOUT_MS,
          });
  }

  nextToken(): number {
    return ++this.serial;
  }

  normalizeName(name: string): string {
    return normalizeModelName(name, this.aliases);
  }

  /** A chat request starts (call before forwarding it). */
  begin(facts: JudgeFacts): RequestJudge {
    return new RequestJudge(this, facts);
  }

  /**
   * Looks up, with the request's own `authorization` (used for this call only, never kept), every session the
   * judge does not know the model of: at request start, and again after a failover line named a new session.
   * Resolves when done (each look-up bounded by its timeout); never rejects; a no-op with look-ups off.
   */
  async resolveSessions(judge: RequestJudge, authorization: string | undefined): Promise<void> {
    const resolver = this.resolver;
    if (resolver === undefined) return;
    await Promise.all(judge.sessionsToResolve.map((session) => resolver.resolve(session, authorization)));
  }

  /** Which control-plane call a request is (call when a non-chat request arrives); undefined: not one. */
  controlCall(method: string, path: string): ControlCall | undefined {
    return classifyControlCall(method, path);
  }

  /** The answer to a control-plane call (status and parsed JSON body, 2xx only teach). */
  onControlResponse(call: ControlCall, status: number, body: unknown): void {
    applyControlFacts(this.store, controlFacts(call, status, body));
  }
}

