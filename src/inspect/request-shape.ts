/**
 * Content-free checks of an answer against its own request (issue 13 item 3): what the request asked for
 * (prompt size, token cap, `n`, tools, logprobs, arrival time) against what the answer says it is. An answer that
 * belongs to another request usually disagrees with this one's shape even when both name the same model.
 */
import type { ChoiceFacts } from './chunk-fields.js';
import { NO_FINDINGS, type Finding } from './detectors.js';

/** The few facts read from a chat request body (no content is kept: only lengths and flags). */
export interface RequestShape {
  /** Characters of the messages' text content (string content and text parts). */
  promptChars: number;
  messages: number;
  /** `max_completion_tokens`, else `max_tokens`. */
  maxTokens?: number;
  /** `n`, default 1. */
  n: number;
  /** `tools` or `functions` offered (non-empty). */
  toolsOffered: boolean;
  /** `logprobs: true` or `top_logprobs` asked. */
  logprobsAsked: boolean;
  /** When the sidecar received the request (ms since the epoch, from the injected clock). */
  arrivedAt: number;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text;
    if (typeof text === 'string') n += text.length;
  }
  return n;
}

/** The shape of a parsed chat request body (anything not an object gives an empty shape). */
export function requestShapeOf(body: unknown, arrivedAt: number): RequestShape {
  const o = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const messages = Array.isArray(o.messages) ? o.messages : [];
  let promptChars = 0;
  for (const m of messages) promptChars += textLength((m as { content?: unknown } | null)?.content);
  const shape: RequestShape = {
    promptChars,
    messages: messages.length,
    n: positiveInt(o.n) ?? 1,
    toolsOffered: (Array.isArray(o.tools) && o.tools.length > 0) || (Array.isArray(o.functions) && o.functions.length > 0),
    logprobsAsked: o.logprobs === true || positiveInt(o.top_logprobs) !== undefined,
    arrivedAt,
  };
  const maxTokens = positiveInt(o.max_completion_tokens) ?? positiveInt(o.max_tokens);
  if (maxTokens !== undefined) shape.maxTokens = maxTokens;
  return shape;
}

export interface ShapeCheckOptions {
  /** `created` may precede the request's arrival by this much (clock skew between hosts); default 30 s. */
  createdSkewMs: number;
  /** Completion tokens allowed above the cap (some servers count the stop token); default 2. */
  completionSlackTokens: number;
}

export const DEFAULT_SHAPE_CHECK: ShapeCheckOptions = { createdSkewMs: 30_000, completionSlackTokens: 2 };

/** Per-chunk checks: choice index vs `n`, tool calls without tools, logprobs not asked, `created` too early. */
export function checkChunkShape(
  shape: RequestShape,
  choices: ChoiceFacts | undefined,
  created: number | undefined,
  options: ShapeCheckOptions = DEFAULT_SHAPE_CHECK,
): readonly Finding[] {
  // Runs for every parsed chunk: the array is made only when something is found.
  let out: Finding[] | undefined;
  if (choices !== undefined) {
    if (choices.maxIndex >= shape.n) {
      (out ??= []).push({ reason: 'choice_index_out_of_range', evidence: { expected: `< ${shape.n}`, seen: String(choices.maxIndex) } });
    }
    if (choices.toolCalls && !shape.toolsOffered) (out ??= []).push({ reason: 'unrequested_tool_calls', evidence: { seen: 'tool_calls' } });
    if (choices.logprobs && !shape.logprobsAsked) (out ??= []).push({ reason: 'unrequested_logprobs', evidence: { seen: 'logprobs' } });
  }
  if (created !== undefined && created > 0 && created * 1000 < shape.arrivedAt - options.createdSkewMs) {
    (out ??= []).push({
      reason: 'created_before_request',
      evidence: { expected: `>= ${Math.floor((shape.arrivedAt - options.createdSkewMs) / 1000)}`, seen: String(created) },
    });
  }
  return out ?? NO_FINDINGS;
}

/** Completion tokens against the request's cap. */
export function checkCompletionTokens(
  shape: RequestShape,
  completionTokens: number | undefined,
  options: ShapeCheckOptions = DEFAULT_SHAPE_CHECK,
): Finding | undefined {
  if (completionTokens === undefined || shape.maxTokens === undefined) return undefined;
  // With n > 1 some servers report the sum over choices.
  const cap = shape.maxTokens * shape.n + options.completionSlackTokens;
  if (completionTokens <= cap) return undefined;
  return { reason: 'completion_tokens_exceed_max', evidence: { expected: `<= ${cap}`, seen: String(completionTokens) } };
}

// --- prompt_tokens vs prompt size ----------------------------------------------------------------------------

export interface PromptRatioOptions {
  /** Ratios kept per model (a ring; default 64). */
  samples?: number;
  /** Samples before the learned ratio replaces the prior (default 8). */
  minSamples?: number;
  /** Models held at most (default 10,000). */
  maxModels?: number;
}

/** A tokenizer makes 1 token of 2–6 characters of prose; the prior spans that. */
const PRIOR_TOKENS_PER_CHAR = 0.25;
/** Accepted factor around the expected count: wide with the prior only, narrower once learned. */
const PRIOR_FACTOR = 5;
const LEARNED_FACTOR = 3;
/** Chat templates add tokens per message and per request. */
const TEMPLATE_TOKENS = 24;
const TEMPLATE_TOKENS_PER_MESSAGE = 8;

/**
 * Tokens per prompt character, learned per model from clean answers as the median of recent samples (robust to
 * outliers: a few odd prompts, or a foreign answer that slipped through, do not move it).
 */
export class PromptRatios {
  private readonly samples: number;
  private readonly minSamples: number;
  private readonly maxModels: number;
  private readonly rings = new Map<string, number[]>();

  constructor(options: PromptRatioOptions = {}) {
    this.samples = options.samples ?? 64;
    this.minSamples = options.minSamples ?? 8;
    this.maxModels = options.maxModels ?? 10_000;
  }

  /** The learned ratio, or undefined before `minSamples`. */
  ratio(model: string): number | undefined {
    const ring = this.rings.get(model);
    if (ring === undefined || ring.length < this.minSamples) return undefined;
    const sorted = [...ring].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  learn(model: string, shape: RequestShape, promptTokens: number): void {
    const net = promptTokens - TEMPLATE_TOKENS - TEMPLATE_TOKENS_PER_MESSAGE * shape.messages;
    if (shape.promptChars < 200 || net <= 0) return; // short prompts are all template
    let ring = this.rings.get(model);
    if (ring === undefined) {
      if (this.rings.size >= this.maxModels) {
        const oldest = this.rings.keys().next().value;
        if (oldest !== undefined) this.rings.delete(oldest);
      }
      this.rings.set(model, (ring = []));
    }
    ring.push(net / shape.promptChars);
    if (ring.length > this.samples) ring.shift();
  }

  /** `usage.prompt_tokens` far from what this request's messages would make: another request's prompt. */
  check(model: string, shape: RequestShape, promptTokens: number | undefined): Finding | undefined {
    if (promptTokens === undefined) return undefined;
    const learned = this.ratio(model);
    const perChar = learned ?? PRIOR_TOKENS_PER_CHAR;
    const factor = learned === undefined ? PRIOR_FACTOR : LEARNED_FACTOR;
    const template = TEMPLATE_TOKENS + TEMPLATE_TOKENS_PER_MESSAGE * shape.messages;
    const expected = shape.promptChars * perChar;
    const high = expected * factor + template * 2;
    const low = expected / factor - template;
    if (promptTokens <= high && promptTokens >= low) return undefined;
    return {
      reason: 'prompt_tokens_mismatch',
      evidence: {
        expected: `${Math.max(0, Math.floor(low))}..${Math.ceil(high)}`,
        seen: String(promptTokens),
        ratio: learned === undefined ? 'prior' : 'learned',
      },
    };
  }
}
