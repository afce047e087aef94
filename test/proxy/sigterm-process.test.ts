import { spawn } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/index.js';
import { gatewayFor } from '../helpers/chat.js';
import { freePortPair, waitUntilUp } from '../helpers/child-ports.js';

/**
 * Each phase has its own bound, so a failure says which one stalled (start-up, the stream, the exit) with the
 * child's own log lines, rather than one "test timed out" (a loaded 2-core run once timed out here with nothing
 * else to go on). The bounds are far above what any phase needs (start-up under tsx on a loaded machine: seconds;
 * the stream: 0.5 s; the exit: the drain, at most --shutdown-timeout) and are not timing assertions.
 */
const START_UP_BOUND_MS = 90_000;
const STREAM_BOUND_MS = 30_000;
const EXIT_BOUND_MS = 45_000;

function within<T>(promise: Promise<T>, ms: number, phase: string, logs: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${phase}: not done after ${ms} ms; the child's output:\n${logs()}`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

describe('crosstalk proxy as a process', () => {
  it('on SIGTERM lets the in-flight stream finish, then exits 0', { timeout: START_UP_BOUND_MS + STREAM_BOUND_MS + EXIT_BOUND_MS + 15_000 }, async () => {
    const router = await startSimulatedRouter({ seed: 4, chunks: 20, chunkDelayMs: 25 });
    onTestFinished(() => router.close());
    const port = await freePortPair();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'proxy', '--upstream', router.url, '--port', String(port), '--admin-port', String(port + 1), '--log-level', 'info'],
      { env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', CROSSTALK_FINGERPRINT_SECRET: 's' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    // Both pipes are read: a child whose unread pipe fills blocks on its next log line.
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const logs = () => `stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`;
    await within(waitUntilUp(`http://127.0.0.1:${port + 1}/healthz`, child, () => stderr), START_UP_BOUND_MS, 'start-up', logs);

    // What the gateway sends: session_id + X-Session-ID, the router's Basic auth, no key, no model in the body.
    const gateway = gatewayFor(`http://127.0.0.1:${port}`, router.auth);
    const session = router.sessions.list()[0]?.id as string;
    const res = await within(
      request(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: gateway.chatHeaders(session),
        body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      }),
      STREAM_BOUND_MS,
      'response headers',
      logs,
    );
    child.kill('SIGTERM');
    const body = await within(res.body.text(), STREAM_BOUND_MS, 'the stream after SIGTERM', logs);
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await within(exited, EXIT_BOUND_MS, 'the exit after the stream', logs)).toBe(0);
    expect(stdout).toContain('shutting down: draining in-flight responses');
    expect(stderr).not.toMatch(/error/i);
  });
});
