import { errors, type ErrorCode } from '../errors.js';

export interface UpstreamErrorResponse {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  /** Low-cardinality `error.type` for spans and metrics. */
  errorType: string;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_HTTP_REQUEST_TIMEOUT',
]);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const BAD_RESPONSE_CODES = new Set(['HPE_INVALID_STATUS', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_HEADER_TOKEN']);

/** The innermost `code` along an error's `cause` chain (reply-from wraps undici's errors). */
export function rootCode(err: unknown): string | undefined {
  let code: string | undefined;
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    e = (e as { cause?: unknown }).cause;
  }
  return code;
}

const DESCRIPTIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host could not be resolved',
  EAI_AGAIN: 'host could not be resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed unexpectedly',
  UND_ERR_CLOSED: 'connection closed unexpectedly',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  ETIMEDOUT: 'timed out',
};

/**
 * Maps an upstream failure to the caller's answer. Timeouts → 504; refused, reset, unresolvable or an
 * unparseable response → 502: the upstream is the gateway's dependency, so its failure is a bad gateway,
 * not our unavailability (reply-from's default of 503 for DNS failures would invite client retries storms).
 */
export function upstreamErrorResponse(err: unknown): UpstreamErrorResponse {
  const code = rootCode(err);
  const why = (code && DESCRIPTIONS[code]) ?? 'request failed';
  let e;
  if (code && TIMEOUT_CODES.has(code)) e = new errors.CROSSTALK_ERR_UPSTREAM_TIMEOUT(why);
  else if (code && BAD_RESPONSE_CODES.has(code)) e = new errors.CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE(code);
  else if (code === undefined || UNAVAILABLE_CODES.has(code)) e = new errors.CROSSTALK_ERR_UPSTREAM_UNAVAILABLE(why);
  else e = new errors.CROSSTALK_ERR_UPSTREAM_UNAVAILABLE(why);
  return {
    statusCode: e.statusCode ?? 502,
    code: e.code as ErrorCode,
    error: e.statusCode === 504 ? 'Gateway Timeout' : 'Bad Gateway',
    message: e.message,
    errorType: code ?? (err instanceof Error ? err.name : 'Error'),
  };
}
