import { createHmac, randomBytes } from 'node:crypto';

/** Gateway key format: `sk-` + 6 alphanumerics (public, `api_keys.key_prefix`) + `.` + secret. */
const KEY_PREFIX = /^(sk-[A-Za-z0-9]{6})[.]/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface ApiKeyIdentity {
  /** Public prefix (`sk-AbC123`), or undefined when the key does not have the gateway's shape. */
  prefix?: string;
  /** First 16 hex chars of HMAC-SHA256(secret, key): stable per key, irreversible. */
  fingerprint: string;
}

export const FINGERPRINT_HEX_CHARS = 16;

/** A fingerprint secret for a process that was given none (fingerprints then differ across restarts). */
export function randomFingerprintSecret(): string {
  return randomBytes(32).toString('hex');
}

export function fingerprintKey(key: string, secret: string): string {
  return createHmac('sha256', secret).update(key).digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
}

/**
 * Finds the caller's API key: the configured header first, then `authorization: Bearer sk-…`.
 * A Basic credential (the router's admin login) is never a user key and is never looked at.
 */
export function extractApiKey(
  headers: Record<string, string | string[] | undefined>,
  apiKeyHeader: string,
): string | undefined {
  const fromHeader = headers[apiKeyHeader];
  if (typeof fromHeader === 'string' && fromHeader.length > 0) {
    const bearer = BEARER.exec(fromHeader);
    return bearer ? bearer[1] : fromHeader.trim();
  }
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const bearer = BEARER.exec(auth);
    if (bearer?.[1]?.startsWith('sk-')) return bearer[1];
  }
  return undefined;
}

/** Reduces a raw key to what may be recorded. The raw key must not outlive this call in any record. */
export function identifyApiKey(key: string, secret: string): ApiKeyIdentity {
  const prefix = KEY_PREFIX.exec(key)?.[1];
  return prefix ? { prefix, fingerprint: fingerprintKey(key, secret) } : { fingerprint: fingerprintKey(key, secret) };
}

/**
 * Reduces the keys of one process with one secret. No cache: a cache keyed by the raw key would keep up to
 * thousands of live API keys in memory for the life of the process (issue 14 row 15); one HMAC per request is
 * the price (about a microsecond).
 */
export class ApiKeyIdentifier {
  constructor(private readonly secret: string) {}

  identify(key: string): ApiKeyIdentity {
    return identifyApiKey(key, this.secret);
  }
}
