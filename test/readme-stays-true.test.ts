import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PROXY_OPTIONS } from '../src/proxy/options.js';
import { describeOption } from '../src/config/option.js';
import { registerProxyCommand } from '../src/proxy/command.js';
import { registerAuditCommand } from '../src/audit/command.js';
import { registerProbeCommand } from '../src/probe/command.js';
import { registerDemoCommand } from '../src/demo/command.js';
import { registerSimulateRouterCommand } from '../src/simulator/command.js';
import { REASON_CODES } from '../src/inspect/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };

describe('the README stays true', () => {
  it('has exactly the two set-up commands, and they map to real scripts', () => {
    const setup = readme.slice(readme.indexOf('## Set up'), readme.indexOf('\n## ', readme.indexOf('## Set up') + 1));
    const commands = [...setup.matchAll(/^(npm [^#\n]+?)\s*(?:#.*)?$/gm)].map((m) => m[1]);
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBe('vitest run');
    expect(pkg.bin.crosstalk).toBe('dist/cli.js');
  });

  const proxyTable = readme
    .slice(readme.indexOf('## `crosstalk proxy`'), readme.indexOf('\n## ', readme.indexOf('## `crosstalk proxy`') + 1))
    .split('\n')
    .filter((line) => line.startsWith('| `--'));

  it('the proxy flag table has exactly one row per option, in declaration order', () => {
    expect(proxyTable.map((row) => row.split(' | ')[0]?.slice(2))).toEqual(PROXY_OPTIONS.map((o) => `\`${o.flags}\``));
  });

  it.each(PROXY_OPTIONS.map((o) => [o.flags, o]))('the README row of proxy option %s is the declared flag, env and help', (_f, o) => {
    expect(proxyTable).toContain(`| \`${o.flags}\` | \`${o.env}\` | ${describeOption(o)} |`);
  });

  const program = new Command('crosstalk');
  const registers = [registerProxyCommand, registerAuditCommand, registerProbeCommand, registerDemoCommand, registerSimulateRouterCommand];
  for (const register of registers) {
    register(program);
  }
  const documented = program.commands.flatMap((cmd) =>
    cmd.options.map((o) => {
      const inHelp = [...o.description.matchAll(/\b(CROSSTALK_[A-Z_]+|PORT|HOST)\b/g)].map((m) => m[1] as string);
      return [cmd.name(), o.long as string, o.envVar === undefined ? inHelp : [o.envVar, ...inHelp]] as const;
    }),
  );

  it.each(documented)('documents `crosstalk %s %s` and its env twin', (_cmd, long, envs) => {
    expect(readme).toContain(long);
    for (const env of envs) expect(readme).toContain(`\`${env}\``);
  });

  it.each(REASON_CODES.map((r) => [r]))('documents reason code %s', (reason) => {
    expect(readme).toContain(`\`${reason}\``);
  });
});
