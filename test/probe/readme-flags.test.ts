import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeOption } from '../../src/config/option.js';
import { PROBE_OPTION_SPECS } from '../../src/probe/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('## Verify the request_id fix in staging');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

it("the README's probe flag table is the declared options, row for row, in declaration order", () => {
  const rows = section.split('\n').filter((line) => line.startsWith('| `--') && !line.startsWith('| `--no-progress`'));
  expect(rows).toEqual(PROBE_OPTION_SPECS.map((o) => `| \`${o.flags}\` | \`${o.env}\` | ${describeOption(o)} |`));
});
