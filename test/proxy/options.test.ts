import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADMIN_PORT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  resolveProxyConfig,
} from '../../src/proxy/options.js';

describe('proxy options', () => {
  it('fills defaults and lets flags win over their env twins', () => {
    const fromEnv = resolveProxyConfig({}, { CROSSTALK_UPSTREAM_URL: 'http://router:8082', PORT: '9000', HOST: '0.0.0.0' });
    expect(fromEnv).toMatchObject({ port: 9000, host: '0.0.0.0', adminPort: DEFAULT_ADMIN_PORT, adminHost: '127.0.0.1', onCrosstalk: 'flag', sessionScope: 'key', apiKeyHeader: 'x-api-key' });
    expect(fromEnv.upstream.href).toBe('http://router:8082/');
    const flagsWin = resolveProxyConfig({ upstream: 'https://r.example', port: '1234' }, { CROSSTALK_UPSTREAM_URL: 'http://ignored', PORT: '9000' });
    expect(flagsWin.upstream.href).toBe('https://r.example/');
    expect(flagsWin.port).toBe(1234);
    const defaults = resolveProxyConfig({ upstream: 'http://r' }, {});
    expect([defaults.port, defaults.host, defaults.adminPort]).toEqual([DEFAULT_PORT, DEFAULT_HOST, DEFAULT_ADMIN_PORT]);
    expect(defaults.fingerprintSecret).toBeUndefined();
  });

  it('parses aliases, durations and choices', () => {
    const c = resolveProxyConfig(
      { upstream: 'http://r', modelAlias: ['Llama-3.3-70B-Instruct=llama-3.3-70b'], idleTimeout: '90s', onCrosstalk: 'block' },
      { CROSSTALK_SESSION_SCOPE: 'shared', CROSSTALK_UPSTREAM_TIMEOUT: '2m' },
    );
    expect(c.modelAliases).toEqual({ 'Llama-3.3-70B-Instruct': 'llama-3.3-70b' });
    expect(c.idleTimeoutMs).toBe(90_000);
    expect(c.upstreamTimeoutMs).toBe(120_000);
    expect(c.onCrosstalk).toBe('block');
    expect(c.sessionScope).toBe('shared');
    expect(resolveProxyConfig({ upstream: 'http://r' }, { CROSSTALK_MODEL_ALIASES: 'a=b, c=d' }).modelAliases).toEqual({ a: 'b', c: 'd' });
    expect(c.inspection).toBe(true);
    expect(resolveProxyConfig({ upstream: 'http://r' }, { CROSSTALK_INSPECTION: 'off' }).inspection).toBe(false);
    expect(resolveProxyConfig({ upstream: 'http://r', inspection: 'on' }, { CROSSTALK_INSPECTION: 'off' }).inspection).toBe(true);
  });

  it.each([
    [{}, {}, '--upstream (or CROSSTALK_UPSTREAM_URL) is required: the Lumerin proxy-router URL'],
    [{ upstream: 'ftp://x' }, {}, '--upstream must be an http(s) URL (got "ftp://x")'],
    [{}, { CROSSTALK_UPSTREAM_URL: 'not a url' }, 'CROSSTALK_UPSTREAM_URL must be an http(s) URL (got "not a url")'],
    [{ upstream: 'http://r', port: '70000' }, {}, '--port must be a port number 0-65535 (got "70000")'],
    [{ upstream: 'http://r' }, { PORT: 'eighty' }, 'PORT must be a port number 0-65535 (got "eighty")'],
    [{ upstream: 'http://r' }, { CROSSTALK_ADMIN_PORT: '-1' }, 'CROSSTALK_ADMIN_PORT must be a port number 0-65535 (got "-1")'],
    [{ upstream: 'http://r', onCrosstalk: 'drop' }, {}, '--on-crosstalk must be one of flag, block (got "drop")'],
    [{ upstream: 'http://r', sessionScope: 'user' }, {}, '--session-scope must be one of key, shared (got "user")'],
    [{ upstream: 'http://r', idleTimeout: 'soon' }, {}, '--idle-timeout must be a duration like 500ms, 30s, 5m, 24h (got "soon")'],
    [{ upstream: 'http://r', upstreamTimeout: '0' }, {}, '--upstream-timeout must be greater than 0'],
    [{ upstream: 'http://r', modelAlias: ['nope'] }, {}, '--model-alias must be alias=model pairs (got "nope")'],
    [{ upstream: 'http://r', apiKeyHeader: 'bad header' }, {}, '--api-key-header must be an HTTP header name (got "bad header")'],
    [{ upstream: 'http://admin:secret@r' }, {}, "--upstream must not embed credentials; the gateway's Basic auth is forwarded as is"],
    [{ upstream: 'http://r', inspection: 'maybe' }, {}, '--inspection must be one of on, off (got "maybe")'],
    [{ upstream: 'http://r', inspection: 'off', onCrosstalk: 'block' }, {}, '--on-crosstalk block needs inspection: --inspection is off, so nothing would ever be blocked'],
    [{ upstream: 'http://r' }, { CROSSTALK_INSPECTION: 'off', CROSSTALK_ON_CROSSTALK: 'block' }, 'CROSSTALK_ON_CROSSTALK block needs inspection: CROSSTALK_INSPECTION is off, so nothing would ever be blocked'],
  ])('rejects %j %j with one clear line', (flags, env, message) => {
    expect(() => resolveProxyConfig(flags as Record<string, unknown>, env)).toThrow(message);
  });

  it('the CLI stops with exit 2 and one line naming the option, never echoing credentials', () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...env },
        timeout: 20_000,
      });
    const bad = run(['proxy', '--upstream', 'http://r', '--port', 'abc']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('crosstalk: --port must be a port number 0-65535 (got "abc")');
    const envBad = run(['proxy'], { CROSSTALK_UPSTREAM_URL: 'http://r', CROSSTALK_ON_CROSSTALK: 'maybe' });
    expect(envBad.status).toBe(2);
    expect(envBad.stderr.trim()).toBe('crosstalk: CROSSTALK_ON_CROSSTALK must be one of flag, block (got "maybe")');
    const creds = run(['proxy', '--upstream', 'postgres://u:hunter2@x']);
    expect(creds.status).toBe(2);
    expect(creds.stderr).not.toContain('hunter2');
  });
});
