import { expect, it } from 'vitest';
import { INSPECTOR_DEFAULTS } from '../../src/config/defaults.js';
import { resolveProxyConfig } from '../../src/proxy/options.js';
import { ProbeVerifier } from '../../src/probe/verify.js';

it("the probe applies the sidecar's rules with the sidecar's own limits and windows (only the session scope differs)", () => {
  const probe = new ProbeVerifier({ runId: 'defaults', expectEcho: false, modelAliases: { a: 'b' } }).context.settings;
  expect(probe).toEqual({ ...INSPECTOR_DEFAULTS, sessionScope: 'shared', modelAliases: { a: 'b' } });
  // …and those are the values a sidecar started with no flags runs with.
  const sidecar = resolveProxyConfig({ upstream: 'http://router.example:8082' }, {});
  expect({
    maxEventBytes: probe.maxEventBytes,
    maxJsonBodyBytes: probe.maxJsonBodyBytes,
    completionIdWindowMs: probe.completionIdWindowMs,
    sessionBindingWindowMs: probe.sessionBindingWindowMs,
  }).toEqual({
    maxEventBytes: sidecar.maxEventBytes,
    maxJsonBodyBytes: sidecar.maxJsonBodyBytes,
    completionIdWindowMs: sidecar.completionIdWindowMs,
    sessionBindingWindowMs: sidecar.sessionBindingWindowMs,
  });
});
