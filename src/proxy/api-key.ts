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

export const DEFAULT_IDENTITY_CACHE_SIZE = 4096;

/**
 * `identifyApiKey` memoised per process: a gateway sends the same few keys over and over, and an HMAC per request
 * is measurable on the hot path. Keys are held only in this process's memory (as they already are in the request
 * headers), never recorded; the map is bounded and simply restarts when full.
 */
export class ApiKeyIdentifier {
  private readonly cache = new Map<string, ApiKeyIdentity>();

  constructor(
    private readonly secret: string,
    private readonly maxEntries = DEFAULT_IDENTITY_CACHE_SIZE,
  ) {}

  identify(key: string): ApiKeyIdentity {
    let identity = this.cache.get(key);
    if (identity === undefined) {
      identity = identifyApiKey(key, this.secret);
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(key, identity);
    }
    return identity;
  }
}
