/**
 * Retained memory for memory-bound tests: heap plus ArrayBuffer bytes after forced GC (vitest.config.ts runs test
 * processes with `--expose-gc`), so garbage V8 has not collected yet does not count.
 */
export function retainedBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts execArgv)');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A string as the proxy holds one it parsed from a header or a body: flat, its own copy (not a literal or a rope). */
export function parsedCopy(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}
