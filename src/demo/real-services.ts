/** The demo's closing text: the same three parts, pointed at real services (placeholders in angle brackets). */
export function realServicesLines(): string[] {
  return [
    'Point it at real services:',
    "  1. The sidecar between the gateway and the proxy-router (set the gateway's PROXY_ROUTER_URL to it):",
    '       crosstalk proxy --upstream http://<proxy-router>:8082 --port 8080 --admin-port 9464 \\',
    '         --fingerprint-secret <secret>',
    "  2. The probe, against the gateway's public API (keys are printed by prefix only):",
    '       crosstalk probe --target https://<gateway>/api/v1 --api-key sk-… --api-key sk-… \\',
    '         --model <model-a> --model <model-b> --sidecar-admin http://<sidecar>:9464',
    "     or against the sidecar (or a router) directly, with the router's Basic auth and one session per model:",
    '       crosstalk probe --target http://<sidecar>:8080 --session <model-a>=0x… --session <model-b>=0x… \\',
    '         --basic-auth admin:<password> --sidecar-admin http://<sidecar>:9464',
    "  3. The audit of the gateway's PostgreSQL databases (read-only):",
    '       crosstalk audit --db dev=postgres://<user>@<host>/<db> --db prod=postgres://<user>@<host>/<db>',
    '  Spans: set OTEL_EXPORTER_OTLP_ENDPOINT=http://<collector>:4318 for any of them (this demo too).',
  ];
}
