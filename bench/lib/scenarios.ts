/** The workloads of the issue, with the defaults that keep a full `npm run bench` near a quarter of an hour. */

export interface Scenario {
  id: string;
  title: string;
  stream: boolean;
  chunks: number;
  chunkBytes: number;
  chunkDelayMs: number;
  concurrency: number;
  /** Fixed request count (the window lasts until all are done); undefined: a timed closed-loop window. */
  requests: number | undefined;
  warmupSec: number;
  durationSec: number;
  /**
   * Requests each freshly started node proxy serves before round 1 (see {@link ScenarioOptions.settleRequests});
   * 0 for the fixed-count scenarios, which are not judged on CPU per request.
   */
  settleRequests: number;
  /** Concurrency of the warm-up with ordinary streams before a fixed-count window. */
  warmupConcurrency: number | undefined;
  /** The proxy runs on a core of its own and the load on the others (see cpu-pinning.ts): paced, unsaturated. */
  pinned: boolean;
}

export interface ScenarioOptions {
  warmupSec: number;
  durationSec: number;
  /**
   * Before its first round, each node proxy of a timed scenario serves this many of the scenario's own requests
   * (at concurrency at least {@link SETTLE_MIN_CONCURRENCY}), outside the medians. V8 optimises a function only
   * after it has run often enough, so a fresh process runs its per-request code cold: at c64-delay5 (~120 requests
   * a second) a fresh sidecar's CPU per request fell from 5.8 to 3.5 ms over its first 30 s and bare http-proxy's
   * from 4.7 to 3.5 (5 s windows, Dec 2026; the ratio 1.24, 1.17, 1.11, 1.02, 1.02, 0.99 window by window).
   * Rounds taken inside that time price the JIT's warm-up, the larger code paying more, not the steady state a
   * long-running sidecar serves at. A count rather than seconds: warming goes by calls, so a 5,000 requests/s
   * scenario settles in a second and a paced one in ~25 s. The settling's own CPU per request is reported as
   * the cold start, beside the medians.
   */
  settleRequests: number;
  /**
   * The least window of the paced (5 ms) scenarios. Their requests last ~0.5 s, so a 3 s window at concurrency 64
   * holds ~360 of them and its p99 is the 4th slowest: one stalled moment moves it by milliseconds. 8 s gives
   * ~970 (p99 = the 10th slowest).
   */
  pacedDurationSec: number;
  /** Size of the single big stream. */
  bigBytes: number;
  bigChunkBytes: number;
  longStreams: number;
  longChunks: number;
  longDelayMs: number;
}

/** The least concurrency of the settling load: at concurrency 1 a per-request function runs twice a second. */
export const SETTLE_MIN_CONCURRENCY = 64;

export const DEFAULT_SCENARIO_OPTIONS: ScenarioOptions = {
  // Two seconds: with one, a freshly started sidecar's first round still ran ~30% more CPU per request than its
  // later rounds (JIT, heap growth); with two, within the spread of later rounds.
  warmupSec: 2,
  durationSec: 3,
  settleRequests: 3000,
  pacedDurationSec: 8,
  bigBytes: 1024 ** 3,
  bigChunkBytes: 16 * 1024,
  longStreams: 1000,
  longChunks: 100,
  longDelayMs: 50,
};

/** `--quick`: one round, shorter windows, the same scenarios. */
export const QUICK_SCENARIO_OPTIONS: ScenarioOptions = {
  ...DEFAULT_SCENARIO_OPTIONS,
  warmupSec: 0.5,
  durationSec: 2,
  settleRequests: 0,
  pacedDurationSec: 2,
  bigBytes: 256 * 1024 ** 2,
  longChunks: 60,
};

/** The gateway's ordinary completion: 100 chunks of ~60 bytes of content. */
const CHUNKS = 100;
const CHUNK_BYTES = 60;
const FIXED_WARMUP_SEC = 0.5;
/** The short answers' scenario: ~15 chunks of one token each. */
const GATEWAY_CHUNKS = 15;
const GATEWAY_CHUNK_BYTES = 6;
const FIXED_WARMUP_CONCURRENCY = 8;
/** Paced 100-chunk scenarios up to this concurrency leave a core for each side; c512-delay5 saturates the machine. */
const PINNED_MAX_CONCURRENCY = 64;

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** The measured window of a paced scenario: the usual one, but at least `pacedDurationSec`. */
export function pacedWindowSec(o: ScenarioOptions): number {
  return Math.max(o.durationSec, o.pacedDurationSec);
}

export function buildScenarios(o: ScenarioOptions): Scenario[] {
  const timed = (id: string, concurrency: number, delay: number, stream = true): Scenario => ({
    id,
    title: stream
      ? `${CHUNKS} chunks × ${CHUNK_BYTES} B, ${delay} ms apart, concurrency ${concurrency}`
      : `non-streamed JSON (${CHUNKS} × ${CHUNK_BYTES} B of content), concurrency ${concurrency}`,
    stream,
    chunks: CHUNKS,
    chunkBytes: CHUNK_BYTES,
    chunkDelayMs: delay,
    concurrency,
    requests: undefined,
    warmupSec: o.warmupSec,
    settleRequests: o.settleRequests,
    durationSec: delay > 0 ? pacedWindowSec(o) : o.durationSec,
    warmupConcurrency: undefined,
    pinned: delay > 0 && concurrency <= PINNED_MAX_CONCURRENCY,
  });
  const bigChunks = Math.max(1, Math.round(o.bigBytes / o.bigChunkBytes));
  // Token-sized chunks, as a provider streams them: a short answer of ~15 tokens.
  const gateway: Scenario = {
    id: 'gateway-15tok-c64-delay5',
    title: `gateway-shaped (session_id + Basic auth, no key, no model): ${GATEWAY_CHUNKS} chunks × ${GATEWAY_CHUNK_BYTES} B, 5 ms apart, concurrency 64`,
    stream: true,
    chunks: GATEWAY_CHUNKS,
    chunkBytes: GATEWAY_CHUNK_BYTES,
    chunkDelayMs: 5,
    concurrency: 64,
    requests: undefined,
    warmupSec: o.warmupSec,
    settleRequests: o.settleRequests,
    durationSec: pacedWindowSec(o),
    warmupConcurrency: undefined,
    // ~750 short streams a second take most of a core: pinned to one, crosstalk saturated it (0.84x bare's
    // requests/s, 7x its time to first chunk, Dec 2026) and the CPU ratio measured the queue, not the code.
    pinned: false,
  };
  return [
    timed('c1-nodelay', 1, 0),
    timed('c1-delay5', 1, 5),
    timed('c64-nodelay', 64, 0),
    timed('c64-delay5', 64, 5),
    timed('c512-nodelay', 512, 0),
    timed('c512-delay5', 512, 5),
    timed('json-c64', 64, 0, false),
    gateway,
    {
      id: 'stream-1gib',
      title: `one ${mib(bigChunks * o.bigChunkBytes)} stream (${bigChunks} chunks × ${o.bigChunkBytes / 1024} KiB, no delay)`,
      stream: true,
      chunks: bigChunks,
      chunkBytes: o.bigChunkBytes,
      chunkDelayMs: 0,
      concurrency: 1,
      requests: 1,
      warmupSec: FIXED_WARMUP_SEC,
      settleRequests: 0,
      durationSec: 0,
      warmupConcurrency: FIXED_WARMUP_CONCURRENCY,
      pinned: false,
    },
    {
      id: 'streams-1000',
      title: `${o.longStreams} concurrent streams held open (${o.longChunks} chunks × ${CHUNK_BYTES} B, ${o.longDelayMs} ms apart)`,
      stream: true,
      chunks: o.longChunks,
      chunkBytes: CHUNK_BYTES,
      chunkDelayMs: o.longDelayMs,
      concurrency: o.longStreams,
      requests: o.longStreams,
      warmupSec: FIXED_WARMUP_SEC,
      settleRequests: 0,
      durationSec: 0,
      warmupConcurrency: FIXED_WARMUP_CONCURRENCY,
      pinned: false,
    },
  ];
}
