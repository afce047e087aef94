import { spawn } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/index.js';

/** Polls until the admin port answers; fails at once (with its stderr) if the child died during start-up. */
async function waitUntilUp(url: string, child: { exitCode: number | null }, stderr: () => string): Promise<void> {
  // Start-up under tsx on a loaded 2-core machine can take many seconds: the bound is the test's own timeout.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}) during start-up: ${stderr()}`);
    try {
      const res = await request(url);
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('crosstalk proxy as a process', () => {
  it('on SIGTERM lets the in-flight stream finish, then exits 0', { timeout: 120_000 }, async () => {
    const router = await startSimulatedRouter({ auth: false, seed: 4, chunks: 20, chunkDelayMs: 25 });
    onTestFinished(() => router.close());
    const port = 21000 + Math.floor(Math.random() * 20000);
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
