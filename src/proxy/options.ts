import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import {
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_JSON_BODY_BYTES,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
  DEFAULT_SESSION_LOOKUP,
  DEFAULT_SESSION_LOOKUP_TIMEOUT_MS,
} from '../config/defaults.js';
import { defineOption, readOption, readRaw, type OptionSpec } from '../config/option.js';
import {
  choice,
  parseAliases,
  parseDurationMs,
  parseHeaderName,
  parseHost,
  parseHttpUrl,
  parsePort,
  parsePositiveInt,
  positiveDuration,
} from '../config/values.js';
import { DEFAULT_STORE_TEXT, parseStoreSetting, type StoreSetting } from '../store/store-setting.js';

export {
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_JSON_BODY_BYTES,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
};

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
/** Request bodies are copied (for the `model` field) only up to this size; the original bytes always flow. */
export const DEFAULT_MAX_REQUEST_COPY_BYTES = 1024 * 1024;
export const DEFAULT_INCIDENTS_LIMIT = 200;
/** The admin port listens on loopback unless told otherwise: /incidents and /metrics describe users' traffic. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
/** Longest silence between two request body bytes before the request is answered 408. */
export const DEFAULT_REQUEST_IDLE_TIMEOUT_MS = 30_000;
/** Header lines accepted per request; more → 431 (Node would silently drop the ones past its own count). */
export const DEFAULT_MAX_HEADER_LINES = 200;
/** Bytes of block-mode JSON bodies held at once, across all responses; past it bodies pass uninspected. */
export const DEFAULT_MAX_HELD_JSON_BYTES = 64 * 1024 * 1024;

export const ON_CROSSTALK = ['flag', 'block'] as const;
export const SESSION_SCOPES = ['key', 'shared'] as const;
export const ON_OFF = ['on', 'off'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type OnCrosstalk = (typeof ON_CROSSTALK)[number];
export type SessionScope = (typeof SESSION_SCOPES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ProxyConfig {
  upstream: URL;
  port: number;
  host: string;
  adminPort: number;
  adminHost: string;
  apiKeyHeader: string;
  /** Undefined means "generate one per process" (with a warning). */
  fingerprintSecret: string | undefined;
  /** Bearer token required for /incidents and /metrics (read from a file); undefined: no token. */
  adminToken: string | undefined;
  requestIdleTimeoutMs: number;
  maxHeaderLines: number;
  maxHeldJsonBytes: number;
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Chat completions are judged (`--inspection on`); off: forwarded and traced only, no detection at all. */
  inspection: boolean;
  onCrosstalk: OnCrosstalk;
  sessionScope: SessionScope;
  modelAliases: Record<string, string>;
  maxEventBytes: number;
  maxJsonBodyBytes: number;
  incidentsLimit: number;
  sessionBindingWindowMs: number;
  completionIdWindowMs: number;
  /** Look up sessions never seen opened (`GET /blockchain/sessions/{id}` with the request's own credentials). */
  sessionLookup: boolean;
  /** Where the learned detection state lives: this process (`memory`) or Redis, shared by replicas (issue 17). */
  store: StoreSetting;
  sessionLookupTimeoutMs: number;
  logLevel: LogLevel;
}

/** A secret from a file (trailing newline dropped). The error names the option and the path, never the content. */
function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.trim() === '') throw new ConfigError(`${name}: ${JSON.stringify(path)} is empty`);
  return secret;
}

const s = (ms: number) => `${ms / 1000}s`;
const m = (ms: number) => `${ms / 60_000}m`;

/** Every proxy option, declared once: flag, env twin, help, parser, default. `--help` and the README show these. */
export const PROXY_OPTION_SPECS = {
  upstream: defineOption('--upstream <url>', 'CROSSTALK_UPSTREAM_URL', 'Lumerin proxy-router base URL (required)', {
    parse: parseHttpUrl,
  }),
  port: defineOption('--port <n>', 'PORT', 'listen port for gateway traffic', {
    parse: parsePort,
    fallback: DEFAULT_PORT,
    defaultText: String(DEFAULT_PORT),
  }),
  host: defineOption('--host <addr>', 'HOST', 'listen address', {
    parse: parseHost,
    fallback: DEFAULT_HOST,
    defaultText: DEFAULT_HOST,
  }),
  adminPort: defineOption('--admin-port <n>', 'CROSSTALK_ADMIN_PORT', 'admin port: /healthz /readyz /metrics /incidents', {
    parse: parsePort,
    fallback: DEFAULT_ADMIN_PORT,
    defaultText: String(DEFAULT_ADMIN_PORT),
  }),
  adminHost: defineOption('--admin-host <addr>', 'CROSSTALK_ADMIN_HOST', 'admin listen address (not --host: the admin port stays private)', {
    parse: parseHost,
    fallback: DEFAULT_ADMIN_HOST,
    defaultText: DEFAULT_ADMIN_HOST,
  }),
  adminTokenFile: defineOption(
    '--admin-token-file <path>',
    'CROSSTALK_ADMIN_TOKEN_FILE',
    'file holding a bearer token that /incidents and /metrics then require',
    { parse: readSecretFile, defaultText: 'no token' },
  ),
  apiKeyHeader: defineOption(
    '--api-key-header <name>',
    'CROSSTALK_API_KEY_HEADER',
    `header carrying the user's API key; Bearer sk-… is also read`,
    { parse: parseHeaderName, fallback: DEFAULT_API_KEY_HEADER, defaultText: DEFAULT_API_KEY_HEADER },
  ),
  fingerprintSecretFile: defineOption(
    '--fingerprint-secret-file <path>',
    'CROSSTALK_FINGERPRINT_SECRET_FILE',
    'file holding the HMAC secret for key fingerprints (kept off the command line)',
    { parse: readSecretFile, defaultText: 'random per process, with a warning' },
  ),
  fingerprintSecret: defineOption(
    '--fingerprint-secret <s>',
    'CROSSTALK_FINGERPRINT_SECRET',
    'the same secret inline (visible in ps and the environment; prefer the file)',
    { parse: (v: string) => v },
  ),
  upstreamTimeout: defineOption(
    '--upstream-timeout <dur>',
    'CROSSTALK_UPSTREAM_TIMEOUT',
    `time to the upstream's response headers → 504`,
    { parse: positiveDuration, fallback: DEFAULT_UPSTREAM_TIMEOUT_MS, defaultText: s(DEFAULT_UPSTREAM_TIMEOUT_MS) },
  ),
  connectTimeout: defineOption('--connect-timeout <dur>', 'CROSSTALK_CONNECT_TIMEOUT', 'TCP/TLS connect timeout → 504', {
    parse: positiveDuration,
    fallback: DEFAULT_CONNECT_TIMEOUT_MS,
    defaultText: s(DEFAULT_CONNECT_TIMEOUT_MS),
  }),
  idleTimeout: defineOption(
    '--idle-timeout <dur>',
    'CROSSTALK_IDLE_TIMEOUT',
    'longest silence between body chunks before the stream is ended',
    { parse: parseDurationMs, fallback: DEFAULT_IDLE_TIMEOUT_MS, defaultText: s(DEFAULT_IDLE_TIMEOUT_MS) },
  ),
  requestIdleTimeout: defineOption(
    '--request-idle-timeout <dur>',
    'CROSSTALK_REQUEST_IDLE_TIMEOUT',
    'longest silence between request body bytes → 408, upstream released',
    { parse: positiveDuration, fallback: DEFAULT_REQUEST_IDLE_TIMEOUT_MS, defaultText: s(DEFAULT_REQUEST_IDLE_TIMEOUT_MS) },
  ),
  shutdownTimeout: defineOption(
    '--shutdown-timeout <dur>',
    'CROSSTALK_SHUTDOWN_TIMEOUT',
    'how long SIGTERM waits for in-flight streams',
    { parse: parseDurationMs, fallback: DEFAULT_SHUTDOWN_TIMEOUT_MS, defaultText: s(DEFAULT_SHUTDOWN_TIMEOUT_MS) },
  ),
  inspection: defineOption(
    '--inspection <mode>',
    'CROSSTALK_INSPECTION',
    'on: judge every chat completion; off: forward and trace only (no detection, nothing is ever flagged or blocked)',
    { parse: choice(ON_OFF), fallback: 'on' as (typeof ON_OFF)[number], defaultText: 'on' },
  ),
  onCrosstalk: defineOption(
    '--on-crosstalk <mode>',
    'CROSSTALK_ON_CROSSTALK',
    'flag (record only) or block (stop the foreign response)',
    { parse: choice(ON_CROSSTALK), fallback: 'flag' as OnCrosstalk, defaultText: 'flag' },
  ),
  sessionScope: defineOption(
    '--session-scope <scope>',
    'CROSSTALK_SESSION_SCOPE',
    'key (a session belongs to one API key) or shared (pooled sessions)',
    { parse: choice(SESSION_SCOPES), fallback: 'key' as SessionScope, defaultText: 'key' },
  ),
  modelAlias: defineOption(
    '--model-alias <a=b>',
    'CROSSTALK_MODEL_ALIASES',
    'treat model name a as b; repeatable (env: comma-separated)',
    { parse: parseAliases, fallback: {}, repeatable: true },
  ),
  maxEventBytes: defineOption(
    '--max-event-bytes <n>',
    'CROSSTALK_MAX_EVENT_BYTES',
    'SSE events larger than this are forwarded but not inspected',
    { parse: parsePositiveInt, fallback: DEFAULT_MAX_EVENT_BYTES, defaultText: String(DEFAULT_MAX_EVENT_BYTES) },
  ),
  maxJsonBodyBytes: defineOption(
    '--max-json-body-bytes <n>',
    'CROSSTALK_MAX_JSON_BODY_BYTES',
    'non-streamed bodies larger than this are not inspected',
    { parse: parsePositiveInt, fallback: DEFAULT_MAX_JSON_BODY_BYTES, defaultText: String(DEFAULT_MAX_JSON_BODY_BYTES) },
  ),
  maxHeldJsonBytes: defineOption(
    '--max-held-json-bytes <n>',
    'CROSSTALK_MAX_HELD_JSON_BYTES',
    'block mode: JSON bytes held for inspection at once, all responses together; past it forwarded uninspected',
    { parse: parsePositiveInt, fallback: DEFAULT_MAX_HELD_JSON_BYTES, defaultText: String(DEFAULT_MAX_HELD_JSON_BYTES) },
  ),
  maxHeaderLines: defineOption('--max-header-lines <n>', 'CROSSTALK_MAX_HEADER_LINES', 'request header lines accepted; more → 431', {
    parse: parsePositiveInt,
    fallback: DEFAULT_MAX_HEADER_LINES,
    defaultText: String(DEFAULT_MAX_HEADER_LINES),
  }),
  incidentsLimit: defineOption('--incidents-limit <n>', 'CROSSTALK_INCIDENTS_LIMIT', 'incidents kept for GET /incidents', {
    parse: parsePositiveInt,
    fallback: DEFAULT_INCIDENTS_LIMIT,
    defaultText: String(DEFAULT_INCIDENTS_LIMIT),
  }),
  sessionBindingWindow: defineOption(
    '--session-binding-window <dur>',
    'CROSSTALK_SESSION_BINDING_WINDOW',
    'how long a session stays bound to one key and model',
    {
      parse: positiveDuration,
      fallback: DEFAULT_SESSION_BINDING_WINDOW_MS,
      defaultText: m(DEFAULT_SESSION_BINDING_WINDOW_MS),
    },
  ),
  completionIdWindow: defineOption(
    '--completion-id-window <dur>',
    'CROSSTALK_COMPLETION_ID_WINDOW',
    'how long delivered completion ids are remembered',
    {
      parse: positiveDuration,
      fallback: DEFAULT_COMPLETION_ID_WINDOW_MS,
      defaultText: m(DEFAULT_COMPLETION_ID_WINDOW_MS),
    },
  ),
  sessionLookup: defineOption(
    '--session-lookup <mode>',
    'CROSSTALK_SESSION_LOOKUP',
    'on: look a session never seen opened up once on the router, with the request\'s own credentials (never kept); off: never',
    { parse: choice(ON_OFF), fallback: (DEFAULT_SESSION_LOOKUP ? 'on' : 'off') as (typeof ON_OFF)[number], defaultText: DEFAULT_SESSION_LOOKUP ? 'on' : 'off' },
  ),
  sessionLookupTimeout: defineOption(
    '--session-lookup-timeout <dur>',
    'CROSSTALK_SESSION_LOOKUP_TIMEOUT',
    'longest wait for one session look-up; past it the request goes on with the session unknown',
    { parse: positiveDuration, fallback: DEFAULT_SESSION_LOOKUP_TIMEOUT_MS, defaultText: s(DEFAULT_SESSION_LOOKUP_TIMEOUT_MS) },
  ),
  store: defineOption(
    '--store <url>',
    'CROSSTALK_STORE_URL',
    'memory, or redis://host:port to share detection between replicas and workers (same --store and --fingerprint-secret-file everywhere)',
    { parse: parseStoreSetting, fallback: { kind: 'memory' } as StoreSetting, defaultText: DEFAULT_STORE_TEXT },
  ),
  logLevel: defineOption('--log-level <level>', 'CROSSTALK_LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent', {
    parse: choice(LOG_LEVELS),
    fallback: 'info' as LogLevel,
    defaultText: 'info',
  }),
} satisfies Record<string, OptionSpec<unknown>>;

/** The specs in `--help` / README order. */
export const PROXY_OPTIONS: readonly OptionSpec<unknown>[] = Object.values(PROXY_OPTION_SPECS);

/**
 * Validates every proxy option in one place. A flag wins over its env twin; defaults come from the specs.
 * `flags` holds the command-line values only (camelCase keys, see `cliFlags`); a repeatable flag is an array.
 */
export function resolveProxyConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const o = PROXY_OPTION_SPECS;
  const read = <T>(spec: OptionSpec<T>): T | undefined => readOption(spec, flags, env);
  const need = <T>(spec: OptionSpec<T>): T => {
    const value = read(spec);
    if (value === undefined) throw new ConfigError(`${spec.flags.split(' ')[0]} has no value`);
    return value;
  };

  const upstreamRaw = readRaw(o.upstream, flags, env);
  if (upstreamRaw.value === undefined) {
    throw new ConfigError('--upstream (or CROSSTALK_UPSTREAM_URL) is required: the Lumerin proxy-router URL');
  }
  const upstream = o.upstream.parse(upstreamRaw.value, upstreamRaw.name);
  if (upstream.username || upstream.password) {
    throw new ConfigError(`${upstreamRaw.name} must not embed credentials; the gateway's Basic auth is forwarded as is`);
  }
  const host = need(o.host);
  const secretFile = readRaw(o.fingerprintSecretFile, flags, env);
  const secretInline = readRaw(o.fingerprintSecret, flags, env);
  if (secretFile.value !== undefined && secretInline.value !== undefined) {
    throw new ConfigError(`${secretFile.name} and ${secretInline.name} both set: give the secret once`);
  }

  const inspection = need(o.inspection) === 'on';
  const onCrosstalk = need(o.onCrosstalk);
  if (!inspection && onCrosstalk === 'block') {
    const inspectionName = readRaw(o.inspection, flags, env).name;
    const blockName = readRaw(o.onCrosstalk, flags, env).name;
    throw new ConfigError(`${blockName} block needs inspection: ${inspectionName} is off, so nothing would ever be blocked`);
  }

  return {
    upstream,
    port: need(o.port),
    host,
    adminPort: need(o.adminPort),
    adminHost: need(o.adminHost),
    adminToken: read(o.adminTokenFile),
    apiKeyHeader: need(o.apiKeyHeader),
    fingerprintSecret: read(o.fingerprintSecretFile) ?? read(o.fingerprintSecret),
    requestIdleTimeoutMs: need(o.requestIdleTimeout),
    maxHeaderLines: need(o.maxHeaderLines),
    maxHeldJsonBytes: need(o.maxHeldJsonBytes),
    upstreamTimeoutMs: need(o.upstreamTimeout),
    connectTimeoutMs: need(o.connectTimeout),
    idleTimeoutMs: need(o.idleTimeout),
    shutdownTimeoutMs: need(o.shutdownTimeout),
    inspection,
    onCrosstalk,
    sessionScope: need(o.sessionScope),
    modelAliases: need(o.modelAlias),
    maxEventBytes: need(o.maxEventBytes),
    maxJsonBodyBytes: need(o.maxJsonBodyBytes),
    incidentsLimit: need(o.incidentsLimit),
    sessionBindingWindowMs: need(o.sessionBindingWindow),
    completionIdWindowMs: need(o.completionIdWindow),
    sessionLookup: need(o.sessionLookup) === 'on',
    sessionLookupTimeoutMs: need(o.sessionLookupTimeout),
    store: need(o.store),
    logLevel: need(o.logLevel),
  };
}

/** Every option resolved to defaults except the upstream: for tests and the demo. */
export function proxyConfigFor(upstream: string, overrides: Partial<ProxyConfig> = {}): ProxyConfig {
  return { ...resolveProxyConfig({ upstream, port: '0', adminPort: '0' }, {}), ...overrides };
}
