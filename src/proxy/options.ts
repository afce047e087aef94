import { ConfigError } from '../errors.js';
import {
  parseChoice,
  parseDurationMs,
  parseHttpUrl,
  parsePort,
  parsePositiveInt,
  pick,
} from '../config-values.js';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 9464;
export const DEFAULT_API_KEY_HEADER = 'x-api-key';
/** Time allowed for the upstream's response headers (LLM routers answer headers once the provider starts). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Longest silence allowed between two body chunks; there is no total body timeout (streams run long). */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;
/** Request bodies are copied (for the `model` field) only up to this size; the original bytes always flow. */
export const DEFAULT_MAX_REQUEST_COPY_BYTES = 1024 * 1024;
export const DEFAULT_INCIDENTS_LIMIT = 200;
export const DEFAULT_SESSION_BINDING_WINDOW_MS = 60 * 60_000;
export const DEFAULT_COMPLETION_ID_WINDOW_MS = 10 * 60_000;

export const ON_CROSSTALK = ['flag', 'block'] as const;
export const SESSION_SCOPES = ['key', 'shared'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type OnCrosstalk = (typeof ON_CROSSTALK)[number];
export type SessionScope = (typeof SESSION_SCOPES)[number];

export interface ProxyConfig {
  upstream: URL;
  port: number;
  host: string;
  adminPort: number;
  adminHost: string;
  apiKeyHeader: string;
  /** Undefined means "generate one per process" (with a warning). */
  fingerprintSecret: string | undefined;
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownTimeoutMs: number;
  onCrosstalk: OnCrosstalk;
  sessionScope: SessionScope;
  modelAliases: Record<string, string>;
  maxEventBytes: number;
  maxJsonBodyBytes: number;
  incidentsLimit: number;
  sessionBindingWindowMs: number;
  completionIdWindowMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** One row per option: flag, env twin, and what it does. The README table is generated from the same facts. */
export const PROXY_OPTIONS = [
  ['--upstream <url>', 'CROSSTALK_UPSTREAM_URL', 'Lumerin proxy-router base URL (required)'],
  ['--port <n>', 'PORT', `listen port for gateway traffic (default ${DEFAULT_PORT})`],
  ['--host <addr>', 'HOST', `listen address (default ${DEFAULT_HOST})`],
  ['--admin-port <n>', 'CROSSTALK_ADMIN_PORT', `admin port: /healthz /readyz /metrics /incidents (default ${DEFAULT_ADMIN_PORT})`],
  ['--admin-host <addr>', 'CROSSTALK_ADMIN_HOST', 'admin listen address (default: --host)'],
  ['--api-key-header <name>', 'CROSSTALK_API_KEY_HEADER', `header carrying the user's API key (default ${DEFAULT_API_KEY_HEADER}); Bearer sk-… is also read`],
  ['--fingerprint-secret <s>', 'CROSSTALK_FINGERPRINT_SECRET', 'HMAC secret for key fingerprints (default: random per process, with a warning)'],
  ['--upstream-timeout <dur>', 'CROSSTALK_UPSTREAM_TIMEOUT', `time to the upstream's response headers → 504 (default ${DEFAULT_UPSTREAM_TIMEOUT_MS / 1000}s)`],
  ['--connect-timeout <dur>', 'CROSSTALK_CONNECT_TIMEOUT', `TCP/TLS connect timeout → 504 (default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000}s)`],
  ['--idle-timeout <dur>', 'CROSSTALK_IDLE_TIMEOUT', `longest silence between body chunks before the stream is ended (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000}s)`],
  ['--shutdown-timeout <dur>', 'CROSSTALK_SHUTDOWN_TIMEOUT', `how long SIGTERM waits for in-flight streams (default ${DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000}s)`],
  ['--on-crosstalk <mode>', 'CROSSTALK_ON_CROSSTALK', 'flag (record only, default) or block (stop the foreign response)'],
  ['--session-scope <scope>', 'CROSSTALK_SESSION_SCOPE', 'key (a session belongs to one API key, default) or shared (pooled sessions)'],
  ['--model-alias <a=b>', 'CROSSTALK_MODEL_ALIASES', 'treat model name a as b; repeatable (env: comma-separated)'],
  ['--max-event-bytes <n>', 'CROSSTALK_MAX_EVENT_BYTES', `SSE events larger than this are forwarded but not inspected (default ${DEFAULT_MAX_EVENT_BYTES})`],
  ['--max-json-body-bytes <n>', 'CROSSTALK_MAX_JSON_BODY_BYTES', `non-streamed bodies larger than this are not inspected (default ${DEFAULT_MAX_JSON_BODY_BYTES})`],
  ['--incidents-limit <n>', 'CROSSTALK_INCIDENTS_LIMIT', `incidents kept for GET /incidents (default ${DEFAULT_INCIDENTS_LIMIT})`],
  ['--session-binding-window <dur>', 'CROSSTALK_SESSION_BINDING_WINDOW', `how long a session stays bound to one key and model (default ${DEFAULT_SESSION_BINDING_WINDOW_MS / 60_000}m)`],
  ['--completion-id-window <dur>', 'CROSSTALK_COMPLETION_ID_WINDOW', `how long delivered completion ids are remembered (default ${DEFAULT_COMPLETION_ID_WINDOW_MS / 60_000}m)`],
  ['--log-level <level>', 'CROSSTALK_LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent (default info)'],
] as const;

function parseAliases(value: string | undefined, name: string): Record<string, string> {
  const aliases: Record<string, string> = {};
  if (value === undefined) return aliases;
  for (const pair of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new ConfigError(`${name} must be alias=model pairs (got ${JSON.stringify(pair)})`);
    aliases[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return aliases;
}

/**
 * Validates every proxy option in one place. A flag wins over its env twin; defaults are filled with `??`.
 * `flags` is commander's option object (camelCase keys); repeatable `--model-alias` arrives as an array.
 */
export function resolveProxyConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const get = (flag: string, envName: string) => pick(flags, env, flag, envName);
  const opt = <T>(flag: string, envName: string, parse: (v: string, name: string) => T, fallback: T): T => {
    const { value, name } = get(flag, envName);
    return value === undefined ? fallback : parse(value, name);
  };

  const upstreamRaw = get('--upstream', 'CROSSTALK_UPSTREAM_URL');
  if (upstreamRaw.value === undefined) {
    throw new ConfigError('--upstream (or CROSSTALK_UPSTREAM_URL) is required: the Lumerin proxy-router URL');
  }
  const upstream = parseHttpUrl(upstreamRaw.value, upstreamRaw.name);
  if (upstream.username || upstream.password) {
    throw new ConfigError(`${upstreamRaw.name} must not embed credentials; the gateway's Basic auth is forwarded as is`);
  }

  const host = get('--host', 'HOST').value ?? DEFAULT_HOST;
  const aliasFlag = flags.modelAlias;
  const aliasText = Array.isArray(aliasFlag) && aliasFlag.length > 0 ? aliasFlag.join(',') : env.CROSSTALK_MODEL_ALIASES;
  const aliasName = Array.isArray(aliasFlag) && aliasFlag.length > 0 ? '--model-alias' : 'CROSSTALK_MODEL_ALIASES';
  const apiKeyHeader = (get('--api-key-header', 'CROSSTALK_API_KEY_HEADER').value ?? DEFAULT_API_KEY_HEADER).toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(apiKeyHeader)) {
    throw new ConfigError(`--api-key-header must be an HTTP header name (got ${JSON.stringify(apiKeyHeader)})`);
  }
  const secret = get('--fingerprint-secret', 'CROSSTALK_FINGERPRINT_SECRET').value;

  return {
    upstream,
    port: opt('--port', 'PORT', parsePort, DEFAULT_PORT),
    host,
    adminPort: opt('--admin-port', 'CROSSTALK_ADMIN_PORT', parsePort, DEFAULT_ADMIN_PORT),
    adminHost: get('--admin-host', 'CROSSTALK_ADMIN_HOST').value ?? host,
    apiKeyHeader,
    fingerprintSecret: secret,
    upstreamTimeoutMs: opt('--upstream-timeout', 'CROSSTALK_UPSTREAM_TIMEOUT', positiveDuration, DEFAULT_UPSTREAM_TIMEOUT_MS),
    connectTimeoutMs: opt('--connect-timeout', 'CROSSTALK_CONNECT_TIMEOUT', positiveDuration, DEFAULT_CONNECT_TIMEOUT_MS),
    idleTimeoutMs: opt('--idle-timeout', 'CROSSTALK_IDLE_TIMEOUT', parseDurationMs, DEFAULT_IDLE_TIMEOUT_MS),
    shutdownTimeoutMs: opt('--shutdown-timeout', 'CROSSTALK_SHUTDOWN_TIMEOUT', parseDurationMs, DEFAULT_SHUTDOWN_TIMEOUT_MS),
    onCrosstalk: opt('--on-crosstalk', 'CROSSTALK_ON_CROSSTALK', (v, n) => parseChoice(v, n, ON_CROSSTALK), 'flag'),
    sessionScope: opt('--session-scope', 'CROSSTALK_SESSION_SCOPE', (v, n) => parseChoice(v, n, SESSION_SCOPES), 'key'),
    modelAliases: parseAliases(aliasText, aliasName),
    maxEventBytes: opt('--max-event-bytes', 'CROSSTALK_MAX_EVENT_BYTES', parsePositiveInt, DEFAULT_MAX_EVENT_BYTES),
    maxJsonBodyBytes: opt('--max-json-body-bytes', 'CROSSTALK_MAX_JSON_BODY_BYTES', parsePositiveInt, DEFAULT_MAX_JSON_BODY_BYTES),
    incidentsLimit: opt('--incidents-limit', 'CROSSTALK_INCIDENTS_LIMIT', parsePositiveInt, DEFAULT_INCIDENTS_LIMIT),
    sessionBindingWindowMs: opt('--session-binding-window', 'CROSSTALK_SESSION_BINDING_WINDOW', positiveDuration, DEFAULT_SESSION_BINDING_WINDOW_MS),
    completionIdWindowMs: opt('--completion-id-window', 'CROSSTALK_COMPLETION_ID_WINDOW', positiveDuration, DEFAULT_COMPLETION_ID_WINDOW_MS),
    logLevel: opt('--log-level', 'CROSSTALK_LOG_LEVEL', (v, n) => parseChoice(v, n, LOG_LEVELS), 'info'),
  };
}

function positiveDuration(value: string, name: string): number {
  const ms = parseDurationMs(value, name);
  if (ms === 0) throw new ConfigError(`${name} must be greater than 0`);
  return ms;
}

/** Every option resolved to defaults except the upstream: for tests and the demo. */
export function proxyConfigFor(upstream: string, overrides: Partial<ProxyConfig> = {}): ProxyConfig {
  return { ...resolveProxyConfig({ upstream, port: '0', adminPort: '0' }, {}), ...overrides };
}
