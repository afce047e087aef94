/** Per-run samples → per-scenario medians and ratios to direct and to bare http-proxy. */
import type { DriverResult } from './protocol.js';
import type { Scenario } from './scenarios.js';
import { median, ratio, roundRatios, type RoundRatios } from './stats.js';
import type { ConfigName } from './configs.js';
import { scavengesPerRequest, type ScavengesPerRequest, type ScavengeTally } from './gc-trace.js';

export interface RunSample {
  round: number;
  config: ConfigName;
  driver: DriverResult;
  /** CPU seconds of the proxy's processes inside the window; NaN for direct. */
  proxyCpuSec: number;
  /** CPU seconds of the simulated router inside the window. */
  upstreamCpuSec: number;
  /** RSS of the proxy's processes when the window opened, MB (10^6 bytes); NaN for direct. */
  rssBeforeMb: number;
  /** Peak RSS inside the window, MB (10^6 bytes); NaN for direct. */
  peakRssMb: number;
  /** The node proxy's scavenges inside the window (`--gc` only). */
  scavenges?: ScavengeTally;
}

export const METRICS = [
  'requestsPerSec',
  'chunksPerSec',
  'mbPerSec',
  'ttfcP50',
  'ttfcP99',
  'totalP50',
  'totalP99',
  'peakRssMb',
  'rssGrowthMb',
  'cpuSecPer1k',
  'cpuSecPerGb',
  'upstreamCpuSecPer1k',
] as const;
export type Metric = (typeof METRICS)[number];
export type Metrics = Record<Metric, number>;

/** Whether a larger value is better (ratios above 1 are good) or worse. */
export const HIGHER_IS_BETTER: Record<Metric, boolean> = {
  requestsPerSec: true,
  chunksPerSec: true,
  mbPerSec: true,
  ttfcP50: false,
  ttfcP99: false,
  totalP50: false,
  totalP99: false,
  peakRssMb: false,
  rssGrowthMb: false,
  cpuSecPer1k: false,
  cpuSecPerGb: false,
  upstreamCpuSecPer1k: false,
};

export function sampleMetrics(s: RunSample): Metrics {
  const d = s.driver;
  const per1k = (cpu: number): number => (d.requests > 0 ? (cpu / d.requests) * 1000 : Number.NaN);
  return {
    requestsPerSec: d.requestsPerSec,
    chunksPerSec: d.chunksPerSec > 0 ? d.chunksPerSec : Number.NaN,
    mbPerSec: d.bytesPerSec / 1e6,
    ttfcP50: d.ttfcP50,
    ttfcP99: d.ttfcP99,
    totalP50: d.totalP50,
    totalP99: d.totalP99,
    peakRssMb: s.peakRssMb,
    rssGrowthMb: s.peakRssMb - s.rssBeforeMb,
    cpuSecPer1k: per1k(s.proxyCpuSec),
    cpuSecPerGb: d.bytes > 0 ? s.proxyCpuSec / (d.bytes / 1e9) : Number.NaN,
    upstreamCpuSecPer1k: per1k(s.upstreamCpuSec),
  };
}

/**
 * What crosstalk's CPU is divided by, round by round, beside bare (printed in this order): another build
 * (`--base-cli`) and crosstalk with `--inspection off` (so the ratio is what detection costs).
 */
export const SIDECAR_ROUND_REFERENCES = { base: 'sidecar-base', noinspect: 'sidecar-noinspect' } as const satisfies Record<string, ConfigName>;
export type RoundReference = 'bare' | keyof typeof SIDECAR_ROUND_REFERENCES;

export interface ConfigSummary {
  config: ConfigName;
  rounds: number;
  /** Median over rounds of each metric. */
  median: Metrics;
  /** median / direct's median (NaN where direct has no value, e.g. proxy CPU). */
  vsDirect: Metrics;
  /** median / bare http-proxy's median. */
  vsBare: Metrics;
  /**
   * CPU per request ÷ another configuration's, round by round (see {@link roundRatios}): `bare` against bare
   * http-proxy, `base` against the `--base-cli` build and `noinspect` against crosstalk with `--inspection off`
   * (what detection costs; sidecar only). Absent where that configuration did not run.
   */
  cpuByRound: Partial<Record<RoundReference, RoundRatios>>;
  /** `--gc`: the node proxy's scavenges per request, median over rounds of each figure. */
  scavenges?: ScavengesPerRequest;
  /** Summed over rounds. */
  errors: number;
  incomplete: number;
  completedInWindows: number;
  errorSamples: string[];
  extras: Record<string, unknown>;
  /** Every run, for anyone who wants the spread behind a median. */
  samples: SampleRecord[];
}

export type SampleRecord = Metrics & {
  round: number;
  /** Requests in the window (fractional: each by its share inside it). */
  requestsInWindow: number;
  /** Requests issued, warm-up and drain included. */
  sent: number;
  proxyCpuSec: number;
  errors: number;
  incomplete: number;
  scavenges?: ScavengeTally;
};

/** What each node proxy's settling requests cost before round 1 (bench/run.ts `settle`): its cold start. */
export interface ColdStart {
  requests: number;
  concurrency: number;
    /** `sent`: requests issued (the sidecar's are in the scenario's span count). */
  configs: { config: ConfigName; sent: number; seconds: number; cpuSecPer1k: number; errors: number }[];
}

export interface ScenarioSummary {
  id: string;
  title: string;
  scenario: Scenario;
  configs: ConfigSummary[];
  /** Spans the OTLP receiver got while this scenario's sidecar ran, against the requests it was sent. */
  tracing?: { spansReceived: number; requestsSent: number; exportBytes: number };
  /** The settling before round 1 (absent with `--settle 0` and for fixed-count scenarios). */
  coldStart?: ColdStart;
  skipped?: string[];
}

function mapMetrics(fn: (m: Metric) => number): Metrics {
  const out = {} as Metrics;
  for (const m of METRICS) out[m] = fn(m);
  return out;
}

export function summarise(
  samples: readonly RunSample[],
  extras: Partial<Record<ConfigName, Record<string, unknown>>>,
): ConfigSummary[] {
  // Each sample's metrics once, grouped by configuration (in the order the configurations first ran).
  const byConfig = new Map<ConfigName, { sample: RunSample; metrics: Metrics }[]>();
  for (const sample of samples) {
    const group = byConfig.get(sample.config) ?? [];
    group.push({ sample, metrics: sampleMetrics(sample) });
    byConfig.set(sample.config, group);
  }
  const medians = new Map<ConfigName, Metrics>();
  for (const [name, group] of byConfig) medians.set(name, mapMetrics((m) => median(group.map((x) => x.metrics[m]))));
  const direct = medians.get('direct');
  const bare = medians.get('bare');
  const cpuOf = (name: ConfigName) => (byConfig.get(name) ?? []).map((x) => ({ round: x.sample.round, value: x.metrics.cpuSecPer1k }));
  return [...byConfig].map(([name, group]) => {
    const own = medians.get(name) as Metrics;
    const mine = group.map((x) => x.sample);
    const cpuByRound: ConfigSummary['cpuByRound'] = {};
    if (name !== 'direct' && name !== 'bare') {
      const vsBare = roundRatios(cpuOf(name), cpuOf('bare'));
      if (vsBare !== undefined) cpuByRound.bare = vsBare;
    }
    if (name === 'sidecar') {
      for (const [key, reference] of Object.entries(SIDECAR_ROUND_REFERENCES) as [RoundReference, ConfigName][]) {
        const r = roundRatios(cpuOf(name), cpuOf(reference));
        if (r !== undefined) cpuByRound[key] = r;
      }
    }
    const traced = mine.flatMap((s) => (s.scavenges === undefined ? [] : [scavengesPerRequest(s.scavenges, s.driver.requests)]));
    return {
      config: name,
      rounds: mine.length,
      median: own,
      vsDirect: mapMetrics((m) => (direct === undefined ? Number.NaN : ratio(own[m], direct[m]))),
      vsBare: mapMetrics((m) => (bare === undefined ? Number.NaN : ratio(own[m], bare[m]))),
      cpuByRound,
      ...(traced.length > 0 && {
        scavenges: {
          pauseMsPer1k: median(traced.map((t) => t.pauseMsPer1k)),
          promotedKbPerRequest: median(traced.map((t) => t.promotedKbPerRequest)),
          survivedKbPerRequest: median(traced.map((t) => t.survivedKbPerRequest)),
        },
      }),
      errors: mine.reduce((n, s) => n + s.driver.errors, 0),
      incomplete: mine.reduce((n, s) => n + s.driver.incomplete, 0),
      completedInWindows: mine.reduce((n, s) => n + s.driver.completed, 0),
      errorSamples: [...new Set(mine.flatMap((s) => s.driver.errorSamples))].slice(0, 5),
      extras: extras[name] ?? {},
      samples: group.map(({ sample: s, metrics }) => ({
        round: s.round,
        ...metrics,
        requestsInWindow: s.driver.requests,
        sent: s.driver.sent,
        proxyCpuSec: s.proxyCpuSec,
        errors: s.driver.errors,
        incomplete: s.driver.incomplete,
        ...(s.scavenges !== undefined && { scavenges: s.scavenges }),
      })),
    };
  });
}
