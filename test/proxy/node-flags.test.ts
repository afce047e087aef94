import { describe, expect, it } from 'vitest';
import { missingNodeFlags, PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

describe("the sidecar's node flags", () => {
  it('are all missing from a plain `node dist/cli.js`', () => {
    expect(missingNodeFlags([], undefined)).toEqual([...PROXY_NODE_FLAGS]);
    expect(missingNodeFlags(['--enable-source-maps'], '')).toEqual([...PROXY_NODE_FLAGS]);
  });

  it('count as given on the command line, in NODE_OPTIONS, with another value or spelled with underscores', () => {
    expect(missingNodeFlags([...PROXY_NODE_FLAGS], undefined)).toEqual([]);
    expect(missingNodeFlags([], ` ${PROXY_NODE_FLAGS.join(' ')} --trace-warnings`)).toEqual([]);
    expect(missingNodeFlags(['--max-semi-space-size=64'], undefined)).toEqual([]);
    expect(missingNodeFlags([], '--max_semi_space_size=16')).toEqual([]);
  });

  it('do not count as given when only a similarly named flag is', () => {
    expect(missingNodeFlags(['--max-old-space-size=4096'], '--max-semi-space')).toEqual([...PROXY_NODE_FLAGS]);
  });
});
