import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('nothing listening: COULD NOT RUN (exit 2), and the run gives up instead of sending every request', async () => {
  const config = resolveProbeConfig(
    { target: `http://127.0.0.1:${await closedPort()}/api/v1`, apiKey: [TEST_KEYS[0] as string], model: ['a'], requests: '500', concurrency: '4', progress: false },
    {},
  );
  const result = await runProbe(config, { runId: 'unr001' });
  expect(result.verdict.verdict).toBe('COULD NOT RUN');
  expect(result.verdict.exitCode).toBe(2);
  expect(result.verdict.details).toEqual([`${result.totals.failed} requests failed: ECONNREFUSED ×${result.totals.failed}`]);
  expect(result.totals.failed).toBeLessThan(500);
});

it('every request refused with 401: COULD NOT RUN, with the status in the details', async () => {
  const upstream = await startFakeUpstream({ status: 401 });
  const config = resolveProbeConfig(
    { target: `${upstream.url}/api/v1`, apiKey: [TEST_KEYS[0] as string], model: ['a'], requests: '5', concurrency: '2', progress: false },
    {},
  );
  const result = await runProbe(config, { runId: 'unr002' });
  expect(result.verdict.verdict).toBe('COULD NOT RUN');
  expect(result.verdict.details).toEqual(['5 requests failed: http_401 ×5']);
});
