import createError from '@fastify/error';

/**
 * Every error crosstalk answers with, keyed by its code (fastify `lib/errors.js` style).
 * A test checks each key equals its code. Messages never carry header values or credentials.
 */
export const errors = {
  CROSSTALK_ERR_UPSTREAM_UNAVAILABLE: createError(
    'CROSSTALK_ERR_UPSTREAM_UNAVAILABLE',
    'Upstream unavailable: %s',
    502,
  ),
  CROSSTALK_ERR_UPSTREAM_TIMEOUT: createError('CROSSTALK_ERR_UPSTREAM_TIMEOUT', 'Upstream timed out: %s', 504),
  CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE: createError(
    'CROSSTALK_ERR_UPSTREAM_BAD_RESPONSE',
    'Upstream sent an invalid response: %s',
    502,
  ),
  CROSSTALK_ERR_FOREIGN_RESPONSE: createError(
    'CROSSTALK_ERR_FOREIGN_RESPONSE',
    'The upstream response belongs to another request (%s); it was blocked',
    502,
  ),
  CROSSTALK_ERR_REQUEST_BODY_ABORTED: createError(
    'CROSSTALK_ERR_REQUEST_BODY_ABORTED',
    'The client closed the connection before sending the whole request body',
    400,
  ),
  CROSSTALK_ERR_REQUEST_BODY_TIMEOUT: createError(
    'CROSSTALK_ERR_REQUEST_BODY_TIMEOUT',
    'The client stopped sending the request body (no byte within the request idle timeout)',
    408,
  ),
  CROSSTALK_ERR_TOO_MANY_HEADERS: createError(
    'CROSSTALK_ERR_TOO_MANY_HEADERS',
    'Request Header Fields Too Large: more than %s header lines',
    431,
  ),
  CROSSTALK_ERR_UNAUTHORIZED: createError('CROSSTALK_ERR_UNAUTHORIZED', 'A bearer token is required for %s', 401),
  CROSSTALK_ERR_CONFIG: createError('CROSSTALK_ERR_CONFIG', '%s', 500),
  CROSSTALK_ERR_EMBEDDED_POSTGRES_UNAVAILABLE: createError(
    'CROSSTALK_ERR_EMBEDDED_POSTGRES_UNAVAILABLE',
    'Embedded PostgreSQL (PGlite) is a dev dependency for the demo and tests: run from a checkout after `npm ci`, or give a real database (DATABASE_URL / --database-url)',
    500,
  ),
} as const;

export type ErrorCode = keyof typeof errors;

/**
 * Raised for a bad flag or env value; the CLI prints its message as one line and exits 2. It is the registry's
 * config error, so `err.code === 'CROSSTALK_ERR_CONFIG'` and `new ConfigError(message, { cause })` keeps the cause.
 */
export const ConfigError = errors.CROSSTALK_ERR_CONFIG;
export type ConfigError = InstanceType<typeof ConfigError>;

/** True for any error from the registry above (a FastifyError whose code is one of ours). */
export function isCrosstalkError(err: unknown): err is Error & { code: ErrorCode; statusCode: number } {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && Object.hasOwn(errors, code);
}
