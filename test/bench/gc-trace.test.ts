import { describe, expect, it, onTestFinished } from 'vitest';
import {
  isV8TraceLine,
  parseScavengeLine,
  ScavengeCounter,
  scavengeLine,
  scavengesBetween,
  scavengesPerRequest,
} from '../../bench/lib/gc-trace.js';
import { spawnChild } from '../../bench/lib/processes.js';

/** `npm run bench -- --gc` (bench/lib/gc-trace.ts): what it reads from a node proxy's `--trace-gc-nvp` output. */

// A scavenge line as node 20's V8 writes it (cut after the fields read; the real line goes on the same way).
const SCAVENGE =
  '[13826:0x11d67490]    11572 ms: pause=3.5 mutator=297.6 gc=s reduce_memory=0 scavenge=3.35 ' +
  'allocated=24115552 promoted=52384 new_space_survived=1263392 promotion_ratio=0.2%';
const MARK_COMPACT = '[13826:0x11d67490]    12001 ms: pause=17.6 mutator=120.0 gc=mc reduce_memory=0 promoted=0';

describe('bench --gc: scavenges from --trace-gc-nvp', () => {
  it('reads a scavenge line: pause, promoted and surviving bytes; other GC lines and log lines are not scavenges', () => {
    expect(parseScavengeLine(SCAVENGE)).toEqual({ scavenges: 1, pauseMs: 3.5, promotedBytes: 52384, survivedBytes: 1263392 });
    expect(parseScavengeLine(MARK_COMPACT)).toBeUndefined();
    expect(parseScavengeLine('{"level":30,"msg":"gc=s pause=3"}')).toBeUndefined();
    expect([isV8TraceLine(SCAVENGE), isV8TraceLine('{"url":"http://127.0.0.1:1"}')]).toEqual([true, false]);
  });

  it('tallies lines split across chunks, and a window is the difference of two tallies', () => {
    const counter = new ScavengeCounter();
    const text = `${SCAVENGE}\n{"level":30}\n${MARK_COMPACT}\n${SCAVENGE}\n`;
    const before = counter.tally;
    for (let i = 0; i < text.length; i += 7) counter.write(text.slice(i, i + 7));
    const window = scavengesBetween(before, counter.tally);
    expect(window).toEqual({ scavenges: 2, pauseMs: 7, promotedBytes: 104768, survivedBytes: 2526784 });
    expect(scavengesPerRequest(window, 1000)).toEqual({ pauseMsPer1k: 7, promotedKbPerRequest: 0.104768, survivedKbPerRequest: 2.526784 });
    expect(scavengesPerRequest(window, 0).pauseMsPer1k).toBeNaN();
    expect(scavengeLine(window, 1000)).toBe('2× 3.5 ms = 7.0 ms/1k req, promoted 0.10 KB/req, survived 2.53 KB/req');
  });

  it('a real node with --trace-gc-nvp: its ready line is found past the GC lines, and its scavenges are counted', async () => {
    const script = [
      'const keep = [];',
      'for (let i = 0; i < 2e5; i++) keep.push({ i, s: "x" + i });',
      'console.log(JSON.stringify({ ready: keep.length }));',
    ].join('\n');
    const child = spawnChild('gc-node', process.execPath, ['--trace-gc-nvp', '--max-semi-space-size=1', '-e', script]);
    onTestFinished(() => child.stop());
    expect(JSON.parse(await child.firstLine)).toEqual({ ready: 200000 });
    await child.exited;
    expect(child.scavenges().scavenges).toBeGreaterThan(0);
    expect(child.scavenges().promotedBytes).toBeGreaterThan(0);
  });
});
