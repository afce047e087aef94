import type { Command } from 'commander';
import { startTelemetry } from '../telemetry/sdk.js';
import { createLogger } from '../telemetry/logger.js';
import { ProxyMetrics } from '../telemetry/metrics.js';
import { addOptions, cliFlags, readOption } from '../config/option.js';
import { PROXY_OPTIONS, resolveProxyConfig } from './options.js';
import { missingNodeFlags } from './node-flags.js';
import { createProxyServer } from './server.js';
import { WORKERS_OPTION, attachWorker, checkWorkers, isWorker, onPrimaryShutdown, runPrimary, workerConfig } from './workers.js';

/**
 * Runs `fn` once on the first SIGTERM/SIGINT; a second signal exits at once. Returns the same trigger without the
 * second-signal exit, for a shutdown asked another way (a --workers primary asks its workers over IPC: a terminal's
 * Ctrl-C already sent them SIGINT, and a signal on top would cut their streams).
 */
export function onShutdownSignal(fn: (signal: NodeJS.Signals) => Promise<void>): (signal: NodeJS.Signals) => void {
  let stopping = false;
  const run = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    fn(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`crosstalk: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    run(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return run;
}

export function registerProxyCommand(program: Command): void {
  const cmd = program
    .command('proxy')
    .description('Run the sidecar between the gateway and the Lumerin proxy-router');
  addOptions(cmd, [...PROXY_OPTIONS, WORKERS_OPTION]);
  cmd.action(async () => {
    const flags = cliFlags(cmd);
    const config = resolveProxyConfig(flags, process.env);
    const workers = readOption(WORKERS_OPTION, flags, process.env) ?? 1;
    checkWorkers(workers, config);
    const logger = createLogger(config.logLevel);
    if (workers > 1 && !isWorker()) {
      // The primary serves no gateway traffic: it forks the workers and answers the admin port for all of them.
      const primary = await runPrimary(config, workers, logger);
      logger.info({ port: config.port, adminUrl: primary.adminUrl, workers }, 'crosstalk proxy primary: workers share the port');
      onShutdownSignal(async (signal) => {
        logger.info({ signal }, 'shutting down: every worker drains its in-flight responses');
        await primary.close();
      });
      return;
    }
    const telemetry = startTelemetry();
    // A long-running sidecar also reports its own RSS, heap and event-loop lag (prom-client defaults).
    const metrics = new ProxyMetrics({ processMetrics: true });
    const proxy = createProxyServer(isWorker() ? workerConfig(config) : config, { tracer: telemetry.tracer, logger, metrics });
    if (isWorker()) attachWorker(proxy, metrics);
    const { url, adminUrl } = await proxy.listen();
    logger.info(
      { url, adminUrl, upstream: config.upstream.origin, inspection: config.inspection ? 'on' : 'off', onCrosstalk: config.onCrosstalk },
      'crosstalk proxy listening',
    );
    if (!config.inspection) {
      logger.warn('inspection is off (--inspection off): responses are forwarded and traced, never judged; no crosstalk will be found');
    }
    const missing = missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
    if (missing.length > 0) {
      logger.info(
        { missing },
        'node was started without the sidecar\'s node flags (node <flags> dist/cli.js proxy): under load they save ~20% CPU per request',
      );
    }
    const stop = onShutdownSignal(async (signal) => {
      logger.info({ signal }, 'shutting down: draining in-flight responses');
      await proxy.close();
      await telemetry.shutdown();
    });
    if (isWorker()) onPrimaryShutdown(() => stop('SIGTERM'));
  });
}
