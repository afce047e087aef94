import { describe, expect, it } from 'vitest';
import { INSPECTION_DEGRADED_REASONS, ProxyMetrics } from '../../src/telemetry/metrics.js';
import { sample } from './otlp-sink.js';

// The names in PLAN's contract are what alert rules and the dashboard query: a fresh sidecar must already expose
// each series (zeros), or `rate()` and `absent()`-free alerts see nothing until the first event.
describe('a fresh ProxyMetrics', () => {
  it('exposes every contract series with its pre-declared labels at zero, and store_up at 1', async () => {
    const metrics = new ProxyMetrics();
    const text = await metrics.registry.metrics();
    for (const reason of INSPECTION_DEGRADED_REASONS) {
      expect(sample(text, `crosstalk_inspection_degraded_total{reason="${reason}"}`), reason).toBe(0);
    }
    expect(INSPECTION_DEGRADED_REASONS).toEqual([
      'inspector_error',
      'event_too_large',
      'json_body_too_large',
      'content_encoding',
      'payload_unparsed',
      'global_json_cap',
    ]);
    expect(sample(text, 'crosstalk_responses_inspected_total{result="inspected"}')).toBe(0);
    expect(sample(text, 'crosstalk_responses_inspected_total{result="uninspected"}')).toBe(0);
    expect(sample(text, 'crosstalk_starved_requests_total')).toBe(0);
    expect(sample(text, 'crosstalk_store_up')).toBe(1);
    expect(sample(text, 'crosstalk_identity_truncated_total{field="session_id"}')).toBe(0);
    expect(sample(text, 'crosstalk_identity_truncated_total{field="model_id"}')).toBe(0);
    expect(sample(text, 'crosstalk_identity_truncated_total{field="api_key_id"}')).toBe(0);
    expect(sample(text, 'crosstalk_spans_exported_total')).toBe(0);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="queue_full"}')).toBe(0);
    expect(sample(text, 'crosstalk_spans_dropped_total{reason="export_failed"}')).toBe(0);
  });

  it('counts through the contract fields', async () => {
    const metrics = new ProxyMetrics();
    metrics.inspectionDegraded.inc({ reason: 'inspector_error' });
    metrics.responsesInspected.inc({ result: 'uninspected' });
    metrics.starvedRequests.inc();
    metrics.storeUp.set(0);
    metrics.identityTruncated.inc({ field: 'session_id' });
    const text = await metrics.registry.metrics();
    expect(sample(text, 'crosstalk_inspection_degraded_total{reason="inspector_error"}')).toBe(1);
    expect(sample(text, 'crosstalk_responses_inspected_total{result="uninspected"}')).toBe(1);
    expect(sample(text, 'crosstalk_starved_requests_total')).toBe(1);
    expect(sample(text, 'crosstalk_store_up')).toBe(0);
    expect(sample(text, 'crosstalk_identity_truncated_total{field="session_id"}')).toBe(1);
  });

  it('moves the total and the by-route in-flight gauges together', async () => {
    const metrics = new ProxyMetrics();
    expect(sample(await metrics.registry.metrics(), 'crosstalk_proxy_requests_in_flight_by_route{route="/v1/models"}')).toBe(0);
    metrics.requestStarted('/v1/chat/completions');
    metrics.requestStarted('/v1/chat/completions');
    metrics.requestStarted('/v1/models');
    metrics.requestEnded('/v1/chat/completions');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'crosstalk_proxy_requests_in_flight')).toBe(2);
    expect(sample(text, 'crosstalk_proxy_requests_in_flight_by_route{route="/v1/chat/completions"}')).toBe(1);
    expect(sample(text, 'crosstalk_proxy_requests_in_flight_by_route{route="/v1/models"}')).toBe(1);
    metrics.initRoutes(['/blockchain/sessions/{id}', '/v1/models']);
    const after = await metrics.registry.metrics();
    expect(sample(after, 'crosstalk_proxy_requests_in_flight_by_route{route="/blockchain/sessions/{id}"}')).toBe(0);
    expect(sample(after, 'crosstalk_proxy_requests_in_flight_by_route{route="/v1/models"}'), 'initRoutes keeps a count').toBe(1);
  });
});
