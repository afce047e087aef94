import { spawn } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/index.js';
import { freePortPair, waitUntilUp } from '../helpers/child-ports.js';

describe('crosstalk proxy as a process', () => {
  it('on SIGTERM lets the in-flight stream finish, then exits 0', { timeout: 120_000 }, async () => {
    const router = await startSimulatedRouter({ auth: false, seed: 4, chunks: 20, chunkDelayMs: 25 });
    onTestFinished(() => router.close());
    const port = await freePortPair();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'proxy', '--upstream', router.url, '--port', String(port), '--admin-port', String(port + 1), '--log-level', 'warn'],
      { env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', CROSSTALK_FINGERPRINT_SECRET: 's' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitUntilUp(`http://127.0.0.1:${port + 1}/healthz`, child, () => stderr);

    const session = router.sessions.list()[0]?.id as string;
    const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', session_id: session },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const body = await res.body.text();
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/error/i);
  });
});
