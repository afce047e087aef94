import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import { createDetectionStore } from '../../src/store/create.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

describe('--store / CROSSTALK_STORE_URL', () => {
  const upstream = 'http://127.0.0.1:9';

  it('defaults to the in-memory store; takes a redis:// URL from the flag or the env twin (the flag wins)', () => {
    expect(resolveProxyConfig({ upstream }, {}).store).toEqual({ kind: 'memory' });
    expect(resolveProxyConfig({ upstream }, { CROSSTALK_STORE_URL: 'redis://10.0.0.5:6379/2' }).store).toEqual({ kind: 'redis', url: 'redis://10.0.0.5:6379/2' });
    expect(resolveProxyConfig({ upstream, store: 'memory' }, { CROSSTALK_STORE_URL: 'redis://x:1' }).store).toEqual({ kind: 'memory' });
    expect(resolveProxyConfig({ upstream, store: 'rediss://u:p@r.example:6380' }, {}).store.kind).toBe('redis');
  });

  it('refuses anything else, naming what was typed without its password', () => {
    for (const bad of ['http://r:6379', 'redis', 'postgres://u:secret@h/db', 'redis://']) {
      expect(() => resolveProxyConfig({ upstream, store: bad }, {})).toThrow(ConfigError);
    }
    try {
      resolveProxyConfig({ upstream }, { CROSSTALK_STORE_URL: 'http://user:hunter2@r:6379' });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toContain('CROSSTALK_STORE_URL');
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it('createDetectionStore: memory by default, with the configured windows; nothing to close', async () => {
    const created = createDetectionStore({ completionIdWindowMs: 60_000, sessionBindingWindowMs: 120_000 });
    expect(created.kind).toBe('memory');
    expect(created.store).toBeInstanceOf(MemoryDetectionStore);
    expect(created.sync).toBeUndefined();
    await created.close();
  });
});
