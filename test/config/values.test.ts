import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { ConfigError, errors } from '../../src/errors.js';
import { parseAliases, parseBool, parseDurationMs, parseHttpUrl, positiveDuration } from '../../src/config/values.js';
import { addOptions, cliFlags, defineOption, readOption } from '../../src/config/option.js';
import { parsePort } from '../../src/config/values.js';

describe('one duration grammar for every command', () => {
  it.each([
    ['500ms', 500],
    ['1.5s', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text, '--x')).toBe(ms);
  });

  it.each(['10', '10 s', 's', '-1s', '1w', ''])('refuses %j (a bare number could mean ms or s)', (text) => {
    expect(() => parseDurationMs(text, '--connect-timeout')).toThrow(
      `--connect-timeout must be a duration like 500ms, 30s, 5m, 24h (got ${JSON.stringify(text)})`,
    );
  });

  it('positiveDuration refuses 0', () => {
    expect(() => positiveDuration('0', 'X')).toThrow('X must be greater than 0');
  });
});

describe('shared parsers', () => {
  it('parseBool and parseAliases', () => {
    expect(['1', 'true', 'YES', 'on'].map((v) => parseBool(v, 'B'))).toEqual([true, true, true, true]);
    expect(['0', 'false', 'No', 'off'].map((v) => parseBool(v, 'B'))).toEqual([false, false, false, false]);
    expect(() => parseBool('maybe', 'B')).toThrow('B must be true or false (got "maybe")');
    expect(parseAliases('a=b, c = d', 'A')).toEqual({ a: 'b', c: 'd' });
  });

  it('errors are the registry config error and keep their cause', () => {
    let caught: unknown;
    try {
      parseHttpUrl('http://u:pw@[bad', '--upstream');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(errors.CROSSTALK_ERR_CONFIG);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe('CROSSTALK_ERR_CONFIG');
    expect((caught as ConfigError).cause).toBeInstanceOf(TypeError);
    expect((caught as Error).message).toBe('--upstream must be an http(s) URL (got "http://u:***@[bad")');
  });
});

describe('an option declared once', () => {
  const port = defineOption('--port <n>', 'TEST_PORT', 'listen port', { parse: parsePort, fallback: 8080, defaultText: '8080' });

  const parse = (argv: string[], env: NodeJS.ProcessEnv): { flags: Record<string, unknown>; cmd: Command } => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const cmd = addOptions(new Command('t').exitOverride(), [port]);
      cmd.parse(argv, { from: 'user' });
      return { flags: cliFlags(cmd), cmd };
    } finally {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  };

  it('the flag wins over its env twin, which wins over the default', () => {
    expect(readOption(port, parse(['--port', '1'], { TEST_PORT: '2' }).flags, { TEST_PORT: '2' })).toBe(1);
    expect(readOption(port, parse([], { TEST_PORT: '2' }).flags, { TEST_PORT: '2' })).toBe(2);
    expect(readOption(port, parse([], {}).flags, {})).toBe(8080);
  });

  it('a bad env value is blamed on the env var, not on the flag', () => {
    const { flags } = parse([], { TEST_PORT: 'x' });
    expect(() => readOption(port, flags, { TEST_PORT: 'x' })).toThrow('TEST_PORT must be a port number 0-65535 (got "x")');
  });

  it('--help names the env twin and the default', () => {
    const { cmd } = parse([], {});
    expect(cmd.helpInformation()).toContain('listen port (default 8080) (env: TEST_PORT)');
  });
});
