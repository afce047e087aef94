/**
 * The one seam where the proxy gets its detection store (issue 17): the in-memory store by default, or the store
 * shared through Redis with `--store redis://…` (env `CROSSTALK_STORE_URL`). The shared store's windows are the
 * configured ones, so Redis keeps each fact exactly as long as this replica does.
 */
import { MemoryDetectionStore, type DetectionStore } from '../inspect/store.js';
import { RedisSync, defaultReplicaId, type SyncLogger } from './redis-sync.js';
import { SharedDetectionStore, type LateFinding, type RemoteRequest } from './shared-store.js';
import type { StoreSetting } from './store-setting.js';

export { parseStoreSetting, type StoreSetting } from './store-setting.js';

export interface DetectionStoreConfig {
  store?: StoreSetting;
  completionIdWindowMs: number;
  sessionBindingWindowMs: number;
  /** This replica's id in shared records (default host:pid:random). */
  replicaId?: string;
}

export interface DetectionStoreDeps {
  logger?: SyncLogger;
  /** The `crosstalk_store_up` gauge (ProxyMetrics.storeUp). */
  metrics?: {
    storeUp: { set(value: number): void };
    storeRecords?: { inc(labels: { direction: string }, value: number): void };
  };
}

export interface CreatedDetectionStore {
  kind: 'memory' | 'redis';
  store: DetectionStore;
  /** This replica's id (the shared store's; undefined for the memory store). */
  replicaId: string | undefined;
  /** Another replica's request named in shared records (always undefined for the memory store). */
  remoteRequest(requestId: string): RemoteRequest | undefined;
  /** Late shared findings (never called for the memory store); returns the unsubscribe. */
  onLateFinding(fn: (late: LateFinding) => void): () => void;
  /** The sync loop (Redis only), for stats and tests. */
  sync: RedisSync | undefined;
  /** Ships what is queued (best effort) and disconnects; a no-op for the memory store. */
  close(): Promise<void>;
}

export function createDetectionStore(config: DetectionStoreConfig, deps: DetectionStoreDeps = {}): CreatedDetectionStore {
  const windows = { completionIdWindowMs: config.completionIdWindowMs, sessionBindingWindowMs: config.sessionBindingWindowMs };
  const setting = config.store ?? { kind: 'memory' };
  if (setting.kind === 'memory') {
    return {
      kind: 'memory',
      store: new MemoryDetectionStore(windows),
      replicaId: undefined,
      remoteRequest: () => undefined,
      onLateFinding: () => () => undefined,
      sync: undefined,
      close: () => Promise.resolve(),
    };
  }
  const replica = config.replicaId ?? defaultReplicaId();
  const store = new SharedDetectionStore({ ...windows, replica });
  // Down until both connections are ready: the gauge says so from the first scrape.
  deps.metrics?.storeUp.set(0);
  for (const direction of ['sent', 'received', 'dropped', 'rejected']) deps.metrics?.storeRecords?.inc({ direction }, 0);
  const sync = new RedisSync({
    url: setting.url,
    store,
    streamWindowMs: config.completionIdWindowMs,
    sessionWindowMs: config.sessionBindingWindowMs,
    ...(setting.keyPrefix !== undefined && { keyPrefix: setting.keyPrefix }),
    ...(deps.logger !== undefined && { logger: deps.logger }),
    onUpChange: (up) => deps.metrics?.storeUp.set(up ? 1 : 0),
    onRecords: (direction, n) => deps.metrics?.storeRecords?.inc({ direction }, n),
  });
  sync.start();
  return {
    kind: 'redis',
    store,
    replicaId: replica,
    remoteRequest: (requestId) => store.remoteRequest(requestId),
    onLateFinding: (fn) => store.onLateFinding(fn),
    sync,
    close: () => sync.close(),
  };
}
