/**
 * What the runner and the driver process say to each other over the fork IPC channel. The driver announces the
 * edges of its measured window so the runner can read the proxy's CPU and RSS at the same instants.
 */

/** One set of gateway headers (a session with its own API key); workers take them round-robin. */
export type HeaderSet = Record<string, string>;

export interface DriverConfig {
  /** `http://127.0.0.1:port` of the configuration under test. */
  origin: string;
  path: string;
  /** Concurrent closed-loop workers, each with its own connection. */
  concurrency: number;
  /** Seconds of unmeasured load before the window opens (0: none). */
  warmupSec: number;
  /** Measured window in seconds for closed-loop runs; ignored when `requests` is set. */
  durationSec: number;
  /** Fixed number of measured requests (each worker issues its share once); the window ends when all are done. */
  requests?: number;
  /** Concurrency of the warm-up phase when it differs from the measured one (fixed-count runs). */
  warmupConcurrency?: number;
  stream: boolean;
  chunks: number;
  chunkDelayMs: number;
  chunkBytes: number;
  headerSets: HeaderSet[];
  /** Prefix of the unique `x-request-id` per request. */
  requestIdPrefix: string;
}

export interface DriverResult {
  /** Requests that completed inside the window without error: the latency samples. */
  completed: number;
  /** Requests overlapping the window that ended well (ok), with an error, or short of `[DONE]` (incomplete). */
  ok: number;
  errors: number;
  /** 200 responses whose stream ended before `data: [DONE]` (fewer events than planned). */
  incomplete: number;
  /** First few error messages, for diagnosis. */
  errorSamples: string[];
  windowSec: number;
  /** Requests issued in total, warm-up and drain included. */
  sent: number;
  /** Requests in the window, each counted by the share of its lifetime inside it (fractional). */
  requests: number;
  requestsPerSec: number;
  /** SSE events (`data: …` blocks) received per second; 0 for non-streamed responses. */
  chunksPerSec: number;
  bytesPerSec: number;
  bytes: number;
  /** Milliseconds from sending the request to the first body byte. */
  ttfcP50: number;
  ttfcP99: number;
  /** Milliseconds from sending the request to the end of the body. */
  totalP50: number;
  totalP99: number;
}

export type DriverMessage =
  | { type: 'window-open' }
  | { type: 'window-close' }
  | { type: 'result'; result: DriverResult }
  | { type: 'fatal'; message: string };
