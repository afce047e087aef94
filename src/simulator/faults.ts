/**
 * Request headers that make the simulated router misbehave "on command", so one running router serves both
 * honest and faulty requests. The proxy forwards unknown headers unchanged, so they work through it too.
 */

/** Comma-separated faults, each `name` or `name:argument` (see {@link SIM_FAULT}). */
export const SIM_HEADER_FAULT = 'x-sim-fault';
/** Content chunks in this response (integer ≥ 0). */
export const SIM_HEADER_CHUNKS = 'x-sim-chunks';
/** Milliseconds between content chunks (integer ≥ 0). */
export const SIM_HEADER_CHUNK_DELAY_MS = 'x-sim-chunk-delay-ms';
/** Bytes of content per chunk (integer ≥ 1). */
export const SIM_HEADER_CHUNK_BYTES = 'x-sim-chunk-bytes';

/** Fault names accepted in {@link SIM_HEADER_FAULT}. */
export const SIM_FAULT = {
  /**
   * Echo an `X-Request-Id` other than the request's (even when echoing is off): a random one (as a rewriting hop
   * would), or `wrong-request-id:<id>` this one (another request's: an answer that went to the wrong connection).
   */
  WRONG_REQUEST_ID: 'wrong-request-id',
  /** Answer with a `session_id` response header naming another session. */
  WRONG_SESSION: 'wrong-session',
  /** `model:<name>`: put this model name in the response instead of the session's. */
  MODEL: 'model',
  /** `chunk-request-id:<id>`: add `"request_id":"<id>"` to every chunk (or the JSON body). */
  CHUNK_REQUEST_ID: 'chunk-request-id',
  /** `reset-mid-stream[:n]`: close the connection after n content chunks (default: half of them). */
  RESET_MID_STREAM: 'reset-mid-stream',
  /** `stall-before-headers[:ms]`: send nothing for ms (default: until the client or the router goes away). */
  STALL_BEFORE_HEADERS: 'stall-before-headers',
  /** `stall-mid-stream[:ms]`: after half the content chunks, send nothing for ms (default: forever). */
  STALL_MID_STREAM: 'stall-mid-stream',
  /** `status:<code>`: answer with this status and a JSON error body. */
  STATUS: 'status',
  /** Write the router's plain-text failover lines before the content. */
  FAILOVER: 'failover',
} as const;

/** Parsed {@link SIM_HEADER_FAULT}; stall durations are `Infinity` for "until closed". */
export interface Faults {
  wrongRequestId: boolean;
  /** The id to echo with `wrong-request-id:<id>`; undefined: a random one. */
  wrongRequestIdValue: string | undefined;
  wrongSession: boolean;
  model: string | undefined;
  chunkRequestId: string | undefined;
  /** Content chunks sent before the reset; `-1` means half of the response's chunks. */
  resetAfterChunks: number | undefined;
  stallBeforeHeadersMs: number | undefined;
  stallMidStreamMs: number | undefined;
  status: number | undefined;
  failover: boolean;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  wrongRequestId: false,
  wrongRequestIdValue: undefined,
  wrongSession: false,
  model: undefined,
  chunkRequestId: undefined,
  resetAfterChunks: undefined,
  stallBeforeHeadersMs: undefined,
  stallMidStreamMs: undefined,
  status: undefined,
  failover: false,
});

/** A request the simulator refuses because of its `x-sim-*` headers (answered 400 with the message). */
export class SimHeaderError extends Error {
  override readonly name = 'SimHeaderError';
}

function nonNegativeInt(value: string, what: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new SimHeaderError(`${what} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function optionalMs(arg: string | undefined, what: string): number {
  return arg === undefined ? Number.POSITIVE_INFINITY : nonNegativeInt(arg, what);
}

function required(arg: string | undefined, what: string): string {
  if (arg === undefined || arg === '') throw new SimHeaderError(`${SIM_HEADER_FAULT} ${what} needs an argument`);
  return arg;
}

export function parseFaults(header: string | undefined): Faults {
  const faults: Faults = { ...NO_FAULTS };
  if (header === undefined || header.trim() === '') return faults;
  for (const raw of header.split(',')) {
    const item = raw.trim();
    const colon = item.indexOf(':');
    const name = colon === -1 ? item : item.slice(0, colon);
    const arg = colon === -1 ? undefined : item.slice(colon + 1);
    switch (name) {
      case SIM_FAULT.WRONG_REQUEST_ID:
        faults.wrongRequestId = true;
        faults.wrongRequestIdValue = arg === undefined || arg === '' ? undefined : arg;
        break;
      case SIM_FAULT.WRONG_SESSION:
        faults.wrongSession = true;
        break;
      case SIM_FAULT.MODEL:
        faults.model = required(arg, name);
        break;
      case SIM_FAULT.CHUNK_REQUEST_ID:
        faults.chunkRequestId = required(arg, name);
        break;
      case SIM_FAULT.RESET_MID_STREAM:
        faults.resetAfterChunks = arg === undefined ? -1 : nonNegativeInt(arg, name);
        break;
      case SIM_FAULT.STALL_BEFORE_HEADERS:
        faults.stallBeforeHeadersMs = optionalMs(arg, name);
        break;
      case SIM_FAULT.STALL_MID_STREAM:
        faults.stallMidStreamMs = optionalMs(arg, name);
        break;
      case SIM_FAULT.STATUS: {
        const code = nonNegativeInt(required(arg, name), name);
        if (code < 200 || code > 599) throw new SimHeaderError(`${name} must be an HTTP status 200-599`);
        faults.status = code;
        break;
      }
      case SIM_FAULT.FAILOVER:
        faults.failover = true;
        break;
      default:
        throw new SimHeaderError(`unknown ${SIM_HEADER_FAULT} '${name}'`);
    }
  }
  return faults;
}

/** Reads an integer `x-sim-*` override; `fallback` when the header is absent. */
export function headerInt(value: string | string[] | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = nonNegativeInt(Array.isArray(value) ? (value[0] ?? '') : value, name);
  if (n < min) throw new SimHeaderError(`${name} must be at least ${min}`);
  return n;
}
