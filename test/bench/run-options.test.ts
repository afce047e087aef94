import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUNDS, parseRunOptions, usage, type RunOptions } from '../../bench/lib/run-options.js';
import { coldStartLine } from '../../bench/lib/report.js';
import { DEFAULT_SCENARIO_OPTIONS } from '../../bench/lib/scenarios.js';
import { PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

const ROOT = '/repo';
const parse = (...argv: string[]): RunOptions => {
  const out = parseRunOptions(argv, ROOT);
  if (out === 'help') throw new Error('help');
  return out;
};

describe("npm run bench's options (bench/lib/run-options.ts)", () => {
  it('defaults: every scenario, the default configurations and rounds, the image node flags, dist/cli.js', () => {
    const o = parse();
    expect(o.rounds).toBe(DEFAULT_ROUNDS);
    expect(o.scenarios.length).toBeGreaterThan(5);
    expect([o.auditWanted, o.replicasWanted]).toEqual([true, true]);
    expect([o.cpuProf, o.gc, o.noBuild, o.noPin, o.sidecarCliGiven]).toEqual([false, false, false, false, false]);
    expect(parse('--gc').gc).toBe(true);
    expect(o.nodeFlags).toEqual(PROXY_NODE_FLAGS);
    expect(o.sidecarCli).toBe('/repo/dist/cli.js');
    expect(o.outFile).toBe('/repo/bench/results/latest.json');
  });

  it('--only selects by id or prefix and leaves out the sections it does not name', () => {
    const o = parse('--only', 'c64-delay5,gateway');
    expect(o.scenarios.map((s) => s.id)).toEqual(['c64-delay5', 'gateway-15tok-c64-delay5']);
    expect([o.auditWanted, o.replicasWanted]).toEqual([false, false]);
    expect(parse('--only', 'audit').scenarios).toEqual([]);
    expect(() => parse('--only', 'nothing')).toThrow(/matches no scenario/);
  });

  it('--node-flags= means node defaults; a value is split on spaces; --sidecar-cli and --base-cli resolve against the root', () => {
    expect(parse('--node-flags=').nodeFlags).toEqual([]);
    expect(parse('--node-flags=--max-semi-space-size=64  --trace-gc').nodeFlags).toEqual(['--max-semi-space-size=64', '--trace-gc']);
    const o = parse('--sidecar-cli', 'x/cli.js', '--base-cli', '/tmp/old/dist/cli.js');
    expect([o.sidecarCli, o.sidecarCliGiven, o.baseCli]).toEqual(['/repo/x/cli.js', true, '/tmp/old/dist/cli.js']);
  });

  it('refuses what it cannot honour: unknown configurations, non-positive numbers; --quick is one round', () => {
    expect(() => parse('--configs', 'bare,nope')).toThrow(/unknown configuration "nope"/);
    expect(() => parse('--rounds', '0')).toThrow(/--rounds must be a positive number/);
    expect(() => parse('--duration', 'soon')).toThrow(/--duration must be a positive number/);
    expect(parse('--quick').rounds).toBe(1);
    expect(parseRunOptions(['--help'], ROOT)).toBe('help');
    expect(usage()).toMatch(/^usage: npm run bench/);
  });

  it('--settle: every timed scenario settles each fresh proxy first (default count; 0 = off; --quick: off); fixed-count ones never', () => {
    const timed = (o: RunOptions) => o.scenarios.filter((s) => s.requests === undefined);
    const fixed = (o: RunOptions) => o.scenarios.filter((s) => s.requests !== undefined);
    const o = parse();
    expect(DEFAULT_SCENARIO_OPTIONS.settleRequests).toBeGreaterThan(0);
    expect(timed(o).length).toBeGreaterThan(5);
    expect(timed(o).every((s) => s.settleRequests === DEFAULT_SCENARIO_OPTIONS.settleRequests)).toBe(true);
    expect(fixed(o).length).toBeGreaterThan(0);
    expect(fixed(o).every((s) => s.settleRequests === 0)).toBe(true);
    expect(timed(parse('--settle', '500')).every((s) => s.settleRequests === 500)).toBe(true);
    expect(timed(parse('--settle', '0')).every((s) => s.settleRequests === 0)).toBe(true);
    expect(timed(parse('--quick')).every((s) => s.settleRequests === 0)).toBe(true);
    expect(() => parse('--settle', '1.5')).toThrow(/--settle must be a whole number ≥ 0, got "1.5"/);
    expect(() => parse('--settle=-1')).toThrow(/--settle must be a whole number ≥ 0/);
    expect(usage()).toMatch(/--settle <n>/);
  });

  it('the cold-start line gives each settled proxy its CPU per request and its ratio to bare, and says it is not in the medians', () => {
    const line = coldStartLine({
      requests: 3000,
      concurrency: 64,
      configs: [
        { config: 'bare', sent: 3000, seconds: 25, cpuSecPer1k: 4, errors: 0 },
        { config: 'sidecar', sent: 3000, seconds: 25, cpuSecPer1k: 5, errors: 0 },
      ],
    });
    expect(line).toContain('the first 3000 requests of a fresh process, concurrency 64; not in the medians');
    expect(line).toContain('bare http-proxy 4.000 s/1k, crosstalk 5.000 s/1k (1.25x bare)');
    expect(line).not.toContain('ERRORS');
    // A settling that failed requests says so beside its figure, not only in the progress log.
    const failed = coldStartLine({ requests: 3000, concurrency: 64, configs: [{ config: 'sidecar', sent: 3000, seconds: 25, cpuSecPer1k: 5, errors: 7 }] });
    expect(failed).toContain('crosstalk 5.000 s/1k, 7 ERRORS');
  });
});
