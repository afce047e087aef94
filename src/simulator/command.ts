import type { Command } from 'commander';
import { collect } from '../config/values.js';
import { resolveSimulatorConfig, SIM_ENV, DEFAULT_SIM_PORT, DEFAULT_SIM_HOST, type SimulateRouterConfig } from './config.js';
import { startSimulatedRouter, type SimulatedRouter } from './router.js';
import { SIM_BUGS } from './options.js';

export interface RunSimulateRouterOptions {
  /** Stops the router when aborted; the returned promise settles once it is closed. */
  signal: AbortSignal;
  print?: (line: string) => void;
  /** Called once the router listens (tests use it to reach the router). */
  onListening?: (router: SimulatedRouter) => void;
}

/** The lines `simulate-router` prints on start: where it listens, then each session it serves. */
export function describeRouter(router: SimulatedRouter): string[] {
  const lines = [`simulated router listening on ${router.url}`];
  for (const s of router.sessions.list()) lines.push(`  session ${s.id} -> ${s.model.name} (model ${s.model.id})`);
  lines.push(router.auth === undefined ? '  auth: none' : `  auth: basic, user ${router.auth.username}`);
  return lines;
}

export async function runSimulateRouter(config: SimulateRouterConfig, options: RunSimulateRouterOptions): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const router = await startSimulatedRouter(config);
  for (const line of describeRouter(router)) print(line);
  options.onListening?.(router);
  if (!options.signal.aborted) {
    await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  await router.close();
}

/** `crosstalk simulate-router`: a simulated Lumerin proxy-router for demos, compose and manual testing. */
export function registerSimulateRouterCommand(program: Command): Command {
  return program
    .command('simulate-router')
    .description('Run a simulated Lumerin proxy-router (optionally with the historical crosstalk bugs)')
    .option('--port <port>', `listen port (env ${SIM_ENV.port}, default ${DEFAULT_SIM_PORT})`)
    .option('--host <host>', `listen address (env ${SIM_ENV.host}, default ${DEFAULT_SIM_HOST})`)
    .option('--bug <bug>', `misbehaviour: ${SIM_BUGS.join('|')} (env ${SIM_ENV.bug}, default none)`)
    .option('--chunks <n>', `content chunks per response (env ${SIM_ENV.chunks}, default 20)`)
    .option('--chunk-delay-ms <ms>', `delay between chunks (env ${SIM_ENV.chunkDelayMs}, default 0)`)
    .option('--no-echo-request-id', `behave like an older router: no X-Request-Id echo (env ${SIM_ENV.echoRequestId})`)
    .option('--auth <user:pass|none>', `basic-auth credentials (env ${SIM_ENV.auth}, default admin:crosstalk-sim)`)
    .option(
      '--sessions <model=0x…>',
      `sessions to serve, comma-separated or repeated (env ${SIM_ENV.sessions}, default one per model)`,
      collect,
    )
    .option('--seed <seed>', `seed for ids and random choices (env ${SIM_ENV.seed})`)
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const config = resolveSimulatorConfig({
        port: opts['port'] as string | undefined,
        host: opts['host'] as string | undefined,
        bug: opts['bug'] as string | undefined,
        chunks: opts['chunks'] as string | undefined,
        chunkDelayMs: opts['chunkDelayMs'] as string | undefined,
        // --no-echo-request-id defaults to true; only a value typed on the command line overrides the env.
        echoRequestId: cmd.getOptionValueSource('echoRequestId') === 'cli' ? (opts['echoRequestId'] as boolean) : undefined,
        auth: opts['auth'] as string | undefined,
        sessions: opts['sessions'] as string[] | undefined,
        seed: opts['seed'] as string | undefined,
      });
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await runSimulateRouter(config, { signal: stop.signal });
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
