import { describe, expect, it } from 'vitest';
import { roundRatios } from '../../bench/lib/stats.js';
import { summarise, type RunSample } from '../../bench/lib/summary.js';
import { scenarioTable } from '../../bench/lib/report.js';
import type { ConfigName } from '../../bench/lib/configs.js';
import type { DriverResult } from '../../bench/lib/protocol.js';

const rounds = (...values: number[]) => values.map((value, round) => ({ round, value }));

describe('roundRatios', () => {
  it('divides round by round, so a slow round cancels where median ÷ median keeps it', () => {
    // Round 2 ran on a machine twice as slow for both: each round's ratio is 1.2.
    const r = roundRatios(rounds(1.2, 1.2, 2.4), rounds(1, 1, 2));
    expect(r).toEqual({ median: 1.2, min: 1.2, max: 1.2, rounds: 3 });
  });

  it('pairs by round number, skips rounds one side lacks and non-finite values', () => {
    const values = [
      { round: 0, value: 3 },
      { round: 1, value: Number.NaN },
      { round: 2, value: 4 },
      { round: 5, value: 9 },
    ];
    const reference = [
      { round: 2, value: 2 },
      { round: 0, value: 2 },
      { round: 1, value: 1 },
    ];
    expect(roundRatios(values, reference)).toEqual({ median: 1.75, min: 1.5, max: 2, rounds: 2 });
  });

  it('is undefined when no round has both', () => {
    expect(roundRatios(rounds(1, 2), [])).toBeUndefined();
    expect(roundRatios([{ round: 1, value: 1 }], [{ round: 0, value: 1 }])).toBeUndefined();
  });
});

function driver(requests: number): DriverResult {
  return {
    requests,
    sent: requests,
    completed: requests,
    ok: requests,
    errors: 0,
    incomplete: 0,
    errorSamples: [],
    windowSec: 1,
    requestsPerSec: requests,
    chunksPerSec: 0,
    bytesPerSec: 0,
    bytes: 0,
    ttfcP50: 1,
    ttfcP99: 1,
    totalP50: 1,
    totalP99: 1,
  };
}

function sample(config: ConfigName, round: number, cpuSec: number): RunSample {
  return { round, config, driver: driver(1000), proxyCpuSec: cpuSec, upstreamCpuSec: 0, rssBeforeMb: 100, peakRssMb: 110 };
}

describe('summarise: CPU round by round', () => {
  // CPU seconds per round (1,000 requests each): round 1 ran on a machine twice as slow for every configuration.
  const cpu: Partial<Record<ConfigName, number[]>> = {
    bare: [1, 2, 1],
    sidecar: [1.3, 2.2, 1.25],
    'sidecar-base': [1.2, 2.4, 1.25],
    'sidecar-noinspect': [1.04, 2, 1.1],
  };
  const samples = [0, 1, 2].flatMap((round) =>
    Object.entries(cpu).map(([config, secs]) => sample(config as ConfigName, round, secs[round] as number)),
  );
  const summary = summarise(samples, {});
  const of = (name: ConfigName) => summary.find((c) => c.config === name);

  it('gives the sidecar its ratio to bare and to the base build, per round', () => {
    const sidecar = of('sidecar')?.cpuByRound;
    expect(sidecar?.bare?.rounds).toBe(3);
    expect(sidecar?.bare?.median).toBeCloseTo(1.25, 10);
    expect(sidecar?.bare?.min).toBeCloseTo(1.1, 10);
    expect(sidecar?.bare?.max).toBeCloseTo(1.3, 10);
    expect(sidecar?.base?.median).toBeCloseTo(1.0, 10);
    expect(sidecar?.base?.min).toBeCloseTo(2.2 / 2.4, 10);
    // ÷ crosstalk -inspect: what detection costs (1.25, 1.1, 1.136… per round).
    expect(sidecar?.noinspect?.median).toBeCloseTo(1.25 / 1.1, 10);
    expect(sidecar?.noinspect?.min).toBeCloseTo(1.1, 10);
    expect(sidecar?.noinspect?.max).toBeCloseTo(1.25, 10);
    // median ÷ median differs: the slow round 1 moved both medians.
    expect(of('sidecar')?.vsBare.cpuSecPer1k).toBeCloseTo(1.3, 10);
  });

  it('gives bare none, and the base build and crosstalk -inspect only their ratio to bare', () => {
    expect(of('bare')?.cpuByRound).toEqual({});
    expect(Object.keys(of('sidecar-base')?.cpuByRound ?? {})).toEqual(['bare']);
    expect(Object.keys(of('sidecar-noinspect')?.cpuByRound ?? {})).toEqual(['bare']);
  });

  it('prints the line under the scenario table', () => {
    const lines = scenarioTable({
      id: 'c64-delay5',
      title: 't',
      scenario: { requests: undefined } as never,
      configs: summary,
    });
    expect(lines).toContain(
      '  CPU s/1k of crosstalk, round by round: ÷ bare 1.25x (1.10–1.30x over 3 rounds); ÷ crosstalk (base) 1.00x (0.92–1.08x over 3 rounds); ÷ crosstalk -inspect 1.14x (1.10–1.25x over 3 rounds)',
    );
  });
});
