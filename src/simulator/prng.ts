import { createHash, randomBytes } from 'node:crypto';

/** A small seedable PRNG: every random choice the simulator makes goes through one, so a seed replays a run. */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** `length` lower-case hex characters. */
  hex(length: number): string;
}

/** Turns a number or string seed into 32 bits; no seed draws one from the OS. */
function seedBits(seed: number | string | undefined): number {
  if (seed === undefined) return randomBytes(4).readUInt32LE(0);
  if (typeof seed === 'number' && Number.isInteger(seed)) return seed >>> 0;
  return createHash('sha256').update(String(seed)).digest().readUInt32LE(0);
}

/**
 * mulberry32 (Tommy Ettinger, public domain): one 32-bit state word, fast, and good enough for test data.
 * Not for anything security-sensitive.
 */
export function createPrng(seed?: number | string): Prng {
  let state = seedBits(seed);
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next: () => u32() / 0x1_0000_0000,
    int: (maxExclusive) => Math.floor((u32() / 0x1_0000_0000) * maxExclusive),
    hex: (length) => {
      let out = '';
      while (out.length < length) out += u32().toString(16).padStart(8, '0');
      return out.slice(0, length);
    },
  };
}
