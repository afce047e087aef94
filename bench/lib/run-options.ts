/**
 * `npm run bench`'s command line: flags, their defaults and checks, turned into what one run needs
 * (bench/run.ts orchestrates it). `--help` prints {@link usage}.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';
import { CONFIG_NAMES, DEFAULT_CONFIGS, type ConfigName } from './configs.js';
import { buildScenarios, DEFAULT_SCENARIO_OPTIONS, QUICK_SCENARIO_OPTIONS, type Scenario, type ScenarioOptions } from './scenarios.js';

export const DEFAULT_ROUNDS = 3;

export interface RunOptions {
  quick: boolean;
  rounds: number;
  scenarioOptions: ScenarioOptions;
  /** The scenarios `--only` selects (all when absent). */
  scenarios: Scenario[];
  /** The audit section runs with every scenario, or when `--only` names it; `noAudit`: --no-audit said so. */
  auditWanted: boolean;
  noAudit: boolean;
  /** The replicas section (issue 17) likewise. */
  replicasWanted: boolean;
  noReplicas: boolean;
  configs: ConfigName[];
  outFile: string;
  sidecarCli: string;
  /** --sidecar-cli was given: another build, so `npm run build` does not run first. */
  sidecarCliGiven: boolean;
  baseCli: string | undefined;
  cpuProf: boolean;
  /** --gc: node proxies trace their scavenges (gc-trace.ts). */
  gc: boolean;
  noBuild: boolean;
  /** --no-pin: paced scenarios leave the proxy unpinned. */
  noPin: boolean;
  nodeFlags: readonly string[];
}

export function usage(): string {
  return `usage: npm run bench -- [options]
  --quick              1 round, 0.5 s warm-up + 2 s windows, 256 MiB big stream
  --rounds <n>         interleaved rounds per scenario (default ${DEFAULT_ROUNDS}; --quick: 1)
  --warmup <s>         unmeasured seconds before each timed window (default ${DEFAULT_SCENARIO_OPTIONS.warmupSec})
  --settle <n>         requests each fresh node proxy serves before round 1, outside the medians, reported as its
                       cold start (default ${DEFAULT_SCENARIO_OPTIONS.settleRequests}; --quick: 0; 0 turns settling off)
  --duration <s>       measured seconds per timed window (default ${DEFAULT_SCENARIO_OPTIONS.durationSec}; paced scenarios: at least ${DEFAULT_SCENARIO_OPTIONS.pacedDurationSec})
  --only <ids>         comma-separated scenario ids or id prefixes (e.g. c64-nodelay,stream), or audit, replicas
  --configs <names>    any of ${CONFIG_NAMES.join(',')} (default ${DEFAULT_CONFIGS.join(',')};
                       direct and bare are the references; sidecar-notrace = crosstalk with OTEL_TRACES_EXPORTER=none,
                       sidecar-noinspect = crosstalk with --inspection off)
  --big-mib <n>        size of the single big stream in MiB (default 1024; --quick: 256)
  --cpu-prof           run node proxies with --cpu-prof (profiles in bench/results/profiles/, not committed)
  --gc                 run node proxies with --trace-gc-nvp: per run and config, scavenge pause ms per 1k requests
                       and KB promoted / surviving per request (what a proxy keeps alive, steadier than CPU)
  --no-build           use dist/ as it is (default: npm run build first)
  --no-audit           skip the audit section even when bench/audit-bench.ts exists
  --no-replicas        skip the replicas section (bench/two-replicas.ts: one vs two sidecars, with and without
                       --store redis, and --workers 2 vs 1; the Redis rows need REDIS_URL); --only replicas runs it alone
  --no-pin             do not give the proxy a core of its own in the paced scenarios (bench/lib/cpu-pinning.ts)
  --sidecar-cli <file> the sidecar's entry point (default dist/cli.js; another build to A/B a change)
  --base-cli <file>    a baseline build for the sidecar-base configuration: A/B in one run, rounds interleaved
                       (e.g. --configs bare,sidecar,sidecar-base --base-cli /tmp/old/dist/cli.js)
  --node-flags=<flags> node flags of both node proxies (default "${PROXY_NODE_FLAGS.join(' ')}", the sidecar's
                       image's; --node-flags= for node's defaults; write it with "=": the value starts with a dash)
  --out <file>         JSON output (default bench/results/latest.json)`;
}

/** A number flag's value, `fallback` when absent; refused unless `accept` holds, with what it must be. */
function numberFlag(value: string | undefined, name: string, fallback: number, accept: (n: number) => boolean, mustBe: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!accept(n)) throw new Error(`--${name} must be ${mustBe}, got ${JSON.stringify(value)}`);
  return n;
}

function positive(value: string | undefined, name: string, fallback: number): number {
  return numberFlag(value, name, fallback, (n) => Number.isFinite(n) && n > 0, 'a positive number');
}

function count(value: string | undefined, name: string, fallback: number): number {
  return numberFlag(value, name, fallback, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
}

/** The run `argv` asks for (paths resolved against `root`), or `'help'`. Throws on a flag it cannot honour. */
export function parseRunOptions(argv: readonly string[], root: string): RunOptions | 'help' {
  const { values: flags } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      settle: { type: 'string' },
      only: { type: 'string' },
      configs: { type: 'string' },
      'big-mib': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      gc: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'no-audit': { type: 'boolean', default: false },
      'no-replicas': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      'sidecar-cli': { type: 'string' },
      'base-cli': { type: 'string' },
      'node-flags': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (flags.help) return 'help';
  const quick = flags.quick;
  const base: ScenarioOptions = quick ? QUICK_SCENARIO_OPTIONS : DEFAULT_SCENARIO_OPTIONS;
  const scenarioOptions: ScenarioOptions = {
    ...base,
    warmupSec: positive(flags.warmup, 'warmup', base.warmupSec),
    durationSec: positive(flags.duration, 'duration', base.durationSec),
    settleRequests: count(flags.settle, 'settle', base.settleRequests),
    bigBytes: positive(flags['big-mib'], 'big-mib', base.bigBytes / 1024 ** 2) * 1024 ** 2,
  };
  const wanted = flags.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const scenarios = buildScenarios(scenarioOptions).filter(
    (s) => wanted === undefined || wanted.some((w) => s.id === w || s.id.startsWith(w)),
  );
  const auditWanted = !flags['no-audit'] && (wanted === undefined || wanted.includes('audit'));
  const replicasWanted = !flags['no-replicas'] && (wanted === undefined || wanted.includes('replicas'));
  if (scenarios.length === 0 && !auditWanted && !replicasWanted) throw new Error(`--only ${flags.only ?? ''} matches no scenario`);
  const configs = (flags.configs?.split(',').map((s) => s.trim()) ?? [...DEFAULT_CONFIGS]) as ConfigName[];
  for (const name of configs) {
    if (!CONFIG_NAMES.includes(name)) throw new Error(`--configs: unknown configuration ${JSON.stringify(name)}`);
  }
  return {
    quick,
    rounds: Math.round(positive(flags.rounds, 'rounds', quick ? 1 : DEFAULT_ROUNDS)),
    scenarioOptions,
    scenarios,
    auditWanted,
    noAudit: flags['no-audit'],
    replicasWanted,
    noReplicas: flags['no-replicas'],
    configs,
    outFile: resolve(flags.out ?? join(root, 'bench', 'results', 'latest.json')),
    sidecarCli: resolve(root, flags['sidecar-cli'] ?? join('dist', 'cli.js')),
    sidecarCliGiven: flags['sidecar-cli'] !== undefined,
    baseCli: flags['base-cli'] === undefined ? undefined : resolve(root, flags['base-cli']),
    cpuProf: flags['cpu-prof'],
    gc: flags.gc,
    noBuild: flags['no-build'],
    noPin: flags['no-pin'],
    nodeFlags: flags['node-flags'] === undefined ? PROXY_NODE_FLAGS : flags['node-flags'].split(/\s+/).filter((f) => f !== ''),
  };
}
