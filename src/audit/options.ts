import { ConfigError } from '../errors.js';
import { defineOption, readOption, readRaw, type OptionSpec } from '../config/option.js';
import {
  choice,
  parseBool,
  parseDurationMs,
  parsePositiveInt,
  positiveDuration,
  type Parser,
} from '../config/values.js';
import { maskUrl } from './mask-url.js';

export const DEFAULT_FORMAT: AuditFormat = 'text';
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
  providerState: 'CROSSTALK_AUDIT_PROVIDER_STATE',
} as const;

/** A whole number from 1 to `max`, in the shared wording of src/config/values.ts. */
function boundedInt(max: number): Parser<number> {
  return (value, name) => {
    const n = parsePositiveInt(value, name);
    if (n > max) throw new ConfigError(`${name} must be at most ${max} (got ${JSON.stringify(value)})`);
    return n;
  };
}

/** A grace in whole seconds (the SQL takes seconds); `0` or `0s` is allowed: no grace at all. */
const graceSeconds: Parser<number> = (value, name) => {
  const ms = parseDurationMs(value, name);
  if (ms % 1000 !== 0) throw new ConfigError(`${name} must be whole seconds (got ${JSON.stringify(value)})`);
  return ms / 1000;
};

/** The file paths, as given; an empty one is refused. */
const filePath: Parser<string> = (value, name) => {
  if (value.trim() === '') throw new ConfigError(`${name} must be a file path`);
  return value;
};

const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;
/** Printed into SQL: only a plain lower-case identifier, so it never needs quoting (or escaping). */
const roleName: Parser<string> = (value, name) => {
  if (!ROLE_NAME.test(value)) {
    throw new ConfigError(
      `${name} must be a role name of lower-case letters, digits and _ (got ${JSON.stringify(value)})`,
    );
  }
  return value;
};

const text: Parser<string> = (value) => value.trim();

/**
 * Every audit option with its env twin, help, parser and default, declared once (src/config/option.ts); the
 * command and the README table are made from these. `--print-grants` is a one-off action, not a setting: it has
 * no env twin, so a scheduled job can never turn into a grant printer by an inherited variable.
 */
export const AUDIT_OPTIONS = {
  db: defineOption<string>(
    '--db <label=url>',
    AUDIT_ENV.databases,
    'database to audit, repeatable (env: comma-separated)',
    { parse: text, repeatable: true },
  ),
  format: defineOption('--format <format>', AUDIT_ENV.format, 'text, json or markdown', {
    parse: choice(AUDIT_FORMATS),
    fallback: DEFAULT_FORMAT,
    defaultText: DEFAULT_FORMAT,
  }),
  out: defineOption('--out <file>', AUDIT_ENV.out, 'write the report to a file instead of stdout', { parse: filePath }),
  since: defineOption<string>('--since <duration>', AUDIT_ENV.since, 'recent-activity window, e.g. 30m, 24h, 7d', {
    parse: text,
    fallback: DEFAULT_SINCE,
    defaultText: DEFAULT_SINCE,
  }),
  statementTimeout: defineOption('--statement-timeout <duration>', AUDIT_ENV.statementTimeout, 'per-statement limit', {
    parse: positiveDuration,
    fallback: DEFAULT_STATEMENT_TIMEOUT_MS,
    defaultText: DEFAULT_STATEMENT_TIMEOUT,
  }),
  connectTimeout: defineOption('--connect-timeout <duration>', AUDIT_ENV.connectTimeout, 'connection limit', {
    parse: positiveDuration,
    fallback: DEFAULT_CONNECT_TIMEOUT_MS,
    defaultText: DEFAULT_CONNECT_TIMEOUT,
  }),
  sampleLimit: defineOption('--sample-limit <n>', AUDIT_ENV.sampleLimit, 'offending ids listed per check', {
    parse: boundedInt(MAX_SAMPLE_LIMIT),
    fallback: DEFAULT_SAMPLE_LIMIT,
    defaultText: String(DEFAULT_SAMPLE_LIMIT),
  }),
  churnSessions: defineOption('--churn-sessions <n>', AUDIT_ENV.churnSessions, 'session_churn: more than n sessions …', {
    parse: boundedInt(1_000_000),
    fallback: DEFAULT_CHURN_SESSIONS,
    defaultText: String(DEFAULT_CHURN_SESSIONS),
  }),
  churnMinutes: defineOption('--churn-minutes <m>', AUDIT_ENV.churnMinutes, '… within m minutes', {
    parse: boundedInt(7 * 24 * 60),
    fallback: DEFAULT_CHURN_MINUTES,
    defaultText: String(DEFAULT_CHURN_MINUTES),
  }),
  sessionsGrace: defineOption(
    '--sessions-grace <duration>',
    AUDIT_ENV.sessionsGrace,
    "sessions past expires_at for less than this are warnings (the 2025 gateway's reaper interval)",
    { parse: graceSeconds, fallback: DEFAULT_SESSIONS_GRACE_SECONDS, defaultText: DEFAULT_SESSIONS_GRACE },
  ),
  routedGrace: defineOption(
    '--routed-grace <duration>',
    AUDIT_ENV.routedGrace,
    "routed_sessions past expires_at, or terminal with requests, for less than this are warnings (the newer gateway's reaper interval)",
    { parse: graceSeconds, fallback: DEFAULT_ROUTED_GRACE_SECONDS, defaultText: DEFAULT_ROUTED_GRACE },
  ),
  strict: defineOption('--strict', AUDIT_ENV.strict, 'warnings exit 1', { parse: parseBool, fallback: false }),
  metricsFile: defineOption(
    '--metrics-file <path>',
    AUDIT_ENV.metricsFile,
    'write Prometheus textfile metrics here, atomically',
    { parse: filePath },
  ),
  providerState: defineOption(
    '--provider-state <file>',
    AUDIT_ENV.providerState,
    "remember live routed sessions' provider_address here and flag a change on the next run",
    { parse: filePath },
  ),
  grantRole: defineOption('--grant-role <role>', AUDIT_ENV.grantRole, 'the role --print-grants grants to', {
    parse: roleName,
    fallback: DEFAULT_GRANT_ROLE,
    defaultText: DEFAULT_GRANT_ROLE,
  }),
} as const;

export const AUDIT_OPTION_SPECS: readonly OptionSpec<unknown>[] = Object.values(AUDIT_OPTIONS);

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
  providerState?: string;
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
  /** Read and replace the previous run's live providers here (routed_provider_change). */
  providerStateFile: string | undefined;
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
  const fromFlags = (flags.db ?? []).map((spec) => spec.trim()).filter((spec) => spec !== '');
  const { value, name } =
    fromFlags.length > 0 ? { value: undefined, name: '--db' } : readRaw(AUDIT_OPTIONS.db, {}, env);
  // Each --db is one spec; the env twin is comma or whitespace separated (connection strings hold neither
  // unencoded).
  const specs = fromFlags.length > 0 ? fromFlags : (value ?? '').split(/[\s,]+/).filter((s) => s !== '');
  if (specs.length === 0) {
    throw new ConfigError(`--db label=postgres://… is required (or set ${AUDIT_ENV.databases})`);
  }
  const targets = specs.map((spec) => parseDatabaseSpec(spec, name));
  const seen = new Set<string>();
  for (const { label } of targets) {
    const key = label.toLowerCase();
    if (seen.has(key)) throw new ConfigError(`--db labels must be unique (got ${JSON.stringify(label)} twice)`);
    seen.add(key);
  }
  return targets;
}

/** The one place audit flags and env vars are validated (STYLE.md §2). Throws ConfigError naming the option. */
export function resolveAuditConfig(flags: AuditFlags, env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const given = flags as Record<string, unknown>;
  const read = <T>(spec: OptionSpec<T>): T | undefined => readOption(spec, given, env);
  const databases = parseDatabases(flags, env);
  const since = readRaw(AUDIT_OPTIONS.since, given, env);
  const sinceText = (since.value ?? DEFAULT_SINCE).trim();
  const sinceMs = positiveDuration(sinceText, since.name);
  return {
    databases,
    format: read(AUDIT_OPTIONS.format) ?? DEFAULT_FORMAT,
    out: read(AUDIT_OPTIONS.out),
    metricsFile: read(AUDIT_OPTIONS.metricsFile),
    providerStateFile: read(AUDIT_OPTIONS.providerState),
    printGrants: flags.printGrants === true,
    grantRole: read(AUDIT_OPTIONS.grantRole) ?? DEFAULT_GRANT_ROLE,
    since: sinceText,
    sinceMs,
    statementTimeoutMs: read(AUDIT_OPTIONS.statementTimeout) ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: read(AUDIT_OPTIONS.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    sampleLimit: read(AUDIT_OPTIONS.sampleLimit) ?? DEFAULT_SAMPLE_LIMIT,
    churnSessions: read(AUDIT_OPTIONS.churnSessions) ?? DEFAULT_CHURN_SESSIONS,
    churnMinutes: read(AUDIT_OPTIONS.churnMinutes) ?? DEFAULT_CHURN_MINUTES,
    sessionsGraceSeconds: read(AUDIT_OPTIONS.sessionsGrace) ?? DEFAULT_SESSIONS_GRACE_SECONDS,
    routedGraceSeconds: read(AUDIT_OPTIONS.routedGrace) ?? DEFAULT_ROUTED_GRACE_SECONDS,
    strict: read(AUDIT_OPTIONS.strict) ?? false,
  };
}
