/**
 * Live progress on stderr: a cli-progress bar on a terminal, else a plain line at each tenth of the run (or every
 * few seconds when only --duration bounds it), so CI logs stay readable. stdout stays for the report.
 */
import { SingleBar } from 'cli-progress';

export interface ProbeProgress {
  done: number;
  /** Requests planned; undefined when only the duration bounds the run. */
  total: number | undefined;
  crosstalk: number;
  failed: number;
  echoMatch: number;
  elapsedMs: number;
  durationMs: number | undefined;
}

export interface ProgressReporter {
  update(progress: ProbeProgress): void;
  /** Prints the last state (plain mode) or clears the bar's line (terminal). */
  stop(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  total: number | undefined;
  durationMs: number | undefined;
  /** Plain mode, duration-bounded runs: at most one line per this many ms. */
  intervalMs?: number;
  now?: () => number;
}

export const PLAIN_LINES_PER_RUN = 10;
export const DEFAULT_PLAIN_INTERVAL_MS = 5_000;

export function progressLine(p: ProbeProgress): string {
  const of = p.total === undefined ? '' : `/${p.total}`;
  const time = `${(p.elapsedMs / 1000).toFixed(1)}s${p.durationMs === undefined ? '' : `/${Math.round(p.durationMs / 1000)}s`}`;
  return `probe: ${p.done}${of} requests, ${p.crosstalk} crosstalk, ${p.failed} failed, ${p.echoMatch} echo matched, ${time}`;
}

class PlainProgress implements ProgressReporter {
  private last: ProbeProgress | undefined;
  private printed: ProbeProgress | undefined;
  private lastAt = 0;
  private readonly every: number | undefined;

  constructor(private readonly options: ProgressOptions) {
    const total = options.total;
    this.every = total === undefined || !Number.isFinite(total) ? undefined : Math.max(1, Math.ceil(total / PLAIN_LINES_PER_RUN));
  }

  update(p: ProbeProgress): void {
    this.last = p;
    const now = (this.options.now ?? Date.now)();
    const due =
      this.every !== undefined
        ? p.done > 0 && p.done % this.every === 0
        : now - this.lastAt >= (this.options.intervalMs ?? DEFAULT_PLAIN_INTERVAL_MS);
    if (!due) return;
    this.lastAt = now;
    this.print(p);
  }

  stop(): void {
    if (this.last !== undefined && this.last !== this.printed) this.print(this.last);
  }

  private print(p: ProbeProgress): void {
    this.printed = p;
    this.options.stream.write(`${progressLine(p)}\n`);
  }
}

class BarProgress implements ProgressReporter {
  private readonly bar: SingleBar;
  private readonly byTime: boolean;

  constructor(options: ProgressOptions) {
    this.byTime = options.total === undefined || !Number.isFinite(options.total);
    const counter = this.byTime ? '{done} requests | {elapsed}s/{total}s' : '{value}/{total} requests';
    this.bar = new SingleBar({
      stream: options.stream,
      format: `probe [{bar}] ${counter} | crosstalk {crosstalk} | failed {failed} | echo matched {echoMatch}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    });
    const total = this.byTime ? Math.max(1, Math.round((options.durationMs ?? 0) / 1000)) : (options.total as number);
    this.bar.start(total, 0, { done: 0, elapsed: 0, crosstalk: 0, failed: 0, echoMatch: 0 });
  }

  update(p: ProbeProgress): void {
    const elapsed = Math.floor(p.elapsedMs / 1000);
    const payload = { done: p.done, elapsed, crosstalk: p.crosstalk, failed: p.failed, echoMatch: p.echoMatch };
    this.bar.update(this.byTime ? elapsed : p.done, payload);
  }

  stop(): void {
    this.bar.stop();
  }
}

export function createProgressReporter(options: ProgressOptions): ProgressReporter {
  return options.stream.isTTY === true ? new BarProgress(options) : new PlainProgress(options);
}
