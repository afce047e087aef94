/**
 * The `--store` value (issue 17), parsed apart from the store itself so that reading options never loads the Redis
 * client.
 */
import { ConfigError } from '../errors.js';
import { maskUrlLike } from '../config/values.js';

/** `memory`, or a `redis://` / `rediss://` URL. */
export type StoreSetting =
  | { kind: 'memory' }
  /** `keyPrefix` (default `crosstalk:`) is set programmatically only (tests, several deployments on one Redis). */
  | { kind: 'redis'; url: string; keyPrefix?: string };

export const DEFAULT_STORE_TEXT = 'memory';

/** The `--store` parser: `memory` or `redis[s]://[user:pass@]host[:port][/db]`; errors never echo a password. */
export function parseStoreSetting(value: string, name: string): StoreSetting {
  if (value === 'memory') return { kind: 'memory' };
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError(`${name} must be memory or a redis:// URL (got ${JSON.stringify(maskUrlLike(value))})`);
  }
  return { kind: 'redis', url: value };
}

