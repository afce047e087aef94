/**
 * HTTP header names the sidecar reads or writes: protocol, not telemetry (lower case, as Node gives them).
 * Facts about who sends which: /work/shared/CONTEXT.md (gateway → router request, router → gateway response).
 */

/** The request id the gateway sends after the fix, and the one newer routers echo on the response. */
export const HEADER_REQUEST_ID = 'x-request-id';
/** The gateway's session header (`0x` + 64 hex); `x-session-id` carries the same value. */
export const HEADER_SESSION_ID = 'session_id';
export const HEADER_X_SESSION_ID = 'x-session-id';
/** The on-chain model id (`0x` + 64 hex) the router also accepts. */
export const HEADER_MODEL_ID = 'model_id';
/** An API key's id, as a deployment may add it (recorded as is, capped). */
export const HEADER_API_KEY_ID = 'x-api-key-id';
/**
 * Added by the sidecar to every proxied response: what the upstream's own `x-request-id` said (`match` |
 * `missing` | `mismatch`). The caller's `x-request-id` is always the sidecar's id, so without this a client
 * (the probe) could not tell whether the router echoes at all.
 */
export const HEADER_REQUEST_ID_ECHO = 'x-crosstalk-request-id-echo';
export const HEADER_AUTHORIZATION = 'authorization';
export const HEADER_CONTENT_TYPE = 'content-type';
export const HEADER_CONTENT_LENGTH = 'content-length';
export const HEADER_CONTENT_ENCODING = 'content-encoding';
export const HEADER_CONNECTION = 'connection';
export const HEADER_TRACEPARENT = 'traceparent';

/** Media types the inspector reads; compare with {@link mediaTypeOf} (RFC 9110 §8.3.1: case-insensitive). */
export const MEDIA_TYPE_EVENT_STREAM = 'text/event-stream';
export const MEDIA_TYPE_JSON = 'application/json';

/** `Text/Event-Stream; charset=utf-8` → `text/event-stream`; undefined for a missing header. */
export function mediaTypeOf(contentType: string | string[] | undefined): string | undefined {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection and never cross the proxy, in either
 * direction, together with any field the `Connection` header names.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);
