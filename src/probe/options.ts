import { ConfigError } from '../errors.js';
import { defineOption, readOption, readRaw, type OptionSpec } from '../config/option.js';
import {
  choice,
  maskUrlLike,
  parseAliases,
  parseBool,
  parseHttpUrl,
  parsePositiveInt,
  positiveDuration,
  type Parser,
} from '../config/values.js';
import { keyLabels } from './key-label.js';

export const DEFAULT_REQUESTS = 200;
export const DEFAULT_CONCURRENCY = 16;
export const MAX_CONCURRENCY = 2_000;
/** Requests one key sends back to back (concurrently) before the next key's burst; see plan.ts. */
export const MAX_DEFAULT_BURST = 8;
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Enough for a model to repeat the nonce, small enough that a probe of a paid gateway costs little. */
export const DEFAULT_MAX_TOKENS = 32;
/** The header the sidecar reads a caller's key from by default (`crosstalk proxy --api-key-header`). */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';
export const PROBE_FORMATS = ['text', 'json'] as const;
export type ProbeFormat = (typeof PROBE_FORMATS)[number];
/** `gateway`: the public OpenAI-compatible API (Bearer keys); `router`: a proxy-router or the sidecar (sessions). */
export type ProbeMode = 'gateway' | 'router';

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Env twins of the flags; list values are comma separated. */
export const PROBE_ENV = {
  target: 'CROSSTALK_PROBE_TARGET',
  apiKeys: 'CROSSTALK_PROBE_API_KEYS',
  models: 'CROSSTALK_PROBE_MODELS',
  sessions: 'CROSSTALK_PROBE_SESSIONS',
  basicAuth: 'CROSSTALK_PROBE_BASIC_AUTH',
  apiKeyHeader: 'CROSSTALK_PROBE_API_KEY_HEADER',
  requests: 'CROSSTALK_PROBE_REQUESTS',
  concurrency: 'CROSSTALK_PROBE_CONCURRENCY',
  duration: 'CROSSTALK_PROBE_DURATION',
  burst: 'CROSSTALK_PROBE_BURST',
  expectEcho: 'CROSSTALK_PROBE_EXPECT_ECHO',
  format: 'CROSSTALK_PROBE_FORMAT',
  sidecarAdmin: 'CROSSTALK_PROBE_SIDECAR_ADMIN',
  timeout: 'CROSSTALK_PROBE_TIMEOUT',
  maxTokens: 'CROSSTALK_PROBE_MAX_TOKENS',
  modelAliases: 'CROSSTALK_PROBE_MODEL_ALIASES',
} as const;

const text: Parser<string> = (value) => value;
const repeatable = { parse: text, repeatable: true } as const;

/**
 * Every probe option with its env twin, help, parser and default, declared once (src/config/option.ts): the
 * command registers these, and the simple ones are read through them. `--no-progress` is a terminal nicety
 * with no env twin. List values (keys, models, sessions, aliases) are validated together in
 * {@link resolveProbeConfig}, where one depends on another.
 */
export const PROBE_OPTIONS = {
  target: defineOption('--target <url>', PROBE_ENV.target, 'gateway API (https://…/api/v1) or router/sidecar base URL', { parse: text }),
  apiKey: defineOption('--api-key <key>', PROBE_ENV.apiKeys, 'API key, repeatable; printed by prefix only (env: comma-separated)', repeatable),
  model: defineOption('--model <name>', PROBE_ENV.models, 'model to request, repeatable: requests alternate between them', repeatable),
  session: defineOption(
    '--session <[model=]0x…>',
    PROBE_ENV.sessions,
    'router/sidecar target: a session per model (pairs with --model in order), or several model=0x… for one per key',
    repeatable,
  ),
  basicAuth: defineOption('--basic-auth <user:pass>', PROBE_ENV.basicAuth, 'router admin credentials for router/sidecar targets; never printed', { parse: text }),
  apiKeyHeader: defineOption('--api-key-header <name>', PROBE_ENV.apiKeyHeader, 'router/sidecar target: header carrying the key', {
    parse: text,
    defaultText: DEFAULT_API_KEY_HEADER,
  }),
  requests: defineOption('--requests <n>', PROBE_ENV.requests, 'requests to send (unbounded with --duration)', {
    parse: parsePositiveInt,
    defaultText: String(DEFAULT_REQUESTS),
  }),
  concurrency: defineOption('--concurrency <n>', PROBE_ENV.concurrency, 'requests in flight at once', {
    parse: parsePositiveInt,
    fallback: DEFAULT_CONCURRENCY,
    defaultText: String(DEFAULT_CONCURRENCY),
  }),
  duration: defineOption('--duration <dur>', PROBE_ENV.duration, 'keep sending for this long, e.g. 30s, 5m', { parse: positiveDuration }),
  burst: defineOption('--burst <n>', PROBE_ENV.burst, 'back-to-back requests per key before the next key', {
    parse: parsePositiveInt,
    defaultText: 'min(8, concurrency/keys)',
  }),
  expectEcho: defineOption('--expect-echo', PROBE_ENV.expectEcho, "the upstream repeats the prompt's nonce: an answer without it is crosstalk", {
    parse: parseBool,
    fallback: false,
  }),
  format: defineOption('--format <format>', PROBE_ENV.format, 'text or json', {
    parse: choice(PROBE_FORMATS),
    fallback: 'text' as ProbeFormat,
    defaultText: 'text',
  }),
  sidecarAdmin: defineOption('--sidecar-admin <url>', PROBE_ENV.sidecarAdmin, "join the sidecar's GET /incidents to the probe's requests", {
    parse: parseHttpUrl,
  }),
  timeout: defineOption('--timeout <dur>', PROBE_ENV.timeout, 'limit per request, from sending it to its last byte', {
    parse: positiveDuration,
    fallback: DEFAULT_TIMEOUT_MS,
    defaultText: `${DEFAULT_TIMEOUT_MS / 1000}s`,
  }),
  maxTokens: defineOption('--max-tokens <n>', PROBE_ENV.maxTokens, 'max_tokens of each request', {
    parse: parsePositiveInt,
    fallback: DEFAULT_MAX_TOKENS,
    defaultText: String(DEFAULT_MAX_TOKENS),
  }),
  modelAlias: defineOption('--model-alias <a=b>', PROBE_ENV.modelAliases, 'treat response model a as b, repeatable', {
    parse: parseAliases,
    repeatable: true,
  }),
} as const;

export const PROBE_OPTION_SPECS: readonly OptionSpec<unknown>[] = Object.values(PROBE_OPTIONS);

/** Commander's option object (camelCase keys; repeatable options arrive as arrays). */
export interface ProbeFlags {
  target?: string;
  apiKey?: string[];
  model?: string[];
  session?: string[];
  basicAuth?: string;
  apiKeyHeader?: string;
  requests?: string;
  concurrency?: string;
  duration?: string;
  burst?: string;
  expectEcho?: boolean;
  format?: string;
  sidecarAdmin?: string;
  timeout?: string;
  maxTokens?: string;
  modelAlias?: string[];
  /** `--no-progress` sets it to false. */
  progress?: boolean;
}

export interface SessionAssignment {
  model: string;
  id: string;
}

export interface ProbeConfig {
  /** The target as given, without credentials (they are refused). */
  target: URL;
  /** Where chat requests go: the target itself when it ends in `/chat/completions`, else see {@link chatCompletionsUrl}. */
  chatUrl: string;
  mode: ProbeMode;
  /** Raw keys: sent as headers, never printed. Use {@link laneLabels} to name them. */
  apiKeys: string[];
  models: string[];
  /** Router mode: each model's sessions, in the order given; lane i uses session i mod n of a model. */
  sessions: Record<string, string[]>;
  basicAuth: { username: string; password: string } | undefined;
  /** Header carrying a key to a router/sidecar target (the sidecar fingerprints keys from it). */
  apiKeyHeader: string;
  /** Requests to send; `Infinity` when only `--duration` bounds the run. */
  requests: number;
  concurrency: number;
  durationMs: number | undefined;
  burst: number;
  expectEcho: boolean;
  format: ProbeFormat;
  /** The sidecar's admin base URL, for `GET /incidents`. */
  sidecarAdmin: URL | undefined;
  /** Limit per request, from sending it to its last byte (a timed-out request counts as failed). */
  timeoutMs: number;
  maxTokens: number;
  modelAliases: Record<string, string>;
  progress: boolean;
  /** Printable names of the lanes (key prefixes or `lane-N`). */
  laneLabels: string[];
  /** Things worth a line on stderr before the run (e.g. keys sharing a session). */
  warnings: string[];
}

/**
 * `…/chat/completions` as is; `…/v1` or `…/api/v1` + `/chat/completions`; anything else + the mode's API path:
 * the gateway's public API is `/api/v1/chat/completions`, a router's (and the sidecar's) `/v1/chat/completions`.
 */
export function chatCompletionsUrl(target: URL, mode: ProbeMode = 'router'): string {
  const url = new URL(target.href);
  const path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/chat/completions')) url.pathname = path;
  else if (/\/v\d+$/.test(path)) url.pathname = `${path}/chat/completions`;
  else url.pathname = `${path}${mode === 'gateway' ? '/api' : ''}/v1/chat/completions`;
  url.hash = '';
  return url.href;
}

type Env = NodeJS.ProcessEnv;

/** A repeatable flag's values, else its env twin split on commas; with the name to blame. */
function list(flag: string[] | undefined, flagName: string, env: Env, envName: string): { values: string[]; name: string } {
  if (flag !== undefined && flag.length > 0) {
    return { values: flag.flatMap((v) => v.split(',')).map((v) => v.trim()), name: flagName };
  }
  const raw = env[envName];
  if (raw === undefined || raw === '') return { values: [], name: flagName };
  return { values: raw.split(',').map((v) => v.trim()), name: envName };
}

/** Keys are checked for shape only; an error names the key's position, never its value. */
function parseKeys(values: string[], name: string): string[] {
  return values.map((key, i) => {
    if (key === '') throw new ConfigError(`${name}: key #${i + 1} is empty`);
    if (/[\s,]/.test(key) || /[^\x21-\x7e]/.test(key)) {
      throw new ConfigError(`${name}: key #${i + 1} contains spaces or characters not allowed in a header`);
    }
    return key;
  });
}

function parseModels(values: string[], name: string): string[] {
  const models: string[] = [];
  for (const model of values) {
    if (model === '' || /\s/.test(model)) throw new ConfigError(`${name} must be model names (got ${JSON.stringify(model)})`);
    if (!models.includes(model)) models.push(model);
  }
  return models;
}

/**
 * `--session 0x…` (paired with the `--model`s in order, cycling) or `--session model=0x…` (a model may have
 * several: one per key). Returns each model's sessions and the models named only by sessions.
 */
function parseSessions(values: string[], name: string, models: string[]): Record<string, string[]> {
  const byModel: Record<string, string[]> = {};
  let plain = 0;
  for (const item of values) {
    const eq = item.lastIndexOf('=');
    const model = eq === -1 ? undefined : item.slice(0, eq).trim();
    const id = (eq === -1 ? item : item.slice(eq + 1)).trim();
    if (!HEX32.test(id) || model === '') {
      throw new ConfigError(`${name} entries must be 0x<64 hex> or <model>=0x<64 hex> (got ${JSON.stringify(item.slice(0, 80))})`);
    }
    let owner = model;
    if (owner === undefined) {
      if (models.length === 0) throw new ConfigError(`${name} 0x… needs --model to say which model it serves (or write <model>=0x…)`);
      owner = models[plain % models.length] as string;
      plain++;
    } else if (!models.includes(owner)) {
      models.push(owner);
    }
    (byModel[owner] ??= []).push(id.toLowerCase());
  }
  for (const model of models) {
    if (byModel[model] === undefined) throw new ConfigError(`${name}: model ${model} has no session`);
  }
  return byModel;
}

function parseBasicAuth(value: string, name: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  // The value is a credential: the error never repeats it.
  if (colon <= 0 || colon === value.length - 1) throw new ConfigError(`${name} must be user:password`);
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/**
 * Validates every probe option in one place (a flag wins over its env twin) and fills the defaults.
 * Throws a ConfigError naming the option; no message ever carries a key or a password.
 */
export function resolveProbeConfig(flags: ProbeFlags, env: Env = process.env): ProbeConfig {
  const given = flags as Record<string, unknown>;
  const get = (spec: OptionSpec<unknown>) => readRaw(spec, given, env);
  const read = <T>(spec: OptionSpec<T>): T | undefined => readOption(spec, given, env);
  const warnings: string[] = [];

  const targetRaw = get(PROBE_OPTIONS.target);
  if (targetRaw.value === undefined) {
    throw new ConfigError(
      `--target (or ${PROBE_ENV.target}) is required: the gateway's API (https://…/api/v1) or a router/sidecar URL`,
    );
  }
  const target = parseHttpUrl(targetRaw.value, targetRaw.name);
  if (target.username !== '' || target.password !== '') {
    throw new ConfigError(
      `${targetRaw.name} must not embed credentials (got ${JSON.stringify(maskUrlLike(targetRaw.value))}); use --api-key or --basic-auth`,
    );
  }

  const keysIn = list(flags.apiKey, '--api-key', env, PROBE_ENV.apiKeys);
  const apiKeys = parseKeys(keysIn.values, keysIn.name);
  const modelsIn = list(flags.model, '--model', env, PROBE_ENV.models);
  const models = parseModels(modelsIn.values, modelsIn.name);
  const sessionsIn = list(flags.session, '--session', env, PROBE_ENV.sessions);
  const sessions = sessionsIn.values.length > 0 ? parseSessions(sessionsIn.values, sessionsIn.name, models) : {};
  const mode: ProbeMode = sessionsIn.values.length > 0 ? 'router' : 'gateway';
  if (models.length === 0) throw new ConfigError('--model is required (repeat it to alternate between models)');
  if (mode === 'gateway' && apiKeys.length === 0) {
    throw new ConfigError('--api-key is required for a gateway target (or give --session for a router/sidecar target)');
  }

  const authIn = get(PROBE_OPTIONS.basicAuth);
  const basicAuth = authIn.value === undefined ? undefined : parseBasicAuth(authIn.value, authIn.name);
  if (basicAuth !== undefined && mode === 'gateway') {
    throw new ConfigError(`${authIn.name} applies to router/sidecar targets only (give --session too)`);
  }
  const headerIn = get(PROBE_OPTIONS.apiKeyHeader);
  const apiKeyHeader = (headerIn.value ?? DEFAULT_API_KEY_HEADER).toLowerCase();
  if (!HEADER_NAME.test(apiKeyHeader) || apiKeyHeader === 'authorization') {
    throw new ConfigError(`${headerIn.name} must be an HTTP header name other than authorization`);
  }

  const durationMs = read(PROBE_OPTIONS.duration);
  const requests = read(PROBE_OPTIONS.requests) ?? (durationMs === undefined ? DEFAULT_REQUESTS : Infinity);
  const concurrency = read(PROBE_OPTIONS.concurrency) ?? DEFAULT_CONCURRENCY;
  if (concurrency > MAX_CONCURRENCY) throw new ConfigError(`--concurrency must be at most ${MAX_CONCURRENCY}`);

  const laneLabels = mode === 'gateway' || apiKeys.length > 0
    ? keyLabels(apiKeys)
    : Array.from({ length: Math.max(...Object.values(sessions).map((s) => s.length)) }, (_, i) => `lane-${i + 1}`);
  const burst =
    read(PROBE_OPTIONS.burst) ??
    Math.min(concurrency, MAX_DEFAULT_BURST, Math.max(2, Math.floor(concurrency / laneLabels.length)));
  if (mode === 'router' && apiKeys.length > 1) {
    const shared = models.filter((m) => (sessions[m]?.length ?? 0) < apiKeys.length);
    if (shared.length > 0) {
      warnings.push(
        `${apiKeys.length} keys share the sessions of ${shared.join(', ')}: a sidecar with --session-scope key will ` +
          'report session_key_conflict; give one session per key (--session model=0x… repeated) or run it with --session-scope shared',
      );
    }
  }
  if (mode === 'gateway' && apiKeys.length === 1) {
    warnings.push('one --api-key: the cross-key part of the scenario (concurrent requests from different keys) is skipped');
  }
  if (models.length === 1) warnings.push('one --model: the rapid model switch is not exercised');

  const expectEcho = read(PROBE_OPTIONS.expectEcho) ?? false;

  return {
    target,
    chatUrl: chatCompletionsUrl(target, mode),
    mode,
    apiKeys,
    models,
    sessions,
    basicAuth,
    apiKeyHeader,
    requests,
    concurrency,
    durationMs,
    burst,
    expectEcho,
    format: read(PROBE_OPTIONS.format) ?? 'text',
    sidecarAdmin: read(PROBE_OPTIONS.sidecarAdmin),
    timeoutMs: read(PROBE_OPTIONS.timeout) ?? DEFAULT_TIMEOUT_MS,
    maxTokens: read(PROBE_OPTIONS.maxTokens) ?? DEFAULT_MAX_TOKENS,
    modelAliases: read(PROBE_OPTIONS.modelAlias) ?? {},
    progress: flags.progress !== false,
    laneLabels,
    warnings,
  };
}
