/**
 * The request schedule, as a pure function of the request's index, so a count-bounded and a time-bounded run
 * follow the same pattern. It reproduces the reported scenario:
 *
 * - per key, bursts of `burst` requests sent back to back, each switching model from the previous one (the
 *   rapid model switch that made the gateway close a session while requests on it were still streaming);
 * - the keys' bursts follow each other, so with `concurrency ≥ burst × keys` every key's burst is in flight at
 *   once, and the keys start on different models (user A on model A while user B is on model B).
 */
export interface PlanShape {
  models: readonly string[];
  /** Number of lanes: one per API key, or one per session of a model when no key is given. */
  lanes: number;
  burst: number;
}

export interface PlannedSlot {
  index: number;
  lane: number;
  /** The lane's own request counter (0, 1, 2, … for that key). */
  laneSeq: number;
  model: string;
  /** Round of bursts this request belongs to. */
  round: number;
}

export function planSlot(index: number, shape: PlanShape): PlannedSlot {
  const { models, lanes, burst } = shape;
  const perRound = burst * lanes;
  const round = Math.floor(index / perRound);
  const within = index % perRound;
  const lane = Math.floor(within / burst);
  const laneSeq = round * burst + (within % burst);
  const model = models[(laneSeq + lane) % models.length] as string;
  return { index, lane, laneSeq, model, round };
}

/** Request ids and nonces are derived from the run id and the index, so a nonce names the request it belongs to. */
export function probeRequestId(runId: string, index: number): string {
  return `probe-${runId}-${index + 1}`;
}

export function probeNonce(runId: string, index: number): string {
  return `xt-${runId}-${index + 1}`;
}

/** Finds every probe nonce of this run in a text; returns the 0-based indexes they name. */
export function nonceIndexes(runId: string, text: string): number[] {
  const found: number[] = [];
  for (const m of text.matchAll(new RegExp(`xt-${runId}-(\\d{1,9})`, 'g'))) found.push(Number(m[1]) - 1);
  return found;
}

/** The prompt carries the nonce as `nonce:<token>` (the simulated router echoes that form; a model repeats it). */
export function probePrompt(nonce: string): string {
  return `This is a crosstalk probe. Reply with this token exactly and nothing else: nonce:${nonce}`;
}
