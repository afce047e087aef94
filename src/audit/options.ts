import { ConfigError } from '../errors.js';
import { parseDuration } from './duration.js';
import { maskUrl } from './mask-url.js';

export const DEFAULT_FORMAT = 'text';
export const DEFAULT_SINCE = '24h';
export const DEFAULT_STATEMENT_TIMEOUT = '30s';
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT = '10s';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Offending ids listed per check; the total is always counted in full. */
export const DEFAULT_SAMPLE_LIMIT = 20;
export const MAX_SAMPLE_LIMIT = 1_000;
/** `session_churn` flags a key that opened more than this many sessions … */
export const DEFAULT_CHURN_SESSIONS = 5;
/** … within this many minutes (a model-switch storm, where the gateway's close-and-reopen race lives). */
export const DEFAULT_CHURN_MINUTES = 10;
/** The 2025 gateway's reaper marks expired `sessions` inactive every 15 minutes (../shared/CONTEXT.md). */
export const DEFAULT_SESSIONS_GRACE = '15m';
export const DEFAULT_SESSIONS_GRACE_SECONDS = 15 * 60;
/** The newer gateway's reaper settles `routed_sessions` every 30 s. */
export const DEFAULT_ROUTED_GRACE = '30s';
export const DEFAULT_ROUTED_GRACE_SECONDS = 30;
/** The role `--print-grants` writes its GRANTs for. */
export const DEFAULT_GRANT_ROLE = 'crosstalk_audit';

export const AUDIT_FORMATS = ['text', 'json', 'markdown'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** Env vars mirroring the flags (STYLE.md §2); a flag wins over its env var. */
export const AUDIT_ENV = {
  databases: 'CROSSTALK_AUDIT_DATABASES',
  format: 'CROSSTALK_AUDIT_FORMAT',
  out: 'CROSSTALK_AUDIT_OUT',
  since: 'CROSSTALK_AUDIT_SINCE',
  statementTimeout: 'CROSSTALK_AUDIT_STATEMENT_TIMEOUT',
  connectTimeout: 'CROSSTALK_AUDIT_CONNECT_TIMEOUT',
  sampleLimit: 'CROSSTALK_AUDIT_SAMPLE_LIMIT',
  churnSessions: 'CROSSTALK_AUDIT_CHURN_SESSIONS',
  churnMinutes: 'CROSSTALK_AUDIT_CHURN_MINUTES',
  sessionsGrace: 'CROSSTALK_AUDIT_SESSIONS_GRACE',
  routedGrace: 'CROSSTALK_AUDIT_ROUTED_GRACE',
  strict: 'CROSSTALK_AUDIT_STRICT',
  metricsFile: 'CROSSTALK_AUDIT_METRICS_FILE',
  grantRole: 'CROSSTALK_AUDIT_GRANT_ROLE',
} as const;

/** What commander hands the action (every value a string, `db` repeatable). */
export interface AuditFlags {
  db?: string[];
  format?: string;
  out?: string;
  since?: string;
  statementTimeout?: string;
  connectTimeout?: string;
  sampleLimit?: string;
  churnSessions?: string;
  churnMinutes?: string;
  sessionsGrace?: string;
  routedGrace?: string;
  strict?: boolean;
  metricsFile?: string;
  printGrants?: boolean;
  grantRole?: string;
}

export interface DatabaseTarget {
  /** Short name used in the report (`dev`, `prod`). */
  label: string;
  /** The connection string as given; print only `maskUrl(url)`. */
  url: string;
}

/** Everything `runAudit` needs besides the databases and a tracer. */
export interface AuditSettings {
  /** The recent-activity window as typed (`24h`), for the report. */
  since: string;
  sinceMs: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  sampleLimit: number;
  churnSessions: number;
  churnMinutes: number;
  sessionsGraceSeconds: number;
  routedGraceSeconds: number;
  /** Warnings exit 1 instead of 0. */
  strict: boolean;
}

export interface AuditConfig extends AuditSettings {
  databases: DatabaseTarget[];
  format: AuditFormat;
  /** Write the report here instead of stdout. */
  out: string | undefined;
  /** Write Prometheus textfile metrics here (node_exporter textfile collector), atomically. */
  metricsFile: string | undefined;
  /** Print the GRANT statements for the detected schema instead of auditing. */
  printGrants: boolean;
  /** The role those GRANTs name. */
  grantRole: string;
}

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  since: DEFAULT_SINCE,
  sinceMs: 24 * 3_600_000,
  statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  sampleLimit: DEFAULT_SAMPLE_LIMIT,
  churnSessions: DEFAULT_CHURN_SESSIONS,
  churnMinutes: DEFAULT_CHURN_MINUTES,
  sessionsGraceSeconds: DEFAULT_SESSIONS_GRACE_SECONDS,
  routedGraceSeconds: DEFAULT_ROUTED_GRACE_SECONDS,
  strict: false,
};

const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

/** `dev=postgres://…` → target; `source` names the flag or env var in the error. */
export function parseDatabaseSpec(spec: string, source: string): DatabaseTarget {
  const eq = spec.indexOf('=');
  const label = eq > 0 ? spec.slice(0, eq).trim() : '';
  const url = eq > 0 ? spec.slice(eq + 1).trim() : '';
  // The value is echoed masked: a mistyped spec is still likely to hold a real password.
  const shown = JSON.stringify(maskUrl(spec.trim()));
  if (!LABEL.test(label)) {
    throw new ConfigError(`${source} must be label=postgres://… with a label of letters, digits, _ . - (got ${shown})`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${source} must be label=postgres://… (got ${shown})`);
  }
  if (!POSTGRES_PROTOCOLS.has(parsed.protocol)) {
    throw new ConfigError(`${source} must be label=postgres://… (got ${shown})`);
  }
  return { label, url };
}

function parseDatabases(flags: AuditFlags, env: NodeJS.ProcessEnv): DatabaseTarget[] {
  const fromFlags = flags.db ?? [];
  const specs =
    fromFlags.length > 0
      ? fromFlags.map((spec) => ({ spec, source: '--db' }))
      : (env[AUDIT_ENV.databases] ?? '')
          // Comma or whitespace separated: connection strings contain neither unencoded.
          .split(/[\s,]+/)
          .filter((s) => s !== '')
          .map((spec) => ({ spec, source: AUDIT_ENV.databases }));
  if (specs.length === 0) {
    throw new ConfigError(`--db label=postgres://… is required (or set ${AUDIT_ENV.databases})`);
  }
  const targets = specs.map(({ spec, source }) => parseDatabaseSpec(spec, source));
  const seen = new Set<string>();
  for (const { label } of targets) {
    const key = label.toLowerCase();
    if (seen.has(key)) throw new ConfigError(`--db labels must be unique (got ${JSON.stringify(label)} twice)`);
    seen.add(key);
  }
  return targets;
}

/** Picks the flag, else the env var, else the default, remembering which one it was for error messages. */
function pick(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  envName: string,
  flagName: string,
): { value: string; source: string } | undefined {
  if (flag !== undefined) return { value: flag, source: flagName };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv.trim(), source: envName };
  return undefined;
}

function durationOption(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  envName: string,
  flagName: string,
  fallback: string,
): { text: string; ms: number } {
  const chosen = pick(flag, env, envName, flagName) ?? { value: fallback, source: flagName };
  const ms = parseDuration(chosen.value);
  if (ms === undefined) {
    throw new ConfigError(
      `${chosen.source} must be a duration such as 30s, 30m, 24h or 7d (got ${JSON.stringify(chosen.value)})`,
    );
  }
  return { text: chosen.value.trim(), ms };
}

/** A grace in whole seconds (the SQL takes seconds); `0s` is allowed: no grace at all. */
function graceOption(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  envName: string,
  flagName: string,
  fallback: string,
): number {
  const chosen = pick(flag, env, envName, flagName) ?? { value: fallback, source: flagName };
  const text = chosen.value.trim();
  const ms = /^0+(?:ms|s|m|h|d)$/.test(text) ? 0 : parseDuration(text);
  if (ms === undefined || ms % 1000 !== 0) {
    throw new ConfigError(
      `${chosen.source} must be a duration in whole seconds such as 0s, 30s, 15m or 1h (got ${JSON.stringify(chosen.value)})`,
    );
  }
  return ms / 1000;
}

function boolOption(flag: boolean | undefined, env: NodeJS.ProcessEnv, envName: string): boolean {
  if (flag === true) return true;
  const raw = env[envName]?.trim();
  if (raw === undefined || raw === '') return false;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${envName} must be true or false (got ${JSON.stringify(raw)})`);
}

const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;

function integerOption(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  envName: string,
  flagName: string,
  fallback: number,
  max: number,
): number {
  const chosen = pick(flag, env, envName, flagName);
  if (chosen === undefined) return fallback;
  const n = /^\d+$/.test(chosen.value) ? Number(chosen.value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ConfigError(`${chosen.source} must be an integer from 1 to ${max} (got ${JSON.stringify(chosen.value)})`);
  }
  return n;
}

/** The one place audit flags and env vars are validated (STYLE.md §2). Throws ConfigError naming the option. */
export function resolveAuditConfig(flags: AuditFlags, env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const databases = parseDatabases(flags, env);

  const format = pick(flags.format, env, AUDIT_ENV.format, '--format') ?? { value: DEFAULT_FORMAT, source: '--format' };
  if (!(AUDIT_FORMATS as readonly string[]).includes(format.value)) {
    throw new ConfigError(`${format.source} must be text, json or markdown (got ${JSON.stringify(format.value)})`);
  }

  const out = pick(flags.out, env, AUDIT_ENV.out, '--out');
  if (out !== undefined && out.value.trim() === '') throw new ConfigError('--out must be a file path');

  const since = durationOption(flags.since, env, AUDIT_ENV.since, '--since', DEFAULT_SINCE);
  const statementTimeout = durationOption(
    flags.statementTimeout,
    env,
    AUDIT_ENV.statementTimeout,
    '--statement-timeout',
    DEFAULT_STATEMENT_TIMEOUT,
  );
  const connectTimeout = durationOption(
    flags.connectTimeout,
    env,
    AUDIT_ENV.connectTimeout,
    '--connect-timeout',
    DEFAULT_CONNECT_TIMEOUT,
  );

  const metricsFile = pick(flags.metricsFile, env, AUDIT_ENV.metricsFile, '--metrics-file');
  if (metricsFile !== undefined && metricsFile.value.trim() === '') {
    throw new ConfigError('--metrics-file must be a file path');
  }
  const grantRole = pick(flags.grantRole, env, AUDIT_ENV.grantRole, '--grant-role') ?? {
    value: DEFAULT_GRANT_ROLE,
    source: '--grant-role',
  };
  // Printed into SQL: only a plain lower-case identifier, so it never needs quoting (or escaping).
  if (!ROLE_NAME.test(grantRole.value)) {
    throw new ConfigError(
      `${grantRole.source} must be a role name of lower-case letters, digits and _ (got ${JSON.stringify(grantRole.value)})`,
    );
  }

  return {
    databases,
    format: format.value as AuditFormat,
    out: out?.value,
    metricsFile: metricsFile?.value,
    printGrants: flags.printGrants === true,
    grantRole: grantRole.value,
    sessionsGraceSeconds: graceOption(
      flags.sessionsGrace,
      env,
      AUDIT_ENV.sessionsGrace,
      '--sessions-grace',
      DEFAULT_SESSIONS_GRACE,
    ),
    routedGraceSeconds: graceOption(flags.routedGrace, env, AUDIT_ENV.routedGrace, '--routed-grace', DEFAULT_ROUTED_GRACE),
    strict: boolOption(flags.strict, env, AUDIT_ENV.strict),
    since: since.text,
    sinceMs: since.ms,
    statementTimeoutMs: statementTimeout.ms,
    connectTimeoutMs: connectTimeout.ms,
    sampleLimit: integerOption(
      flags.sampleLimit,
      env,
      AUDIT_ENV.sampleLimit,
      '--sample-limit',
      DEFAULT_SAMPLE_LIMIT,
      MAX_SAMPLE_LIMIT,
    ),
    churnSessions: integerOption(
      flags.churnSessions,
      env,
      AUDIT_ENV.churnSessions,
      '--churn-sessions',
      DEFAULT_CHURN_SESSIONS,
      1_000_000,
    ),
    churnMinutes: integerOption(
      flags.churnMinutes,
      env,
      AUDIT_ENV.churnMinutes,
      '--churn-minutes',
      DEFAULT_CHURN_MINUTES,
      7 * 24 * 60,
    ),
  };
}
