/**
 * The probe's checks on one response. The crosstalk rules are the sidecar's own: a {@link ResponseInspector} per
 * request over one {@link InspectorContext} shared by the whole run, fed the response headers and every chunk,
 * so completion ids are compared across all of the run's requests exactly as the sidecar compares them across
 * its traffic. On top of those, what only the sender can know: each prompt's nonce.
 */
import {
  InspectorContext,
  ResponseInspector,
  classifyData,
  fieldsFromObject,
  type ResponseHeaders,
  type SseEvent,
} from '../inspect/index.js';
import { AnswerTally } from '../inspect/answer-tally.js';
import { inspectorSettings } from '../config/defaults.js';
import { HEADER_REQUEST_ID, HEADER_REQUEST_ID_ECHO } from '../protocol/headers.js';
import type { EchoSource, ProbeFinding, ProbeRequestResult } from './result.js';
import { nonceIndexes, probeRequestId } from './plan.js';

/** Answer text kept per request for the nonce checks (nonces sit at the start of an answer). */
export const MAX_ANSWER_CHARS = 64 * 1024;
/** Completion ids and models kept per request for the report. */
const MAX_KEPT = 8;

export interface VerifierOptions {
  runId: string;
  expectEcho: boolean;
  modelAliases?: Record<string, string>;
  /**
   * `gateway`: an `X-Request-Id` other than ours is the gateway's own id for the request (the newer gateway
   * assigns one and forwards it to the router), recorded for the incident join and never judged as an echo.
   */
  mode?: 'gateway' | 'router';
}

export interface RequestFacts {
  index: number;
  requestId: string;
  nonce: string;
  model: string;
  session?: string;
}

/** What verification adds to a request's result (the fields of {@link ProbeRequestResult} it owns). */
export type RequestVerification = Pick<
  ProbeRequestResult,
  | 'echo'
  | 'echoSource'
  | 'completionIds'
  | 'responseModels'
  | 'chunks'
  | 'completions'
  | 'done'
  | 'nonceSeen'
  | 'findings'
  | 'reasons'
  | 'upstreamRequestId'
> & {
  /** The stream carried `data: {"error":…}`: the request failed, whatever came before. */
  inBandError: boolean;
};

/**
 * `data: {"error":{…}}` without choices: how the gateway (and OpenAI-compatible servers) report a failure
 * inside a 200 stream (../shared/CONTEXT.md, "Router → gateway response").
 */
export function isInBandError(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { error?: unknown; choices?: unknown };
  return v.error !== undefined && v.error !== null && !Array.isArray(v.choices);
}

export class ProbeVerifier {
  readonly context: InspectorContext;

  constructor(readonly options: VerifierOptions) {
    // The sidecar's own rules with the sidecar's own defaults (src/config/defaults.ts), save one: `shared`,
    // because the probe does not know which session the gateway picked for a key, so it leaves the
    // session-per-key rule to the sidecar (which sees the session header) and to the audit.
    this.context = new InspectorContext(
      inspectorSettings({ sessionScope: 'shared', modelAliases: options.modelAliases ?? {} }),
    );
  }

  /** Call when the request is sent (the inspector counts it in flight from then on). */
  begin(facts: RequestFacts): RequestCheck {
    return new RequestCheck(this, facts);
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function contentOf(value: unknown): string | undefined {
  const choices = (value as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return undefined;
  let text = '';
  for (const choice of choices) {
    const c = choice as { delta?: { content?: unknown }; message?: { content?: unknown }; text?: unknown } | null;
    const piece = c?.delta?.content ?? c?.message?.content ?? c?.text;
    if (typeof piece === 'string') text += piece;
  }
  return text;
}

export class RequestCheck {
  private readonly inspector: ResponseInspector;
  private echoSource: EchoSource = 'response';
  private answer = '';
  private chunks = 0;
  private readonly tally = new AnswerTally();
  private readonly ids: string[] = [];
  private readonly models: string[] = [];
  private inBandError = false;
  private upstreamRequestId: string | undefined;
  private result: RequestVerification | undefined;

  constructor(
    private readonly verifier: ProbeVerifier,
    readonly facts: RequestFacts,
  ) {
    this.inspector = new ResponseInspector(verifier.context, {
      requestId: facts.requestId,
      stream: true,
      // The probe always names the model in the body (see client.ts), so the model rule compares with it.
      requestModel: facts.model,
      ...(facts.session !== undefined && { sessionId: facts.session }),
    });
  }

  /** Header names in lower case, as undici gives them. */
  onResponseHeaders(headers: ResponseHeaders): void {
    const upstreamEcho = headerText(headers[HEADER_REQUEST_ID_ECHO])?.trim().toLowerCase();
    if (upstreamEcho === 'match' || upstreamEcho === 'missing' || upstreamEcho === 'mismatch' || upstreamEcho === 'rewritten') {
      this.echoSource = 'sidecar';
      const view: ResponseHeaders = { ...headers };
      // `rewritten`: a hop between the sidecar and the router replaced the id, so the router's own echo of ours
      // is not visible: the same as missing for the verdict, never a mismatch.
      if (upstreamEcho === 'missing' || upstreamEcho === 'rewritten') delete view[HEADER_REQUEST_ID];
      else if (upstreamEcho === 'mismatch') view[HEADER_REQUEST_ID] = 'upstream-echoed-another-id';
      else view[HEADER_REQUEST_ID] = this.facts.requestId;
      this.inspector.onResponseHeaders(view);
      return;
    }
    const returned = headerText(headers[HEADER_REQUEST_ID])?.trim();
    if (this.verifier.options.mode === 'gateway' && returned !== undefined && returned !== this.facts.requestId) {
      // The gateway's own id, not an echo of ours: kept (bounded) for the join, hidden from the echo rule.
      this.upstreamRequestId = returned.slice(0, 128);
      const view: ResponseHeaders = { ...headers };
      delete view[HEADER_REQUEST_ID];
      this.inspector.onResponseHeaders(view);
      return;
    }
    this.inspector.onResponseHeaders(headers);
  }

  onEvent(event: SseEvent): void {
    if (event.oversized || event.data === undefined) {
      this.inspector.onEvent(event);
      return;
    }
    this.onData(event.data);
  }

  /** One `data:` payload, or a whole JSON body. */
  onData(data: string): void {
    if (classifyData(data) !== 'json') {
      // `[DONE]` and router text lines: the inspector counts them.
      this.inspector.onData(data);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (isInBandError(parsed)) {
      // A failure report, not an answer: not a chunk, and no rule may read it as one.
      this.inBandError = true;
      return;
    }
    const fields = fieldsFromObject(parsed);
    if (fields === undefined) return;
    this.chunks++;
    this.inspector.onChunk(fields);
    if (fields.choices !== undefined) this.tally.addChoices(fields.choices);
    if (fields.usage !== undefined) this.tally.addUsage();
    if (fields.id !== undefined && !this.ids.includes(fields.id) && this.ids.length < MAX_KEPT) this.ids.push(fields.id);
    if (fields.model !== undefined && !this.models.includes(fields.model) && this.models.length < MAX_KEPT) {
      this.models.push(fields.model);
    }
    const text = contentOf(parsed);
    if (text !== undefined && this.answer.length < MAX_ANSWER_CHARS) {
      this.answer += text.slice(0, MAX_ANSWER_CHARS - this.answer.length);
    }
  }

  /** Ends the check (idempotent). `answered` is false when no response body was read (failed requests). */
  finish(answered = true): RequestVerification {
    if (this.result !== undefined) return this.result;
    const summary = this.inspector.finish();
    const findings: ProbeFinding[] = summary.findings.map((f) => ({ reason: f.reason, evidence: { ...f.evidence } }));
    const { runId, expectEcho } = this.verifier.options;
    const named = nonceIndexes(runId, this.answer);
    const nonceSeen = named.includes(this.facts.index);
    const foreign = [...new Set(named.filter((i) => i !== this.facts.index))];
    if (foreign.length > 0) {
      findings.push({
        reason: 'foreign_nonce',
        evidence: {
          expected: this.facts.nonce,
          other_request_id: probeRequestId(runId, foreign[0] as number),
          other_requests: foreign.length,
          others: foreign.slice(0, 5).map((i) => probeRequestId(runId, i)).join(','),
        },
      });
    }
    // A request that failed in-band was cut short: a missing nonce there is the failure, not crosstalk.
    if (expectEcho && answered && !this.inBandError && !nonceSeen && this.chunks > 0) {
      findings.push({ reason: 'nonce_missing', evidence: { expected: this.facts.nonce } });
    }
    this.result = {
      echo: summary.requestIdEcho,
      echoSource: this.echoSource,
      completionIds: [...this.ids],
      responseModels: [...this.models],
      chunks: this.chunks,
      completions: this.tally.completions,
      done: summary.done,
      nonceSeen,
      findings,
      reasons: [...new Set(findings.map((f) => f.reason))],
      inBandError: this.inBandError,
      ...(this.upstreamRequestId !== undefined && { upstreamRequestId: this.upstreamRequestId }),
    };
    this.answer = '';
    return this.result;
  }
}
