/**
 * The inspector's defaults, in one place: the proxy, the inspector and the probe (which promises the sidecar's own
 * rules) all read these. Nothing else declares a default for these settings.
 */
import type { SessionScope } from '../inspect/detectors.js';

/** SSE events larger than this are forwarded but not inspected. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Non-streamed JSON bodies larger than this are forwarded uninspected. */
export const DEFAULT_MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;
/** How long a delivered completion id is remembered (a replay inside the window is flagged). */
export const DEFAULT_COMPLETION_ID_WINDOW_MS = 10 * 60_000;
/** How long a session stays bound to one API key and one model. */
export const DEFAULT_SESSION_BINDING_WINDOW_MS = 60 * 60_000;
/** A live stream's ids are forgotten after this even if its end was never seen. */
export const DEFAULT_INFLIGHT_MAX_AGE_MS = 60 * 60_000;
/** Completion ids held at most. */
export const DEFAULT_MAX_COMPLETION_IDS = 100_000;
/** Sessions held at most by each session registry. */
export const DEFAULT_MAX_SESSIONS = 10_000;
export const DEFAULT_SESSION_SCOPE: SessionScope = 'key';
/** Session bindings (model id, provider, verified key) the detection store holds at most (issue 13 item 8). */
export const DEFAULT_MAX_SESSION_BINDINGS = 100_000;
/** Look sessions never seen opened up on the router (`GET /blockchain/sessions/{id}`, the request's credentials). */
export const DEFAULT_SESSION_LOOKUP = true;
/** How long one session look-up may take; past it the request goes on with the session unknown. */
export const DEFAULT_SESSION_LOOKUP_TIMEOUT_MS = 2_000;
/** Session look-ups in flight at most (more are skipped: the session stays unknown for that request). */
export const DEFAULT_SESSION_LOOKUP_MAX_IN_FLIGHT = 16;
/** Bytes of a control-plane answer (session open, session or bid look-up) read for what it teaches. */
export const DEFAULT_MAX_CONTROL_BODY_BYTES = 64 * 1024;

/** Every inspector setting a caller may give; the same names the proxy's config uses. */
export interface InspectorSettings {
  sessionScope: SessionScope;
  modelAliases: Record<string, string>;
  maxEventBytes: number;
  maxJsonBodyBytes: number;
  completionIdWindowMs: number;
  sessionBindingWindowMs: number;
  inflightMaxAgeMs: number;
  maxCompletionIds: number;
  maxSessions: number;
}

export const INSPECTOR_DEFAULTS: Readonly<InspectorSettings> = Object.freeze({
  sessionScope: DEFAULT_SESSION_SCOPE,
  modelAliases: {},
  maxEventBytes: DEFAULT_MAX_EVENT_BYTES,
  maxJsonBodyBytes: DEFAULT_MAX_JSON_BODY_BYTES,
  completionIdWindowMs: DEFAULT_COMPLETION_ID_WINDOW_MS,
  sessionBindingWindowMs: DEFAULT_SESSION_BINDING_WINDOW_MS,
  inflightMaxAgeMs: DEFAULT_INFLIGHT_MAX_AGE_MS,
  maxCompletionIds: DEFAULT_MAX_COMPLETION_IDS,
  maxSessions: DEFAULT_MAX_SESSIONS,
});

/** The defaults with `overrides` on top (undefined entries do not override). */
export function inspectorSettings(overrides: Partial<InspectorSettings> = {}): InspectorSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...INSPECTOR_DEFAULTS, modelAliases: {}, ...defined };
}
