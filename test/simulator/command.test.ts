import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { registerSimulateRouterCommand, runSimulateRouter } from '../../src/simulator/command.js';
import { resolveSimulatorConfig, SIM_ENV } from '../../src/simulator/config.js';
import { modelIdFor } from '../../src/simulator/catalogue.js';
import type { SimulatedRouter } from '../../src/simulator/router.js';
import { rawRequest } from './http.js';

const SESSION = `0x${'ab'.repeat(32)}`;

describe('simulate-router configuration', () => {
  it('fills defaults, lets flags win over env, and parses every option', () => {
    expect(resolveSimulatorConfig({}, {})).toEqual({ port: 8081, host: '127.0.0.1' });
    const config = resolveSimulatorConfig(
      { port: '9000', bug: 'swap', sessions: [`llama-3.3-70b=${SESSION}`, `my-model=0x${'cd'.repeat(32)}`] },
      {
        [SIM_ENV.port]: '1',
        [SIM_ENV.host]: '0.0.0.0',
        [SIM_ENV.chunks]: '5',
        [SIM_ENV.chunkDelayMs]: '10',
        [SIM_ENV.echoRequestId]: 'false',
        [SIM_ENV.auth]: 'gw:pa:ss',
        [SIM_ENV.seed]: '42',
      },
    );
    expect(config).toEqual({
      port: 9000,
      host: '0.0.0.0',
      bug: 'swap',
      chunks: 5,
      chunkDelayMs: 10,
      echoRequestId: false,
      auth: { username: 'gw', password: 'pa:ss' },
      seed: 42,
      sessions: [
        { id: SESSION, model: 'llama-3.3-70b' },
        { id: `0x${'cd'.repeat(32)}`, model: 'my-model' },
      ],
      models: ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b', 'my-model'],
    });
    expect(resolveSimulatorConfig({ auth: 'none', echoRequestId: true }, { [SIM_ENV.echoRequestId]: '0' })).toMatchObject({
      auth: false,
      echoRequestId: true,
    });
    expect(resolveSimulatorConfig({}, { [SIM_ENV.sessions]: `${modelIdFor('qwen3-235b')}=${SESSION}` }).sessions).toEqual([
      { id: SESSION, model: modelIdFor('qwen3-235b') },
    ]);
  });

  it.each([
    [{ port: '70000' }, {}, "--port must be an integer between 0 and 65535, got '70000'"],
    [{}, { [SIM_ENV.port]: 'x' }, "CROSSTALK_SIM_PORT must be an integer between 0 and 65535, got 'x'"],
    [{ bug: 'chaos' }, {}, "--bug must be one of none, shared-reply, swap, got 'chaos'"],
    [{ chunks: '-1' }, {}, "--chunks must be an integer between 0 and 100000, got '-1'"],
    [{ chunkDelayMs: '1.5' }, {}, "--chunk-delay-ms must be an integer between 0 and 600000, got '1.5'"],
    [{ auth: 'admin' }, {}, '--auth must be user:pass or none'],
    [{ sessions: ['llama=0x12'] }, {}, "--sessions entries must look like <model>=0x<64 hex>, got 'llama=0x12'"],
    [{}, { [SIM_ENV.sessions]: `0x${'0'.repeat(64)}=${SESSION}` }, `CROSSTALK_SIM_SESSIONS names unknown model id 0x${'0'.repeat(64)}; use a model name`],
    [{}, { [SIM_ENV.echoRequestId]: 'maybe' }, 'CROSSTALK_SIM_ECHO_REQUEST_ID must be true or false (got "maybe")'],
    [{ host: 'a b' }, {}, '--host must be a host name or IP'],
  ])('rejects %j %j', (flags, env, message) => {
    expect(() => resolveSimulatorConfig(flags, env)).toThrow(new ConfigError(message));
  });

  it('the registered command throws ConfigError for a bad flag before listening', async () => {
    const program = new Command('crosstalk').exitOverride();
    registerSimulateRouterCommand(program);
    await expect(program.parseAsync(['simulate-router', '--port', 'abc'], { from: 'user' })).rejects.toThrow(
      ConfigError,
    );
  });
});

it('runs until aborted, printing where it listens and the sessions it serves', async () => {
  const lines: string[] = [];
  const stop = new AbortController();
  let router: SimulatedRouter | undefined;
  const running = runSimulateRouter(
    { host: '127.0.0.1', port: 0, sessions: [{ id: SESSION, model: 'qwen3-235b' }] },
    { signal: stop.signal, print: (line) => lines.push(line), onListening: (r) => (router = r) },
  );
  await expect.poll(() => router).toBeDefined();
  expect(lines).toEqual([
    `simulated router listening on ${router?.url ?? ''}`,
    `  session ${SESSION} -> qwen3-235b (model ${modelIdFor('qwen3-235b')})`,
    '  auth: basic, user admin',
  ]);
  expect((await rawRequest(`${router?.url ?? ''}/healthcheck`)).status).toBe(200);
  stop.abort();
  await running;
  await expect(rawRequest(`${router?.url ?? ''}/healthcheck`)).rejects.toThrow(/ECONNREFUSED/);
});
