import { expect, it } from 'vitest';
import { CATEGORIES } from './corpus-cases.js';
import { score } from './corpus.js';

/** Instances per category (each from its own seed). */
const SEEDS = [1, 2, 3, 4, 5];

// Per category: every victim flagged (recall 1.0) and not one innocent flagged, over every seed. The table of
// figures is printed for the closing note.
const rows: string[] = [];

it.each(Object.keys(CATEGORIES))('corpus category %s: recall 1.0 and zero false positives', (name) => {
  const build = CATEGORIES[name] as (seed: number) => Parameters<typeof score>[0];
  let victims = 0;
  let caught = 0;
  let innocents = 0;
  let falseAlarms = 0;
  const misses: string[] = [];
  for (const seed of SEEDS) {
    const flights = build(seed);
    const r = score(flights);
    victims += r.victims;
    caught += r.caught;
    innocents += r.innocents;
    falseAlarms += r.falseAlarms;
    for (const f of flights) {
      const hit = r.flagged.get(f.spec.requestId);
      if (f.spec.victim !== (hit !== undefined)) misses.push(`${seed}:${f.spec.requestId}:${hit?.join('+') ?? 'unflagged'}`);
    }
  }
  rows.push(`${name}\t${caught}/${victims}\t${falseAlarms}/${innocents}`);
  expect(misses).toEqual([]);
  expect(caught).toBe(victims);
  expect(falseAlarms).toBe(0);
  if (rows.length === Object.keys(CATEGORIES).length) console.log(`category\trecall\tfalse positives\n${rows.join('\n')}`);
});
