/**
 * The crosstalk rules, one small pure function per reason code. They know nothing of HTTP servers, streams,
 * registries or spans: callers (the proxy's inspector, the probe) look facts up and pass them in.
 *
 * Evidence holds ids, model names and key fingerprints only, never prompt or answer content.
 */
import type { RequestIdEcho } from '../telemetry/attributes.js';

export type { RequestIdEcho };

/** Reason codes: public contract (span attribute values, metric labels, block-mode error bodies). */
export const REASON_CODES = [
  'request_id_mismatch',
  'session_mismatch',
  'completion_id_collision',
  'completion_id_interleave',
  'model_mismatch',
  'session_key_conflict',
  // Gateway-aware rules (issue 13): content-free checks of an answer against its own request …
  'prompt_tokens_mismatch',
  'completion_tokens_exceed_max',
  'choice_index_out_of_range',
  'unrequested_tool_calls',
  'unrequested_logprobs',
  'created_before_request',
  // … the stream's structure …
  'duplicate_finish_reason',
  'duplicate_usage',
  'content_after_finish',
  'spliced_event',
  // … and the starvation pair (a 200 with no content beside an answer that carried several).
  'starved_request',
  'extra_completion',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export interface FindingEvidence {
  expected?: string;
  seen?: string;
  [key: string]: string | number | undefined;
}

export interface Finding {
  reason: ReasonCode;
  evidence: FindingEvidence;
}

/** No finding (shared and frozen: what the per-chunk checks return when nothing is wrong, without allocating). */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** Where an echoed value was found. */
export type EchoSource = 'header' | 'chunk' | 'body';

export type SessionScope = 'key' | 'shared';

// --- request_id_mismatch -------------------------------------------------------------------------------------

/**
 * Compares the request id the sidecar sent with one the upstream echoed. A missing echo is not a finding:
 * older routers echo nothing. Values are compared exactly (after trimming); a header repeated by a middlebox
 * arrives comma-joined, which matches when every part matches.
 */
export function checkRequestIdEcho(
  sent: string,
  echoed: string | undefined,
  source: EchoSource = 'header',
): { echo: RequestIdEcho; finding?: Finding } {
  const seen = echoed?.trim();
  if (seen === undefined || seen === '') return { echo: 'missing' };
  if (seen === sent) return { echo: 'match' };
  if (seen.includes(',') && seen.split(',').every((part) => part.trim() === sent)) return { echo: 'match' };
  return { echo: 'mismatch', finding: { reason: 'request_id_mismatch', evidence: { expected: sent, seen, source } } };
}

/**
 * The gateway-aware echo rule (issue 13 item 7): `foreign` only when the echo names a request id the sidecar issued
 * to another request; an id it never issued is `rewritten` (an ingress between sidecar and router may rewrite
 * `x-request-id`), not a finding. `ownerOf` returns the issuing request's token, if the id was issued.
 */
export type EchoVerdict = 'missing' | 'match' | 'rewritten' | 'foreign';

export function classifyRequestIdEcho(
  sent: string,
  echoed: string | undefined,
  ownerOf: (requestId: string) => number | undefined,
  self: number,
): { echo: EchoVerdict; other?: string } {
  const seen = echoed?.trim();
  if (seen === undefined || seen === '') return { echo: 'missing' };
  let rewritten = false;
  for (const raw of seen.split(',')) {
    const part = raw.trim();
    if (part === sent || part === '') continue;
    const owner = ownerOf(part);
    if (owner !== undefined && owner !== self) return { echo: 'foreign', other: part };
    rewritten = true;
  }
  return { echo: rewritten ? 'rewritten' : 'match' };
}

// --- session_mismatch ----------------------------------------------------------------------------------------

/** Session ids are on-chain hex (`0x…`): compared case-insensitively. */
export function normalizeSessionId(session: string): string {
  return session.trim().toLowerCase();
}

/** A session echoed by the upstream that differs from the request's. No request session or no echo: nothing. */
export function checkSessionEcho(
  expected: string | undefined,
  echoed: string | undefined,
  source: EchoSource = 'header',
): Finding | undefined {
  if (expected === undefined || echoed === undefined) return undefined;
  const seen = normalizeSessionId(echoed);
  if (seen === '') return undefined;
  const want = normalizeSessionId(expected);
  if (seen === want) return undefined;
  if (seen.includes(',') && seen.split(',').every((part) => part.trim() === want)) return undefined;
  return { reason: 'session_mismatch', evidence: { expected: want, seen, source } };
}

// --- model_mismatch ------------------------------------------------------------------------------------------

/** Normalized alias → normalized canonical name. Build it once with {@link compileModelAliases}. */
export type ModelAliases = ReadonlyMap<string, string>;

const NO_ALIASES: ModelAliases = new Map();

/** Quantisation and packaging suffixes servers append to a model's name (`-AWQ`, `-Q4_K_M`, `.gguf`, …). */
const QUANT_SUFFIXES = [
  '.gguf', '-gguf', '-awq', '-gptq', '-fp8', '-fp16', '-bf16', '-int4', '-int8', '-4bit', '-8bit', '-mlx',
  '-q2_k', '-q3_k_m', '-q4_0', '-q4_k_m', '-q4_k_s', '-q5_k_m', '-q6_k', '-q8_0', '-w4a16', '-w8a8', '-dynamic',
];
/** Variant words that name the same weights for routing purposes. */
const VARIANT_SUFFIXES = ['-instruct', '-chat', '-it', '-hf'];
/** Vendor prefixes some servers prepend to the file name (`Meta-Llama-3.3-70B-Instruct`). */
const VENDOR_PREFIXES = ['meta-'];

function stripSuffixes(name: string, suffixes: readonly string[]): string {
  for (let changed = true; changed; ) {
    changed = false;
    for (const suffix of suffixes) {
      if (name.length > suffix.length && name.endsWith(suffix)) {
        name = name.slice(0, -suffix.length);
        changed = true;
      }
    }
  }
  return name;
}

/**
 * Lower case, without org or path prefixes (`meta-llama/…`, `/models/…`), vendor prefixes, quantisation suffixes
 * and `-Instruct`-style variant words: `/models/Meta-Llama-3.3-70B-Instruct-AWQ` → `llama-3.3-70b`.
 */
function baseModelName(name: string): string {
  let lower = name.trim().toLowerCase();
  const slash = lower.lastIndexOf('/');
  if (slash !== -1) lower = lower.slice(slash + 1);
  lower = stripSuffixes(lower, QUANT_SUFFIXES);
  lower = stripSuffixes(lower, VARIANT_SUFFIXES);
  lower = stripSuffixes(lower, QUANT_SUFFIXES);
  for (const prefix of VENDOR_PREFIXES) if (lower.length > prefix.length && lower.startsWith(prefix)) lower = lower.slice(prefix.length);
  return lower;
}

/** Normalizes both sides of an alias map (`{ "llama-3.3-70b": "meta-llama/Llama-3.3-70B-Instruct" }`). */
export function compileModelAliases(aliases: Readonly<Record<string, string>> = {}): ModelAliases {
  const map = new Map<string, string>();
  for (const [alias, canonical] of Object.entries(aliases)) map.set(baseModelName(alias), baseModelName(canonical));
  return map;
}

/** Lower case, without an `org/` prefix, then mapped through the alias map (one hop). */
export function normalizeModelName(name: string, aliases: ModelAliases = NO_ALIASES): string {
  const base = baseModelName(name);
  return aliases.get(base) ?? base;
}

/**
 * The response's model against the model the request body names, or, when it names none, against the model
 * the session is bound to (already normalized, see `SessionModelRegistry`). An on-chain `model_id` header is
 * never an input here: it is a hex id, not a name.
 */
export function checkModel(
  requestModel: string | undefined,
  sessionModel: string | undefined,
  responseModel: string | undefined,
  aliases: ModelAliases = NO_ALIASES,
): Finding | undefined {
  if (responseModel === undefined || responseModel.trim() === '') return undefined;
  const seen = normalizeModelName(responseModel, aliases);
  if (requestModel !== undefined && requestModel.trim() !== '') {
    const expected = normalizeModelName(requestModel, aliases);
    if (seen === expected) return undefined;
    return { reason: 'model_mismatch', evidence: { expected, seen, source: 'request_body' } };
  }
  if (sessionModel === undefined || seen === sessionModel) return undefined;
  return { reason: 'model_mismatch', evidence: { expected: sessionModel, seen, source: 'session' } };
}

// --- completion_id_collision / completion_id_interleave ------------------------------------------------------

/** Who holds a completion id in the shared registry. */
export interface CompletionIdOwnerView {
  /** The id was first delivered on this very request. */
  self: boolean;
  /** The owning request is still in flight (else it finished within the recent window). */
  inflight: boolean;
  requestId: string;
}

export interface CompletionIdFacts {
  /** The id of the previous chunk carrying an id on this request, if any. */
  previousId: string | undefined;
  /** The id was already seen on this request (before the previous id). */
  seenOnThisRequest: boolean;
  /** The registry's owner of the id, if any. */
  owner: CompletionIdOwnerView | undefined;
}

/**
 * - `repeat`: same id as the previous chunk (the normal case).
 * - `first`: the first id of this request, not known elsewhere.
 * - `drift`: a new id, never seen anywhere: benign id drift (llama.cpp and others give every chunk a new id).
 * - `interleave` / `collision`: see {@link classifyCompletionId}.
 */
export type CompletionIdClass = 'repeat' | 'first' | 'drift' | 'interleave' | 'collision';

/**
 * The collision / interleave boundary:
 * - interleave: inside one stream an id reappears after a different one (A…B…A), or a chunk after this
 *   request's first id carries an id owned by another request that is still in flight (two live streams mixed);
 * - collision: this request's first id is owned by another request (in flight or finished within the window),
 *   or any later id is owned by a finished request (an old response replayed onto this one).
 */
export function classifyCompletionId(
  id: string,
  facts: CompletionIdFacts,
): { kind: CompletionIdClass; finding?: Finding } {
  const { previousId, owner } = facts;
  if (id === previousId) return { kind: 'repeat' };
  if (facts.seenOnThisRequest || owner?.self === true) {
    return {
      kind: 'interleave',
      finding: {
        reason: 'completion_id_interleave',
        evidence: { seen: id, previous_id: previousId, rule: 'reappeared' },
      },
    };
  }
  if (owner !== undefined) {
    if (owner.inflight && previousId !== undefined) {
      return {
        kind: 'interleave',
        finding: {
          reason: 'completion_id_interleave',
          evidence: { seen: id, previous_id: previousId, other_request_id: owner.requestId, rule: 'inflight_owner' },
        },
      };
    }
    return {
      kind: 'collision',
      finding: {
        reason: 'completion_id_collision',
        evidence: {
          seen: id,
          other_request_id: owner.requestId,
          other_state: owner.inflight ? 'in_flight' : 'finished',
        },
      },
    };
  }
  return { kind: previousId === undefined ? 'first' : 'drift' };
}

// --- session_key_conflict ------------------------------------------------------------------------------------

/**
 * The same session used by two API keys within the binding window: the runtime form of the audit's isolation
 * check. `shared` scope (gateways that pool sessions across keys by design) turns it off.
 */
export function checkSessionKey(
  session: string | undefined,
  boundKey: string | undefined,
  key: string | undefined,
  scope: SessionScope,
): Finding | undefined {
  if (scope === 'shared' || session === undefined || key === undefined || boundKey === undefined) return undefined;
  if (boundKey === key) return undefined;
  return { reason: 'session_key_conflict', evidence: { expected: boundKey, seen: key, session } };
}
