/** What one response inspection starts from (the request's facts) and ends with (its summary). */
import type { TokenUsage } from './chunk-fields.js';
import type { Finding, ReasonCode, RequestIdEcho } from './detectors.js';
import type { JudgeSummary } from './detection.js';

/** Completion ids one request claims in the shared registry at most (a drifting stream has one per chunk). */
export const MAX_IDS_PER_REQUEST = 1024;

export interface RequestFacts {
  /** The request id the sidecar sent upstream. */
  requestId: string;
  /** The session the request was sent on (`session_id` / `X-Session-ID` request header). */
  sessionId?: string;
  /** The model the request body names; usually absent (the gateway strips it). */
  requestModel?: string;
  /** The on-chain `model_id` request header (hex). Recorded, never compared with model names. */
  modelIdHeader?: string;
  /** Fingerprint of the caller's API key, if the deployment forwards one. */
  keyFingerprint?: string;
  /** The request asked for a stream. */
  stream: boolean;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Why a body was not inspected (values of `crosstalk.inspection.skipped`). */
export type InspectionSkipReason = 'content_encoding' | 'not_inspectable' | 'body_too_large' | 'inspector_error';

export interface InspectionSummary {
  requestId: string;
  findings: Finding[];
  /** Unique, in the order raised. */
  reasons: ReasonCode[];
  requestIdEcho: RequestIdEcho;
  /** Ids changed within the response (benign on its own). */
  completionIdDrift: boolean;
  firstCompletionId?: string;
  /** The first model the response reported, as reported. */
  responseModel?: string;
  /** The on-chain model id (request `model_id` header, else the response's). */
  modelId?: string;
  usage?: TokenUsage;
  /** SSE events with data (including oversized ones). */
  events: number;
  oversizedEvents: number;
  /** Non-JSON data lines (router failover messages). */
  textEvents: number;
  errorEvents: number;
  done: boolean;
  inflight: { apiKey: number; session: number };
  inspectionSkipped?: InspectionSkipReason;
  /** The gateway-aware rules' summary, when a {@link RequestJudge} was attached. */
  detection?: JudgeSummary;
}

/** A non-empty `"content":"…"` string in a payload (the fast path's cheap "carries content" test). */
export function hasContentText(data: string): boolean {
  const at = data.indexOf('"content":"');
  return at !== -1 && data.charCodeAt(at + 11) !== 0x22;
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

