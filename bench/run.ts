/**
 * `npm run bench`: what the sidecar costs, measured against the alternatives on loopback, in one run.
 *
 *   npm run bench                       # all scenarios, 3 interleaved rounds (~15 min)
 *   npm run bench -- --quick            # 1 round, shorter windows, 256 MiB big stream (~2-3 min)
 *   npm run bench -- --only c64         # scenarios whose id starts with c64 (comma-separated list)
 *   npm run bench -- --configs bare,sidecar --rounds 5 --duration 5 --cpu-prof --no-build --no-audit
 *
 * Processes: the simulated router (upstream), an OTLP receiver, each proxy, and the load generator
 * (bench/driver.ts) all run as separate processes; this runner only orchestrates and reads /proc. Proxies start
 * fresh for every scenario; within a scenario the configurations take turns round by round, in a rotating order,
 * and every figure reported is the median over rounds. See bench/README.md for how to read the output.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_LABELS, configUnavailable, startConfig, type ConfigEnv, type ConfigName, type RunningConfig } from './lib/configs.js';
import { formatSelfTime, selfTimeByOwner, topSelfTime } from './lib/cpu-profile.js';
import { runAuditSection } from './lib/audit-section.js';
import { checkGoals } from './lib/goals.js';
import { replicasTable, runReplicasSection } from './lib/replicas-section.js';
import { findExecutable, readyLine, spawnChild, type Child } from './lib/processes.js';
import { cpuPlan, isPlan, pin } from './lib/cpu-pinning.js';
import type { HeaderSet } from './lib/protocol.js';
import { goalsTable, scenarioTable } from './lib/report.js';
import { pacedWindowSec, SETTLE_MIN_CONCURRENCY, type Scenario } from './lib/scenarios.js';
import { parseRunOptions, usage, type RunOptions } from './lib/run-options.js';
import { progressLine, runOne, type RunContext } from './lib/run-one.js';
import { summarise, type ColdStart, type RunSample, type ScenarioSummary } from './lib/summary.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const PROFILES_DIR = join(RESULTS_DIR, 'profiles');
/** Lets sockets close and the proxies' GC settle between two runs. */
const PAUSE_BETWEEN_RUNS_MS = 300;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

// ---------- options (bench/lib/run-options.ts) ----------

const parsed = parseRunOptions(process.argv.slice(2), ROOT);
if (parsed === 'help') {
  console.log(usage());
  process.exit(0);
}
const options: RunOptions = parsed;
const { rounds, scenarioOptions, scenarios, auditWanted, replicasWanted, outFile, sidecarCli, baseCli, nodeFlags } = options;
const requestedConfigs = options.configs;
/** Where the paced scenarios put the proxy and the load (bench/lib/cpu-pinning.ts); a reason when nowhere. */
const cpuPlacement = options.noPin ? { reason: '--no-pin' } : cpuPlan();

// ---------- process bookkeeping ----------

const children = new Set<{ stop(): Promise<void> }>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`\n${signal}: stopping the bench's processes`);
    void Promise.allSettled([...children].map((c) => c.stop())).then(() => process.exit(130));
  });
}

function track<T extends { stop(): Promise<void> }>(child: T): T {
  children.add(child);
  return child;
}

async function stopTracked(child: { stop(): Promise<void> }): Promise<void> {
  await child.stop();
  children.delete(child);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------- one run (bench/lib/run-one.ts) ----------

const runContext: RunContext = {
  root: ROOT,
  pinLoad: (pid) => {
    if (isPlan(cpuPlacement)) pin([pid], cpuPlacement.load);
  },
  track: (child) => {
    track(child);
    return () => children.delete(child);
  },
};
const progress = (scenario: Scenario, round: number, sample: RunSample): void => log(progressLine(scenario, round, rounds, sample));

// ---------- helpers run once ----------

function build(): void {
  log('building the sidecar (npm run build) …');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    throw new Error('npm run build failed; fix the build or rerun with --no-build to measure dist/ as it is');
  }
}

function gitDescribe(): { commit: string; dirty: boolean } | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return undefined;
  }
}

function nginxVersion(): string | undefined {
  const binary = findExecutable('nginx');
  if (binary === undefined) return undefined;
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return (out.stderr || out.stdout).trim();
}

interface ReceiverStats {
  exports: number;
  bytes: number;
  spans: number;
}

async function receiverStats(url: string): Promise<ReceiverStats> {
  const res = await fetch(`${url}/stats`);
  return (await res.json()) as ReceiverStats;
}

// ---------- a scenario: fresh proxies, settled, then interleaved rounds ----------

/**
 * Before round 1, each fresh node proxy serves `settleRequests` of the scenario's requests (why: the
 * `settleRequests` option in scenarios.ts), one configuration after another, each alone on its core as in the
 * rounds. What that cost is the cold start, reported beside the medians and never in them.
 */
async function settle(
  scenario: Scenario,
  running: readonly RunningConfig[],
  simPid: number,
  headerSets: HeaderSet[],
): Promise<ColdStart | undefined> {
  if (scenario.settleRequests === 0) return undefined;
  const shape: Scenario = {
    ...scenario,
    requests: scenario.settleRequests,
    warmupSec: 0,
    warmupConcurrency: undefined,
    concurrency: Math.max(scenario.concurrency, SETTLE_MIN_CONCURRENCY),
  };
  const cold: ColdStart = { requests: scenario.settleRequests, concurrency: shape.concurrency, configs: [] };
  for (const config of running) {
    if (!config.node || interrupted) continue;
    const sample = await runOne(runContext, shape, config, -1, simPid, headerSets, 'settle');
    const d = sample.driver;
    const cpuSecPer1k = (sample.proxyCpuSec / d.requests) * 1000;
    const entry = { config: config.name, sent: d.sent, seconds: d.windowSec, cpuSecPer1k, errors: d.errors };
    cold.configs.push(entry);
    log(
      `  [${scenario.id} settle] ${CONFIG_LABELS[config.name].padEnd(15)} ${d.requests.toFixed(0)} requests in ${d.windowSec.toFixed(1)} s ` +
        `at concurrency ${shape.concurrency}: cpu ${cpuSecPer1k.toFixed(3)} s/1k (cold start, not in the medians)` +
        `${d.errors > 0 ? ` ERRORS ${d.errors}: ${d.errorSamples[0] ?? ''}` : ''}`,
    );
    await sleep(PAUSE_BETWEEN_RUNS_MS);
  }
  return cold;
}

async function runScenario(
  scenario: Scenario,
  env: ConfigEnv,
  simPid: number,
  headerSets: HeaderSet[],
  loadPids: readonly number[],
): Promise<ScenarioSummary> {
  const pinning = scenario.pinned && isPlan(cpuPlacement) ? cpuPlacement : undefined;
  log(`\n${scenario.id}: ${scenario.title}${pinning ? ` (proxy on CPU ${pinning.proxy}, load on ${pinning.load})` : ''}`);
  if (pinning) pin(loadPids, pinning.load);
  const skipped: string[] = [];
  const running: RunningConfig[] = [];
  for (const name of requestedConfigs) {
    const unavailable = configUnavailable(name, env);
    if (unavailable !== undefined) {
      skipped.push(`${CONFIG_LABELS[name]}: ${unavailable}`);
      continue;
    }
    try {
      const started = track(await startConfig(name, env));
      running.push(started);
      if (pinning) pin(started.pids(), pinning.proxy);
    } catch (err) {
      skipped.push(`${CONFIG_LABELS[name]}: failed to start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      log(`  ${name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const receiverBefore = await receiverStats(env.receiverUrl);
  let coldStart: ColdStart | undefined;
  const samples: RunSample[] = [];
  const extras: Partial<Record<ConfigName, Record<string, unknown>>> = {};
  try {
    coldStart = await settle(scenario, running, simPid, headerSets);
    for (let round = 0; round < rounds && !interrupted; round++) {
      // Rotate the order every round so no configuration always runs first (or right after the heaviest one).
      const order = running.map((_, i) => running[(i + round) % running.length] as RunningConfig);
      for (const config of order) {
        const sample = await runOne(runContext, scenario, config, round, simPid, headerSets);
        samples.push(sample);
        progress(scenario, round, sample);
        await sleep(PAUSE_BETWEEN_RUNS_MS);
      }
    }
  } finally {
    for (const config of running) extras[config.name] = await config.extras();
    // Stopping the sidecar flushes its span queue, so the receiver's count below is complete.
    for (const config of running) await stopTracked(config);
    if (pinning) pin(loadPids, pinning.all);
  }
  const receiverAfter = await receiverStats(env.receiverUrl);
  const summary: ScenarioSummary = {
    id: scenario.id,
    title: scenario.title,
    scenario,
    configs: summarise(samples, extras),
  };
  if (running.some((c) => c.name === 'sidecar')) {
    summary.tracing = {
      spansReceived: receiverAfter.spans - receiverBefore.spans,
      requestsSent:
        samples.filter((s) => s.config === 'sidecar').reduce((n, s) => n + s.driver.sent, 0) +
        (coldStart?.configs.find((c) => c.config === 'sidecar')?.sent ?? 0),
      exportBytes: receiverAfter.bytes - receiverBefore.bytes,
    };
  }
  if (coldStart !== undefined) summary.coldStart = coldStart;
  if (skipped.length > 0) summary.skipped = skipped;
  return summary;
}

// ---------- --cpu-prof ----------

/** The main thread's profile of each process directory written by this run (the largest file in it). */
function reportProfiles(dir: string, before: ReadonlySet<string>): void {
  const fresh = readdirSync(dir).filter((d) => !before.has(d));
  for (const sub of fresh) {
    const files = readdirSync(join(dir, sub))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ f, size: statSync(join(dir, sub, f)).size }))
      .sort((a, b) => b.size - a.size);
    const main = files[0];
    if (main === undefined) continue;
    const path = join(dir, sub, main.f);
    log(`\nself time in ${relative(ROOT, path)} (start-up included), by package / file:`);
    for (const line of formatSelfTime(selfTimeByOwner(path))) log(`  ${line}`);
    log('  top functions:');
    for (const line of formatSelfTime(topSelfTime(path, 15))) log(`  ${line}`);
  }
  if (fresh.length > 0) log(`\nprofiles in ${relative(ROOT, dir)}/ (not committed)`);
}

// ---------- main ----------

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Read before building: the tree being measured, not whatever others committed while the bench ran.
  const source = gitDescribe() ?? null;
  const needsDist = (scenarios.length > 0 && requestedConfigs.some((c) => c.startsWith('sidecar'))) || replicasWanted;
  if (needsDist && !options.noBuild && !options.sidecarCliGiven) build();
  if (needsDist && !existsSync(sidecarCli)) throw new Error(`${sidecarCli} is missing: run npm run build`);
  if (baseCli !== undefined && !existsSync(baseCli)) throw new Error(`--base-cli: ${baseCli} is missing`);
  const cpuProfDir = options.cpuProf ? PROFILES_DIR : undefined;
  if (cpuProfDir !== undefined) mkdirSync(cpuProfDir, { recursive: true });
  const profilesBefore = new Set(cpuProfDir === undefined ? [] : readdirSync(cpuProfDir));

  const sim: Child = track(spawnChild('sim', process.execPath, ['--import', 'tsx', 'bench/lib/sim-server.ts', '0'], { cwd: ROOT }));
  const receiver: Child = track(
    spawnChild('otlp-receiver', process.execPath, ['--import', 'tsx', 'bench/lib/otlp-receiver.ts', '0'], { cwd: ROOT }),
  );
  const simReady = await readyLine<{ url: string; pid: number; headerSets: HeaderSet[] }>(sim);
  const receiverReady = await readyLine<{ url: string }>(receiver);
  const env: ConfigEnv = {
    root: ROOT,
    simUrl: simReady.url,
    receiverUrl: receiverReady.url,
    cpuProfDir,
    gcTrace: options.gc,
    sidecarCli,
    baseCli,
    nodeFlags,
  };
  log(`upstream ${simReady.url} (pid ${sim.pid}), OTLP receiver ${receiverReady.url}; ${rounds} round(s); ${scenarios.length} scenario(s)`);

  const summaries: ScenarioSummary[] = [];
  try {
    for (const scenario of scenarios) {
      if (interrupted) break;
      summaries.push(await runScenario(scenario, env, sim.pid, simReady.headerSets, [sim.pid, receiver.pid]));
    }
  } finally {
    await stopTracked(sim);
    await stopTracked(receiver);
  }

  const audit = await runAuditSection({ root: ROOT, wanted: auditWanted, skipNote: options.noAudit ? '--no-audit' : 'not in --only', quick: options.quick, log });
  const replicas = runReplicasSection({
    root: ROOT,
    wanted: replicasWanted && !interrupted,
    skipNote: options.noReplicas ? '--no-replicas' : 'not in --only',
    cli: sidecarCli,
    durationSec: options.quick ? 3 : 10,
    log,
  });
  const goals = checkGoals(summaries, audit.measure);
  const elapsedSec = (Date.now() - started) / 1000;

  const lines: string[] = [];
  lines.push(
    `crosstalk bench — ${cpus().length} CPU(s), node ${process.version}, ${rounds} round(s), ` +
      `${scenarioOptions.warmupSec}s warm-up + ${scenarioOptions.durationSec}s windows (paced: ${pacedWindowSec(scenarioOptions)}s); ` +
      `node proxies run with ${nodeFlags.length === 0 ? "node's default flags" : nodeFlags.join(' ')}; ratios are median ÷ median (CPU also round by round); ` +
      (isPlan(cpuPlacement) ? `paced scenarios: proxy on CPU ${cpuPlacement.proxy}, load on ${cpuPlacement.load}` : `no CPU pinning (${cpuPlacement.reason})`),
  );
  for (const s of summaries) lines.push('', ...scenarioTable(s));
  lines.push('', `── audit: ${audit.status}${audit.measure ? ` — all checks ${audit.measure.seconds.toFixed(2)} s` : ''} (${audit.note})`);
  lines.push('', ...replicasTable(replicas));
  lines.push('', ...goalsTable(goals), '', `elapsed ${elapsedSec.toFixed(0)} s; JSON: ${relative(ROOT, outFile)}`);
  console.log(lines.join('\n'));

  const report = {
    generatedAt: new Date().toISOString(),
    elapsedSec,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      totalMemGb: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      node: process.version,
      nginx: nginxVersion() ?? null,
    },
    source,
    options: {
      rounds,
      quick: options.quick,
      ...scenarioOptions,
      configs: requestedConfigs,
      cpuProf: options.cpuProf,
      pinning: isPlan(cpuPlacement)
        ? { scenarios: scenarios.filter((s) => s.pinned).map((s) => s.id), proxyCpus: cpuPlacement.proxy, loadCpus: cpuPlacement.load }
        : { off: cpuPlacement.reason },
      sidecarCli: relative(ROOT, sidecarCli),
      ...(baseCli !== undefined && { baseCli }),
      nodeFlags,
    },
    units: {
      requestsPerSec: 'requests per second (each request counted by its share inside the window)',
      chunksPerSec: 'SSE events received per second',
      mbPerSec: 'MB (10^6 bytes) of response body per second',
      ttfcP50: 'ms, request sent → first body byte',
      totalP50: 'ms, request sent → end of body',
      peakRssMb: 'MB (10^6 bytes), peak RSS of the proxy processes inside the window',
      rssGrowthMb: 'MB, peak RSS inside the window − RSS when it opened',
      cpuSecPer1k: 'CPU seconds (user+sys) of the proxy processes per 1,000 requests',
      cpuSecPerGb: 'CPU seconds of the proxy processes per GB (10^9 bytes) of response body',
      upstreamCpuSecPer1k: 'CPU seconds of the simulated router per 1,000 requests',
      vsDirect: 'median ÷ direct median',
      vsBare: 'median ÷ bare http-proxy median',
      cpuByRound:
        'CPU s/1k ÷ bare http-proxy (bare), the --base-cli build (base) or crosstalk with --inspection off (noinspect) in the same round; median and range over rounds',
    },
    scenarios: summaries,
    audit,
    replicas,
    goals,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(report, jsonSafe, 2)}\n`);

  if (cpuProfDir !== undefined) reportProfiles(cpuProfDir, profilesBefore);
}

main().catch(async (err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await Promise.allSettled([...children].map((c) => c.stop()));
  process.exit(1);
});
