/**
 * One chat request's gateway-aware rules (issue 13): the echo, the ids against the provider's habits, the model
 * against the session's on-chain binding and its known names, the request's own shape, the stream's structure, and
 * (at the end) starvation pairing and learning. Pure of HTTP and spans; see detection.ts for the process-wide part.
 */
import type { DeliveredOwner } from './completion-id-window.js';
import type { ChunkFields } from './chunk-fields.js';
import { hex32 } from './control-plane.js';
import { NO_FINDINGS, classifyRequestIdEcho, normalizeSessionId, type EchoSource, type EchoVerdict, type Finding } from './detectors.js';
import { MAX_SUMMARY_COMPLETION_IDS, type Detection, type JudgeFacts, type JudgeSummary, type PeerFinding } from './detection.js';
import { habitKeyOf, isCounterLike } from './id-habits.js';
import type { NameVote } from './name-consensus.js';
import { checkChunkShape, checkCompletionTokens, requestShapeOf, type RequestShape } from './request-shape.js';
import { pairStarvation } from './starvation.js';
import { AnswerTally } from './answer-tally.js';
import type { LiveOwner, RecentAnswer } from './store.js';


/** `out` with `f` appended (the array made on the first finding); `out` unchanged when there is none. */
function addTo(out: Finding[] | undefined, f: Finding | undefined): Finding[] | undefined {
  if (f === undefined) return out;
  (out ??= []).push(f);
  return out;
}

/** Chunks a request tracks per choice at most for structure rules. */

export class RequestJudge {
  readonly facts: Readonly<JudgeFacts>;
  readonly token: number;
  private readonly d: Detection;
  private session: string | undefined;
  private status: number | undefined;
  private echo: EchoVerdict = 'missing';
  private readonly claimed: string[] = [];
  private readonly claimedSet = new Set<string>();
  private lastId: string | undefined;
  private firstId: string | undefined;
  private driftedContent = false;
  private reusedFirst = false;
  private lastModel: string | undefined;
  private lastRawModel: string | undefined;
  private lastNormalized: string | undefined;
  private firstModel: string | undefined;
  private nameVote: { modelId: string; provider: string | undefined; name: string } | undefined;
  private modelFound = false;
  private readonly tally = new AnswerTally();
  private completionTokens: number | undefined;
  private promptTokens: number | undefined;
  private errorSeen = false;
  private spliced = 0;
  private unparsed = 0;
  private createdChecked = false;
  private readonly unknownSessions = new Set<string>();
  private findingsRaised = 0;
  private readonly peerFindings: PeerFinding[] = [];
  private readonly links: { requestId: string; link?: unknown }[] = [];
  private ended: JudgeSummary | undefined;

  constructor(detection: Detection, facts: JudgeFacts) {
    this.d = detection;
    this.facts = { ...facts };
    this.token = detection.nextToken();
    this.session = facts.sessionId === undefined || facts.sessionId === '' ? undefined : normalizeSessionId(facts.sessionId);
    detection.store.issueRequestId(facts.requestId, this.token);
    if (this.session !== undefined && this.binding()?.modelId === undefined) this.unknownSessions.add(this.session);
  }

  /**
   * The request body, once read (the proxy reads small JSON bodies whole, after the request started): its shape
   * and, when present, its `model`. The first call wins; answers judged before it have no shape checks.
   */
  setRequestBody(body: unknown, arrivedAt: number): void {
    const facts = this.facts as JudgeFacts;
    if (facts.shape !== undefined || this.ended !== undefined) return;
    facts.shape = requestShapeOf(body, arrivedAt);
    const model = (body as { model?: unknown } | null)?.model;
    if (facts.requestModel === undefined && typeof model === 'string' && model !== '') facts.requestModel = model;
  }

  private binding() {
    return this.session === undefined ? undefined : this.d.store.session(this.session);
  }

  /** Sessions whose model is not known yet (call `detection.resolver.resolve` for each, with the credentials). */
  get sessionsToResolve(): string[] {
    // Only an on-chain id (0x + 64 hex) can be looked up; anything else is caller-chosen text.
    return [...this.unknownSessions].filter((s) => hex32(s) !== undefined && this.d.store.session(s)?.modelId === undefined);
  }

  /**
   * Request-time rule `session_key_conflict` (scope `key`): the session is bound to another key that the router
   * accepted on it. Binding happens only on a 2xx answer ({@link onStatus}), so a request with a stolen session id
   * and any key never locks the owner out (issue 14 row 5).
   */
  checkRequest(): Finding[] {
    const key = this.facts.keyFingerprint;
    if (this.d.sessionScope === 'shared' || this.session === undefined || key === undefined) return [];
    const bound = this.binding()?.key;
    if (bound === undefined || bound === key) return [];
    return [this.count({ reason: 'session_key_conflict', evidence: { expected: bound, seen: key, session: this.session } })];
  }

  /** The upstream's status line. A 2xx binds the session to the key. */
  onStatus(status: number): void {
    this.status = status;
    const key = this.facts.keyFingerprint;
    if (status >= 200 && status < 300 && this.session !== undefined && key !== undefined && this.d.sessionScope === 'key') {
      if (this.binding()?.key === undefined) this.d.store.bindSession(this.session, { key });
    }
  }

  /** An echoed request id (response header, or a chunk's `request_id`). */
  onEcho(echoed: string | undefined, source: EchoSource): Finding[] {
    const store = this.d.store;
    const { echo, other } = classifyRequestIdEcho(this.facts.requestId, echoed, (id) => store.requestIdToken(id), this.token);
    if (echo === 'missing') return [];
    if (echo === 'foreign' || this.echo === 'missing' || (echo === 'rewritten' && this.echo === 'match')) this.echo = echo;
    if (echo !== 'foreign' || other === undefined) return [];
    return [this.count({ reason: 'request_id_mismatch', evidence: { expected: this.facts.requestId, seen: other, source, rule: 'issued_to_other' } })];
  }

  /** A plain-text data line: router failover notices; `new session opened: 0x…` switches the session judged. */
  onText(data: string): Finding[] {
    const prefix = 'new session opened:';
    const text = data.trim();
    if (text.startsWith(prefix)) {
      const next = hex32(text.slice(prefix.length).trim());
      if (next !== undefined) {
        this.session = next;
        // The rest of the answer is the new session's: its model, ids and names start afresh.
        this.lastModel = undefined;
        this.lastId = undefined;
        this.nameVote = undefined;
        if (this.binding()?.modelId === undefined) this.unknownSessions.add(next);
      }
    }
    return [];
  }

  /** One parsed chunk (or JSON body). */
  onChunk(fields: ChunkFields, echoJudged = false): readonly Finding[] {
    // Called for every parsed chunk: no allocation unless something is found (one array, filled in place).
    let out: Finding[] | undefined;
    if (fields.error) this.errorSeen = true;
    if (!echoJudged && fields.requestId !== undefined) for (const f of this.onEcho(fields.requestId, 'chunk')) out = addTo(out, f);
    const choices = fields.choices;
    const usageOnly = choices !== undefined && choices.empty;
    // The habit key (habitKey) must be the same for the first id as at the end: the model name is known first.
    if (fields.model !== undefined && this.firstModel === undefined) this.firstModel = this.normalized(fields.model);
    if (fields.id !== undefined) out = addTo(out, this.onId(fields.id, usageOnly));
    if (fields.model !== undefined) out = addTo(out, this.onModel(fields.model));
    if (this.facts.shape !== undefined) {
      const created = this.createdChecked ? undefined : fields.created;
      if (fields.created !== undefined) this.createdChecked = true;
      if (choices !== undefined || created !== undefined) {
        for (const f of checkChunkShape(this.facts.shape, choices, created, this.d.shape)) out = addTo(out, f);
      }
    }
    if (choices !== undefined) {
      const tallied = this.tally.addChoices(choices);
      if (tallied !== undefined) {
        for (const index of tallied.contentAfterFinish) out = addTo(out, { reason: 'content_after_finish', evidence: { choice: index } });
        for (const index of tallied.secondFinish) out = addTo(out, { reason: 'duplicate_finish_reason', evidence: { choice: index } });
      }
    }
    if (fields.usage !== undefined) {
      const usageChunks = this.tally.addUsage();
      if (usageChunks === 2) out = addTo(out, { reason: 'duplicate_usage', evidence: { seen: '2' } });
      if (usageChunks === 1) {
        this.completionTokens = fields.usage.outputTokens;
        this.promptTokens = fields.usage.inputTokens;
        const shape = this.facts.shape;
        if (shape !== undefined) out = addTo(out, checkCompletionTokens(shape, fields.usage.outputTokens, this.d.shape));
      }
    }
    return out === undefined ? NO_FINDINGS : this.countAll(out);
  }

  /** The normalized name of a response's raw model name; chunks repeat it, so the last one is remembered. */
  private normalized(raw: string): string {
    if (raw !== this.lastRawModel) {
      this.lastRawModel = raw;
      this.lastNormalized = this.d.normalizeName(raw);
    }
    return this.lastNormalized as string;
  }

  /** The fast path counted a content chunk from its bytes (same fields as the last parsed one, other text). */
  onSkippedContent(): void {
    this.tally.markContent();
  }

  /** Whether the fast path may skip chunks now: not after a finish_reason (content after it must be seen). */
  get fastPathAllowed(): boolean {
    return !this.tally.anyFinished;
  }

  /** A spliced event was found (the embedded payloads are inspected by the caller through `onChunk`). */
  onSpliced(pieces: number): Finding[] {
    this.spliced++;
    return this.spliced === 1 ? [this.count({ reason: 'spliced_event', evidence: { pieces: String(pieces) } })] : [];
  }

  /** A payload that parsed neither whole nor as spliced pieces: counted, not dropped silently. */
  onUnparsed(): void {
    this.unparsed++;
  }

  private habitKey(): string {
    return habitKeyOf(this.binding(), this.firstModel) ?? this.facts.upstream ?? 'upstream';
  }

  private onId(id: string, usageOnly: boolean): Finding | undefined {
    if (id === this.lastId) return undefined;
    const store = this.d.store;
    const habit = store.habits.habit(this.habitKey());
    const first = this.firstId === undefined;
    let out: Finding | undefined;
    if (this.claimedSet.has(id)) {
      out = { reason: 'completion_id_interleave', evidence: { seen: id, previous_id: this.lastId, rule: 'reappeared' } };
    } else {
      const live = store.liveOwner(id);
      const delivered = live === undefined ? store.deliveredOwner(id) : undefined;
      const owner = live !== undefined && live.token !== this.token ? live : delivered;
      if (owner !== undefined && !this.sameUser(owner)) {
        if (first) this.reusedFirst = true;
        if (habit.reuse === 'unique') {
          const inflight = live !== undefined;
          out =
            first || !inflight
              ? { reason: 'completion_id_collision', evidence: { seen: id, other_request_id: owner.requestId, other_state: inflight ? 'in_flight' : 'finished' } }
              : { reason: 'completion_id_interleave', evidence: { seen: id, previous_id: this.lastId, other_request_id: owner.requestId, rule: 'inflight_owner' } };
        }
      } else if (!first && !usageOnly) {
        this.driftedContent = true;
        // With ids known to be stable, the first foreign id is a finding at once: block mode stops before it.
        if (habit.stability === 'stable') {
          out = { reason: 'completion_id_interleave', evidence: { seen: id, previous_id: this.lastId, rule: 'stable_habit' } };
        }
      }
    }
    if (!this.claimedSet.has(id) && this.claimed.length < this.d.maxIdsPerRequest) {
      this.claimed.push(id);
      this.claimedSet.add(id);
      const owner: LiveOwner = { token: this.token, requestId: this.facts.requestId };
      if (this.facts.keyFingerprint !== undefined) owner.key = this.facts.keyFingerprint;
      if (this.session !== undefined) owner.session = this.session;
      if (this.facts.trace !== undefined) owner.trace = this.facts.trace;
      // The habit key of a session whose model is unknown (a replica's late check keys it the same way).
      if (this.firstModel !== undefined) owner.model = this.firstModel;
      store.claimLive(id, owner);
    }
    this.firstId ??= id;
    this.lastId = id;
    return out;
  }

  /** Same key and session: a response cache replaying a completion to the same user is not a collision. */
  private sameUser(owner: { key?: string; session?: string }): boolean {
    const sameKey = owner.key !== undefined && owner.key === this.facts.keyFingerprint;
    return sameKey && owner.session !== undefined && owner.session === this.session;
  }

  private onModel(raw: string): Finding | undefined {
    const name = this.normalized(raw);
    if (name === this.lastModel) return undefined;
    this.lastModel = name;
    this.firstModel ??= name;
    const requestModel = this.facts.requestModel;
    if (requestModel !== undefined && requestModel.trim() !== '') {
      const expected = this.d.normalizeName(requestModel);
      return expected === name ? undefined : this.modelFinding(expected, name, 'request_body');
    }
    const b = this.binding();
    if (b?.modelId === undefined) return undefined;
    const verdict = this.d.store.names.judge(b.modelId, b.provider, name);
    if (verdict.kind === 'known') return undefined;
    if (verdict.kind === 'pending') {
      this.nameVote ??= { modelId: b.modelId, provider: b.provider, name };
      return undefined;
    }
    if (verdict.kind === 'foreign') return this.modelFinding(verdict.expected, name, 'consensus');
    const finding = this.modelFinding(verdict.expected ?? `model ${b.modelId.slice(0, 10)}…`, name, 'other_model');
    finding.evidence.other_model_id = verdict.otherModelId;
    return finding;
  }

  private modelFinding(expected: string, seen: string, source: string): Finding {
    this.modelFound = true;
    return { reason: 'model_mismatch', evidence: { expected, seen, source, ...(this.binding()?.modelId !== undefined && { model_id: this.binding()?.modelId }) } };
  }

  private count(f: Finding): Finding {
    this.findingsRaised++;
    return f;
  }

  private countAll(fs: Finding[]): Finding[] {
    this.findingsRaised += fs.length;
    return fs;
  }

  /**
   * The answer ended (completed or aborted). `clean`: the caller's inspector raised no finding (the judge's own
   * count is included). Learning (names, id habits, prompt ratios) comes only from clean answers. Idempotent.
   */
  finish(clean = true): { summary: JudgeSummary; findings: Finding[] } {
    if (this.ended !== undefined) return { summary: this.ended, findings: [] };
    const store = this.d.store;
    const findings: Finding[] = [];
    store.releaseLive(this.claimed, this.token);
    const owner: DeliveredOwner = { requestId: this.facts.requestId };
    if (this.facts.keyFingerprint !== undefined) owner.key = this.facts.keyFingerprint;
    if (this.session !== undefined) owner.session = this.session;
    if (this.firstModel !== undefined) owner.model = this.firstModel;
    if (this.facts.trace !== undefined) owner.trace = this.facts.trace;
    store.addDelivered(this.claimed, owner);

    const shape = this.facts.shape;
    const b = this.binding();
    const ratioKey = b?.modelId ?? this.firstModel;
    if (shape !== undefined && ratioKey !== undefined && this.promptTokens !== undefined) {
      const f = store.promptRatios.check(ratioKey, shape, this.promptTokens);
      if (f !== undefined) findings.push(f);
    }

    const completions = this.tally.completions;
    const starved = this.tally.starved(this.status, this.errorSeen);
    const now = store.now();
    const upstream = this.facts.upstream ?? 'upstream';
    const answer: RecentAnswer = {
      requestId: this.facts.requestId,
      upstream,
      startedAt: shape?.arrivedAt ?? now,
      endedAt: now,
      starved,
      completions,
      ...(this.facts.link !== undefined && { link: this.facts.link }),
    };
    if (starved || completions > 1) {
      const paired = pairStarvation(store, answer);
      for (const f of paired.findings) if (!findings.some((g) => g.reason === f.reason)) findings.push(f);
      this.links.push(...paired.links);
      this.peerFindings.push(...paired.peerFindings);
      store.addAnswer(answer);
    }

    this.findingsRaised += findings.length;
    const isClean = clean && this.findingsRaised === 0;
    if (isClean) this.learn(shape);
    const summary: JudgeSummary = {
      echo: this.echo,
      starved,
      completions,
      completionIdDrift: this.driftedContent,
      splicedEvents: this.spliced,
      unparsedPayloads: this.unparsed,
      unknownSessions: this.sessionsToResolve,
      peerFindings: this.peerFindings,
      completionIds: this.claimed.slice(0, MAX_SUMMARY_COMPLETION_IDS),
      links: this.links,
      idHabit: store.habits.habit(this.habitKey()),
    };
    if (this.session !== undefined) summary.session = this.session;
    this.ended = summary;
    return { summary, findings };
  }

  private learn(shape: RequestShape | undefined): void {
    const store = this.d.store;
    if (this.firstId !== undefined) {
      store.observeIds(this.habitKey(), {
        drifted: this.driftedContent,
        reused: this.reusedFirst,
        counterLike: isCounterLike(this.firstId),
      });
    }
    const b = this.binding();
    if (shape !== undefined && this.promptTokens !== undefined) {
      const key = b?.modelId ?? this.firstModel;
      if (key !== undefined) store.promptRatios.learn(key, shape, this.promptTokens);
    }
    if (this.nameVote !== undefined && this.session !== undefined && !this.modelFound) {
      const vote: NameVote = { requestId: this.facts.requestId, session: this.session };
      const overturned = store.voteName(this.nameVote.modelId, this.nameVote.provider, this.nameVote.name, vote);
      const expected = store.names.knownNames(this.nameVote.modelId, this.nameVote.provider)[0] ?? this.nameVote.name;
      for (const loser of overturned) {
        // The incident moves to the request that taught the overturned name, never to the answers after it.
        this.peerFindings.push({
          requestId: loser.requestId,
          finding: { reason: 'model_mismatch', evidence: { expected, seen: loser.name, session: loser.session, source: 'consensus', rule: 'overturned' } },
        });
      }
    }
  }
}
