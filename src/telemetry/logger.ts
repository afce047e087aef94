import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino censors even if a caller logs a raw header object by mistake. The primary defence is never
 * passing credentials to the logger at all; this is the seatbelt.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  '*.authorization',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
];

/**
 * What a logged error may say: its type and code, never its message, stack or own fields. A library's error can
 * carry the bytes it choked on (undici's HTTPParserError has `data`: the raw upstream response; a JSON parser's
 * message quotes its input), and reply-from logs whole errors (`response errored`) — issue 14 row 11.
 */
export function safeError(err: unknown): { type: string; code?: string } {
  if (err === null || typeof err !== 'object') return { type: typeof err };
  const { name, code } = err as { name?: unknown; code?: unknown };
  const type = typeof name === 'string' && /^[A-Za-z_]\w{0,63}$/.test(name) ? name : 'Error';
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? { type, code } : { type };
}

/** A request or response object logged by a library: its method or status only (a URL may carry a key). */
const safeRequest = (req: unknown) => ({ method: (req as { method?: unknown } | null)?.method });
const safeResponse = (res: unknown) => ({ statusCode: (res as { statusCode?: unknown } | null)?.statusCode });

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'crosstalk' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: { err: safeError, error: safeError, req: safeRequest, request: safeRequest, res: safeResponse, reply: safeResponse },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      // `log.error(err)` with no message would log the error's message as `msg`: its type instead.
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        if (first instanceof Error && typeof second !== 'string') {
          return method.apply(this, [first, first.name] as never);
        }
        return method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
