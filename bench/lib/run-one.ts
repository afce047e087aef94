/** One run of `npm run bench`: one configuration, one round of one scenario (bench/run.ts orchestrates the runs). */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { CONFIG_LABELS, type RunningConfig } from './configs.js';
import { scavengeLine, scavengesBetween, type ScavengeTally } from './gc-trace.js';
import { cpuSeconds, PeakRssProbe, snapshot } from './proc-stats.js';
import type { DriverConfig, DriverMessage, DriverResult, HeaderSet } from './protocol.js';
import type { Scenario } from './scenarios.js';
import type { RunSample } from './summary.js';

const KB_TO_MB = 1024 / 1e6;

/** What a run needs of the bench around it. */
export interface RunContext {
  /** Repository root: the driver's cwd. */
  root: string;
  /** Puts the driver on the load cores (a paced scenario's proxy has a core of its own: cpu-pinning.ts). */
  pinLoad(pid: number): void;
  /** Registers a process for the bench to stop on SIGINT; returns the call that forgets it. */
  track(child: { stop(): Promise<void> }): () => void;
}

/** One configuration through one round of one scenario: the driver's result and /proc readings around its window. */
export function runOne(
  ctx: RunContext,
  scenario: Scenario,
  config: RunningConfig,
  round: number,
  simPid: number,
  headerSets: HeaderSet[],
  phase = `r${round}`,
): Promise<RunSample> {
  const driverConfig: DriverConfig = {
    origin: config.origin,
    path: '/v1/chat/completions',
    concurrency: scenario.concurrency,
    warmupSec: scenario.warmupSec,
    durationSec: scenario.durationSec,
    requests: scenario.requests,
    warmupConcurrency: scenario.warmupConcurrency,
    stream: scenario.stream,
    chunks: scenario.chunks,
    chunkDelayMs: scenario.chunkDelayMs,
    chunkBytes: scenario.chunkBytes,
    headerSets,
    requestIdPrefix: `bench-${scenario.id}-${config.name}-${phase}`,
  };
  return new Promise((resolvePromise, reject) => {
    const driver = fork(join(ctx.root, 'bench', 'driver.ts'), [JSON.stringify(driverConfig)], {
      cwd: ctx.root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    if (scenario.pinned && driver.pid !== undefined) ctx.pinLoad(driver.pid);
    const untrack = ctx.track({
      stop: async () => {
        if (driver.exitCode === null) driver.kill('SIGKILL');
      },
    });
    const pids = config.pids();
    const hasProxy = pids.length > 0;
    const probe = new PeakRssProbe(pids);
    let before = { cpuSec: Number.NaN, rssKb: Number.NaN };
    let after = { cpuSec: Number.NaN, rssKb: Number.NaN };
    let peakKb = Number.NaN;
    let upstreamBefore = Number.NaN;
    let upstreamAfter = Number.NaN;
    let scavengesBefore: ScavengeTally | undefined;
    let scavengesAfter: ScavengeTally | undefined;
    let result: DriverResult | undefined;
    let failure: string | undefined;
    driver.on('message', (message: DriverMessage) => {
      switch (message.type) {
        case 'window-open':
          before = snapshot(pids);
          upstreamBefore = cpuSeconds(simPid);
          scavengesBefore = config.scavenges?.();
          if (hasProxy) probe.start();
          break;
        case 'window-close':
          after = snapshot(pids);
          upstreamAfter = cpuSeconds(simPid);
          scavengesAfter = config.scavenges?.();
          if (hasProxy) peakKb = probe.stop();
          break;
        case 'result':
          result = message.result;
          break;
        case 'fatal':
          failure = message.message;
          break;
      }
    });
    driver.once('exit', (code) => {
      untrack();
      if (result === undefined) {
        reject(new Error(`driver for ${scenario.id}/${config.name} failed (exit ${code}): ${failure ?? 'no result'}`));
        return;
      }
      resolvePromise({
        round,
        config: config.name,
        driver: result,
        proxyCpuSec: hasProxy ? after.cpuSec - before.cpuSec : Number.NaN,
        upstreamCpuSec: upstreamAfter - upstreamBefore,
        rssBeforeMb: hasProxy ? before.rssKb * KB_TO_MB : Number.NaN,
        peakRssMb: hasProxy ? peakKb * KB_TO_MB : Number.NaN,
        ...(scavengesBefore !== undefined &&
          scavengesAfter !== undefined && { scavenges: scavengesBetween(scavengesBefore, scavengesAfter) }),
      });
    });
  });
}

/** The progress line of one run (`round` of `rounds`). */
export function progressLine(scenario: Scenario, round: number, rounds: number, sample: RunSample): string {
  const d = sample.driver;
  const cpu = !Number.isFinite(sample.proxyCpuSec)
    ? ''
    : scenario.requests === 1
      ? ` cpu ${(sample.proxyCpuSec / (d.bytes / 1e9)).toFixed(2)} s/GB`
      : ` cpu ${((sample.proxyCpuSec / d.requests) * 1000).toFixed(3)} s/1k`;
  const rss = Number.isFinite(sample.peakRssMb)
    ? ` rss ${sample.peakRssMb.toFixed(0)} MB (+${(sample.peakRssMb - sample.rssBeforeMb).toFixed(1)})`
    : '';
  const gc = sample.scavenges === undefined ? '' : ` gc ${scavengeLine(sample.scavenges, d.requests)}`;
  const bad = d.errors + d.incomplete > 0 ? ` ERRORS ${d.errors} incomplete ${d.incomplete}: ${d.errorSamples[0] ?? ''}` : '';
  return (
    `  [${scenario.id} r${round + 1}/${rounds}] ${CONFIG_LABELS[sample.config].padEnd(15)} ` +
    `${d.requestsPerSec.toFixed(1).padStart(8)} req/s  ${(d.bytesPerSec / 1e6).toFixed(1).padStart(7)} MB/s  ` +
    `ttfc p50 ${d.ttfcP50.toFixed(2)} ms  total p99 ${d.totalP99.toFixed(1)} ms${cpu}${rss}${gc}${bad}`
  );
}
