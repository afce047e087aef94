import { spawn } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import { CROSSTALK_STREAM_END_REASON } from '../../src/telemetry/attributes.js';
import { startUpstream } from '../helpers/proxy-harness.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { once, signal } from './fault-kit.js';
import { freePortPair, waitUntilUp } from '../helpers/child-ports.js';

/**
 * Issue 14 row 8: SIGTERM while streams outlive --shutdown-timeout: the streams were cut visibly, but 0 of 30 spans
 * were exported. Must: the cut streams' spans exported (`end_reason=shutdown`) before telemetry stops. The sidecar
 * runs as a real process (the CLI's own SIGTERM path and OTLP exporter) against an OTLP receiver on loopback.
 */

const STREAMS = 12;

describe('SIGTERM with streams outliving --shutdown-timeout (issue 14 row 8)', () => {
  it.each(['flag', 'block'])('%s mode: every cut stream\'s span reaches the collector with end_reason=shutdown, then the process exits 0', async (mode) => {
    let stage = 'start';
    onTestFailed(() => console.log(`row 8 failed at stage ${stage}; open upstream streams ${open}; child exit ${child.exitCode}; stderr: ${stderr}`));
    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    let open = 0;
    const allOpen = signal();
    // Endless streams: a chunk now, then one every 20 ms until the proxy cuts them.
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const tick = () => res.write(`data: {"id":"chatcmpl-s${req.headers['x-n']}","model":"m","choices":[{"index":0,"delta":{"content":"${i++}"}}]}\n\n`);
      tick();
      const t = setInterval(tick, 20);
      res.on('close', () => clearInterval(t));
      if (++open === STREAMS) allOpen.resolve();
    });
    const port = await freePortPair();
    let stderr = '';
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'proxy',
        '--upstream',
        upstream.url,
        '--port',
        String(port),
        '--admin-port',
        String(port + 1),
        '--shutdown-timeout',
        '300ms',
        '--on-crosstalk',
        mode,
        '--log-level',
        'warn',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          CROSSTALK_FINGERPRINT_SECRET: 's',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: 'crosstalk-row-08',
          // A long batch delay: the spans can only arrive through the shutdown's flush, not a timer.
          OTEL_BSP_SCHEDULE_DELAY: '60000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once<number | null>(child, 'exit');
    // A child that dies at start-up fails the test with its stderr rather than a timeout.
    await waitUntilUp(`http://127.0.0.1:${port + 1}/healthz`, child, () => stderr);
    stage = 'up';

    const bodies = Array.from({ length: STREAMS }, async (_, n) => {
      const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-n': String(n) },
        body: '{"model":"m","stream":true}',
      });
      return res.body.text().then(
        () => 'ended',
        () => 'cut',
      );
    });
    stage = 'streams';
    await allOpen.promise;
    stage = 'sigterm';
    child.kill('SIGTERM');
    const outcomes = await Promise.all(bodies);
    stage = 'bodies done';
    expect(await exited, stderr).toBe(0);
    // The streams were cut (they never end on their own)...
    expect(outcomes).toEqual(Array.from({ length: STREAMS }, () => 'cut'));
    // ...and every one of their spans was exported before the process exited.
    const chats = receiver.spans().filter((s) => s.name.startsWith('chat'));
    expect(chats).toHaveLength(STREAMS);
    for (const span of chats) expect(span.attributes[CROSSTALK_STREAM_END_REASON]).toBe('shutdown');
  }, 120_000);
});
