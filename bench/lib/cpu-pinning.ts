/**
 * Gives the proxy under test a core of its own in the paced scenarios, and the load (driver, simulated router,
 * OTLP receiver) the others.
 *
 * Why: on a small machine the scheduler moves the proxy between cores it shares with the load generator, and what
 * one request costs in CPU then moves with whoever ran on that core before (cold caches, migrations): measured on
 * the 2-core bench machine, c64-delay5 unpinned gave per-request CPU ratios of 0.80–1.53 for the same two builds in
 * five interleaved rounds. Pinned, the same rounds agreed within a few percent. Both proxies (bare and crosstalk)
 * get the same core, so their ratio still compares code.
 *
 * Only the paced scenarios whose load leaves a core for each side are pinned (`Scenario.pinned`). The unpaced ones
 * need every core for whichever process is busiest (a pinned load generator would cap both proxies at its rate and
 * hide the throughput the targets compare); so do c512-delay5, which saturates the machine, and the short streams,
 * whose ~750 requests a second take most of a core.
 *
 * `taskset -a -p` moves every thread of a running process (libuv, V8's helper threads); threads it starts later
 * inherit the mask.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { findExecutable } from './processes.js';

export interface CpuPlan {
  /** `taskset -c` list for the proxy under test (its own core). */
  readonly proxy: string;
  /** The other cores: driver, simulated router, OTLP receiver. */
  readonly load: string;
  /** Every core: where the load goes back to after a pinned scenario. */
  readonly all: string;
}

/** The plan for this machine, or why there is none (then nothing is pinned). */
export function cpuPlan(
  cpuCount = cpus().length,
  taskset: string | null = findExecutable('taskset') ?? null,
): CpuPlan | { reason: string } {
  if (cpuCount < 2) return { reason: `${cpuCount} CPU: nothing to give the proxy on its own` };
  if (taskset === null) return { reason: 'taskset is not installed (util-linux)' };
  const last = cpuCount - 1;
  return { proxy: String(last), load: last === 1 ? '0' : `0-${last - 1}`, all: `0-${last}` };
}

export function isPlan(plan: CpuPlan | { reason: string }): plan is CpuPlan {
  return 'proxy' in plan;
}

/** Sets the CPU affinity of every thread of each process. Throws with taskset's message on failure. */
export function pin(pids: readonly number[], cpuList: string): void {
  for (const pid of pids) {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}
