import type { Command } from 'commander';
import { SPAN_MODES, resolveSpanMode } from './spans.js';

/** `crosstalk demo` (also `npm run demo`): the whole job on embedded defaults, no services needed. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run everything in-process: a simulated router with the historical crosstalk bug on, then off, the sidecar ' +
        'in front, the probe through it, then the audit of an embedded PostgreSQL with one injected violation',
    )
    .option(
      '--spans <mode>',
      `${SPAN_MODES.join('|')}: flagged spans on the console, one line each (default), all spans on the console, ` +
        'an OTLP collector (default when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set), or none',
    )
    .addHelpText('after', '\nExit codes: 0 every part showed what it should, 1 something did not (listed at the end), 2 could not run.')
    .action(async (flags: { spans?: string }) => {
      // A ConfigError reaches cli.ts, which prints it as one line and exits 2.
      const spans = resolveSpanMode(flags.spans, process.env);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        // Loaded on use: the demo's module graph (simulator, embedded PostgreSQL) is never loaded by `crosstalk proxy`.
        const { runDemo } = await import('./run-demo.js');
        const outcome = await runDemo({ spans, signal: stop.signal });
        process.exitCode = outcome.ok ? 0 : 1;
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
