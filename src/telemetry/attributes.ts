/**
 * Span attribute, event and metric names. These are public contract: users search Jaeger by them.
 *
 * Stable semantic conventions are imported from `@opentelemetry/semantic-conventions`. Incubating ones are
 * copied here (as the OTel JS guidance recommends for libraries) so a semconv release cannot rename them
 * under our users' saved searches.
 */
export {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_URL_PATH,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_ERROR_TYPE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_QUERY_TEXT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';

// --- Incubating semantic conventions (copied; see https://opentelemetry.io/docs/specs/semconv/gen-ai/) ---
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat';
/** Incubating `session.id` (https://opentelemetry.io/docs/specs/semconv/general/session/). */
export const ATTR_SESSION_ID = 'session.id';

// --- crosstalk: proxy ---
export const CROSSTALK_REQUEST_ID = 'crosstalk.request_id';
export const CROSSTALK_REQUEST_ID_REJECTED = 'crosstalk.request_id.rejected';
export const CROSSTALK_REQUEST_ID_ECHO = 'crosstalk.request_id_echo';
export const CROSSTALK_API_KEY_PREFIX = 'crosstalk.api_key.prefix';
export const CROSSTALK_API_KEY_FINGERPRINT = 'crosstalk.api_key.fingerprint';
export const CROSSTALK_API_KEY_ID = 'crosstalk.api_key.id';
export const CROSSTALK_MODEL_ID = 'crosstalk.model_id';
export const CROSSTALK_STREAM = 'crosstalk.stream';
export const CROSSTALK_SSE_EVENTS = 'crosstalk.sse.events';
export const CROSSTALK_SSE_OVERSIZED_EVENTS = 'crosstalk.sse.oversized_events';
export const CROSSTALK_TIME_TO_FIRST_CHUNK_MS = 'crosstalk.time_to_first_chunk_ms';
export const CROSSTALK_RESPONSE_BYTES = 'crosstalk.response.bytes';
/** Why a stream ended early: `client_aborted`, `upstream_reset`, `upstream_idle_timeout`, `blocked`. */
export const CROSSTALK_STREAM_END_REASON = 'crosstalk.stream.end_reason';
/**
 * Why a response was not inspected (`content_encoding`, `not_inspectable`, `body_too_large`, a degradation such as
 * `inspector_error`, or {@link INSPECTION_OFF}).
 */
export const CROSSTALK_INSPECTION_SKIPPED = 'crosstalk.inspection.skipped';
/** {@link CROSSTALK_INSPECTION_SKIPPED} on a chat completion forwarded with `--inspection off`. */
export const INSPECTION_OFF = 'inspection_off';

/** Values of {@link CROSSTALK_REQUEST_ID_ECHO}. */
export type RequestIdEcho = 'match' | 'missing' | 'mismatch';
/**
 * The sidecar's own verdict adds `rewritten`: the upstream echoed an id the sidecar never issued (a hop between it
 * and the router rewrote `x-request-id`). `mismatch` is kept for an echo naming an id issued to another request.
 */
export type ProxyRequestIdEcho = RequestIdEcho | 'rewritten';

// --- crosstalk: inspection ---
export const CROSSTALK_DETECTED = 'crosstalk.detected';
export const CROSSTALK_REASONS = 'crosstalk.reasons';
export const CROSSTALK_COMPLETION_ID_DRIFT = 'crosstalk.completion_id_drift';
export const CROSSTALK_INFLIGHT_API_KEY = 'crosstalk.inflight.api_key';
export const CROSSTALK_INFLIGHT_SESSION = 'crosstalk.inflight.session';
export const CROSSTALK_BLOCKED = 'crosstalk.blocked';
/** Span event name carrying the evidence of a detection. */
export const EVENT_CROSSTALK_DETECTED = 'crosstalk.detected';
/** On the `crosstalk.detected` event: the reason code of that finding. */
export const CROSSTALK_EVENT_REASON = 'crosstalk.reason';
/** On the `crosstalk.detected` event: evidence fields (`crosstalk.evidence.expected`, `….seen`, …); ids only. */
export const CROSSTALK_EVIDENCE_PREFIX = 'crosstalk.evidence.';
/** Other request ids a detection involves (starvation partner, overturned teacher), on the span. */
export const CROSSTALK_RELATED_REQUEST_IDS = 'crosstalk.related_request_ids';
/** On a span link: why the two requests' spans are linked (the reason code). */
export const CROSSTALK_LINK_REASON = 'crosstalk.link.reason';
/**
 * A short span in an already-ended request's trace, recording a finding made later by another request (a starved
 * request's partner, an overturned teacher), linked to the span of the request that made it.
 */
export const SPAN_NAME_PEER_FINDING = 'crosstalk peer_finding';

// --- crosstalk: audit ---
export const CROSSTALK_AUDIT_DATABASE = 'crosstalk.audit.database';
export const CROSSTALK_AUDIT_CHECK = 'crosstalk.audit.check';
export const CROSSTALK_AUDIT_STATUS = 'crosstalk.audit.status';
export const CROSSTALK_AUDIT_ROWS_FOUND = 'crosstalk.audit.rows_found';
/** Why an audit check was skipped or failed (`table sessions not found`, a statement timeout). */
export const CROSSTALK_AUDIT_REASON = 'crosstalk.audit.reason';
/** True when a check passed but could not have failed on that schema (the seed's CHECK 1). */
export const CROSSTALK_AUDIT_VACUOUS = 'crosstalk.audit.vacuous';

// --- crosstalk: probe ---
export const CROSSTALK_PROBE_NONCE = 'crosstalk.probe.nonce';

// --- Prometheus metric names (admin /metrics) ---
export const METRIC_REQUESTS_TOTAL = 'crosstalk_proxy_requests_total';
export const METRIC_INFLIGHT = 'crosstalk_proxy_requests_in_flight';
export const METRIC_UPSTREAM_ERRORS_TOTAL = 'crosstalk_proxy_upstream_errors_total';
export const METRIC_REQUEST_DURATION = 'crosstalk_proxy_request_duration_seconds';
export const METRIC_TIME_TO_FIRST_CHUNK = 'crosstalk_proxy_time_to_first_chunk_seconds';
export const METRIC_DETECTED_TOTAL = 'crosstalk_detected_total';
export const METRIC_REQUEST_ID_REJECTED_TOTAL = 'crosstalk_request_id_rejected_total';
export const METRIC_SSE_OVERSIZED_EVENTS_TOTAL = 'crosstalk_sse_oversized_events_total';

// --- HTTP header names moved to src/protocol/headers.ts (protocol, not telemetry); re-exported for old imports ---
export {
  HEADER_API_KEY_ID,
  HEADER_MODEL_ID,
  HEADER_REQUEST_ID,
  HEADER_REQUEST_ID_ECHO,
  HEADER_SESSION_ID,
  HEADER_X_SESSION_ID,
} from '../protocol/headers.js';

// --- Prometheus metric names, ops kit (issue 18, issue 14 row 14); the contract in deploy/prometheus/ ---
export const METRIC_INSPECTION_DEGRADED_TOTAL = 'crosstalk_inspection_degraded_total';
export const METRIC_RESPONSES_INSPECTED_TOTAL = 'crosstalk_responses_inspected_total';
export const METRIC_STARVED_REQUESTS_TOTAL = 'crosstalk_starved_requests_total';
export const METRIC_STORE_UP = 'crosstalk_store_up';
export const METRIC_STORE_RECORDS_TOTAL = 'crosstalk_store_records_total';
export const METRIC_IDENTITY_TRUNCATED_TOTAL = 'crosstalk_identity_truncated_total';
export const METRIC_SPANS_EXPORTED_TOTAL = 'crosstalk_spans_exported_total';
export const METRIC_SPANS_DROPPED_TOTAL = 'crosstalk_spans_dropped_total';
export const METRIC_INFLIGHT_BY_ROUTE = 'crosstalk_proxy_requests_in_flight_by_route';
