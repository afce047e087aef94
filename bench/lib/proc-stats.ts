/**
 * CPU and memory of a process tree from /proc (Linux only): utime+stime in clock ticks, VmRSS, and VmHWM —
 * the peak RSS, which `echo 5 > /proc/<pid>/clear_refs` resets to the current RSS (Linux ≥ 4.0), so a peak can
 * be read per measured window without sampling.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const PAGE_KB_FIELDS = /^(VmRSS|VmHWM):\s+(\d+) kB$/gm;

let clockTicks: number | undefined;

/** `getconf CLK_TCK` (100 on every mainstream Linux), read once. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process, in seconds; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / clockTicksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export interface MemoryKb {
  rssKb: number;
  hwmKb: number;
}

export function memoryKb(pid: number): MemoryKb {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const out: MemoryKb = { rssKb: Number.NaN, hwmKb: Number.NaN };
    for (const m of status.matchAll(PAGE_KB_FIELDS)) {
      if (m[1] === 'VmRSS') out.rssKb = Number(m[2]);
      else out.hwmKb = Number(m[2]);
    }
    return out;
  } catch {
    return { rssKb: Number.NaN, hwmKb: Number.NaN };
  }
}

/** Resets the peak-RSS mark to the current RSS; false when the kernel or permissions refuse. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Direct children of a process (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

export interface TreeSnapshot {
  cpuSec: number;
  rssKb: number;
}

/** Sum over the pids of CPU seconds and current RSS. */
export function snapshot(pids: readonly number[]): TreeSnapshot {
  let cpuSec = 0;
  let rssKb = 0;
  for (const pid of pids) {
    cpuSec += cpuSeconds(pid);
    rssKb += memoryKb(pid).rssKb;
  }
  return { cpuSec, rssKb };
}

/**
 * Peak RSS of a set of processes over a window: VmHWM after a reset when the kernel allows it, and a 50 ms VmRSS
 * sampler as well (the larger of the two is reported; the sampler alone can miss a short spike).
 */
export class PeakRssProbe {
  #timer: NodeJS.Timeout | undefined;
  #sampledPeakKb = 0;
  #hwmUsable = true;

  constructor(private readonly pids: readonly number[]) {}

  start(): void {
    for (const pid of this.pids) this.#hwmUsable = resetPeakRss(pid) && this.#hwmUsable;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 50);
    this.#timer.unref();
  }

  /** Peak RSS over the window in kB (sum over the processes). */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    let hwm = 0;
    for (const pid of this.pids) hwm += memoryKb(pid).hwmKb;
    return this.#hwmUsable && Number.isFinite(hwm) ? Math.max(hwm, this.#sampledPeakKb) : this.#sampledPeakKb;
  }

  #sample(): void {
    const rss = snapshot(this.pids).rssKb;
    if (rss > this.#sampledPeakKb) this.#sampledPeakKb = rss;
  }
}
