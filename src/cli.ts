#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCrosstalkError } from './errors.js';
import { VERSION } from './version.js';
import { registerProxyCommand } from './proxy/command.js';
import { registerAuditCommand } from './audit/command.js';
import { registerSimulateRouterCommand } from './simulator/command.js';
import { registerProbeCommand } from './probe/command.js';
import { registerDemoCommand } from './demo/command.js';
import { registerIncidentsCommand } from './incidents/command.js';

/**
 * The `crosstalk` CLI: each part registers its own subcommand; nothing imports this module.
 * Exit code 2 means "could not run" (bad flag or env value) for every subcommand.
 */
export function buildProgram(): Command {
  const program = new Command('crosstalk')
    .description('Catch response crosstalk between an AI gateway and its upstream router')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerProxyCommand(program);
  registerAuditCommand(program);
  registerSimulateRouterCommand(program);
  registerProbeCommand(program);
  registerDemoCommand(program);
  registerIncidentsCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    // A ConfigError (or any registry error) is one line naming the option; nothing else is printed.
    if (isCrosstalkError(err)) {
      console.error(`crosstalk: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`crosstalk: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}

await main(process.argv);
