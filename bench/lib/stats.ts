/** Order statistics for the driver's samples and the runner's rounds. */

/** Nearest-rank percentile of an ascending array (`q` in 0..1); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median of the finite values (mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? (finite[mid] as number) : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
}

/** `value / reference`, NaN when either is missing or the reference is 0. */
export function ratio(value: number, reference: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return Number.NaN;
  return value / reference;
}

/** Per-round ratios of one configuration to another, summarised: the median and the spread. */
export interface RoundRatios {
  median: number;
  min: number;
  max: number;
  /** Rounds in which both had a finite value. */
  rounds: number;
}

/**
 * `value / reference` round by round (only rounds where both ran), then their median and range. Two configurations
 * measured in the same round ran next to each other on the same machine state, so a drift between rounds (a slow
 * minute on a shared VM) cancels in each ratio, where a ratio of the two medians keeps it. Undefined when no round
 * has both.
 */
export function roundRatios(
  values: readonly { round: number; value: number }[],
  reference: readonly { round: number; value: number }[],
): RoundRatios | undefined {
  const byRound = new Map(reference.map((r) => [r.round, r.value]));
  const ratios: number[] = [];
  for (const v of values) {
    const ref = byRound.get(v.round);
    if (ref === undefined) continue;
    const r = ratio(v.value, ref);
    if (Number.isFinite(r)) ratios.push(r);
  }
  if (ratios.length === 0) return undefined;
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios.length };
}
