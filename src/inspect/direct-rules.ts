/**
 * The response-side rules a {@link ResponseInspector} applies when no `RequestJudge` runs: the probe's own
 * requests, whose model and key it knows (the sidecar's chat requests always have a judge, which replaces these).
 * Each rule reads one fact of the request or response against the shared registries:
 * - the session against the key it is bound to (`--session-scope`), at request start;
 * - the request-id echo against the id the request was sent with;
 * - completion ids: drift within the stream, and collision with an id delivered to another request (the ids
 *   this request claimed are released to the recent window when it ends);
 * - the response model against the request's model, else the session's learned model; the first model of a
 *   response with no finding teaches the session, and any later finding of this response retracts it.
 */
import type { InspectorContext } from './context.js';
import {
  checkModel,
  checkRequestIdEcho,
  checkSessionKey,
  classifyCompletionId,
  normalizeModelName,
  type EchoSource,
  type Finding,
  type RequestIdEcho,
} from './detectors.js';
import { MAX_IDS_PER_REQUEST, type RequestFacts } from './inspection-summary.js';

export interface DirectRulesDeps {
  ctx: InspectorContext;
  /** Live: the request model arrives after the inspector is made (`setRequestModel`). */
  facts: Readonly<RequestFacts>;
  /** The inspector's registry token. */
  owner: number;
  /** Normalized session id, if the request names one. */
  session: string | undefined;
  /** Raises a finding on the inspector (once per reason). */
  raise: (finding: Finding) => void;
  /** True while the response has no finding. */
  clean: () => boolean;
}

export class DirectRules {
  private readonly claimed = new Set<string>();
  private lastId: string | undefined;
  private lastModel: string | undefined;
  private taught = false;
  private echo: RequestIdEcho = 'missing';
  private drifted = false;

  constructor(private readonly deps: DirectRulesDeps) {}

  /** The echo verdict so far: a mismatch sticks, a match replaces `missing`. */
  get requestIdEcho(): RequestIdEcho {
    return this.echo;
  }

  /** The stream's completion id changed between chunks. */
  get completionIdDrift(): boolean {
    return this.drifted;
  }

  /** `session_key_conflict`, else binds the session to the key (nothing to check when sessions are shared). */
  checkSessionKey(): Finding | undefined {
    const { ctx, session } = this.deps;
    const { sessionScope } = ctx.config;
    const key = this.deps.facts.keyFingerprint;
    if (sessionScope === 'shared' || session === undefined || key === undefined) return undefined;
    const finding = checkSessionKey(session, ctx.sessionKeys.get(session), key, sessionScope);
    if (finding !== undefined) this.deps.raise(finding);
    else ctx.sessionKeys.bind(session, key);
    return finding;
  }

  onEcho(echoed: string | undefined, source: EchoSource): void {
    const { echo, finding } = checkRequestIdEcho(this.deps.facts.requestId, echoed, source);
    if (echo === 'mismatch' || (echo === 'match' && this.echo === 'missing')) this.echo = echo;
    if (finding !== undefined) this.deps.raise(finding);
  }

  onCompletionId(id: string): void {
    if (id === this.lastId) return;
    const { ctx, owner } = this.deps;
    const entry = ctx.completionIds.lookup(id);
    const { kind, finding } = classifyCompletionId(id, {
      previousId: this.lastId,
      seenOnThisRequest: this.claimed.has(id),
      owner: entry === undefined ? undefined : { self: entry.owner === owner, inflight: entry.inflight, requestId: entry.requestId },
    });
    if (finding !== undefined) {
      this.deps.raise(finding);
    } else if (kind === 'first' || kind === 'drift') {
      if (kind === 'drift') this.drifted = true;
      if (this.claimed.size < MAX_IDS_PER_REQUEST) {
        this.claimed.add(id);
        ctx.completionIds.claim(id, owner, this.deps.facts.requestId);
      }
    }
    this.lastId = id;
  }

  onModel(model: string): void {
    if (model === this.lastModel) return;
    this.lastModel = model;
    const { ctx, session } = this.deps;
    const sessionModel = session === undefined ? undefined : ctx.sessionModels.get(session);
    const finding = checkModel(this.deps.facts.requestModel, sessionModel, model, ctx.aliases);
    if (finding !== undefined) {
      // A response already found foreign says nothing about the binding; a clean one may be the true one.
      if (session !== undefined && this.deps.clean() && finding.evidence.source === 'session') {
        ctx.sessionModels.contradict(session);
      }
      this.deps.raise(finding);
      return;
    }
    // The first model of a response with no finding so far teaches the session (see SessionModelRegistry).
    if (session !== undefined && !this.taught && this.deps.clean()) {
      this.taught = true;
      ctx.sessionModels.learn(session, normalizeModelName(model, ctx.aliases), this.deps.owner);
    }
  }

  /** A finding was raised on this response: a binding it taught is withdrawn. */
  onFinding(): void {
    if (this.taught && this.deps.session !== undefined) this.deps.ctx.sessionModels.retract(this.deps.session, this.deps.owner);
  }

  /** The request ended: its claimed ids are remembered for the recent window only. */
  release(): void {
    this.deps.ctx.completionIds.release(this.claimed, this.deps.owner);
    this.claimed.clear();
  }
}
