/**
 * Pulls out of one `data:` payload (or one non-streamed JSON body) the few top-level fields the detectors need.
 * Content text is never kept: the parsed object is dropped as soon as the fields are read.
 */

/** Longer values are cut to this many characters, so evidence and registry keys stay small. */
export const MAX_FIELD_CHARS = 256;

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
}

export interface ChunkFields {
  /** Completion id (`id`). */
  id?: string;
  model?: string;
  /** `request_id`, when an upstream echoes the request id in the body. */
  requestId?: string;
  /** `session_id`, when an upstream echoes the session in the body. */
  sessionId?: string;
  /** From `usage`, else from the router's `usage_from_provider`. */
  usage?: TokenUsage;
  /** The payload is an error object (`{"error": …}`). */
  error: boolean;
  /** `created` (unix seconds), when a number. */
  created?: number;
  /** Shape of `choices`, when it is an array (content-free: indexes and flags only). */
  choices?: ChoiceFacts;
}

/** What the detectors read from `choices`: which indexes, which finished, and what kinds of delta they carry. */
export interface ChoiceFacts {
  /** `choices` was an empty array (a usage-only chunk). */
  empty: boolean;
  /** The highest `index` seen (0 when absent). */
  maxIndex: number;
  /** Indexes whose `finish_reason` is a string (at most {@link MAX_CHOICES_READ} are read). */
  finished: number[];
  /** Indexes with non-empty `delta.content` / `message.content` (or reasoning text). */
  withContent: number[];
  /** A `tool_calls` (or legacy `function_call`) delta or message. */
  toolCalls: boolean;
  /** A non-null `logprobs`. */
  logprobs: boolean;
}

/** Choices read from one chunk at most: `n` is small in practice; more are counted by `maxIndex` only. */
export const MAX_CHOICES_READ = 16;

/** `json`: looks like a JSON object; `done`: the `[DONE]` sentinel; `text`: anything else (router failover lines). */
export type DataKind = 'json' | 'done' | 'text';

const OPEN_BRACE = 0x7b;

/** JSON's insignificant whitespace: space, \t, \n, \r. */
function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function firstNonSpace(data: string, from = 0): number {
  for (let i = from; i < data.length; i++) if (!isJsonSpace(data.charCodeAt(i))) return i;
  return -1;
}

export function classifyData(data: string): DataKind {
  const i = firstNonSpace(data);
  if (i === -1) return 'text';
  if (data.charCodeAt(i) === OPEN_BRACE) return 'json';
  return data.trim() === '[DONE]' ? 'done' : 'text';
}

function shortString(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return value.length > MAX_FIELD_CHARS ? value.slice(0, MAX_FIELD_CHARS) : value;
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function usageOf(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const inputTokens = tokenCount(u.prompt_tokens);
  const outputTokens = tokenCount(u.completion_tokens);
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  const usage: TokenUsage = {};
  if (inputTokens !== undefined) usage.inputTokens = inputTokens;
  if (outputTokens !== undefined) usage.outputTokens = outputTokens;
  return usage;
}

/** Reads the fields from an already parsed chunk (the probe gets chunks parsed by its client library). */
export function fieldsFromObject(value: unknown): ChunkFields | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const fields: ChunkFields = { error: o.error !== undefined && o.error !== null };
  const id = shortString(o.id);
  if (id !== undefined) fields.id = id;
  const model = shortString(o.model);
  if (model !== undefined) fields.model = model;
  const requestId = shortString(o.request_id);
  if (requestId !== undefined) fields.requestId = requestId;
  const sessionId = shortString(o.session_id);
  if (sessionId !== undefined) fields.sessionId = sessionId;
  const usage = usageOf(o.usage) ?? usageOf(o.usage_from_provider);
  if (usage !== undefined) fields.usage = usage;
  if (typeof o.created === 'number' && Number.isFinite(o.created)) fields.created = o.created;
  if (Array.isArray(o.choices)) fields.choices = choiceFacts(o.choices);
  return fields;
}

function nonEmptyText(value: unknown): boolean {
  return typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.length > 0;
}

function choiceFacts(choices: readonly unknown[]): ChoiceFacts {
  const facts: ChoiceFacts = { empty: choices.length === 0, maxIndex: 0, finished: [], withContent: [], toolCalls: false, logprobs: false };
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i];
    if (typeof c !== 'object' || c === null) continue;
    const choice = c as Record<string, unknown>;
    const index = typeof choice.index === 'number' && Number.isInteger(choice.index) && choice.index >= 0 ? choice.index : i;
    if (index > facts.maxIndex) facts.maxIndex = index;
    if (i >= MAX_CHOICES_READ) continue;
    if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') facts.finished.push(index);
    if (choice.logprobs !== undefined && choice.logprobs !== null) facts.logprobs = true;
    const part = (choice.delta ?? choice.message) as Record<string, unknown> | null | undefined;
    if (typeof part !== 'object' || part === null) continue;
    if (nonEmptyText(part.content) || nonEmptyText(part.reasoning_content)) facts.withContent.push(index);
    if (nonEmptyText(part.tool_calls) || (part.function_call !== undefined && part.function_call !== null)) {
      facts.toolCalls = true;
      facts.withContent.push(index);
    }
  }
  return facts;
}

/**
 * The fields of one payload, or undefined when it is not a JSON object: `[DONE]`, failover text such as
 * `provider failed, failover enabled`, or malformed JSON. Only payloads that start with `{` are parsed.
 */
export function extractChunkFields(data: string): ChunkFields | undefined {
  const i = firstNonSpace(data);
  if (i === -1 || data.charCodeAt(i) !== OPEN_BRACE) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  return fieldsFromObject(parsed);
}

// --- Repeated heads ------------------------------------------------------------------------------------------
//
// The chunks of one completion repeat the same head byte for byte (`{"id":…,"object":…,"created":…,"model":…,`)
// before `"choices"`. When a payload starts with the head of the last payload that was parsed, and its tail names
// none of the keys we read, its fields are those of the head, already known: it need not be parsed again. This
// halves the inspector's cost on ordinary streams. A payload that differs in any head byte (id drift, another
// model, a usage chunk) or whose tail mentions an inspected key, even inside a string, is parsed as usual.

const CHOICES_KEY = '"choices"';
const ID_KEY = '"id"';
/**
 * Keys whose appearance in a tail means the payload must be parsed (`"usage` covers `usage_from_provider`), and
 * the choice shapes the structure rules read: an index other than 0, a finish_reason, tool calls, logprobs.
 * A fixed regex, written here (never built from data). One regex rather than many `indexOf` calls: measured on
 * Node 20, 60 ns against 430 ns per chunk.
 */
const INSPECTED_KEY =
  /"(?:id"|model"|usage|request_id"|session_id"|error"|created"|tool_calls"|function_call"|logprobs":(?!null)|finish_reason":(?!null)|index":(?!0[,}]))/g;

/**
 * The head of `data` (everything before `"choices"`) when a later payload that repeats it may skip parsing:
 * only plain content chunks qualify (an id, and no usage, echo or error to account for).
 */
export function repeatableHead(data: string, fields: ChunkFields): string | undefined {
  if (fields.id === undefined || fields.error || fields.usage !== undefined) return undefined;
  if (fields.requestId !== undefined || fields.sessionId !== undefined) return undefined;
  const end = data.indexOf(CHOICES_KEY);
  if (end <= 0) return undefined;
  const head = data.slice(0, end);
  return head.includes(ID_KEY) ? head : undefined;
}

/** `data` starts with `head` and its tail names no inspected key: its fields are the head's. */
export function repeatsHead(data: string, head: string): boolean {
  // `slice ===` rather than `startsWith`: measured twice as fast on Node 20.
  if (data.length <= head.length || data.slice(0, head.length) !== head) return false;
  INSPECTED_KEY.lastIndex = head.length;
  return !INSPECTED_KEY.test(data);
}

// --- Content-chunk templates (the SSE fast path) -------------------------------------------------------------
//
// Once a stream has repeated a head, its chunks differ only in their content text. A template is the bytes of
// such an event around that text: `data: {…"content":"` before it and `"…}\n\n` after it. An event whose bytes
// are the prefix, then the inner bytes of one JSON string, then the suffix, is the template's event with other
// text: the same JSON apart from one string value that no rule reads, so the same fields. The inspector then
// only counts it, without decoding it or parsing its JSON (see SseEventSkipper in sse-parser.ts).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Index of the quote that closes the JSON string opening at `open` (a `"`), or -1. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
  }
  return -1;
}

/**
 * The quotes around the string value of the first `"content"` key (at any depth) of a valid JSON text, if any.
 * Outside strings a valid JSON text has quotes only where strings open, so the scan hops from string to string.
 */
function contentString(json: string): { open: number; close: number } | undefined {
  for (let open = json.indexOf('"'); open !== -1; ) {
    const close = closingQuote(json, open);
    if (close === -1) return undefined;
    const colon = firstNonSpace(json, close + 1);
    if (colon !== -1 && json.charCodeAt(colon) === COLON && json.slice(open + 1, close) === 'content') {
      const value = firstNonSpace(json, colon + 1);
      if (value === -1 || json.charCodeAt(value) !== QUOTE) return undefined;
      const valueClose = closingQuote(json, value);
      return valueClose === -1 ? undefined : { open: value, close: valueClose };
    }
    open = json.indexOf('"', close + 1);
  }
  return undefined;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Where the JSON string whose inner bytes start at `from` closes (the index of its closing quote), scanning no
 * further than `limit`; -1 when it does not close by then or holds a raw line end (a CR or LF would end the SSE
 * line, so the event would not be the template's). Bytes, not characters: a UTF-8 sequence's bytes are all ≥ 0x80,
 * so they are never taken for a quote, a backslash or a line end. Plain comparisons only: nothing built from
 * response bytes is ever compiled (an earlier version compiled a regex from the suffix; a 40 KB suffix made V8 throw).
 */
function innerStringEnd(buf: Buffer, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const c = buf[i];
    if (c === QUOTE) return i;
    if (c === CR || c === LF) return -1;
    if (c === BACKSLASH) {
      i++;
      if (i >= limit) return -1;
      const escaped = buf[i];
      if (escaped === CR || escaped === LF) return -1;
    }
  }
  return -1;
}

/**
 * Whether `buf` holds `pattern` at `at`, compared in place (no copy of either). `Buffer#compare` with offsets, not
 * a JS loop: on ~100-byte template heads the loop measured ~10% slower per request (`bench/request-micro.ts`).
 */
function bytesAt(buf: Buffer, at: number, pattern: Buffer): boolean {
  const end = at + pattern.length;
  return end <= buf.length && buf.compare(pattern, 0, pattern.length, at, end) === 0;
}

export class ContentChunkTemplate {
  /** Bytes of the shortest event of this template (empty text). */
  readonly minBytes: number;

  private constructor(
    /** `data: ` and the JSON up to and including the content string's opening quote (UTF-8). */
    private readonly prefix: Buffer,
    /** The content string's closing quote, the rest of the JSON and the blank line (UTF-8). */
    private readonly suffix: Buffer,
  ) {
    this.minBytes = prefix.length + suffix.length;
  }

  /**
   * The template of the event `data: <data>\n\n`, when `data` has a `"content"` string value; `data` must be a
   * payload whose fields were read (the template stands for them).
   */
  static fromData(data: string): ContentChunkTemplate | undefined {
    const at = contentString(data);
    if (at === undefined) return undefined;
    const suffix = Buffer.from(`${data.slice(at.close)}\n\n`, 'utf8');
    return new ContentChunkTemplate(Buffer.from(`data: ${data.slice(0, at.open + 1)}`, 'utf8'), suffix);
  }

  /**
   * When `buf` holds, from `start`, a whole event of this template that ends by `limit`, the offset just past its
   * blank line; else -1. This runs for every fast-path event, on the chunk's own bytes: nothing is decoded or
   * copied (a latin1 string of every chunk and `String#startsWith` on it cost ~0.8 µs per event, `bench/request-micro.ts`).
   */
  match(buf: Buffer, start: number, limit: number): number {
    const textStart = start + this.prefix.length;
    if (textStart > limit || !bytesAt(buf, start, this.prefix)) return -1;
    const close = innerStringEnd(buf, textStart, limit);
    if (close === -1) return -1;
    const end = close + this.suffix.length;
    return end <= limit && bytesAt(buf, close, this.suffix) ? end : -1;
  }
}
