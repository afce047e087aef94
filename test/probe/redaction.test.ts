import { expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { executeProbe } from '../../src/probe/command.js';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { renderJsonReport, renderTextReport } from '../../src/probe/report.js';
import { createTestTracing } from '../helpers/tracing.js';
import { SECRET_PARTS, TEST_KEYS, routerFlags, startRouter } from './helpers.js';

const ROUTER_AUTH = { username: 'router-admin', password: 'Tr0ub4dor-probe-pw' };
const BASIC = Buffer.from(`${ROUTER_AUTH.username}:${ROUTER_AUTH.password}`).toString('base64');

function expectNoSecret(text: string): void {
  for (const secret of [...TEST_KEYS, ...SECRET_PARTS, ROUTER_AUTH.password, BASIC]) expect(text).not.toContain(secret);
}

function captured() {
  let text = '';
  return { write: (chunk: string) => ((text += chunk), true), isTTY: false, text: () => text } as const;
}

it('keys appear by public prefix only and Basic credentials never, in reports, progress, spans and errors', async () => {
  // The bug is on, so offending rows (with their key column) are printed too.
  const router = await startRouter({ bug: 'shared-reply', auth: ROUTER_AUTH });
  const flags = routerFlags(router, router.url, { progress: true, requests: '30' });
  const config = resolveProbeConfig(flags, {});

  for (const format of ['text', 'json'] as const) {
    const stdout = captured();
    const stderr = captured();
    const code = await executeProbe({ ...config, format }, { stdout, stderr: stderr as unknown as NodeJS.WritableStream });
    expect(code).toBe(1);
    expectNoSecret(stdout.text() + stderr.text());
    expect(stdout.text()).toContain('sk-ProbeA');
  }

  const tracing = createTestTracing();
  const result = await runProbe(config, { tracer: tracing.tracer });
  expectNoSecret(renderTextReport(result) + renderJsonReport(result) + JSON.stringify(result));
  const spans = tracing.exporter.getFinishedSpans();
  expect(spans.length).toBe(30);
  expectNoSecret(JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status }))));
  expect(spans.map((s) => s.attributes['crosstalk.api_key.prefix'])).toContain('sk-ProbeB');
  await tracing.shutdown();

  // The keys and the credentials did go where they belong: the router's request headers.
  const sent = JSON.stringify(router.requests.map((r) => r.headers));
  expect(sent).toContain(SECRET_PARTS[0]);
  expect(sent).toContain(BASIC);
});

it('configuration errors name the option, never the value of a key or a password', () => {
  const bad = [
    { target: 'http://r', model: ['a'], session: [`0x${'1'.repeat(64)}`], basicAuth: `${ROUTER_AUTH.password}` },
    { target: 'http://r', model: ['a'], apiKey: [`${TEST_KEYS[0]} ${TEST_KEYS[1]}`] },
    { target: `https://user:${ROUTER_AUTH.password}@gw/api/v1`, model: ['a'], apiKey: [TEST_KEYS[0] as string] },
  ];
  for (const flags of bad) {
    let message = '';
    try {
      resolveProbeConfig(flags, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    expectNoSecret(message);
  }
});
