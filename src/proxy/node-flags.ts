/**
 * The Node.js flags the sidecar runs with: the image's `ENTRYPOINT` passes them to `node`, and outside the image
 * they go on node's command line (README, "Deploy beside the gateway"; node refuses
 * `--no-allocation-site-pretenuring` in `NODE_OPTIONS`). V8 reads them only when the process starts
 * (`v8.setFlagsFromString` afterwards does not resize the heap), so the CLI cannot set them itself.
 *
 * `--max-semi-space-size=32` (MiB; V8's default on 64-bit is 16): the young generation, where every
 * per-request object starts. At thousands of requests per second a request's span, inspector state and parsed
 * request body are still alive when a 16 MiB semi-space fills, so each scavenge copies them and promotes many to
 * the old generation, which then needs mark-compacts. With 32 MiB most have died by the next scavenge. Measured with
 * `npm run bench` (c64, no chunk spacing, two alternating runs each, Nov 2026; much of a scavenge runs on V8's
 * helper threads, so a main-thread profile shows only part of it): CPU per request 0.20 → 0.16 ms for the sidecar,
 * 0.18–0.20 → 0.16 ms for bare `@fastify/http-proxy`; the sidecar's peak RSS fell (fewer promotions), and RSS growth
 * over 1,000 streams opened at once stayed at ~40 MB. 64 MiB saved no more CPU and grew RSS by up to 110 MB there.
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects straight into the old generation from any allocation
 * site whose objects it saw surviving scavenges. A process that met its first load cold (slow, so its objects
 * outlived a scavenge) got the request path's sites pretenured for good: ~3 MB per scavenge went to the old
 * generation and died there, scavenges took 5-8 ms instead of 1-2, mark-compacts ran every ~1.5 s, and the process
 * stayed ~25% slower with ~70 MB more RSS for its whole life (`--trace-gc`; Nov 2026: 4 of 5 fresh sidecars under
 * c64 load at 0.21-0.235 ms CPU per request, 1 at 0.17). With pretenuring off, 5 of 5 ran at 0.160-0.178 ms.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'];

/**
 * The name of a `--flag=value`, `--flag value` or `--no-flag` argument (`--no-x` and `--x` set the same flag); V8
 * treats `-` and `_` in names alike.
 */
function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq === -1 ? arg : arg.slice(0, eq)).replaceAll('_', '-').replace(/^--no-/, '--');
}

/**
 * The flags of {@link PROXY_NODE_FLAGS} this process was started without, judged by name (a user who set another
 * value chose it): from the command line (`process.execArgv`) or `NODE_OPTIONS`.
 */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName));
  return PROXY_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}
