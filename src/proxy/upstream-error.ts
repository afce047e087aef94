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

/** Errors along the `cause` chain, outermost first (reply-from wraps undici's errors). */
function causeChain(err: unknown): object[] {
  const chain: object[] = [];
  for (let e: unknown = err; e && typeof e === 'object' && chain.length < 8; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
  }
  return chain;
}

/** The innermost `code` along an error's `cause` chain. */
export function rootCode(err: unknown): string | undefined {
  let code: string | undefined;
  for (const e of causeChain(err)) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
  }
  return code;
}

/** undici reports unparseable responses as HTTPParserError, sometimes without a code. */
function isParserError(err: unknown): boolean {
  return causeChain(err).some((e) => (e as { name?: unknown }).name === 'HTTPParserError');
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
  const parserError = isParserError(err);
  const code = rootCode(err) ?? (parserError ? 'HTTPParserError' : undefined);
  const why = (code && DESCRIPTIONS[code]) ?? 'request failed';
  let e;
  if (code && TIMEOUT_CODES.has(code)) e = new errors.CROSSTALK_ERR_UPSTREAM_TIMEOUT(why);
  else if (parserError || (code && BAD_RESPONSE_CODES.has(code))) {
    e = new errors.CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE('not a valid HTTP/1.1 response');
  }
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
