import net from 'node:net';
import { onTestFinished } from 'vitest';

/**
 * A TCP server that answers each connection with whatever bytes `respond` writes: for upstreams that
 * break HTTP (invalid status lines, lying content-length) in ways node:http refuses to produce.
 */
export async function startRawUpstream(
  respond: (socket: net.Socket, requestHead: string) => void,
): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.off('data', onData);
        respond(socket, head.slice(0, end));
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, connections: () => connections };
}
