/**
 * The probe's result types: what one request found, and what a run concluded. Everything here may be printed:
 * API keys appear only as their public prefix (`sk-AbC123`) or a lane label, never in full.
 */
import type { RequestIdEcho } from '../telemetry/attributes.js';
import type { ReasonCode } from '../inspect/index.js';

export type { RequestIdEcho };

/** Probe-only reasons, on top of the sidecar's detector {@link ReasonCode}s. */
export const PROBE_REASON_CODES = [
  /** The answer carries the nonce of another probe request: it is that request's answer (or part of it). */
  'foreign_nonce',
  /** `--expect-echo`: the answer does not contain this request's nonce. */
  'nonce_missing',
] as const;
export type ProbeReasonCode = (typeof PROBE_REASON_CODES)[number];

export type FindingReason = ReasonCode | ProbeReasonCode;

export interface ProbeFinding {
  reason: FindingReason;
  /** Ids, model names and key prefixes only; never content. */
  evidence: Record<string, string | number | undefined>;
}

/**
 * - `ok`: a 2xx answer with at least one completion chunk;
 * - `empty`: a 2xx answer without any completion chunk (what the other side of a misdirected reply gets);
 * - `failed`: transport error, timeout, non-2xx status, a body that is neither SSE nor JSON, or an in-band
 *   error: a 200 stream carrying `data: {"error":…}`, which is how the gateway reports a router failure
 *   (never an answer: its missing nonce proves nothing);
 * - `aborted`: the run was stopped (Ctrl-C) while the request was in flight; left out of every count.
 */
export type RequestOutcome = 'ok' | 'empty' | 'failed' | 'aborted';

/** Where the echo verdict came from: the response's own `x-request-id`, or the sidecar's report of the upstream's. */
export type EchoSource = 'response' | 'sidecar';

/** How a sidecar incident was tied to a probe request. */
export type JoinMethod = 'request_id' | 'completion_id' | 'session_time';
export const JOIN_METHODS: readonly JoinMethod[] = ['request_id', 'completion_id', 'session_time'];

export interface ProbeRequestResult {
  index: number;
  requestId: string;
  /**
   * The `X-Request-Id` a gateway answered with when it is not ours: the newer gateway assigns its own id and
   * forwards that one to the router, so the sidecar's incidents carry it. Not an echo, not a mismatch.
   */
  upstreamRequestId?: string;
  /** Key prefix (`sk-AbC123`), `key-N` for a key of another shape, or `lane-N` without keys. */
  lane: string;
  model: string;
  session?: string;
  outcome: RequestOutcome;
  status?: number;
  /** Low-cardinality error type: `ECONNREFUSED`, `timeout`, `http_401`, `stream_error`, `in_band_error`, … */
  error?: string;
  echo: RequestIdEcho;
  echoSource: EchoSource;
  /** Distinct completion ids seen, in order (at most a few are kept). */
  completionIds: string[];
  /** Distinct response models seen, in order. */
  responseModels: string[];
  /** Data events with a JSON chunk. */
  chunks: number;
  /** Completions the answer carried (finish_reasons of one choice, or usage chunks), as the sidecar counts them. */
  completions: number;
  done: boolean;
  /** The answer contains this request's nonce. */
  nonceSeen: boolean;
  findings: ProbeFinding[];
  /** Unique reasons of {@link findings}, in the order raised. */
  reasons: FindingReason[];
  /** Reasons the sidecar recorded for this request in `/incidents` (joined after the run). */
  sidecarReasons: string[];
  /** How the first of those incidents was joined, when one was. */
  sidecarJoin?: JoinMethod;
  /** Wall clock (unix ms) when the request was sent and when its last byte arrived: for the time join. */
  startedAtMs: number;
  endedAtMs: number;
  ttfcMs?: number;
  totalMs: number;
}

export const VERDICTS = ['FIX VERIFIED', 'CROSSTALK', 'UNVERIFIED', 'COULD NOT RUN'] as const;
export type Verdict = (typeof VERDICTS)[number];
export type ProbeExitCode = 0 | 1 | 2 | 3;

export const EXIT_CODES: Record<Verdict, ProbeExitCode> = {
  'FIX VERIFIED': 0,
  CROSSTALK: 1,
  'COULD NOT RUN': 2,
  UNVERIFIED: 3,
};

export interface OffendingRequest {
  requestId: string;
  /** The gateway's own id for it (its `X-Request-Id`), to find it in the gateway's and the sidecar's logs. */
  upstreamRequestId?: string;
  lane: string;
  model: string;
  reasons: FindingReason[];
  sidecarReasons: string[];
  /** Request ids whose answer (nonce) showed up in this one (the first few). */
  answersOf: string[];
  /** How many other requests' answers showed up in this one. */
  answersOfTotal: number;
}

export interface VerdictResult {
  verdict: Verdict;
  exitCode: ProbeExitCode;
  /** One sentence saying why. */
  summary: string;
  /** Further facts behind the verdict (counts of missing echoes, failures). */
  details: string[];
  offending: OffendingRequest[];
}

export interface GroupStats {
  name: string;
  requests: number;
  ok: number;
  empty: number;
  failed: number;
  echo: Record<RequestIdEcho, number>;
  /** Requests with a probe finding or a sidecar incident. */
  crosstalk: number;
  ttfcP50Ms?: number;
  ttfcP95Ms?: number;
  totalP50Ms?: number;
}

export interface SidecarJoin {
  /** `{admin}/incidents`, as queried. */
  url: string;
  error?: string;
  /** Incidents the sidecar reported in total (all traffic) and those on this run's requests. */
  total: number;
  onThisRun: number;
  /** The sidecar keeps only its newest incidents: older ones of this run may be gone. */
  truncated: boolean;
  /** Incidents joined by each method (request id first, then completion id, then session and time). */
  joinedBy: Record<JoinMethod, number>;
  /**
   * Incidents a time window matched to more than one of this run's requests (or none by id): left unjoined,
   * counted here, so a busy target cannot pin someone else's incident on a probe request.
   */
  ambiguous: number;
  /** Request ids flagged by both / by the sidecar only / by the probe only. */
  both: string[];
  sidecarOnly: string[];
  probeOnly: string[];
}

export interface ProbeResult {
  tool: 'crosstalk probe';
  version: string;
  runId: string;
  startedAt: string;
  durationMs: number;
  target: { url: string; chatUrl: string; mode: 'gateway' | 'router' };
  settings: {
    requests: number | null;
    concurrency: number;
    durationMs: number | null;
    burst: number;
    expectEcho: boolean;
    models: string[];
    lanes: string[];
  };
  requests: ProbeRequestResult[];
  totals: Omit<GroupStats, 'name'> & { aborted: number; findings: Record<string, number> };
  byModel: GroupStats[];
  byLane: GroupStats[];
  sidecar?: SidecarJoin;
  verdict: VerdictResult;
  warnings: string[];
}
