import { parseBool, pick } from '../config/values.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_MODEL_NAMES, HEX32_PATTERN, modelIdFor, type SessionSpec } from './catalogue.js';
import { isSimBug, SIM_BUGS, type SimulatedRouterOptions } from './options.js';

export const DEFAULT_SIM_PORT = 8081;
export const DEFAULT_SIM_HOST = '127.0.0.1';

/** `simulate-router` flags as commander hands them over (strings; `echoRequestId` only when given on the CLI). */
export interface SimulateRouterFlags {
  port?: string;
  host?: string;
  bug?: string;
  chunks?: string;
  chunkDelayMs?: string;
  echoRequestId?: boolean;
  auth?: string;
  sessions?: string[];
  seed?: string;
}

/** Env twins of the flags. */
export const SIM_ENV = {
  port: 'CROSSTALK_SIM_PORT',
  host: 'CROSSTALK_SIM_HOST',
  bug: 'CROSSTALK_SIM_BUG',
  chunks: 'CROSSTALK_SIM_CHUNKS',
  chunkDelayMs: 'CROSSTALK_SIM_CHUNK_DELAY_MS',
  echoRequestId: 'CROSSTALK_SIM_ECHO_REQUEST_ID',
  auth: 'CROSSTALK_SIM_AUTH',
  sessions: 'CROSSTALK_SIM_SESSIONS',
  seed: 'CROSSTALK_SIM_SEED',
} as const;

/** Options for {@link startSimulatedRouter}, with host and port always set. */
export type SimulateRouterConfig = SimulatedRouterOptions & { host: string; port: number };

type Env = Readonly<Record<string, string | undefined>>;

/** The flag's value, else the env var's, with the name to blame in an error (the shared `pick`). */
function flagOrEnv(flags: SimulateRouterFlags, flag: string, env: Env, envName: string): [string | undefined, string] {
  const { value, name } = pick(flags as Record<string, unknown>, env as NodeJS.ProcessEnv, flag, envName);
  return [value, name];
}

function integer(value: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${value}'`);
  }
  return Number(value);
}

function parseSessions(entries: readonly string[], name: string): SessionSpec[] {
  return entries
    .flatMap((entry) => entry.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const eq = item.lastIndexOf('=');
      const model = eq === -1 ? '' : item.slice(0, eq).trim();
      const id = eq === -1 ? '' : item.slice(eq + 1).trim();
      if (model === '' || !HEX32_PATTERN.test(id)) {
        throw new ConfigError(`${name} entries must look like <model>=0x<64 hex>, got '${item}'`);
      }
      return { id, model };
    });
}

/** Validates flags and env in one place (flags win) and fills the defaults; throws ConfigError naming the option. */
export function resolveSimulatorConfig(flags: SimulateRouterFlags, env: Env = process.env): SimulateRouterConfig {
  const [port, portName] = flagOrEnv(flags, '--port', env, SIM_ENV.port);
  const [host, hostName] = flagOrEnv(flags, '--host', env, SIM_ENV.host);
  const [bug, bugName] = flagOrEnv(flags, '--bug', env, SIM_ENV.bug);
  const [chunks, chunksName] = flagOrEnv(flags, '--chunks', env, SIM_ENV.chunks);
  const [delay, delayName] = flagOrEnv(flags, '--chunk-delay-ms', env, SIM_ENV.chunkDelayMs);
  const [auth, authName] = flagOrEnv(flags, '--auth', env, SIM_ENV.auth);
  const [seed] = flagOrEnv(flags, '--seed', env, SIM_ENV.seed);
  const sessionsRaw = flags.sessions !== undefined && flags.sessions.length > 0 ? flags.sessions : undefined;
  const sessionsEnv = env[SIM_ENV.sessions] === '' ? undefined : env[SIM_ENV.sessions];
  const sessionsName = sessionsRaw !== undefined ? '--sessions' : SIM_ENV.sessions;

  const config: SimulateRouterConfig = {
    port: port === undefined ? DEFAULT_SIM_PORT : integer(port, portName, 0, 65_535),
    host: host ?? DEFAULT_SIM_HOST,
  };
  if (config.host.trim() === '' || /\s/.test(config.host)) throw new ConfigError(`${hostName} must be a host name or IP`);
  if (bug !== undefined) {
    if (!isSimBug(bug)) throw new ConfigError(`${bugName} must be one of ${SIM_BUGS.join(', ')}, got '${bug}'`);
    config.bug = bug;
  }
  if (chunks !== undefined) config.chunks = integer(chunks, chunksName, 0, 100_000);
  if (delay !== undefined) config.chunkDelayMs = integer(delay, delayName, 0, 600_000);
  if (flags.echoRequestId !== undefined) config.echoRequestId = flags.echoRequestId;
  else if (env[SIM_ENV.echoRequestId] !== undefined && env[SIM_ENV.echoRequestId] !== '') {
    config.echoRequestId = parseBool(env[SIM_ENV.echoRequestId] ?? '', SIM_ENV.echoRequestId);
  }
  if (auth !== undefined) {
    if (auth === 'none') config.auth = false;
    else {
      const colon = auth.indexOf(':');
      if (colon <= 0 || colon === auth.length - 1) throw new ConfigError(`${authName} must be user:pass or none`);
      config.auth = { username: auth.slice(0, colon), password: auth.slice(colon + 1) };
    }
  }
  if (seed !== undefined) config.seed = /^\d+$/.test(seed) ? Number(seed) : seed;
  const sessionsInput = sessionsRaw ?? (sessionsEnv === undefined ? undefined : [sessionsEnv]);
  const sessions = sessionsInput === undefined ? undefined : parseSessions(sessionsInput, sessionsName);
  if (sessions !== undefined) {
    config.sessions = sessions;
    // A session may name a model outside the default catalogue (mirror a real deployment's names).
    const names = new Set(DEFAULT_MODEL_NAMES);
    const knownIds = new Set(DEFAULT_MODEL_NAMES.map((n) => modelIdFor(n)));
    for (const s of sessions) {
      if (!HEX32_PATTERN.test(s.model)) names.add(s.model);
      else if (!knownIds.has(s.model.toLowerCase())) {
        throw new ConfigError(`${sessionsName} names unknown model id ${s.model}; use a model name`);
      }
    }
    config.models = [...names];
  }
  return config;
}
