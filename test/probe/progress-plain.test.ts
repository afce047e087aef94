import { describe, expect, it } from 'vitest';
import { executeProbe } from '../../src/probe/command.js';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { createProgressReporter, type ProbeProgress } from '../../src/probe/progress.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

function sink(isTTY: boolean) {
  const lines: string[] = [];
  return {
    isTTY,
    columns: 120,
    write(chunk: string) {
      lines.push(chunk);
      return true;
    },
    lines,
  };
}

const at = (done: number, over: Partial<ProbeProgress> = {}): ProbeProgress => ({
  done,
  total: 20,
  crosstalk: 0,
  failed: 0,
  echoMatch: done,
  elapsedMs: done * 100,
  durationMs: undefined,
  ...over,
});

describe('progress when stderr is not a terminal', () => {
  it('a plain line at each tenth of the run, and the last state once at the end', () => {
    const out = sink(false);
    const progress = createProgressReporter({ stream: out as unknown as NodeJS.WritableStream, total: 20, durationMs: undefined });
    for (let done = 1; done <= 19; done++) progress.update(at(done));
    progress.update(at(20, { crosstalk: 1 }));
    progress.stop();
    expect(out.lines).toHaveLength(10);
    expect(out.lines[0]).toBe('probe: 2/20 requests, 0 crosstalk, 0 failed, 2 echo matched, 0.2s\n');
    expect(out.lines[9]).toBe('probe: 20/20 requests, 1 crosstalk, 0 failed, 20 echo matched, 2.0s\n');
    expect(out.lines.join('')).not.toContain('\u001b[');
  });

  it('time-bounded runs: at most one line per interval, then the final state', () => {
    const out = sink(false);
    let now = 0;
    const progress = createProgressReporter({
      stream: out as unknown as NodeJS.WritableStream,
      total: undefined,
      durationMs: 10_000,
      intervalMs: 1_000,
      now: () => now,
    });
    for (let done = 1; done <= 30; done++) {
      now = done * 250;
      progress.update(at(done, { total: undefined, durationMs: 10_000, elapsedMs: now }));
    }
    progress.stop();
    expect(out.lines.map((l) => l.split(',')[0])).toEqual([
      'probe: 4 requests', 'probe: 8 requests', 'probe: 12 requests', 'probe: 16 requests',
      'probe: 20 requests', 'probe: 24 requests', 'probe: 28 requests', 'probe: 30 requests',
    ]);
    expect(out.lines.at(-1)).toBe('probe: 30 requests, 0 crosstalk, 0 failed, 30 echo matched, 7.5s/10s\n');
  });

  it('a whole probe run writes plain lines to a non-TTY stderr and keeps stdout for the report', async () => {
    const upstream = await startFakeUpstream();
    const config = resolveProbeConfig(
      { target: `${upstream.url}/api/v1`, apiKey: [TEST_KEYS[0] as string], model: ['a', 'b'], requests: '10', concurrency: '2' },
      {},
    );
    const stdout = sink(false);
    const stderr = sink(false);
    const code = await executeProbe(config, { stdout, stderr: stderr as unknown as NodeJS.WritableStream });
    expect(code).toBe(0);
    expect(stderr.lines.map((l) => l.split(',')[0])).toEqual(Array.from({ length: 10 }, (_, i) => `probe: ${i + 1}/10 requests`));
    expect(stdout.lines.join('')).toContain('Verdict: FIX VERIFIED (exit 0)');
    expect(stdout.lines.join('')).not.toContain('probe: 10/10');
  });
});

it('on a terminal, a cli-progress bar instead of lines', () => {
  const out = sink(true);
  const extra = { cursorTo: () => true, clearLine: () => true, moveCursor: () => true, on: () => out, removeListener: () => out };
  const stream = { ...out, ...extra } as unknown as NodeJS.WritableStream;
  const progress = createProgressReporter({ stream, total: 20, durationMs: undefined });
  progress.update(at(10));
  progress.stop();
  expect(out.lines.join('')).toContain('probe [');
});
