import { createRequire } from 'node:module';
import type * as PerfHooks from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_LOOP_MONITOR_RESOLUTION_MS, ProxyMetrics } from '../../src/telemetry/metrics.js';

// prom-client reads `monitorEventLoopDelay` from the CommonJS `perf_hooks` object when the monitor is built;
// that object is the one `require` hands every caller, so a spy on it sees the options the sidecar's registry asked for.
const perfHooks = createRequire(import.meta.url)('node:perf_hooks') as typeof PerfHooks;

describe('the event-loop-lag monitor behind crosstalk_nodejs_eventloop_lag_*', () => {
  const histograms: IntervalHistogram[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const h of histograms.splice(0)) h.disable();
  });

  function spyOnMonitor() {
    const real = perfHooks.monitorEventLoopDelay.bind(perfHooks);
    return vi.spyOn(perfHooks, 'monitorEventLoopDelay').mockImplementation((options) => {
      const h = real(options);
      histograms.push(h);
      return h;
    });
  }

  it(`samples every ${EVENT_LOOP_MONITOR_RESOLUTION_MS} ms, not prom-client's 10 ms (which wakes an idle loop 100 times a second)`, async () => {
    const monitor = spyOnMonitor();
    const metrics = new ProxyMetrics({ processMetrics: true });
    expect(monitor).toHaveBeenCalledTimes(1);
    expect(monitor.mock.calls[0]?.[0]).toEqual({ resolution: EVENT_LOOP_MONITOR_RESOLUTION_MS });
    expect(EVENT_LOOP_MONITOR_RESOLUTION_MS).toBeGreaterThan(10);
    // The series the dashboard plots are still there.
    const text = await metrics.registry.metrics();
    expect(text).toContain('crosstalk_nodejs_eventloop_lag_p99_seconds');
    expect(text).toContain('crosstalk_nodejs_eventloop_lag_p50_seconds');
  });

  it('is not started at all without process metrics (the test-process proxies share one loop)', () => {
    const monitor = spyOnMonitor();
    new ProxyMetrics();
    expect(monitor).not.toHaveBeenCalled();
  });
});
