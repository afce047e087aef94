import { timingSafeEqual } from 'node:crypto';

export interface SimAuth {
  readonly username: string;
  readonly password: string;
}

/** The router's admin credentials unless told otherwise (the real router writes `admin:<random>` to a cookie file). */
export const DEFAULT_SIM_AUTH: SimAuth = Object.freeze({ username: 'admin', password: 'crosstalk-sim' });

/** The router's 401 messages, verbatim (proxy-router `internal/system/auth.go`). */
export const AUTH_MISSING = 'no basic auth provided';
export const AUTH_MALFORMED = 'invalid basic auth provided';
export const AUTH_WRONG = 'invalid username or password';

export function basicAuthHeader(auth: SimAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/**
 * Checks an `authorization` header the way the router does; returns the 401 message, or undefined when it
 * passes. `expected` is the pre-built header, so the common case is one string comparison.
 */
export function checkBasicAuth(header: string | undefined, auth: SimAuth, expected: string): string | undefined {
  if (header === undefined || header === '') return AUTH_MISSING;
  if (header === expected) return undefined;
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space) !== 'Basic') return AUTH_MALFORMED;
  const decoded = Buffer.from(header.slice(space + 1), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? '' : decoded.slice(0, colon);
  const pass = colon === -1 ? '' : decoded.slice(colon + 1);
  if (user === '' || pass === '') return AUTH_MALFORMED;
  return user === auth.username && safeEqual(pass, auth.password) ? undefined : AUTH_WRONG;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
