/**
 * Applies the detector rules to one request's response, using the shared registries. One instance per request.
 * It observes facts and reports findings; deciding what to record or block is the caller's job.
 */
import { HEADER_MODEL_ID, HEADER_REQUEST_ID, HEADER_SESSION_ID, HEADER_X_SESSION_ID } from '../protocol/headers.js';
import {
  ContentChunkTemplate,
  classifyData,
  extractChunkFields,
  repeatableHead,
  repeatsHead,
  type ChunkFields,
  type TokenUsage,
} from './chunk-fields.js';
import type { InspectorContext } from './context.js';
import type { RequestJudge } from './detection.js';
import {
  checkSessionEcho,
  normalizeSessionId,
  type EchoSource,
  type Finding,
  type ReasonCode,
} from './detectors.js';
import { DirectRules } from './direct-rules.js';
import {
  MAX_IDS_PER_REQUEST,
  hasContentText,
  headerValue,
  type InspectionSkipReason,
  type InspectionSummary,
  type RequestFacts,
  type ResponseHeaders,
} from './inspection-summary.js';
import type { InflightHandle } from './registries.js';
import type { SseEvent, SseEventSkipper } from './sse-parser.js';
import { splitSplicedPayload } from './spliced-events.js';

export { MAX_IDS_PER_REQUEST };
export type { InspectionSkipReason, InspectionSummary, RequestFacts, ResponseHeaders };

export class ResponseInspector implements SseEventSkipper {
  readonly facts: Readonly<RequestFacts>;
  readonly inflight: { readonly apiKey: number; readonly session: number };

  private readonly ctx: InspectorContext;
  private readonly onFinding: ((finding: Finding) => void) | undefined;
  private readonly owner: number;
  private readonly session: string | undefined;
  private readonly inflightHandle: InflightHandle;
  /** The gateway-aware rules (issue 13); when set, they replace the direct key, id, model and echo rules. */
  private readonly judge: RequestJudge | undefined;
  /** The key, id, model and echo rules without a judge (direct-rules.ts); undefined when a judge runs. */
  private readonly direct: DirectRules | undefined;

  private readonly found: Finding[] = [];
  private readonly reasonSet = new Set<ReasonCode>();
  private requestChecked = false;
  private firstId: string | undefined;

  /** Head of the last parsed chunk, when a chunk repeating it need not be parsed. */
  private head: string | undefined;
  /** The payload `head` was taken from: parsed, and (being repeatable) a chunk with its fields changes nothing. */
  private headData: string | undefined;
  /**
   * The fast path's template, made from `headData` once a chunk repeats its head (null: it has no content
   * string). Every chunk whose fields are read drops it, so it always stands for the last id and model seen.
   */
  private template: ContentChunkTemplate | null | undefined;
  private responseModel: string | undefined;
  private responseModelId: string | undefined;

  private usage: TokenUsage | undefined;
  private events = 0;
  private oversizedEvents = 0;
  private textEvents = 0;
  private errorEvents = 0;
  private done = false;
  private skipped: InspectionSkipReason | undefined;
  private summary: InspectionSummary | undefined;

  /** Construct at request start: the in-flight counts are taken now. */
  constructor(ctx: InspectorContext, facts: RequestFacts, onFinding?: (finding: Finding) => void, judge?: RequestJudge) {
    this.ctx = ctx;
    this.judge = judge;
    this.facts = { ...facts };
    this.onFinding = onFinding;
    this.owner = ctx.nextOwner();
    this.session = facts.sessionId === undefined || facts.sessionId === '' ? undefined : normalizeSessionId(facts.sessionId);
    this.inflightHandle = ctx.inflight.start(facts.keyFingerprint, this.session);
    this.inflight = { apiKey: this.inflightHandle.apiKey, session: this.inflightHandle.session };
    this.direct =
      judge === undefined
        ? new DirectRules({
            ctx,
            facts: this.facts,
            owner: this.owner,
            session: this.session,
            raise: (finding) => this.raise(finding),
            clean: () => this.found.length === 0,
          })
        : undefined;
  }

  get findings(): readonly Finding[] {
    return this.found;
  }

  get hasFindings(): boolean {
    return this.found.length > 0;
  }

  get reasons(): ReasonCode[] {
    return [...this.reasonSet];
  }

  /** The per-event cap for this inspector's SSE parser. */
  get maxEventBytes(): number {
    return this.ctx.config.maxEventBytes;
  }

  get maxJsonBodyBytes(): number {
    return this.ctx.config.maxJsonBodyBytes;
  }

  get finished(): boolean {
    return this.summary !== undefined;
  }

  /**
   * The model the request body names. Bodies stream in after the request starts (and are parsed off a copy),
   * so this arrives later than the other facts; the first value wins and only responses seen after it use it.
   */
  setRequestModel(model: string): void {
    if (this.facts.requestModel === undefined && this.summary === undefined) {
      (this.facts as RequestFacts).requestModel = model;
    }
  }

  /** Request-time rule (`session_key_conflict`); binds the session to the key when there is no conflict. */
  checkRequest(): Finding | undefined {
    if (this.requestChecked || this.summary !== undefined) return undefined;
    this.requestChecked = true;
    if (this.judge !== undefined) {
      const found = this.judge.checkRequest();
      for (const f of found) this.raise(f);
      return found[0];
    }
    return this.direct?.checkSessionKey();
  }

  /** The upstream's status code (with a judge: a 2xx binds the session to the key; a 200 with no content is starved). */
  onStatus(status: number): void {
    if (this.summary !== undefined) return;
    this.judge?.onStatus(status);
  }

  /** Header names are expected in lower case, as Node delivers them. */
  onResponseHeaders(headers: ResponseHeaders): void {
    if (this.summary !== undefined) return;
    this.echoRequestId(headerValue(headers[HEADER_REQUEST_ID]), 'header');
    for (const name of [HEADER_SESSION_ID, HEADER_X_SESSION_ID]) {
      const finding = checkSessionEcho(this.session, headerValue(headers[name]), 'header');
      if (finding !== undefined) this.raise({ ...finding, evidence: { ...finding.evidence, header: name } });
    }
    const modelId = headerValue(headers[HEADER_MODEL_ID]);
    if (modelId !== undefined && modelId !== '') this.responseModelId = modelId;
  }

  /** One parsed SSE event. Comment-only events are ignored; oversized ones are counted, not inspected. */
  onEvent(event: SseEvent): void {
    if (this.summary !== undefined) return;
    if (event.oversized) {
      this.events++;
      this.oversizedEvents++;
      return;
    }
    if (event.data === undefined) return;
    this.events++;
    this.onData(event.data);
  }

  /** SSE fast path ({@link SseEventSkipper}): a template of the last parsed chunk is known and could fit. */
  canSkipEvent(bytes: number): boolean {
    return (
      this.template != null &&
      this.summary === undefined &&
      bytes >= this.template.minBytes &&
      (this.judge === undefined || this.judge.fastPathAllowed)
    );
  }

  /**
   * SSE fast path ({@link SseEventSkipper}): when `chunk` holds, from `start`, a whole event that repeats the last
   * parsed chunk with other content text, counts it and returns the offset past it; else -1 (the parser then parses
   * the event and calls `onEvent`). Such an event would change nothing else (see `template`).
   */
  skipEvent(chunk: Buffer, start: number, limit: number): number {
    if (this.template == null || this.summary !== undefined) return -1;
    if (this.judge !== undefined && !this.judge.fastPathAllowed) return -1;
    const end = this.template.match(chunk, start, limit);
    if (end !== -1) {
      this.events++;
      this.judge?.onSkippedContent();
    }
    return end;
  }

  /** One `data:` payload. */
  onData(data: string): void {
    if (this.summary !== undefined) return;
    // Same head as the last parsed chunk: same id and model, nothing new to check (see chunk-fields.ts).
    if (this.head !== undefined && (this.judge === undefined || this.judge.fastPathAllowed) && repeatsHead(data, this.head)) {
      if (this.judge !== undefined && hasContentText(data)) this.judge.onSkippedContent();
      // It repeats: from now on skip such events from their bytes (see chunk-fields.ts).
      if (this.template === undefined) {
        this.template = (this.headData !== undefined && ContentChunkTemplate.fromData(this.headData)) || null;
      }
      return;
    }
    const fields = extractChunkFields(data);
    if (fields !== undefined) {
      this.onChunk(fields, 'chunk');
      this.head = repeatableHead(data, fields);
      this.headData = this.head === undefined ? undefined : data;
      return;
    }
    // Not a JSON object: `[DONE]` or router text such as `provider failed, failover enabled`. Malformed JSON
    // counts as neither.
    const kind = classifyData(data);
    if (kind === 'done') this.done = true;
    else if (kind === 'text') this.textEvents++;
    if (this.judge !== undefined) this.onOddPayload(data, kind);
  }

  /** With a judge: a payload that is not one JSON object may be spliced events, router text, or unparsable. */
  private onOddPayload(data: string, kind: 'json' | 'done' | 'text'): void {
    const judge = this.judge as RequestJudge;
    const spliced = splitSplicedPayload(data);
    if (spliced !== undefined) {
      for (const f of judge.onSpliced(spliced.pieces.length)) this.raise(f);
      if (spliced.leftover) judge.onUnparsed();
      // The embedded events are inspected like any other.
      for (const piece of spliced.pieces) {
        const fields = extractChunkFields(piece);
        if (fields !== undefined) this.onChunk(fields, 'chunk');
        else if (classifyData(piece) === 'done') this.done = true;
        else if (classifyData(piece) === 'json') judge.onUnparsed();
        else for (const f of judge.onText(piece)) this.raise(f);
      }
      return;
    }
    if (kind === 'json') judge.onUnparsed();
    else if (kind === 'text') for (const f of judge.onText(data)) this.raise(f);
  }

  /** A non-streamed JSON body: the same rules, applied to the one body. */
  onJsonBody(body: Buffer): void {
    if (this.summary !== undefined) return;
    if (body.length > this.ctx.config.maxJsonBodyBytes) {
      this.skip('body_too_large');
      return;
    }
    const fields = extractChunkFields(body.toString('utf8'));
    if (fields !== undefined) this.onChunk(fields, 'body');
    else this.judge?.onUnparsed();
  }

  /** Fields of one chunk or body (the probe calls this with chunks its client library parsed). */
  onChunk(fields: ChunkFields, source: EchoSource = 'chunk'): void {
    if (this.summary !== undefined) return;
    // The repeated head and the fast path's template stand for the last chunk seen: that may be another one now.
    this.head = undefined;
    this.headData = undefined;
    this.template = undefined;
    if (fields.requestId !== undefined) this.echoRequestId(fields.requestId, source);
    if (fields.sessionId !== undefined) {
      const finding = checkSessionEcho(this.session, fields.sessionId, source);
      if (finding !== undefined) this.raise(finding);
    }
    if (this.judge !== undefined) {
      // The echo in the chunk was judged just above; the judge reads the rest.
      for (const f of this.judge.onChunk(fields, true)) this.raise(f);
    } else if (this.direct !== undefined) {
      // Ids before models: a response found foreign by its id must not teach the session its model.
      if (fields.id !== undefined) this.direct.onCompletionId(fields.id);
      if (fields.model !== undefined) this.direct.onModel(fields.model);
    }
    if (fields.id !== undefined) this.firstId ??= fields.id;
    if (fields.model !== undefined) this.responseModel ??= fields.model;
    if (fields.usage !== undefined) this.usage = fields.usage;
    if (fields.error) this.errorEvents++;
  }

  /** The body was not inspected (e.g. it is compressed). */
  skip(reason: InspectionSkipReason): void {
    this.skipped ??= reason;
  }

  /**
   * Ends the inspection: releases the in-flight registrations (this request's completion ids are then remembered
   * for the recent window only) and returns the summary. Idempotent; call it on completion and on abort.
   */
  finish(): InspectionSummary {
    if (this.summary !== undefined) return this.summary;
    this.inflightHandle.release();
    this.direct?.release();
    const summary: InspectionSummary = {
      requestId: this.facts.requestId,
      findings: [...this.found],
      reasons: [...this.reasonSet],
      requestIdEcho: this.direct?.requestIdEcho ?? 'missing',
      completionIdDrift: this.direct?.completionIdDrift ?? false,
      events: this.events,
      oversizedEvents: this.oversizedEvents,
      textEvents: this.textEvents,
      errorEvents: this.errorEvents,
      done: this.done,
      inflight: { ...this.inflight },
    };
    if (this.firstId !== undefined) summary.firstCompletionId = this.firstId;
    if (this.responseModel !== undefined) summary.responseModel = this.responseModel;
    const modelId = this.facts.modelIdHeader ?? this.responseModelId;
    if (modelId !== undefined) summary.modelId = modelId;
    if (this.usage !== undefined) summary.usage = { ...this.usage };
    if (this.skipped !== undefined) summary.inspectionSkipped = this.skipped;
    if (this.judge !== undefined) {
      const judged = this.judge.finish(this.found.length === 0);
      for (const f of judged.findings) this.raise(f);
      summary.findings = [...this.found];
      summary.reasons = [...this.reasonSet];
      summary.detection = judged.summary;
      summary.completionIdDrift = judged.summary.completionIdDrift;
      // A rewritten echo (an id the sidecar never issued) cannot pair anything: reported as 'missing' here and as
      // 'rewritten' in `detection.echo` (RequestIdEcho in telemetry/attributes.ts has no such value yet).
      summary.requestIdEcho = judged.summary.echo === 'foreign' ? 'mismatch' : judged.summary.echo === 'match' ? 'match' : 'missing';
    }
    this.summary = summary;
    return summary;
  }

  private echoRequestId(echoed: string | undefined, source: EchoSource): void {
    if (this.judge !== undefined) {
      for (const f of this.judge.onEcho(echoed, source)) this.raise(f);
      return;
    }
    this.direct?.onEcho(echoed, source);
  }

  /**
   * A finding from outside this response's bytes (a late shared finding from another replica), raised like the
   * inspector's own. False when it adds nothing: the inspection has finished, or the reason is already raised.
   */
  raiseExternal(finding: Finding): boolean {
    if (this.summary !== undefined || this.reasonSet.has(finding.reason)) return false;
    this.raise(finding);
    return true;
  }

  /** Each reason is raised at most once per request; the first evidence is kept. */
  private raise(finding: Finding): void {
    if (this.reasonSet.has(finding.reason)) return;
    this.reasonSet.add(finding.reason);
    this.found.push(finding);
    this.direct?.onFinding();
    this.onFinding?.(finding);
  }
}
