/**
 * The package's library entry (`main` / `types` in package.json): the sidecar to embed, the inspector and its
 * rules, and the public contract — span attribute names, metric names, reason codes and header names. The CLI
 * (`crosstalk`, src/cli.ts) is the other entry; nothing here runs on import.
 */
export { createProxyServer, type ProxyServer, type ProxyDeps } from './proxy/server.js';
export { proxyConfigFor, type ProxyConfig } from './proxy/options.js';
export type { Incident, RelatedRequest } from './proxy/incidents.js';
export * from './inspect/index.js';
export * as attributes from './telemetry/attributes.js';
export * as headers from './protocol/headers.js';
