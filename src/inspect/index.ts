/**
 * The crosstalk inspector: an SSE parser, pure detector rules, bounded registries and a per-request inspector,
 * with a pass-through Transform to put them on a response body. Nothing here knows HTTP servers or spans.
 */
export { SseParser, DEFAULT_MAX_EVENT_BYTES } from './sse-parser.js';
export type { SseEvent, SseParserOptions } from './sse-parser.js';
export { parseLine } from './sse-line.js';
export type { SseLine, SseFieldName } from './sse-line.js';
export { extractChunkFields, fieldsFromObject, classifyData, MAX_FIELD_CHARS } from './chunk-fields.js';
export type { ChunkFields, TokenUsage, DataKind } from './chunk-fields.js';
export {
  REASON_CODES,
  checkRequestIdEcho,
  checkSessionEcho,
  checkModel,
  checkSessionKey,
  classifyCompletionId,
  normalizeModelName,
  normalizeSessionId,
  compileModelAliases,
} from './detectors.js';
export type {
  ReasonCode,
  Finding,
  FindingEvidence,
  EchoSource,
  SessionScope,
  ModelAliases,
  RequestIdEcho,
  CompletionIdClass,
  CompletionIdFacts,
  CompletionIdOwnerView,
} from './detectors.js';
export {
  TtlLru,
  CompletionIdRegistry,
  SessionModelRegistry,
  SessionKeyRegistry,
  InflightTracker,
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_INFLIGHT_MAX_AGE_MS,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
} from './registries.js';
export type {
  Clock,
  CompletionIdEntry,
  CompletionIdRegistryOptions,
  SessionRegistryOptions,
  InflightHandle,
} from './registries.js';
export { InspectorContext, DEFAULT_MAX_JSON_BODY_BYTES, DEFAULT_SESSION_SCOPE } from './context.js';
export type { InspectorConfig, InspectorContextOptions } from './context.js';
export { ResponseInspector, MAX_IDS_PER_REQUEST } from './response-inspector.js';
export type {
  RequestFacts,
  ResponseHeaders,
  InspectionSummary,
  InspectionSkipReason,
} from './response-inspector.js';
export { InspectStream, crosstalkErrorEvent, CROSSTALK_ERROR_TYPE } from './inspect-stream.js';
export { BodyObserver } from './body-observer.js';
export type { InspectMode, BodyKind, BlockInfo, JsonVerdict, InspectStreamOptions } from './inspect-stream.js';
// Gateway-aware detection (issue 13): one store for all learned state, the control-plane learner, the session
// resolver, and the per-request judge the proxy attaches to each ResponseInspector.
export { Detection, RequestJudge } from './detection.js';
export type { DetectionOptions, JudgeFacts, JudgeSummary, PeerFinding } from './detection.js';
export { MemoryDetectionStore } from './store.js';
export type { DetectionStore, DetectionStoreOptions, SessionBinding, StoreWrite, RecentAnswer, LiveOwner } from './store.js';
export { CompletionIdWindow, hash64 } from './completion-id-window.js';
export type { DeliveredOwner } from './completion-id-window.js';
export { classifyControlCall, controlFacts, applyControlFacts, sessionBody, hex32 } from './control-plane.js';
export type { ControlCall, ControlFact } from './control-plane.js';
export { SessionResolver } from './session-lookup.js';
export type { SessionLookup, SessionResolverOptions, ResolveOutcome } from './session-lookup.js';
export { NameConsensus } from './name-consensus.js';
export type { NameVerdict, NameVote, OverturnedVote } from './name-consensus.js';
export { IdHabits, isCounterLike } from './id-habits.js';
export type { IdHabit, IdStability, IdReuse, IdObservation } from './id-habits.js';
export { requestShapeOf, checkChunkShape, checkCompletionTokens, PromptRatios, DEFAULT_SHAPE_CHECK } from './request-shape.js';
export type { RequestShape, ShapeCheckOptions } from './request-shape.js';
export { splitSplicedPayload, endOfJsonValue } from './spliced-events.js';
export { classifyRequestIdEcho } from './detectors.js';
export type { EchoVerdict } from './detectors.js';
