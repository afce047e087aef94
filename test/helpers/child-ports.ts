/**
 * For tests that run the sidecar as a child process: ports it can bind, and waiting for it to come up. A random
 * port in a range collides, now and then, with another test's port on a busy machine (the child then dies with
 * EADDRINUSE); these ports were bound by the OS once and released just before the child binds them.
 */
import net from 'node:net';
import { request } from 'undici';

/** Two consecutive free loopback ports (gateway, admin): bound once by the OS, then released for the child. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const first = net.createServer();
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    const port = (first.address() as net.AddressInfo).port;
    const second = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      second.once('error', () => r(false));
      second.listen(port + 1, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => first.close(() => r()));
    if (ok) await new Promise<void>((r) => second.close(() => r()));
    if (ok && port < 65535) return port;
  }
}

/**
 * Polls until `url` answers 200; fails at once (with its stderr) if the child died during start-up. Start-up under
 * tsx on a loaded 2-core machine can take many seconds: the bound is the calling test's own timeout.
 */
export async function waitUntilUp(url: string, child: { exitCode: number | null }, stderr: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}) during start-up: ${stderr()}`);
    try {
      const res = await request(url);
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
