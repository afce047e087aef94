import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

export type Reachability = { ok: true } | { ok: false; reason: string };

/**
 * Whether the upstream accepts connections. A TCP (or TLS) handshake, not an HTTP request: the router's
 * routes need Basic credentials the sidecar does not hold, and a handshake is what proxying depends on.
 */
export function checkUpstreamReachable(
  upstream: URL,
  timeoutMs = DEFAULT_READINESS_TIMEOUT_MS,
): Promise<Reachability> {
  const secure = upstream.protocol === 'https:';
  const port = Number(upstream.port || (secure ? 443 : 80));
  const host = upstream.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = secure
      ? tlsConnect({ host, port, servername: host, rejectUnauthorized: true })
      : connect({ host, port });
    const done = (result: Reachability) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'timeout' }), timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: err.code ?? err.name }));
  });
}
