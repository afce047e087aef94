import { errors } from '../errors.js';

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the `pg` driver speaks the real wire protocol to it. */
  url: string;
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** A data directory from `PGlite#dumpDataDir()`: skips initdb, which is most of PGlite's start-up time. */
  loadDataDir?: Blob | File;
  /**
   * PGlite is one backend; the socket server multiplexes connections onto it one query at a time and keeps
   * an open transaction's connection in front (pglite-socket README). The audit needs one per database.
   */
  maxConnections?: number;
}

/**
 * An in-process PostgreSQL (PGlite, WebAssembly) behind a TCP socket on 127.0.0.1 and a free port: for the
 * demo and for tests when no real server is configured. Differences from a server worth knowing: one
 * superuser and no other roles, no statement_timeout timer, one transaction at a time.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  // Loaded here, not at the top: the packages are dev dependencies (the demo and tests), never loaded by, nor
  // shipped in the image of, the sidecar.
  const [{ PGlite }, { PGLiteSocketServer }] = await loadPglite();
  const db = await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // getServerConn() is `host:port` with the port the OS picked once listening.
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let closed: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closed ??= (async () => {
        await server.stop();
        await db.close();
      })()),
  };
}

async function loadPglite() {
  try {
    return await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
  } catch (err) {
    throw new errors.CROSSTALK_ERR_EMBEDDED_POSTGRES_UNAVAILABLE({ cause: err });
  }
}
