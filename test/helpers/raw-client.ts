import net from 'node:net';

/**
 * Writes raw request bytes (what fetch/undici refuse to produce: bare CR, raw UTF-8 in headers, odd
 * hop-by-hop headers) to `url`'s port and resolves with everything read until `done(received)` says so
 * (then the socket is ended) or the server closes.
 */
export function rawExchange(url: string, bytes: Buffer | string, done: (received: string) => boolean = () => false): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (done(data)) socket.end();
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

/** Ends once a JSON body closes (`…}`): enough for the small JSON answers the scenario upstreams give. */
export const untilJsonBody = (received: string) => received.endsWith('}');
/** Ends once the response head is complete. */
export const untilHead = (received: string) => received.includes('\r\n\r\n');
