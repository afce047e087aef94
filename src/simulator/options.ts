import type { IncomingHttpHeaders } from 'node:http';
import type { SessionSpec, SimModel } from './catalogue.js';
import type { SimAuth } from './basic-auth.js';

/**
 * `shared-reply`: the provider bug fixed by router PR #561 — one reply callback shared by concurrent requests,
 * so a newer stream's chunks land on an older stream's connection. `swap`: two overlapping streams trade bodies.
 */
export type SimBug = 'none' | 'shared-reply' | 'swap';
export const SIM_BUGS: readonly SimBug[] = ['none', 'shared-reply', 'swap'];

export function isSimBug(value: string): value is SimBug {
  return (SIM_BUGS as readonly string[]).includes(value);
}

export const DEFAULT_SIM_CHUNKS = 20;
export const DEFAULT_SIM_CHUNK_DELAY_MS = 0;
export const DEFAULT_SIM_CHUNK_BYTES = 60;
export const DEFAULT_SWAP_PAIR_WAIT_MS = 50;
export const DEFAULT_SESSION_DURATION_SEC = 86_400;
export const DEFAULT_RECORD_LIMIT = 1000;
/** Request bodies above this are answered 413; chat requests are small. */
export const MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

/** A request as the simulated router received it, for tests that assert what the proxy forwarded. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  /** The raw query string without `?` (the router ignores it, e.g. the old gateway's `?session_id=`). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly receivedAt: number;
}

export interface SimulatedRouterOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (any free port). */
  port?: number;
  /** Basic-auth credentials, or false to accept every request. Default {@link DEFAULT_SIM_AUTH}. */
  auth?: SimAuth | false;
  /** Model catalogue (names or `{ id, name }`); default {@link DEFAULT_MODELS}. */
  models?: readonly (string | SimModel)[];
  /** Sessions served from the start; default one per model ({@link makeSessions}(1)). */
  sessions?: readonly SessionSpec[];
  /** Lifetime of configured and opened sessions; default one day. */
  sessionDurationSec?: number;
  /** Refuse chat requests without a session header (default true); when false, `model_id` or the first model. */
  requireSession?: boolean;
  /** Content chunks per response; default 20 (header `x-sim-chunks` overrides per request). */
  chunks?: number;
  /** Milliseconds between chunks; default 0 (header `x-sim-chunk-delay-ms`). */
  chunkDelayMs?: number;
  /** Content bytes per chunk; default 60 (header `x-sim-chunk-bytes`). */
  chunkBytes?: number;
  /** A new completion id on every chunk, as llama.cpp does (benign drift). */
  idDrift?: boolean;
  /** Write `data: provider failed, failover enabled` and `data: new session opened: 0x…` before the content. */
  failoverLines?: boolean;
  /** Write a `: ping` comment first and after every N chunks; 0 (default) never. */
  keepAlive?: number;
  /** End lines with CRLF instead of LF. */
  crlf?: boolean;
  /** End streams without `data: [DONE]`, like older routers. */
  omitDone?: boolean;
  /** Coalesce and split writes at random byte boundaries (drawn from the seeded PRNG). */
  randomChunking?: boolean;
  /** Seed for ids and random choices; same seed + same sequential requests = same bytes. */
  seed?: number | string;
  /** Echo `X-Request-Id` (generating 8 hex when absent), as newer routers do; default true. */
  echoRequestId?: boolean;
  /** Answer chat requests with a `session_id` header naming the session used; default false (the router does not). */
  echoSession?: boolean;
  bug?: SimBug;
  /** How long a lone stream waits for a partner under the `swap` bug; default 50 ms. */
  swapPairWaitMs?: number;
  /** Milliseconds since the epoch; default Date.now. Drives `created`, session times and expiry. */
  clock?: () => number;
  /** How many received requests `router.requests` keeps; default 1000. */
  recordLimit?: number;
  onRequest?: (request: ReceivedRequest) => void;
}
