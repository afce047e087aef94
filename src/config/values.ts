import { ConfigError } from '../errors.js';

/**
 * Parsers for flag/env values, shared by every subcommand. Each takes the value and the name the user typed it
 * under (`--port` or `PORT`) and throws the registry's ConfigError naming it, so start-up fails in one clear line.
 */

export type Parser<T> = (value: string, name: string) => T;

/** The first set value of a flag and its env twin, with the name to blame if it is bad. */
export function pick(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  flag: string,
  envName: string,
): { value: string | undefined; name: string } {
  const fromFlag = flags[attributeName(flag)];
  if (Array.isArray(fromFlag)) {
    if (fromFlag.length > 0) return { value: fromFlag.map(String).join(','), name: flag };
  } else if (fromFlag !== undefined && fromFlag !== null && fromFlag !== false) {
    return { value: String(fromFlag), name: flag };
  }
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, name: envName };
  return { value: undefined, name: flag };
}

/** commander's key for a long flag: `--max-event-bytes` → `maxEventBytes`. */
export function attributeName(flag: string): string {
  return flag
    .replace(/^--/, '')
    .replace(/\s.*$/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** commander argParser for a repeatable flag: every occurrence is kept, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
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
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(`${name} must be a whole number ≥ 0 (got ${JSON.stringify(value)})`);
  }
  return n;
}

export function parsePositiveInt(value: string, name: string): number {
  const n = parseNonNegativeInt(value, name);
  if (n === 0) throw new ConfigError(`${name} must be greater than 0`);
  return n;
}

export function parseHttpUrl(value: string, name: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch (err) {
    throw new ConfigError(`${name} must be an http(s) URL (got ${JSON.stringify(maskUrlLike(value))})`, { cause: err });
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

/** A parser for one of `choices`. */
export function choice<T extends string>(choices: readonly T[]): Parser<T> {
  return (value, name) => parseChoice(value, name, choices);
}

export function parseBool(value: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(value)})`);
}

/** An HTTP field name (RFC 9110 §5.1 token), lower-cased. */
export function parseHeaderName(value: string, name: string): string {
  const lower = value.trim().toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(lower)) {
    throw new ConfigError(`${name} must be an HTTP header name (got ${JSON.stringify(value)})`);
  }
  return lower;
}

/** A listen address: a host name or IP, no spaces. */
export function parseHost(value: string, name: string): string {
  const host = value.trim();
  if (host === '' || /\s/.test(host)) throw new ConfigError(`${name} must be a host name or IP`);
  return host;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The one duration grammar of every command: `500ms`, `1.5s`, `30s`, `5m`, `24h`, `7d`. A unit is required
 * (`--connect-timeout 10` could mean ms or s, and a silent guess is a wrong timeout); only `0` may go without one.
 */
export function parseDurationMs(value: string, name: string): number {
  const text = value.trim();
  if (text === '0') return 0;
  const m = DURATION.exec(text);
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new ConfigError(`${name} must be a duration like 500ms, 30s, 5m, 24h (got ${JSON.stringify(value)})`);
  }
  return ms;
}

export function positiveDuration(value: string, name: string): number {
  const ms = parseDurationMs(value, name);
  if (ms === 0) throw new ConfigError(`${name} must be greater than 0`);
  return ms;
}

/** `a=b,c=d` (a repeatable flag arrives comma-joined) → `{ a: 'b', c: 'd' }`. */
export function parseAliases(value: string, name: string): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const pair of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new ConfigError(`${name} must be alias=model pairs (got ${JSON.stringify(pair)})`);
    }
    aliases[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return aliases;
}

/** A comma-separated list, trimmed, empty entries dropped. */
export function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Hides userinfo in anything URL-shaped before it is echoed in an error. */
export function maskUrlLike(value: string): string {
  return value.replace(/\/\/([^/@\s]*)@/, (_m, userinfo: string) => {
    const user = userinfo.split(':')[0] ?? '';
    return `//${user}:***@`;
  });
}
