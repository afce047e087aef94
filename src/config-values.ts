import { ConfigError } from './errors.js';

/**
 * Parsers for flag/env values shared by every subcommand. Each throws a ConfigError whose message
 * names the option exactly as the user typed it (`--port` or `PORT`), so start-up fails in one clear line.
 */

/** The first defined value of a flag and its env twin, with the name to blame if it is bad. */
export function pick(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  flag: string,
  envName: string,
): { value: string | undefined; name: string } {
  const key = flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const fromFlag = flags[key];
  if (fromFlag !== undefined && fromFlag !== null && fromFlag !== false) {
    return { value: String(fromFlag), name: flag };
  }
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, name: envName };
  return { value: undefined, name: flag };
}

export function parsePort(value: string, name: string, { allowZero = true } = {}): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > 65535 || (!allowZero && n === 0)) {
    throw new ConfigError(`${name} must be a port number 0-65535 (got ${JSON.stringify(value)})`);
  }
  return n;
}

export function parseNonNegativeInt(value: string, name: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${name} must be a whole number ≥ 0 (got ${JSON.stringify(value)})`);
  return n;
}

export function parsePositiveInt(value: string, name: string): number {
  const n = parseNonNegativeInt(value, name);
  if (n === 0) throw new ConfigError(`${name} must be greater than 0`);
  return n;
}

export function parseHttpUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL (got ${JSON.stringify(maskUrlLike(value))})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL (got ${JSON.stringify(maskUrlLike(value))})`);
  }
  return url;
}

export function parseChoice<T extends string>(value: string, name: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${choices.join(', ')} (got ${JSON.stringify(value)})`);
}

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `500ms`, `30s`, `5m`, `24h`, `7d`; a bare number is milliseconds. */
export function parseDurationMs(value: string, name: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new ConfigError(`${name} must be a duration like 500ms, 30s, 5m, 24h (got ${JSON.stringify(value)})`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS];
}

/** Hides userinfo in anything URL-shaped before it is echoed in an error. */
export function maskUrlLike(value: string): string {
  return value.replace(/\/\/([^/@\s]*)@/, (_m, userinfo: string) => {
    const user = userinfo.split(':')[0] ?? '';
    return `//${user}:***@`;
  });
}
