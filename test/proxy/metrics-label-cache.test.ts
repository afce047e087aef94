import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../src/telemetry/metrics.js';

describe('per-request metrics with cached label children', () => {
  it('counts every request under its labels, past the cache cap as well', async () => {
    const m = new ProxyMetrics();
    for (let i = 0; i < 1100; i++) m.recordRequest('GET', `/r/${i}`, 200, 0.01);
    for (let i = 0; i < 3; i++) m.recordRequest('POST', '/v1/chat/completions', 502, 0.2);
    m.recordRequest('POST', '/v1/chat/completions', 200, 0.02);
    m.recordTimeToFirstChunk('/v1/chat/completions', 0.003);
    m.recordTimeToFirstChunk('/v1/chat/completions', 0.004);
    const requests = await m.requests.get();
    const count = (labels: Record<string, string>) =>
      requests.values.find((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))?.value;
    expect(count({ method: 'POST', route: '/v1/chat/completions', status_class: '5xx' })).toBe(3);
    expect(count({ method: 'POST', route: '/v1/chat/completions', status_class: '2xx' })).toBe(1);
    expect(count({ method: 'GET', route: '/r/1099', status_class: '2xx' })).toBe(1);
    expect(requests.values).toHaveLength(1102);
    const duration = await m.duration.get();
    expect(duration.values.find((v) => v.metricName?.endsWith('_count') && v.labels.route === '/v1/chat/completions')?.value).toBe(4);
    const ttfc = await m.timeToFirstChunk.get();
    expect(ttfc.values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(2);
  });
});
