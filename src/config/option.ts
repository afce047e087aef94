import { Option, type Command } from 'commander';
import { attributeName, collect, pick, type Parser } from './values.js';

/**
 * One declaration per option: the flag, its env twin, its help, its parser and its default. commander's
 * `Option.env` documents the twin in `--help`; {@link readOption} resolves the value (the flag wins over the env
 * var, else the default) and a bad value throws a ConfigError naming exactly what the user typed.
 */
export interface OptionSpec<T> {
  /** `--port <n>` */
  readonly flags: string;
  /** `PORT` */
  readonly env: string;
  /** What it does, without the default (appended from `defaultText`). */
  readonly help: string;
  readonly parse: Parser<T>;
  /** Used when neither the flag nor the env var is set; `undefined` means "not set". */
  readonly fallback: T | undefined;
  /** The default as the README and `--help` show it (`60s`, `127.0.0.1`). */
  readonly defaultText: string | undefined;
  /** Repeatable flag (`--model-alias a=b --model-alias c=d`); the env twin is comma-separated. */
  readonly repeatable: boolean;
}

export interface OptionInit<T> {
  parse: Parser<T>;
  fallback?: T;
  defaultText?: string;
  repeatable?: boolean;
}

export function defineOption<T>(flags: string, env: string, help: string, init: OptionInit<T>): OptionSpec<T> {
  return {
    flags,
    env,
    help,
    parse: init.parse,
    fallback: init.fallback,
    defaultText: init.defaultText,
    repeatable: init.repeatable ?? false,
  };
}

/** The long flag without its argument: `--port <n>` → `--port`. */
export function longFlag(spec: OptionSpec<unknown>): string {
  return spec.flags.split(/\s/)[0] ?? spec.flags;
}

/** The help line as `--help` and the README show it. */
export function describeOption(spec: OptionSpec<unknown>): string {
  return spec.defaultText === undefined ? spec.help : `${spec.help} (default ${spec.defaultText})`;
}

/** The commander Option for `spec`: env twin declared, repeatable flags collected. Values are parsed later. */
export function commanderOption(spec: OptionSpec<unknown>): Option {
  const option = new Option(spec.flags, describeOption(spec)).env(spec.env);
  if (spec.repeatable) option.argParser(collect);
  return option;
}

export function addOptions(cmd: Command, specs: readonly OptionSpec<unknown>[]): Command {
  for (const spec of specs) cmd.addOption(commanderOption(spec));
  return cmd;
}

/**
 * The options given on the command line only. commander also copies env values into `opts()`; resolution reads
 * the env itself so that an error names `PORT`, not `--port`, when the env var was the bad one.
 */
export function cliFlags(cmd: Command): Record<string, unknown> {
  const all = cmd.opts();
  const fromCli: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (cmd.getOptionValueSource(key) === 'cli') fromCli[key] = value;
  }
  return fromCli;
}

/** The value of one option: flag, else env twin, else the default. */
export function readOption<T>(spec: OptionSpec<T>, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): T | undefined {
  const { value, name } = pick(flags, env, longFlag(spec), spec.env);
  return value === undefined ? spec.fallback : spec.parse(value, name);
}

/** The raw text and the name to blame, for options whose checks span more than one value. */
export function readRaw(
  spec: OptionSpec<unknown>,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { value: string | undefined; name: string } {
  return pick(flags, env, longFlag(spec), spec.env);
}

export { attributeName };
