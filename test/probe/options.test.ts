import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_REQUESTS,
  DEFAULT_TIMEOUT_MS,
  chatCompletionsUrl,
  resolveProbeConfig,
  type ProbeFlags,
} from '../../src/probe/options.js';

const S1 = `0x${'1'.repeat(64)}`;
const S2 = `0x${'2'.repeat(64)}`;
const S3 = `0x${'3'.repeat(64)}`;
const KEY = `sk-AbC123.${'f'.repeat(64)}`;
const gateway: ProbeFlags = { target: 'https://gw.example/api/v1', apiKey: [KEY], model: ['a', 'b'] };

function configError(flags: ProbeFlags, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolveProbeConfig(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveProbeConfig', () => {
  it('gateway target: defaults filled, chat URL under /api/v1', () => {
    const c = resolveProbeConfig(gateway, {});
    expect(c).toMatchObject({
      mode: 'gateway',
      chatUrl: 'https://gw.example/api/v1/chat/completions',
      models: ['a', 'b'],
      requests: DEFAULT_REQUESTS,
      concurrency: DEFAULT_CONCURRENCY,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      durationMs: undefined,
      burst: 8,
      expectEcho: false,
      format: 'text',
      laneLabels: ['sk-AbC123'],
      progress: true,
    });
  });

  it('env twins fill what the flags leave out; flags win', () => {
    const env = {
      CROSSTALK_PROBE_TARGET: 'http://router:8082',
      CROSSTALK_PROBE_MODELS: 'a,b',
      CROSSTALK_PROBE_SESSIONS: `a=${S1},b=${S2}`,
      CROSSTALK_PROBE_BASIC_AUTH: 'admin:pw',
      CROSSTALK_PROBE_REQUESTS: '50',
      CROSSTALK_PROBE_EXPECT_ECHO: 'true',
      CROSSTALK_PROBE_FORMAT: 'json',
    };
    const c = resolveProbeConfig({ requests: '7' }, env);
    expect(c).toMatchObject({
      mode: 'router',
      chatUrl: 'http://router:8082/v1/chat/completions',
      sessions: { a: [S1], b: [S2] },
      basicAuth: { username: 'admin', password: 'pw' },
      requests: 7,
      expectEcho: true,
      format: 'json',
      laneLabels: ['lane-1'],
    });
  });

  it('sessions: plain ids pair with --model in order; model=0x… may repeat (one per key)', () => {
    const plain = resolveProbeConfig({ target: 'http://r', model: ['a', 'b'], session: [S1, S2] }, {});
    expect(plain.sessions).toEqual({ a: [S1], b: [S2] });
    const perKey = resolveProbeConfig({ target: 'http://r', session: [`a=${S1}`, `a=${S2}`, `b=${S3}`] }, {});
    expect(perKey.models).toEqual(['a', 'b']);
    expect(perKey.sessions).toEqual({ a: [S1, S2], b: [S3] });
    expect(perKey.laneLabels).toEqual(['lane-1', 'lane-2']);
  });

  it('--duration alone makes the request count unbounded', () => {
    const c = resolveProbeConfig({ ...gateway, duration: '30s' }, {});
    expect(c.durationMs).toBe(30_000);
    expect(c.requests).toBe(Infinity);
  });

  it('warns when keys share sessions (the sidecar would report session_key_conflict)', () => {
    const c = resolveProbeConfig({ target: 'http://r', model: ['a'], session: [S1], apiKey: [KEY, `sk-XyZ789.${'e'.repeat(64)}`] }, {});
    expect(c.warnings.join('\n')).toMatch(/2 keys share the sessions of a/);
  });

  it.each<[string, ProbeFlags, string]>([
    ['target missing', { ...gateway, target: undefined }, '--target (or CROSSTALK_PROBE_TARGET) is required'],
    ['target not http', { ...gateway, target: 'ftp://x' }, '--target must be an http(s) URL'],
    ['credentials in target', { ...gateway, target: 'https://u:secretpw@gw/api/v1' }, '--target must not embed credentials'],
    ['no model', { ...gateway, model: undefined }, '--model is required'],
    ['no key for a gateway', { ...gateway, apiKey: undefined }, '--api-key is required for a gateway target'],
    ['empty key', { ...gateway, apiKey: [''] }, '--api-key: key #1 is empty'],
    ['bad session', { ...gateway, session: ['a=0x12'] }, '--session entries must be 0x<64 hex> or <model>=0x<64 hex>'],
    ['model without session', { ...gateway, session: [`a=${S1}`] }, '--session: model b has no session'],
    ['basic auth on a gateway', { ...gateway, basicAuth: 'u:p' }, '--basic-auth applies to router/sidecar targets only'],
    ['basic auth shape', { ...gateway, session: [S1, S2], basicAuth: 'nocolon' }, '--basic-auth must be user:password'],
    ['requests 0', { ...gateway, requests: '0' }, '--requests must be greater than 0'],
    ['concurrency not a number', { ...gateway, concurrency: 'many' }, '--concurrency must be a whole number'],
    ['duration', { ...gateway, duration: 'soon' }, '--duration must be a duration like'],
    ['timeout 0', { ...gateway, timeout: '0s' }, '--timeout must be greater than 0'],
    ['format', { ...gateway, format: 'xml' }, '--format must be one of text, json'],
    ['sidecar admin', { ...gateway, sidecarAdmin: 'localhost:9464' }, '--sidecar-admin must be an http(s) URL'],
    ['model alias', { ...gateway, modelAlias: ['nope'] }, '--model-alias must be alias=model pairs'],
  ])('%s: ConfigError naming the option', (_name, flags, message) => {
    expect(configError(flags)).toContain(message);
  });

  it('env values are blamed by their env name', () => {
    expect(configError(gateway, { CROSSTALK_PROBE_CONCURRENCY: '-1' })).toContain('CROSSTALK_PROBE_CONCURRENCY must be');
    expect(configError(gateway, { CROSSTALK_PROBE_EXPECT_ECHO: 'maybe' })).toContain('CROSSTALK_PROBE_EXPECT_ECHO must be true or false');
  });
});

it('chatCompletionsUrl', () => {
  const at = (u: string) => chatCompletionsUrl(new URL(u));
  expect(at('https://gw.example/api/v1')).toBe('https://gw.example/api/v1/chat/completions');
  expect(at('https://gw.example/api/v1/')).toBe('https://gw.example/api/v1/chat/completions');
  expect(at('http://router:8082')).toBe('http://router:8082/v1/chat/completions');
  expect(at('http://sidecar:8080/v1/chat/completions')).toBe('http://sidecar:8080/v1/chat/completions');
});
