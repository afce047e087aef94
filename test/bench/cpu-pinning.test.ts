import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuPlan, isPlan, pin } from '../../bench/lib/cpu-pinning.js';
import { findExecutable } from '../../bench/lib/processes.js';
import { DEFAULT_SCENARIO_OPTIONS, buildScenarios } from '../../bench/lib/scenarios.js';

const TASKSET = '/usr/bin/taskset';

describe('bench CPU placement', () => {
  it('gives the proxy the last core and the load the others', () => {
    expect(cpuPlan(2, TASKSET)).toEqual({ proxy: '1', load: '0', all: '0-1' });
    expect(cpuPlan(4, TASKSET)).toEqual({ proxy: '3', load: '0-2', all: '0-3' });
  });

  it('pins nothing, and says why, on one core or without taskset', () => {
    const one = cpuPlan(1, TASKSET);
    expect(isPlan(one)).toBe(false);
    expect(one).toEqual({ reason: expect.stringContaining('1 CPU') });
    expect(cpuPlan(8, null)).toEqual({ reason: expect.stringContaining('taskset') });
  });

  it('pins the paced scenarios that leave a core for each side, and no other (not the short streams: they need most of one)', () => {
    const pinned = buildScenarios(DEFAULT_SCENARIO_OPTIONS)
      .filter((s) => s.pinned)
      .map((s) => s.id);
    expect(pinned).toEqual(['c1-delay5', 'c64-delay5']);
  });

  it.skipIf(findExecutable('taskset') === undefined)('moves every thread of a running process', async () => {
    // A node child has several threads (V8 platform workers, libuv); all of them must move, not only the main one.
    const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      // Its threads exist once it runs JS.
      await once(child.stdout as NodeJS.ReadableStream, 'data');
      const pid = child.pid as number;
      pin([pid], '0');
      const tasks = readdirSync(`/proc/${pid}/task`);
      expect(tasks.length).toBeGreaterThan(1);
      for (const tid of tasks) {
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        expect(status).toMatch(/^Cpus_allowed_list:\s+0$/m);
      }
      expect(() => pin([pid], '4096')).toThrow();
    } finally {
      child.kill();
    }
  });
});
