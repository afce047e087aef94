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
}

/** `json`: looks like a JSON object; `done`: the `[DONE]` sentinel; `text`: anything else (router failover lines). */
export type DataKind = 'json' | 'done' | 'text';

const OPEN_BRACE = 0x7b;

function firstNonSpace(data: string): number {
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    // space, \t, \n, \r
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
  }
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
  return fields;
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
 * Keys whose appearance in a tail means the payload must be parsed (`"usage` covers `usage_from_provider`).
 * One regex rather than six `indexOf` calls: measured on Node 20, 60 ns against 430 ns per chunk.
 */
const INSPECTED_KEY = /"(?:id"|model"|usage|request_id"|session_id"|error")/g;

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
