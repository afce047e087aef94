import { describe, expect, it } from 'vitest';
import { missingNodeFlags, PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

describe("the sidecar's node flags", () => {
  it('are all missing from a plain `node dist/cli.js`', () => {
    expect(missingNodeFlags([], undefined)).toEqual([...PROXY_NODE_FLAGS]);
    expect(missingNodeFlags(['--enable-source-maps'], '')).toEqual([...PROXY_NODE_FLAGS]);
  });

  it('count as given on the command line or in NODE_OPTIONS', () => {
    expect(missingNodeFlags([...PROXY_NODE_FLAGS], undefined)).toEqual([]);
    expect(missingNodeFlags(['--no-allocation-site-pretenuring'], ' --max-semi-space-size=32 --trace-warnings')).toEqual([]);
  });

  it('count as given with another value, spelled with underscores, or in the opposite sense (the user chose)', () => {
    expect(missingNodeFlags(['--max-semi-space-size=64', '--allocation-site-pretenuring'], undefined)).toEqual([]);
    expect(missingNodeFlags(['--no_allocation_site_pretenuring'], '--max_semi_space_size=16')).toEqual([]);
  });

  it('are reported one by one, and not as given when only a similarly named flag is', () => {
    expect(missingNodeFlags(['--max-semi-space-size=32'], undefined)).toEqual(['--no-allocation-site-pretenuring']);
    expect(missingNodeFlags(['--max-old-space-size=4096'], '--max-semi-space')).toEqual([...PROXY_NODE_FLAGS]);
  });
});
